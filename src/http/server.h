/*
 * server.h — the HTTP server: a libmicrohttpd daemon (epoll, internal
 * thread pool) that assigns every request an id, reads the body up to the
 * route's limit, authenticates it and dispatches it through the route
 * table (routes.c). Shared state handlers read lives in struct server.
 */
#ifndef ATHOS_SERVER_H
#define ATHOS_SERVER_H

#include <pthread.h>
#include <stdbool.h>

#include "auth/session_token.h"
#include "config.h"
#include "drills/catalog.h"
#include "store/store.h"
#include "util/lru.h"

struct live_loop;
struct scoring_worker;
struct webhook_deliverer;

struct server {
  const struct athos_config *cfg;
  struct store *store;
  const struct drill_catalog *drills;
  struct token_keys keys;               /* JWT signing keys, loaded at start */
  struct live_loop *live;               /* WebSocket calls (src/live) */
  struct scoring_worker *scoring;       /* ended → scored (src/pipeline) */
  struct webhook_deliverer *deliverer;  /* outbox → receivers (src/webhooks) */
  struct MHD_Daemon *daemon;
  struct lru *auth_cache; /* API key hash → tenant, for cfg->auth_cache_ms */
  struct lru *call_cache; /* rendered GET /calls/{id} bodies (scored calls never change) */
};

/* Starts listening. Returns 0 or -1 (logged). */
int server_start(struct server *srv);
/* Stops accepting, waits for in-flight requests (up to a few seconds),
 * then stops the daemon. */
void server_stop(struct server *srv);

#endif
