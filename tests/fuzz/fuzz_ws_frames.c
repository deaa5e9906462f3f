/*
 * fuzz_ws_frames.c — libFuzzer driver for the WebSocket frames of the live
 * transport: raw client bytes through wslay, configured exactly as
 * src/live/loop.c configures it (a server context, max message
 * LIVE_FRAME_MAX, text/binary messages handed on), then each complete
 * message through live_message_parse() (src/live/message.h).
 *
 * Input: byte 0 sets how many bytes each recv() returns (1..256, the way
 * TCP may split frames), the rest is what the client sent. Properties:
 * no crash in the frame parser or the message parser; every message
 * delivered is a text or binary message of at most LIVE_FRAME_MAX bytes
 * (a larger one must be refused with close 1009, not buffered).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

#include "live/live_internal.h"
#include "live/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct feed {
  const uint8_t *p;
  size_t n, off, chunk;
  size_t messages;
};

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user)
{
  (void)flags;
  struct feed *f = user;
  size_t n = f->n - f->off;
  if (n == 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE); /* EOF */
    return -1;
  }
  if (n > len)
    n = len;
  if (n > f->chunk)
    n = f->chunk;
  memcpy(buf, f->p + f->off, n);
  f->off += n;
  return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
  (void)ctx, (void)data, (void)flags, (void)user;
  return (ssize_t)len; /* the peer reads everything */
}

static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
  (void)ctx;
  struct feed *f = user;
  if (arg->opcode != WSLAY_TEXT_FRAME && arg->opcode != WSLAY_BINARY_FRAME)
    return; /* ping, pong, close: wslay's business (loop.c's ws_msg_cb does the same) */
  if (arg->msg_length > LIVE_FRAME_MAX)
    abort();
  struct live_message m;
  live_message_parse(arg->msg, arg->msg_length, arg->opcode == WSLAY_BINARY_FRAME, &m);
  if (!m.ok && m.problem[0] == '\0')
    abort();
  live_message_clear(&m);
  f->messages++;
}

static const struct wslay_event_callbacks CALLBACKS = {
    .recv_callback = recv_cb,
    .send_callback = send_cb,
    .on_msg_recv_callback = msg_cb,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  struct feed f = {data + 1, size - 1, 0, (size_t)data[0] + 1, 0};
  wslay_event_context_ptr ws = NULL;
  if (wslay_event_context_server_init(&ws, &CALLBACKS, &f) != 0)
    return 0;
  wslay_event_config_set_max_recv_msg_length(ws, LIVE_FRAME_MAX);
  /* The loop: read while wslay wants to, flush what it queued (pongs, the
   * close reply), stop at EOF or on a protocol error. */
  for (int guard = 0; guard < 100000; guard++) {
    if (!wslay_event_want_read(ws) || wslay_event_recv(ws) != 0)
      break;
    if (wslay_event_want_write(ws) && wslay_event_send(ws) != 0)
      break;
  }
  while (wslay_event_want_write(ws) && wslay_event_send(ws) == 0 &&
         wslay_event_get_queued_msg_count(ws) > 0)
    ;
  wslay_event_context_free(ws);
  return 0;
}
