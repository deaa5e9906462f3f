/* test_ws.c — the WebSocket transport (src/ws/ws.h) over real
 * non-blocking sockets: a client and a server endpoint talking through a
 * socketpair (masking, both directions), the handshake's prefix read
 * before the socket, EAGAIN as "would block", EOF as failure, the message,
 * fragment and queue ceilings (pongs counted), the read budget per call,
 * and reading a closing socket to its end a bounded amount at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ws/ws.h"

/* An endpoint and what it received. */
struct peer {
  struct ws ws;
  int messages;
  char last[256];
  size_t last_len;
  uint8_t last_opcode;
};

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
  (void)ctx;
  struct peer *p = ws_owner(user, struct peer, ws);
  if (arg->opcode != WSLAY_TEXT_FRAME && arg->opcode != WSLAY_BINARY_FRAME)
    return;
  p->messages++;
  p->last_opcode = arg->opcode;
  p->last_len = arg->msg_length < sizeof p->last ? arg->msg_length : sizeof p->last - 1;
  memcpy(p->last, arg->msg, p->last_len);
  p->last[p->last_len] = '\0';
}

static void pair(int sv[2])
{
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

/* Writes what w has queued; reads what its socket holds. */
static int pump(struct ws *w)
{
  if (wslay_event_want_write(w->ctx) && wslay_event_send(w->ctx) != 0)
    return -1;
  if (wslay_event_want_read(w->ctx) && wslay_event_recv(w->ctx) != 0)
    return -1;
  return 0;
}

/* A server (srv_max, srv_cb) and a client endpoint on the two ends of a
 * fresh socketpair sv; endpoints_free() undoes it. */
static void endpoints(int sv[2], struct peer *srv, size_t srv_max,
                      wslay_event_on_msg_recv_callback srv_cb, struct peer *cli)
{
  pair(sv);
  assert_int_equal(ws_init(&srv->ws, WS_SERVER, sv[0], srv_max, srv_cb), 0);
  assert_int_equal(ws_init(&cli->ws, WS_CLIENT, sv[1], 1024, on_msg), 0);
}

static void endpoints_free(int sv[2], struct peer *srv, struct peer *cli)
{
  ws_free(&cli->ws);
  ws_free(&srv->ws);
  close(sv[0]);
  close(sv[1]);
}

static void test_client_server_roundtrip(void **state)
{
  (void)state;
  int sv[2];
  struct peer srv = {0}, cli = {0};
  pair(sv);
  assert_int_equal(ws_init(&srv.ws, WS_SERVER, sv[0], 1024, on_msg), 0);
  assert_int_equal(ws_init(&cli.ws, WS_CLIENT, sv[1], 1024, on_msg), 0);

  assert_int_equal(ws_queue_text(&cli.ws, "hello", 5, 4096), 0);
  assert_int_equal(pump(&cli.ws), 0);
  assert_false(srv.ws.received);
  assert_int_equal(pump(&srv.ws), 0); /* a server refuses unmasked frames: this one was masked */
  assert_int_equal(srv.messages, 1);
  assert_int_equal(srv.last_opcode, WSLAY_TEXT_FRAME);
  assert_string_equal(srv.last, "hello");
  assert_true(srv.ws.received); /* bytes came from the socket */

  assert_int_equal(ws_queue_text(&srv.ws, "hi there", 8, 4096), 0);
  assert_int_equal(pump(&srv.ws), 0);
  assert_int_equal(pump(&cli.ws), 0);
  assert_int_equal(cli.messages, 1);
  assert_string_equal(cli.last, "hi there");

  /* Nothing more to read: EAGAIN is "would block", not a failure. */
  assert_int_equal(wslay_event_recv(srv.ws.ctx), 0);
  assert_true(wslay_event_want_read(srv.ws.ctx));

  /* The peer goes away: the next read fails. */
  ws_free(&cli.ws);
  close(sv[1]);
  assert_int_not_equal(wslay_event_recv(srv.ws.ctx), 0);
  ws_free(&srv.ws);
  ws_free(&srv.ws); /* twice is fine */
  close(sv[0]);
}

/* Bytes that arrived with the handshake are read before the socket, and
 * do not count as socket reads. */
static void test_prefix_first(void **state)
{
  (void)state;
  int a[2], b[2];
  struct peer cli = {0}, srv = {0};
  uint8_t wire[256];
  pair(a);
  pair(b);
  /* A client frame as it would travel, taken off the wire. */
  assert_int_equal(ws_init(&cli.ws, WS_CLIENT, a[1], 1024, on_msg), 0);
  assert_int_equal(ws_queue_text(&cli.ws, "early", 5, 4096), 0);
  assert_int_equal(pump(&cli.ws), 0);
  ssize_t n = read(a[0], wire, sizeof wire);
  assert_true(n > 5);

  assert_int_equal(ws_prefix_copy(&srv.ws, wire, (size_t)n, 1024), 0);
  assert_int_equal(ws_init(&srv.ws, WS_SERVER, b[0], 1024, on_msg), 0);
  assert_int_equal(wslay_event_recv(srv.ws.ctx), 0);
  assert_int_equal(srv.messages, 1);
  assert_string_equal(srv.last, "early");
  assert_null(srv.ws.prefix); /* used up and freed */
  assert_false(srv.ws.received);

  /* A prefix longer than one message and its slack is refused. */
  struct ws big = {0};
  assert_int_equal(ws_prefix_copy(&big, wire, WS_PREFIX_MAX(16) + 1, 16), -1);
  assert_null(big.prefix);
  assert_int_equal(ws_prefix_copy(&big, wire, 0, 16), 0);
  assert_null(big.prefix);
  ws_free(&big);

  ws_free(&cli.ws);
  ws_free(&srv.ws);
  close(a[0]);
  close(a[1]);
  close(b[0]);
  close(b[1]);
}

/* A message over the receiver's max_msg is not delivered: the receiver
 * closes with 1009. */
static void test_message_ceiling(void **state)
{
  (void)state;
  int sv[2];
  struct peer srv = {0}, cli = {0};
  char big[200];
  memset(big, 'x', sizeof big);
  endpoints(sv, &srv, 100, on_msg, &cli);
  assert_int_equal(ws_queue_text(&cli.ws, big, 101, 4096), 0);
  assert_int_equal(pump(&cli.ws), 0);
  pump(&srv.ws); /* reads the header, refuses, queues and sends the close */
  pump(&srv.ws);
  assert_int_equal(srv.messages, 0);
  pump(&cli.ws);
  assert_true(wslay_event_get_close_received(cli.ws.ctx));
  assert_int_equal(wslay_event_get_status_code_received(cli.ws.ctx), 1009);
  endpoints_free(sv, &srv, &cli);
}

/* The queue's cost is its payload plus WS_QUEUED_MSG_OVERHEAD a message. */
static void test_queue_ceiling(void **state)
{
  (void)state;
  int sv[2];
  struct peer srv = {0};
  const size_t ten = 10 + WS_QUEUED_MSG_OVERHEAD, five = 5 + WS_QUEUED_MSG_OVERHEAD;
  const size_t max = 2 * ten + five;
  pair(sv);
  assert_int_equal(ws_init(&srv.ws, WS_SERVER, sv[0], 1024, on_msg), 0);
  assert_int_equal(ws_queue_text(&srv.ws, "0123456789", 10, max), 0);
  assert_int_equal(ws_queue_text(&srv.ws, "0123456789", 10, max), 0);
  assert_int_equal(ws_queued_cost(&srv.ws), 2 * ten);
  assert_int_equal(ws_queue_text(&srv.ws, "0123456789", 10, max), WS_QUEUE_FULL);
  assert_int_equal(ws_queue_text(&srv.ws, "01234", 5, max), 0); /* exactly full */
  assert_int_equal(ws_queued_cost(&srv.ws), max);
  assert_int_equal(ws_queue_text(&srv.ws, "x", 1, max), WS_QUEUE_FULL);
  assert_int_equal(ws_queue_text(&srv.ws, "x", 1, 0), WS_QUEUE_FULL);
  assert_int_equal(ws_queue_text(&srv.ws, "x", 1, WS_QUEUED_MSG_OVERHEAD), WS_QUEUE_FULL);
  /* After a close is queued, no message is taken. */
  assert_int_equal(wslay_event_queue_close(srv.ws.ctx, 1000, NULL, 0), 0);
  assert_int_equal(ws_queue_text(&srv.ws, "x", 1, 100000), -1);
  ws_free(&srv.ws);
  close(sv[0]);
  close(sv[1]);
}

/* wslay's automatic pongs are not free: each counts in ws_queued_cost(),
 * so the owner can refuse a peer that pings and does not read. */
static void test_pongs_count(void **state)
{
  (void)state;
  int sv[2];
  struct peer srv = {0}, cli = {0};
  endpoints(sv, &srv, 1024, on_msg, &cli);
  struct wslay_event_msg ping = {.opcode = WSLAY_PING, .msg = NULL, .msg_length = 0};
  for (int i = 0; i < 3; i++)
    assert_int_equal(wslay_event_queue_msg(cli.ws.ctx, &ping), 0);
  assert_int_equal(pump(&cli.ws), 0);
  assert_int_equal(ws_recv(&srv.ws, 4096), 0);
  assert_int_equal(ws_queued_cost(&srv.ws), 3 * WS_QUEUED_MSG_OVERHEAD);
  assert_int_equal(ws_queue_text(&srv.ws, "x", 1, 4 * WS_QUEUED_MSG_OVERHEAD), WS_QUEUE_FULL);
  endpoints_free(sv, &srv, &cli);
}

static int g_stop_after; /* on_msg_stopping: ws_recv_stop() after this many */

static void on_msg_stopping(wslay_event_context_ptr ctx,
                            const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
  on_msg(ctx, arg, user);
  struct peer *p = ws_owner(user, struct peer, ws);
  if (p->messages == g_stop_after)
    ws_recv_stop(&p->ws);
}

/* ws_recv() reads at most its budget from the socket; the rest stays
 * there for the next call, and nothing is lost. ws_recv_stop() ends the
 * reading early. */
static void test_recv_budget(void **state)
{
  (void)state;
  int sv[2];
  struct peer srv = {0}, cli = {0};
  char line[1000];
  memset(line, 'y', sizeof line);
  endpoints(sv, &srv, 1024, on_msg_stopping, &cli);
  for (int i = 0; i < 10; i++) /* 1,008 bytes each on the wire: 2 + 2 + 4 (mask) + 1,000 */
    assert_int_equal(ws_queue_text(&cli.ws, line, sizeof line, 1 << 20), 0);
  assert_int_equal(pump(&cli.ws), 0);
  g_stop_after = -1;
  assert_int_equal(ws_recv(&srv.ws, 3000), 0);
  assert_int_equal(srv.messages, 2); /* 3,000 bytes: two whole messages */
  /* Stopped after the fifth: what wslay buffered (4 KiB) is parsed, the
   * socket is not read again, so the last message is not reached. */
  g_stop_after = 5;
  assert_int_equal(ws_recv(&srv.ws, 1 << 20), 0);
  assert_true(srv.messages >= 5 && srv.messages < 10);
  g_stop_after = -1;
  assert_int_equal(ws_recv(&srv.ws, 1 << 20), 0);
  assert_int_equal(srv.messages, 10);
  endpoints_free(sv, &srv, &cli);
}

/* Writes a masked (key 0) client frame with payload p. */
static void raw_frame(int fd, uint8_t first, const char *p)
{
  uint8_t f[6 + 16] = {first, (uint8_t)(0x80 | strlen(p)), 0, 0, 0, 0};
  memcpy(f + 6, p, strlen(p));
  assert_int_equal(write(fd, f, 6 + strlen(p)), (ssize_t)(6 + strlen(p)));
}

/* A message in WS_FRAGMENTS_MAX frames is delivered; one more frame and
 * it is refused with 1009, reading stops. */
static void test_fragments_ceiling(void **state)
{
  (void)state;
  for (int extra = 0; extra <= 1; extra++) {
    int sv[2];
    struct peer srv = {0};
    uint8_t back[64];
    pair(sv);
    assert_int_equal(ws_init(&srv.ws, WS_SERVER, sv[0], 1024, on_msg), 0);
    raw_frame(sv[1], 0x01, "o"); /* text, not fin */
    for (int i = 0; i < WS_FRAGMENTS_MAX - 2 + extra; i++)
      raw_frame(sv[1], 0x00, ""); /* continuation, not fin */
    raw_frame(sv[1], 0x80, "k");  /* continuation, fin */
    assert_int_equal(ws_recv(&srv.ws, 1 << 20), 0);
    if (!extra) {
      assert_int_equal(srv.messages, 1);
      assert_string_equal(srv.last, "ok");
      assert_true(wslay_event_get_read_enabled(srv.ws.ctx));
    } else {
      assert_int_equal(srv.messages, 0);
      assert_false(wslay_event_get_read_enabled(srv.ws.ctx));
      assert_int_equal(wslay_event_send(srv.ws.ctx), 0);
      assert_int_equal(read(sv[1], back, sizeof back), 4); /* close, 2 bytes: 1009 */
      assert_int_equal(back[0], 0x88);
      assert_int_equal((back[2] << 8) | back[3], 1009);
    }
    ws_free(&srv.ws);
    close(sv[0]);
    close(sv[1]);
  }
}

static void test_discard_input(void **state)
{
  (void)state;
  int sv[2];
  pair(sv);
  assert_int_equal(ws_discard_input(sv[0]), 0); /* nothing yet: EAGAIN */
  assert_int_equal(write(sv[1], "leftover bytes", 14), 14);
  assert_int_equal(ws_discard_input(sv[0]), 0); /* read, and more may come */
  char c;
  assert_int_equal(read(sv[0], &c, 1), -1); /* they were consumed */
  /* A flood is read WS_DISCARD_MAX bytes a call, never all at once. */
  static char junk[4096];
  size_t total = 0;
  while (total <= 2 * WS_DISCARD_MAX && write(sv[1], junk, sizeof junk) > 0)
    total += sizeof junk;
  if (total > WS_DISCARD_MAX + sizeof junk) {
    assert_int_equal(ws_discard_input(sv[0]), 0);
    assert_int_equal(read(sv[0], &c, 1), 1); /* some left for the next call */
  }
  close(sv[1]);
  while (ws_discard_input(sv[0]) == 0) {
  }
  close(sv[0]);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_server_roundtrip),
      cmocka_unit_test(test_prefix_first),
      cmocka_unit_test(test_message_ceiling),
      cmocka_unit_test(test_queue_ceiling),
      cmocka_unit_test(test_pongs_count),
      cmocka_unit_test(test_recv_budget),
      cmocka_unit_test(test_fragments_ceiling),
      cmocka_unit_test(test_discard_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
