/*
 * ws_client.c — the command line's WebSocket client: TCP connect with a
 * deadline, the RFC 6455 §4.1 opening handshake (random key, verified
 * accept), then wslay's event API in client mode over the non-blocking
 * socket. Bytes that arrive behind the 101 response are kept and fed to
 * wslay before the socket is read again. Plain ws:// only: TLS is out of
 * scope for a practice tool that talks to a local or private server.
 */
#include "cli/ws_client.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "util/crypto.h"
#include "util/timefmt.h"
#include "ws/ws.h"
#include "ws/ws_util.h"

/* The handshake response (status line and headers) must fit in this. */
#define WS_HANDSHAKE_MAX 8192
/* A refused handshake's body is read up to this much, for its message. */
#define WS_ERROR_BODY_MAX 4096
/* Bytes queued for the server, in messages of at most max_msg: the CLI
 * sends one line at a time, so a few messages is already abnormal. */
#define WS_CLIENT_QUEUE_MSGS 4

struct ws_client {
  struct ws ws; /* ws.fd is ours: closed by ws_client_free() */
  size_t max_msg;
  ws_client_text_cb on_text;
  void *ud;
  int failed;
};

/* ------------------------------------------------------------ helpers */

/* Waits until fd has events or the deadline passes. Returns 1 ready,
 * 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
  for (;;) {
    int64_t left = deadline - time_mono_ms();
    if (left <= 0)
      return 0;
    struct pollfd p = {.fd = fd, .events = events};
    int n = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
    if (n > 0)
      return 1;
    if (n < 0 && errno != EINTR)
      return -1;
  }
}

/* Connects a non-blocking socket to host:port before the deadline,
 * trying each address in turn. Returns the fd or -1. */
static int tcp_connect(const char *host, const char *port, int64_t deadline, char *err,
                       size_t errlen)
{
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  struct addrinfo *res = NULL;
  int fd = -1;
  int gai = getaddrinfo(host, port, &hints, &res);
  if (gai != 0) {
    snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(gai));
    return -1;
  }
  snprintf(err, errlen, "cannot connect to %s port %s", host, port);
  for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
      continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
      break;
    if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 1) {
      int soerr = 0;
      socklen_t slen = sizeof soerr;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == 0 && soerr == 0)
        break;
      errno = soerr;
    }
    snprintf(err, errlen, "cannot connect to %s port %s: %s", host, port,
             errno != 0 ? strerror(errno) : "timed out");
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

/* Sends all of buf before the deadline. Returns 0 or -1. */
static int send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
  size_t off = 0;
  while (off < len) {
    ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLOUT, deadline) == 1)
      continue;
    return -1;
  }
  return 0;
}

/* Finds header name in the CRLF-separated block [p, end) and copies its
 * trimmed value into out. Returns 0, or -1 if absent or too long. */
static int find_header(const char *p, const char *end, const char *name, char *out, size_t cap)
{
  size_t nlen = strlen(name);
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol != NULL ? eol : end;
    const char *colon = memchr(p, ':', (size_t)(line_end - p));
    if (colon != NULL && (size_t)(colon - p) == nlen && strncasecmp(p, name, nlen) == 0) {
      const char *v = colon + 1;
      const char *ve = line_end;
      while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
      if ((size_t)(ve - v) >= cap)
        return -1;
      memcpy(out, v, (size_t)(ve - v));
      out[ve - v] = '\0';
      return 0;
    }
    p = line_end + 1;
  }
  return -1;
}

/* Describes a refused handshake: its status and, when the body is the
 * contract's error envelope, the code and message. */
static void describe_refusal(int status, const char *body, size_t len, char *err, size_t errlen)
{
  json_t *j = json_loadb(body, len, 0, NULL);
  json_t *e = json_object_get(j, "error");
  const char *code = json_string_value(json_object_get(e, "code"));
  const char *msg = json_string_value(json_object_get(e, "message"));
  if (code != NULL && msg != NULL)
    snprintf(err, errlen, "the server refused the WebSocket upgrade: HTTP %d %s: %s", status, code,
             msg);
  else
    snprintf(err, errlen, "the server refused the WebSocket upgrade: HTTP %d", status);
  json_decref(j);
}

/* Sends the upgrade request and checks the 101 response. Bytes after
 * the response's headers become c->ws's prefix. Returns 0 or -1. */
static int handshake(struct ws_client *c, const char *host_header, const char *path,
                     int64_t deadline, char *err, size_t errlen)
{
  unsigned char nonce[16];
  char key[32];
  char expect[WS_ACCEPT_LEN];
  char req[2048];
  char buf[WS_HANDSHAKE_MAX];
  int fd = c->ws.fd;
  size_t len = 0;
  const char *hdr_end = NULL;
  char value[256];

  if (crypto_random(nonce, sizeof nonce) != 0 ||
      b64_encode(nonce, sizeof nonce, key, sizeof key) == 0 ||
      ws_accept_key(key, expect, sizeof expect) != 0) {
    snprintf(err, errlen, "cannot make a WebSocket key");
    return -1;
  }
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\n"
                   "Host: %s\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "User-Agent: athos-practice\r\n"
                   "\r\n",
                   path, host_header, key);
  if (n < 0 || (size_t)n >= sizeof req) {
    snprintf(err, errlen, "the connection URL is too long");
    return -1;
  }
  if (send_all(fd, req, (size_t)n, deadline) != 0) {
    snprintf(err, errlen, "cannot send the WebSocket handshake: %s", strerror(errno));
    return -1;
  }

  /* Read until the blank line that ends the headers. */
  while (hdr_end == NULL) {
    if (len == sizeof buf) {
      snprintf(err, errlen, "the handshake response headers are too long");
      return -1;
    }
    ssize_t r = recv(fd, buf + len, sizeof buf - len, 0);
    if (r > 0) {
      size_t from = len > 3 ? len - 3 : 0;
      len += (size_t)r;
      for (size_t i = from; i + 3 < len; i++)
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
          hdr_end = buf + i + 4;
          break;
        }
      continue;
    }
    if (r == 0) {
      snprintf(err, errlen, "the server closed the connection during the handshake");
      return -1;
    }
    if (errno == EINTR)
      continue;
    if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLIN, deadline) == 1)
      continue;
    snprintf(err, errlen, "no WebSocket handshake response: %s",
             errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
    return -1;
  }

  int status = 0;
  buf[hdr_end - buf - 1] = '\0'; /* the final LF: sscanf stops at the headers */
  if (sscanf(buf, "HTTP/1.%*1[01] %3d", &status) != 1) {
    snprintf(err, errlen, "the handshake response is not HTTP");
    return -1;
  }
  const char *headers = memchr(buf, '\n', (size_t)(hdr_end - buf));
  headers = headers != NULL ? headers + 1 : hdr_end;
  if (status != 101) {
    /* Read the error body (bounded) for its message; best effort. */
    char body[WS_ERROR_BODY_MAX];
    size_t blen = (size_t)(buf + len - hdr_end);
    size_t want = 0;
    if (blen > sizeof body)
      blen = sizeof body;
    memcpy(body, hdr_end, blen);
    if (find_header(headers, hdr_end, "Content-Length", value, sizeof value) == 0)
      want = (size_t)strtoul(value, NULL, 10);
    if (want > sizeof body)
      want = sizeof body;
    while (blen < want && wait_fd(fd, POLLIN, deadline) == 1) {
      ssize_t r = recv(fd, body + blen, want - blen, 0);
      if (r <= 0 && !(r < 0 && (errno == EINTR || errno == EAGAIN)))
        break;
      if (r > 0)
        blen += (size_t)r;
    }
    describe_refusal(status, body, blen, err, errlen);
    return -1;
  }
  if (find_header(headers, hdr_end, "Upgrade", value, sizeof value) != 0 ||
      !ws_header_has_token(value, "websocket") ||
      find_header(headers, hdr_end, "Connection", value, sizeof value) != 0 ||
      !ws_header_has_token(value, "upgrade")) {
    snprintf(err, errlen, "the 101 response lacks Upgrade: websocket / Connection: Upgrade");
    return -1;
  }
  if (find_header(headers, hdr_end, "Sec-WebSocket-Accept", value, sizeof value) != 0 ||
      strlen(value) != WS_ACCEPT_LEN - 1 || !crypto_equal(value, expect, WS_ACCEPT_LEN - 1)) {
    snprintf(err, errlen, "the server's Sec-WebSocket-Accept does not match our key");
    return -1;
  }
  /* Keep the bytes that followed the headers for wslay. */
  if (ws_prefix_copy(&c->ws, hdr_end, (size_t)(buf + len - hdr_end), c->max_msg) != 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------ framing */

static void on_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *user)
{
  struct ws_client *c = ws_owner(user, struct ws_client, ws);
  if (arg->opcode == WSLAY_TEXT_FRAME && c->on_text != NULL)
    c->on_text(c->ud, (const char *)arg->msg, arg->msg_length);
  /* Binary frames are not part of the protocol: ignored. Pings are
   * answered by wslay itself; a close is answered by wslay too. */
}

/* ----------------------------------------------------------- public */

struct ws_client *ws_client_open(const char *host, const char *port, const char *host_header,
                                 const char *path, int timeout_ms, size_t max_msg,
                                 ws_client_text_cb on_text, void *ud, char *err, size_t errlen)
{
  int64_t deadline = time_mono_ms() + timeout_ms;
  struct ws_client *c = calloc(1, sizeof *c);
  if (c == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  c->max_msg = max_msg;
  c->on_text = on_text;
  c->ud = ud;
  c->ws.fd = tcp_connect(host, port, deadline, err, errlen);
  if (c->ws.fd < 0)
    goto fail;
  if (handshake(c, host_header, path, deadline, err, errlen) != 0)
    goto fail;
  if (ws_init(&c->ws, WS_CLIENT, c->ws.fd, max_msg, on_msg_cb) != 0) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  return c;
fail:
  ws_client_free(c);
  return NULL;
}

void ws_client_free(struct ws_client *c)
{
  if (c == NULL)
    return;
  ws_free(&c->ws);
  if (c->ws.fd >= 0)
    close(c->ws.fd);
  free(c);
}

int ws_client_fd(const struct ws_client *c)
{
  return c->ws.fd;
}

short ws_client_events(const struct ws_client *c)
{
  short ev = 0;
  if (c->failed)
    return 0;
  if (wslay_event_want_read(c->ws.ctx))
    ev |= POLLIN;
  if (wslay_event_want_write(c->ws.ctx))
    ev |= POLLOUT;
  return ev;
}

int ws_client_io(struct ws_client *c)
{
  if (c->failed)
    return -1;
  /* Handshake leftovers first: poll() would not report them. */
  if (wslay_event_want_read(c->ws.ctx) && wslay_event_recv(c->ws.ctx) != 0)
    goto fail;
  if (wslay_event_want_write(c->ws.ctx) && wslay_event_send(c->ws.ctx) != 0)
    goto fail;
  return 0;
fail:
  c->failed = 1;
  return -1;
}

int ws_client_send_text(struct ws_client *c, const char *msg, size_t len)
{
  if (c->failed || len > c->max_msg)
    return -1;
  return ws_queue_text(&c->ws, msg, len, WS_CLIENT_QUEUE_MSGS * c->max_msg) == 0 ? 0 : -1;
}

int ws_client_close(struct ws_client *c, int code)
{
  if (c->failed)
    return -1;
  return wslay_event_queue_close(c->ws.ctx, (uint16_t)code, NULL, 0) == 0 ? 0 : -1;
}

int ws_client_close_code(const struct ws_client *c)
{
  if (!wslay_event_get_close_received(c->ws.ctx))
    return 0;
  return wslay_event_get_status_code_received(c->ws.ctx);
}
