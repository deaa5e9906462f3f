/* ws.c — wslay's I/O callbacks over a non-blocking socket, once for the
 * server, the CLI and the fuzzer (see ws.h). */
#include "ws/ws.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/crypto.h"

/* The handshake's leftovers first (the socket will not report them), then
 * the socket. EOF and errors are both a callback failure: wslay then
 * reports the connection as finished to its owner. */
static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
  (void)flags;
  struct ws *w = user;
  if (w->prefix != NULL) {
    size_t n = w->prefix_len - w->prefix_off;
    if (n > len)
      n = len;
    memcpy(buf, w->prefix + w->prefix_off, n);
    w->prefix_off += (uint32_t)n;
    if (w->prefix_off == w->prefix_len) {
      free(w->prefix);
      w->prefix = NULL;
    }
    return (ssize_t)n;
  }
  if (w->budgeted) {
    if (w->read_left == 0) {
      wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK); /* the rest waits for the next turn */
      return -1;
    }
    if (len > w->read_left)
      len = w->read_left;
  }
  for (;;) {
    ssize_t r = recv(w->fd, buf, len, 0);
    if (r > 0) {
      w->received = true;
      if (w->budgeted)
        w->read_left -= (uint32_t)r;
      return r;
    }
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
      wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE); /* EOF or reset */
    return -1;
  }
}

/* No MSG_MORE, even when wslay says more follows: every frame is a reply
 * someone is waiting for, and both ends write one message at a time. */
static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
  (void)flags; /* WSLAY_MSG_MORE: see above */
  struct ws *w = user;
  for (;;) {
    ssize_t r = send(w->fd, data, len, MSG_NOSIGNAL);
    if (r >= 0)
      return r;
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
      wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
}

/* Counts the frames of each data message: one that needs more than
 * WS_FRAGMENTS_MAX frames is refused as too big, as wslay refuses one
 * over max_msg bytes (close 1009, reading stops). */
static void frame_start_cb(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *arg, void *user)
{
  struct ws *w = user;
  if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME) {
    w->fragments = 1;
  } else if (arg->opcode == WSLAY_CONTINUATION_FRAME && ++w->fragments >= WS_FRAGMENTS_MAX &&
             !arg->fin) {
    /* the message needs more frames than allowed: refused before any of
     * it is delivered */
    wslay_event_queue_close(ctx, WSLAY_CODE_MESSAGE_TOO_BIG, NULL, 0);
    wslay_event_shutdown_read(ctx);
    w->fragments = WS_FRAGMENTS_MAX;
  }
}

/* Client frames are masked with a fresh random key each (RFC 6455 §5.3). */
static int genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
  (void)user;
  if (crypto_random(buf, len) != 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  return 0;
}

int ws_prefix_copy(struct ws *w, const void *bytes, size_t len, size_t max_msg)
{
  if (len > WS_PREFIX_MAX(max_msg) || len > UINT32_MAX)
    return -1;
  if (len == 0)
    return 0;
  w->prefix = malloc(len);
  if (w->prefix == NULL)
    return -1;
  memcpy(w->prefix, bytes, len);
  w->prefix_len = (uint32_t)len;
  w->prefix_off = 0;
  return 0;
}

int ws_init(struct ws *w, enum ws_role role, int fd, size_t max_msg,
            wslay_event_on_msg_recv_callback on_msg)
{
  /* wslay copies the callbacks into the context. */
  struct wslay_event_callbacks cb = {
      .recv_callback = recv_cb,
      .send_callback = send_cb,
      .genmask_callback = role == WS_CLIENT ? genmask_cb : NULL,
      .on_frame_recv_start_callback = frame_start_cb,
      .on_msg_recv_callback = on_msg,
  };
  int rc = role == WS_CLIENT ? wslay_event_context_client_init(&w->ctx, &cb, w)
                             : wslay_event_context_server_init(&w->ctx, &cb, w);
  w->fd = fd;
  if (rc != 0) {
    w->ctx = NULL;
    return -1;
  }
  wslay_event_config_set_max_recv_msg_length(w->ctx, max_msg);
  return 0;
}

void ws_free(struct ws *w)
{
  wslay_event_context_free(w->ctx);
  w->ctx = NULL;
  free(w->prefix);
  w->prefix = NULL;
  w->prefix_len = w->prefix_off = 0;
}

int ws_recv(struct ws *w, size_t max_bytes)
{
  w->budgeted = true;
  w->read_left = max_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)max_bytes;
  int rc = wslay_event_recv(w->ctx);
  w->budgeted = false;
  return rc;
}

void ws_recv_stop(struct ws *w)
{
  w->read_left = 0;
}

size_t ws_queued_cost(const struct ws *w)
{
  return wslay_event_get_queued_msg_length(w->ctx) +
         wslay_event_get_queued_msg_count(w->ctx) * WS_QUEUED_MSG_OVERHEAD;
}

static int queue_msg(struct ws *w, uint8_t opcode, const void *msg, size_t len, size_t queue_max)
{
  size_t cost = len + WS_QUEUED_MSG_OVERHEAD;
  if (len > queue_max || cost > queue_max || ws_queued_cost(w) > queue_max - cost)
    return WS_QUEUE_FULL;
  struct wslay_event_msg m = {.opcode = opcode, .msg = (const uint8_t *)msg, .msg_length = len};
  return wslay_event_queue_msg(w->ctx, &m) == 0 ? 0 : -1;
}

int ws_queue_text(struct ws *w, const void *msg, size_t len, size_t queue_max)
{
  return queue_msg(w, WSLAY_TEXT_FRAME, msg, len, queue_max);
}

int ws_queue_binary(struct ws *w, const void *msg, size_t len, size_t queue_max)
{
  return queue_msg(w, WSLAY_BINARY_FRAME, msg, len, queue_max);
}

int ws_discard_input(int fd)
{
  char sink[4096];
  for (size_t total = 0; total < WS_DISCARD_MAX;) {
    ssize_t r = recv(fd, sink, sizeof sink, 0);
    if (r > 0)
      total += (size_t)r;
    if (r > 0 || (r < 0 && errno == EINTR))
      continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return 0;
    return 1; /* EOF or an error */
  }
  return 0; /* more may follow: the next turn reads on */
}
