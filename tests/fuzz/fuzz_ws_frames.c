/*
 * fuzz_ws_frames.c — libFuzzer driver for the WebSocket frames of the live
 * transport: raw client bytes through src/ws/ws.c, the same callbacks and
 * configuration the live loop uses (ws_init(WS_SERVER, LIVE_FRAME_MAX) on a
 * non-blocking socket, the handshake's leftover bytes as a prefix), then
 * each complete message through live_message_parse() (src/live/message.h).
 *
 * Input: byte 0 sets how many bytes arrive at a time (1..256, the way TCP
 * may split frames); the rest is what the client sent. The first piece
 * plays the bytes MHD read with the handshake (ws_prefix_copy), the others
 * are written to the peer end of a socketpair one at a time, with the
 * loop's read-then-flush step after each. Properties: no crash in the frame
 * parser or the message parser; every message delivered is a text or
 * binary message of at most LIVE_FRAME_MAX bytes (a larger one must be
 * refused with close 1009, not buffered).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "live/message.h"
#include "live/protocol.h"
#include "ws/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct feed {
  struct ws ws;
  size_t messages;
};

static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
  (void)ctx;
  struct feed *f = ws_owner(user, struct feed, ws);
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

/* One step of the loop: read what is there, write what is queued.
 * Returns 0 while the connection goes on. */
static int step(struct ws *w)
{
  if (wslay_event_want_read(w->ctx) && wslay_event_recv(w->ctx) != 0)
    return -1;
  if (wslay_event_want_write(w->ctx) && wslay_event_send(w->ctx) != 0)
    return -1;
  return wslay_event_want_read(w->ctx) || wslay_event_want_write(w->ctx) ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int sv[2];
  if (size < 1 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
    return 0;
  struct feed f = {0};
  size_t chunk = (size_t)data[0] + 1;
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  size_t first = n < chunk ? n : chunk;
  if (ws_prefix_copy(&f.ws, p, first, LIVE_FRAME_MAX) != 0 ||
      ws_init(&f.ws, WS_SERVER, sv[0], LIVE_FRAME_MAX, msg_cb) != 0)
    goto out;
  p += first;
  n -= first;
  int alive = step(&f.ws) == 0;
  while (alive && n > 0) {
    size_t k = n < chunk ? n : chunk;
    if (write(sv[1], p, k) != (ssize_t)k)
      break;
    p += k;
    n -= k;
    alive = step(&f.ws) == 0;
    ws_discard_input(sv[1]); /* the pongs and the close reply: read and dropped */
  }
  /* EOF: the client is gone; the loop sees a failed read. */
  shutdown(sv[1], SHUT_WR);
  for (int guard = 0; alive && guard < 4; guard++)
    alive = step(&f.ws) == 0;
out:
  ws_free(&f.ws);
  close(sv[0]);
  close(sv[1]);
  return 0;
}
