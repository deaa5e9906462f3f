/*
 * app.h — the application context: everything a request handler, the live
 * loop or a worker reads that outlives one request. Built once by main.c
 * (app_start) before the HTTP server starts and torn down after it stops;
 * handlers reach it as r->app and never own any of it.
 *
 * Layering: app.h sits above auth/, store/, drills/ and util/, and below
 * api/, live/ and main.c. http/ does not include it (it carries the
 * pointer opaquely).
 */
#ifndef ATHOS_APP_H
#define ATHOS_APP_H

#include "auth/session_token.h"
#include "config.h"
#include "drills/catalog.h"
#include "store/store.h"
#include "util/lru.h"

struct live_loop;
struct ratelimit;
struct scoring_worker;
struct webhook_deliverer;

struct app {
  const struct athos_config *cfg;
  struct store *store;
  struct drill_catalog *drills;
  struct token_keys keys;              /* JWT signing keys, loaded at start */
  struct live_loop *live;              /* WebSocket calls (src/live) */
  struct scoring_worker *scoring;      /* ended → scored (src/pipeline) */
  struct webhook_deliverer *deliverer; /* outbox → receivers (src/webhooks) */
  struct lru *auth_cache;              /* API key hash → tenant, for cfg->auth_cache_ms */
  struct lru *call_cache; /* rendered GET /calls/{id} bodies (scored calls never change) */
  struct ratelimit *rate; /* token buckets per tenant, API key and IP (auth/ratelimit.h) */
};

/* Fills app from cfg and s (both borrowed for app's life): loads the
 * drills and signing keys, ends calls orphaned by a previous process,
 * creates the caches and starts the webhook deliverer, the scoring
 * workers and the live loop. Returns 0, or -1 (logged) with whatever
 * started still to be released by app_stop(). */
int app_start(struct app *app, const struct athos_config *cfg, struct store *s);
/* Ends every live call and stops the loop (before the HTTP daemon stops:
 * the loop holds upgraded connections). Idempotent. */
void app_stop_live(struct app *app);
/* Stops what app_start() started, in reverse order. Accepts a partly
 * started app. */
void app_stop(struct app *app);

#endif
