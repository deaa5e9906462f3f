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

#include "api/api.h"
#include "api/handlers.h"
#include "auth/api_key.h"
#include "live/live.h"

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
    {"GET", API_PREFIX "/openapi.json", api_openapi_json, AUTH_NONE, 0, false, "openapi.json"},
    {"GET", API_PREFIX "/openapi.yaml", api_openapi_yaml, AUTH_NONE, 0, false, "openapi.yaml"},
};

#define NROUTES (sizeof ROUTES / sizeof ROUTES[0])

/* Matches path against pattern; a trailing "/{x}" matches one non-empty
 * segment, returned in *param. */
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
  if (seg[0] == '\0' || strchr(seg, '/') != NULL)
    return false;
  *param = seg;
  return true;
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
    if (strcmp(ROUTES[i].method, method) == 0) {
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

/* The API-key step: the key's tenant in *t, or the refusal answered. */
static enum api_result authenticate_key(struct api_request *r, struct tenant *t)
{
  const char *key = http_bearer(r);
  if (key == NULL)
    return http_reply_error(r, ERR_INVALID_API_KEY,
                            "Missing API key: send Authorization: Bearer ath_live_…");
  struct app *app = r->app;
  enum athos_error e = api_key_authenticate(app->store, app->auth_cache, app->cfg->auth_cache_ms,
                                            key, http_peer(r), t);
  return e == ERR_NONE ? API_OK : api_reply_decision(r, e);
}

/* Runs the handler of an API-key route; the tenant lives on this stack
 * frame, so r->tenant is cleared before it goes away. */
static enum api_result run_authenticated(struct api_request *r, const struct route *route)
{
  struct tenant t;
  enum api_result res = authenticate_key(r, &t);
  if (res != API_OK)
    return res;
  r->tenant = &t;
  res = route->handler(r);
  r->tenant = NULL;
  return res;
}

enum api_result api_dispatch(struct api_request *r)
{
  assert(r->app != NULL);
  const struct route *route = NULL;
  const char *param = NULL;
  char allow[64];
  switch (routes_match(r->method, r->url, &route, &param, allow, sizeof allow)) {
  case ROUTE_NO_PATH:
    return http_reply_error_status(r, 404, "No such endpoint", NULL);
  case ROUTE_NO_METHOD:
    return http_reply_error_status(r, 405, "Method not allowed on this endpoint", allow);
  case ROUTE_PREFLIGHT:
    r->name = route->name;
    r->cors = true;
    return http_reply_preflight(r, allow);
  case ROUTE_FOUND:
    break;
  }
  r->name = route->name;
  r->cors = route->cors;
  r->path_param = param;
  if (r->body_too_large || r->body_len > route->body_limit)
    return http_reply_error_status(r, 413, "Request body too large", NULL);
  if (route->auth == AUTH_API_KEY)
    return run_authenticated(r, route);
  return route->handler(r);
}
