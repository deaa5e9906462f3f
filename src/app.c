/*
 * app.c — building and tearing down the application context (app.h): the
 * composition root of `athos serve`, the one file that knows every
 * long-lived part and the order they start and stop in.
 */
#include "app.h"

#include <assert.h>
#include <string.h>

#include "api/handlers.h"
#include "auth/api_key.h"
#include "auth/ratelimit.h"
#include "live/live.h"
#include "pipeline/scoring_worker.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "webhooks/deliverer.h"

#define RATE_BUCKETS 65536 /* tenants, keys and client IPs metered at once */

/* What a start needs from the database before any thread runs. */
static int load_state(struct app *app)
{
  char err[512];
  if (drill_catalog_load(app->cfg->drills_dir, &app->drills, err, sizeof err) != 0) {
    log_error("drills: %s", err);
    return -1;
  }
  app->keys.n = TOKEN_KEYS_MAX;
  if (store_signing_keys(app->store, app->keys.keys, &app->keys.n) != STORE_OK ||
      app->keys.n == 0) {
    log_error("cannot load token signing keys (run athos migrate)");
    return -1;
  }
  if (store_start_background(app->store) != STORE_OK)
    return -1;
  int64_t orphans = 0;
  if (store_calls_end_orphaned(app->store, time_now_ms(), &orphans) != STORE_OK)
    return -1;
  if (orphans > 0)
    log_info("ended %lld call(s) left live by a previous process", (long long)orphans);
  return 0;
}

int app_start(struct app *app, const struct athos_config *cfg, struct store *s)
{
  assert(cfg != NULL && s != NULL);
  memset(app, 0, sizeof *app);
  app->cfg = cfg;
  app->store = s;
  if (load_state(app) != 0)
    return -1;
  app->auth_cache = api_key_cache_new();
  app->call_cache = calls_cache_new();
  app->rate = ratelimit_new(RATE_BUCKETS);
  if (app->auth_cache == NULL || app->call_cache == NULL || app->rate == NULL)
    return -1;
  app->deliverer = webhook_deliverer_start(cfg, s);
  app->scoring = scoring_worker_start(cfg, s, app->drills, app->deliverer);
  app->live = live_loop_start(app);
  if (app->deliverer == NULL || app->scoring == NULL || app->live == NULL)
    return -1;
  return 0;
}

void app_stop_live(struct app *app)
{
  live_loop_stop(app->live);
  app->live = NULL;
}

void app_stop(struct app *app)
{
  app_stop_live(app);
  scoring_worker_stop(app->scoring);
  webhook_deliverer_stop(app->deliverer);
  lru_free(app->auth_cache);
  lru_free(app->call_cache);
  ratelimit_free(app->rate);
  app->rate = NULL;
  drill_catalog_free(app->drills);
  app->scoring = NULL;
  app->deliverer = NULL;
  app->auth_cache = app->call_cache = NULL;
  app->drills = NULL;
}
