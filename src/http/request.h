/*
 * request.h — one HTTP request as handlers see it, and the only ways a
 * handler answers: a JSON body, the contract's error envelope, an empty
 * reply, a CORS preflight or a protocol upgrade. Every answer carries the
 * X-Athos-Request-Id header, and the CORS headers when the dispatcher
 * marked the request `cors`. No handler calls libmicrohttpd: this header
 * does not even include it.
 *
 * Handlers return API_OK (answered with a success body), API_REPLIED (a
 * client error, already answered) or API_FAIL (our fault: the server
 * answers 500 INTERNAL_ERROR and logs the request id).
 *
 * http/ knows nothing of the application: `app` and `tenant` are opaque
 * pointers it carries for the layer above (src/api/).
 */
#ifndef ATHOS_REQUEST_H
#define ATHOS_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "errors.h"
#include "util/dynbuf.h"

enum api_result { API_OK, API_REPLIED, API_FAIL };

struct MHD_Connection;
struct MHD_UpgradeResponseHandle;
struct app;
struct tenant;

/* Called once the 101 is out, on the HTTP thread (must not block): sock
 * and urh now belong to the callee, who ends the connection with
 * libmicrohttpd's MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE) — the
 * one libmicrohttpd call allowed outside http/, in the live loop. extra
 * holds bytes the client sent after its handshake (borrowed for the
 * call). */
typedef void (*http_upgrade_fn)(void *cls, int sock, struct MHD_UpgradeResponseHandle *urh,
                                const char *extra, size_t extra_len);

#define HTTP_REPLY_HEADERS_MAX 4
struct guard_conn;

struct api_request {
  struct MHD_Connection *conn; /* http/ only */
  struct guard_conn *guard;    /* http/ only: the connection's deadlines */
  bool close_after;            /* http/ only: answer with Connection: close */
  struct app *app;             /* the application context (opaque to http/) */
  const char *method;
  const char *url;
  char request_id[48];
  uint64_t started_us;
  /* The body, read before dispatch; its ceiling is the route's body
   * limit (server_config.body_limit). Read it with dynbuf_ptr()/_len(). */
  struct dynbuf body;
  bool body_too_large; /* more than the ceiling came (the buffer is empty) */
  size_t body_read;    /* http/ only: body bytes received, kept or not */
  unsigned status;     /* the status sent, for the access log */
  bool replied;
  /* Set by the dispatcher: */
  const char *name;            /* the route's name for the access log; NULL = the url */
  bool cors;                   /* browsers may call it: answers carry the CORS headers */
  const char *path_param;      /* e.g. the {callId}; borrowed from url */
  const struct tenant *tenant; /* API-key routes: borrowed for the handler's call */
  const char *key_id;          /* API-key routes: the key's public id, likewise */
  /* Headers for the reply, with integer values (http_reply_header). */
  struct {
    const char *name; /* static */
    long long value;
  } headers[HTTP_REPLY_HEADERS_MAX];
  int nheaders;
  /* http_reply_upgrade() only: */
  http_upgrade_fn upgrade_fn;
  void *upgrade_cls;
};

/* Adds a header with an integer value (name: static storage) to the reply
 * this request will get, whichever it is; ignored beyond
 * HTTP_REPLY_HEADERS_MAX. */
void http_reply_header(struct api_request *r, const char *name, long long value);

/* Queues a JSON success body (json is stolen). Returns API_OK, or
 * API_FAIL if it could not be queued. */
enum api_result http_reply_json(struct api_request *r, unsigned status, json_t *json);
/* Queues an already-rendered JSON body (body is malloc'd and taken). */
enum api_result http_reply_json_bytes(struct api_request *r, unsigned status, char *body,
                                      size_t len);
/* Queues a body that outlives the response (static data, borrowed) with
 * its Content-Type, e.g. a document embedded in the binary. */
enum api_result http_reply_static(struct api_request *r, unsigned status, const char *content_type,
                                  const void *body, size_t len);
/* Queues len bytes of the open file fd from offset (fd is taken and
 * closed by the server when the reply is done), with Accept-Ranges: bytes
 * and content_range (NULL = none) — a recording, 200 or 206; for 416 no
 * body is sent and fd is closed at once. */
enum api_result http_reply_fd(struct api_request *r, unsigned status, const char *content_type,
                              int fd, uint64_t offset, uint64_t len, const char *content_range);
/* Queues a malloc'd body (taken) with its Content-Type, e.g. text. */
enum api_result http_reply_text(struct api_request *r, unsigned status, const char *content_type,
                                char *body, size_t len);
/* Queues the error envelope; msg is a human-readable sentence. Returns
 * API_REPLIED for 4xx, API_FAIL for 5xx (already answered either way). */
enum api_result http_reply_error(struct api_request *r, enum athos_error e, const char *msg);
/* http_reply_error() with the code's default sentence. */
enum api_result http_reply_decision(struct api_request *r, enum athos_error e);
/* An error with a status outside the code table (404 for an unknown
 * route, 405 with Allow, 413): code INVALID_REQUEST. */
enum api_result http_reply_error_status(struct api_request *r, unsigned status, const char *msg,
                                        const char *allow);
/* Queues a reply without a body (e.g. 204). */
enum api_result http_reply_empty(struct api_request *r, unsigned status);
/* Answers a CORS preflight: 204 allowing `methods` ("POST, OPTIONS")
 * from any origin with the Authorization and Content-Type headers. */
enum api_result http_reply_preflight(struct api_request *r, const char *methods);
/* Queues 101 Switching Protocols to `protocol` ("websocket") with one
 * extra header (name, value; both may be NULL); once it is sent, fn(cls,
 * …) receives the socket. */
enum api_result http_reply_upgrade(struct api_request *r, const char *protocol, const char *header,
                                   const char *value, http_upgrade_fn fn, void *cls);

/* A request header (borrowed for the request's lifetime) or NULL. */
const char *http_header(struct api_request *r, const char *name);
/* A query-string argument (borrowed) or NULL. */
const char *http_query(struct api_request *r, const char *name);
/* The peer address. */
const struct sockaddr *http_peer(struct api_request *r);
/* The Bearer credential of the Authorization header, or NULL. */
const char *http_bearer(struct api_request *r);

#endif
