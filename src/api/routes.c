/*
 * routes.c — the one table of endpoints, matching a request to it, and the
 * dispatcher the HTTP server calls: route, size check, API-key
 * authentication, handler. The only place that knows which endpoint
 * needs what; http/ below it knows none of them.
 */
#include "api/routes.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/handlers.h"
#include "auth/api_key.h"
#include "auth/ratelimit.h"
#include "live/live.h"
#include "metrics.h"
#include "util/timefmt.h"

static const struct route ROUTES[] = {
    {"GET", "/healthz", api_healthz, AUTH_NONE, 0, false, "healthz"},
    {"GET", "/readyz", api_readyz, AUTH_NONE, 0, false, "readyz"},
    {"POST", API_PREFIX "/session", api_session_mint, AUTH_API_KEY, BODY_LIMIT_DEFAULT, false,
     "session.mint"},
    {"POST", API_PREFIX "/roleplay/session", api_roleplay_redeem, AUTH_SESSION_TOKEN,
     BODY_LIMIT_DEFAULT, true, "roleplay.redeem"},
    {"GET", API_PREFIX "/roleplay/live", api_roleplay_live, AUTH_NONE, 0, false, "roleplay.live"},
    {"GET", API_PREFIX "/calls", api_calls_list, AUTH_API_KEY, 0, false, "calls.list"},
    {"GET", API_PREFIX "/calls/{callId}", api_calls_get, AUTH_API_KEY, 0, false, "calls.get"},
    {"GET", API_PREFIX "/calls/{callId}/recording", api_calls_recording, AUTH_API_KEY, 0, false,
     "calls.recording"},
    {"GET", API_PREFIX "/openapi.json", api_openapi_json, AUTH_NONE, 0, false, "openapi.json"},
    {"GET", API_PREFIX "/openapi.yaml", api_openapi_yaml, AUTH_NONE, 0, false, "openapi.yaml"},
    {"GET", "/metrics", api_metrics, AUTH_NONE, 0, false, "metrics"},
};

#define NROUTES (sizeof ROUTES / sizeof ROUTES[0])

/* Matches path against pattern; a "{x}" matches one non-empty segment,
 * returned in *param (borrowed from path: it runs to the segment's end,
 * '/' or NUL, e.g. "call_1/recording" for ".../{callId}/recording"). */
static bool path_matches(const char *pattern, const char *path, const char **param)
{
  const char *brace = strchr(pattern, '{');
  if (brace == NULL) {
    *param = NULL;
    return strcmp(pattern, path) == 0;
  }
  size_t prefix = (size_t)(brace - pattern);
  if (strncmp(pattern, path, prefix) != 0)
    return false;
  const char *seg = path + prefix;
  const char *suffix = strchr(brace, '}') + 1; /* "" or "/recording" */
  const char *seg_end = strchr(seg, '/');
  if (seg_end == NULL)
    seg_end = seg + strlen(seg);
  if (seg_end == seg || strcmp(seg_end, suffix) != 0)
    return false;
  *param = seg;
  return true;
}

/* HEAD is answered by every GET route (libmicrohttpd sends the headers
 * of the GET reply without its body). */
static bool method_matches(const char *route_method, const char *method)
{
  return strcmp(route_method, method) == 0 ||
         (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

/* Appends ", method" (or "method" first) to the list in allow. */
static void allow_add(char *allow, size_t cap, size_t *used, const char *method)
{
  int n = snprintf(allow + *used, cap - *used, "%s%s", *used > 0 ? ", " : "", method);
  if (n > 0 && *used + (size_t)n < cap)
    *used += (size_t)n;
}

enum route_match routes_match(const char *method, const char *path, const struct route **route,
                              const char **param, char *allow, size_t allow_cap)
{
  assert(allow_cap > 0);
  const struct route *cors = NULL;
  const char *cors_param = NULL;
  bool path_seen = false;
  size_t used = 0;
  allow[0] = '\0';
  for (size_t i = 0; i < NROUTES; i++) {
    const char *p = NULL;
    if (!path_matches(ROUTES[i].pattern, path, &p))
      continue;
    if (method_matches(ROUTES[i].method, method)) {
      *route = &ROUTES[i];
      *param = p;
      return ROUTE_FOUND;
    }
    path_seen = true;
    if (ROUTES[i].cors && cors == NULL) {
      cors = &ROUTES[i];
      cors_param = p;
    }
    allow_add(allow, allow_cap, &used, ROUTES[i].method);
    if (strcmp(ROUTES[i].method, "GET") == 0)
      allow_add(allow, allow_cap, &used, "HEAD");
  }
  if (!path_seen)
    return ROUTE_NO_PATH;
  if (cors == NULL)
    return ROUTE_NO_METHOD;
  allow_add(allow, allow_cap, &used, "OPTIONS");
  if (strcmp(method, "OPTIONS") != 0)
    return ROUTE_NO_METHOD;
  *route = cors;
  *param = cors_param;
  return ROUTE_PREFLIGHT;
}

size_t routes_max_body(void)
{
  size_t max = 0;
  for (size_t i = 0; i < NROUTES; i++)
    if (ROUTES[i].body_limit > max)
      max = ROUTES[i].body_limit;
  return max;
}

size_t routes_body_limit(const char *method, const char *path)
{
  const struct route *route = NULL;
  const char *param = NULL;
  char allow[64];
  if (routes_match(method, path, &route, &param, allow, sizeof allow) != ROUTE_FOUND)
    return 0;
  return route->body_limit;
}

/* A JSON endpoint takes application/json (parameters allowed, e.g.
 * charset) or a +json type; no Content-Type at all is tolerated. */
static bool content_type_is_json(const char *ct)
{
  if (ct == NULL)
    return true;
  while (*ct == ' ' || *ct == '\t')
    ct++;
  size_t n = strcspn(ct, "; \t");
  if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
    return true;
  return n > 5 && strncasecmp(ct, "application/", 12) == 0 &&
         strncasecmp(ct + n - 5, "+json", 5) == 0;
}

/* The API-key step: the key's tenant in *t and its public id in key_id,
 * or the refusal answered. */
static enum api_result authenticate_key(struct api_request *r, struct tenant *t,
                                        char key_id[ID_MAX])
{
  const char *key = http_bearer(r);
  if (key == NULL)
    return http_reply_error(r, ERR_INVALID_API_KEY,
                            "Missing API key: send Authorization: Bearer ath_live_…");
  struct app *app = r->app;
  enum athos_error e = api_key_authenticate(app->store, app->auth_cache, app->cfg->auth_cache_ms,
                                            key, http_peer(r), t, key_id);
  return e == ERR_NONE ? API_OK : api_reply_decision(r, e);
}

/* ------------------------------------------------------------ rate limits */

/* The RateLimit-* headers (IETF draft) of res, and when it refuses, 429
 * RATE_LIMITED with Retry-After. API_OK when the request may go on. */
static enum api_result rate_answer(struct api_request *r, const struct rate_result *res,
                                   bool headers)
{
  if (headers) {
    http_reply_header(r, "RateLimit-Limit", res->limit);
    http_reply_header(r, "RateLimit-Remaining", res->remaining);
    http_reply_header(r, "RateLimit-Reset", res->reset_sec);
  }
  if (res->allowed)
    return API_OK;
  http_reply_header(r, "Retry-After", res->retry_after);
  metrics_inc(M_RATE_LIMITED);
  return http_reply_decision(r, ERR_RATE_LIMITED);
}

/* The tenant's bucket (its own limit, or ATHOS_RATE_LIMIT) and, when
 * ATHOS_RATE_LIMIT_PER_KEY is set, the key's; the headers tell the
 * tighter. A tenant set to `none` and no per-key limit: no headers. */
static enum api_result meter_key(struct api_request *r, const struct tenant *t, const char *key_id)
{
  const struct athos_config *cfg = r->app->cfg;
  int64_t tenant_limit = t->rate_limit >= 0 ? t->rate_limit : cfg->rate_limit;
  int64_t now = (int64_t)(time_mono_us() / 1000);
  struct rate_result rt = {0}, rk = {0};
  const struct rate_result *res = NULL;
  char key[RATE_KEY_MAX];
  if (tenant_limit > 0) {
    snprintf(key, sizeof key, "tenant:%s", t->public_id);
    ratelimit_take(r->app->rate, key, tenant_limit, now, &rt);
    res = &rt;
  }
  if (cfg->rate_limit_per_key > 0) {
    snprintf(key, sizeof key, "key:%s", key_id);
    ratelimit_take(r->app->rate, key, cfg->rate_limit_per_key, now, &rk);
    res = res != NULL ? ratelimit_tighter(res, &rk) : &rk;
  }
  return res != NULL ? rate_answer(r, res, true) : API_OK;
}

/* Routes metered per client IP: a session token's redeem and the live
 * WebSocket's connects (both reachable without an API key). */
static enum api_result meter_ip(struct api_request *r, const struct route *route)
{
  int64_t limit = r->app->cfg->rate_limit_per_ip;
  if (limit <= 0 || (route->handler != api_roleplay_redeem && route->handler != api_roleplay_live))
    return API_OK;
  char key[RATE_KEY_MAX];
  struct rate_result res;
  ratelimit_ip_key(http_peer(r), route->name, key);
  ratelimit_take(r->app->rate, key, limit, (int64_t)(time_mono_us() / 1000), &res);
  return rate_answer(r, &res, false);
}

/* Runs the handler of an API-key route; the tenant lives on this stack
 * frame, so r->tenant is cleared before it goes away. */
static enum api_result run_authenticated(struct api_request *r, const struct route *route)
{
  struct tenant t;
  char key_id[ID_MAX];
  enum api_result res = authenticate_key(r, &t, key_id);
  if (res == API_OK)
    res = meter_key(r, &t, key_id);
  if (res != API_OK)
    return res;
  r->tenant = &t;
  r->key_id = key_id;
  res = route->handler(r);
  r->tenant = NULL;
  r->key_id = NULL;
  return res;
}

enum api_result api_dispatch(struct api_request *r)
{
  assert(r->app != NULL);
  const struct route *route = NULL;
  const char *param = NULL;
  char allow[64];
  switch (routes_match(r->method, r->url, &route, &param, allow, sizeof allow)) {
  case ROUTE_NO_PATH: return http_reply_error_status(r, 404, "No such endpoint", NULL);
  case ROUTE_NO_METHOD:
    return http_reply_error_status(r, 405, "Method not allowed on this endpoint", allow);
  case ROUTE_PREFLIGHT:
    r->name = route->name;
    r->cors = true;
    return http_reply_preflight(r, allow);
  case ROUTE_FOUND: break;
  }
  r->name = route->name;
  r->cors = route->cors;
  r->path_param = param;
  /* The server read the body with routes_body_limit() as its ceiling. */
  assert(dynbuf_len(&r->body) <= route->body_limit);
  if (r->body_too_large)
    return http_reply_error_status(r, 413, "Request body too large", NULL);
  if (route->body_limit > 0 && !content_type_is_json(http_header(r, "Content-Type")))
    return http_reply_error(r, ERR_INVALID_REQUEST, "Content-Type must be application/json");
  if (route->auth == AUTH_API_KEY)
    return run_authenticated(r, route);
  enum api_result res = meter_ip(r, route);
  return res == API_OK ? route->handler(r) : res;
}
