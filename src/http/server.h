/*
 * server.h — the HTTP server: a libmicrohttpd daemon (epoll, internal
 * thread pool) that gives every request an id, reads its body up to the
 * ceiling the layer above sets per route, hands it to one dispatch
 * function and writes the access log. It knows no route, no handler and
 * no application state: the layer above (src/api/routes.c) supplies the
 * dispatcher and the body limits, and `app` is passed through to every
 * request untouched.
 */
#ifndef ATHOS_SERVER_H
#define ATHOS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "http/request.h"

struct MHD_Daemon;

/* Routes, authenticates and answers one request (its body complete). */
typedef enum api_result (*http_dispatch_fn)(struct api_request *r);
/* The most body bytes the layer above takes for (method, url): the
 * ceiling of the request's body buffer, fixed when the request starts.
 * 0 = no body at all. */
typedef size_t (*http_body_limit_fn)(const char *method, const char *url);

struct server_config {
  const char *host;                /* listen address (borrowed while the server runs) */
  uint16_t port;                   /* 0 = any */
  unsigned threads;                /* internal thread pool; 0/1 = one epoll thread */
  size_t max_connections;          /* lowered at start if RLIMIT_NOFILE cannot be raised to fit */
  unsigned max_connections_per_ip; /* 0 = no per-IP cap */
  int64_t header_timeout_ms;       /* total time to send a request's headers (0 = none) */
  int64_t body_timeout_ms;         /* total time to send its body, from the headers (0 = none) */
  size_t max_body;                 /* the largest body of any route: a Content-Length over it is
                           * refused at the headers, a chunked body cut off past it */
  http_body_limit_fn body_limit;   /* the request's own ceiling; more marks body_too_large */
  http_dispatch_fn dispatch;
  struct app *app; /* given to every request as r->app */
};

struct guard;

struct server {
  struct server_config cfg;
  struct MHD_Daemon *daemon;
  struct guard *guard; /* connection deadlines (http/guard.h) */
};

/* Starts listening. Returns 0 or -1 (logged). */
int server_start(struct server *srv, const struct server_config *cfg);
/* Stops accepting new connections; requests in flight go on. Accepts a
 * server that never started. */
void server_quiesce(struct server *srv);
/* Waits for in-flight requests (up to 10 s), then stops the daemon,
 * freeing upgraded connections still open: close them first. */
void server_stop(struct server *srv);

#endif
