/*
 * ws_client.h — a small WebSocket client (RFC 6455) for the command line:
 * a plain TCP connection (no TLS), the HTTP/1.1 upgrade handshake with a
 * random Sec-WebSocket-Key whose Sec-WebSocket-Accept is verified, then
 * the framing of src/ws/ws.h (client frames masked). The caller drives it
 * from its own poll() loop: ws_client_fd() and ws_client_events() say
 * what to wait for, ws_client_io() does the reading and writing.
 */
#ifndef ATHOS_CLI_WS_CLIENT_H
#define ATHOS_CLI_WS_CLIENT_H

#include <stddef.h>

struct ws_client;

/* Called for each complete text message from the server. msg is borrowed:
 * valid only during the call, and not NUL-terminated. */
typedef void (*ws_client_text_cb)(void *ud, const char *msg, size_t len);

/* Connects to host:port (a name or an address; an IPv6 address without
 * brackets), performs the handshake for path (which starts with "/"),
 * and returns an owned client, or NULL with a reason in err. host_header
 * is the Host header's value. Blocks for at most timeout_ms. max_msg is
 * the largest message either way: a bigger one from the server closes
 * the connection with 1009, a bigger one of ours is not sent. */
struct ws_client *ws_client_open(const char *host, const char *port, const char *host_header,
                                 const char *path, int timeout_ms, size_t max_msg,
                                 ws_client_text_cb on_text, void *ud, char *err, size_t errlen);
/* Frees the client and closes its socket. NULL is fine. */
void ws_client_free(struct ws_client *c);

/* The socket, for poll(). */
int ws_client_fd(const struct ws_client *c);
/* The poll() events to wait for (POLLIN and/or POLLOUT); 0 once the
 * connection is finished (closed both ways, or failed). */
short ws_client_events(const struct ws_client *c);
/* Reads what is readable and writes what is queued; text messages go to
 * on_text from here. Returns 0, or -1 once the connection has failed or
 * the peer has gone (see ws_client_close_code()). */
int ws_client_io(struct ws_client *c);

/* Queues one text message (copied). Returns 0, or -1 if the connection
 * no longer accepts messages or len exceeds max_msg. */
int ws_client_send_text(struct ws_client *c, const char *msg, size_t len);
/* Queues a close frame with code (1000 = normal). Returns 0 or -1. */
int ws_client_close(struct ws_client *c, int code);
/* The close code the server sent, or 0 if no close frame arrived. */
int ws_client_close_code(const struct ws_client *c);

#endif
