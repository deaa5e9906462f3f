/*
 * server.h — the HTTP server: a libmicrohttpd daemon (epoll, internal
 * thread pool) that gives every request an id, reads its body up to a
 * ceiling, hands it to one dispatch function and writes the access log.
 * It knows no route, no handler and no application state: the layer above
 * (src/api/routes.c) supplies the dispatcher, and `app` is passed through
 * to every request untouched.
 */
#ifndef ATHOS_SERVER_H
#define ATHOS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "http/request.h"

struct MHD_Daemon;

/* Routes, authenticates and answers one request (its body complete). */
typedef enum api_result (*http_dispatch_fn)(struct api_request *r);

struct server_config {
  const char *host;       /* listen address (borrowed while the server runs) */
  uint16_t port;          /* 0 = any */
  unsigned threads;       /* internal thread pool; 0/1 = one epoll thread */
  size_t max_connections;
  size_t max_body;        /* bytes read before routing; more marks body_too_large */
  http_dispatch_fn dispatch;
  struct app *app;        /* given to every request as r->app */
};

struct server {
  struct server_config cfg;
  struct MHD_Daemon *daemon;
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
