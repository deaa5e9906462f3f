/* routes.c — the one table of endpoints, and matching a request to it. */
#include "http/routes.h"

#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "live/live.h"

static const struct route ROUTES[] = {
    {"GET", "/healthz", api_healthz, AUTH_NONE, 0, false, "healthz"},
    {"GET", "/readyz", api_readyz, AUTH_NONE, 0, false, "readyz"},
    {"POST", API_PREFIX "/session", api_session_mint, AUTH_API_KEY, BODY_LIMIT_DEFAULT, false,
     "session.mint"},
    {"POST", API_PREFIX "/roleplay/session", api_roleplay_redeem, AUTH_SESSION_TOKEN,
     BODY_LIMIT_DEFAULT, true, "roleplay.redeem"},
    {"OPTIONS", API_PREFIX "/roleplay/session", api_cors_preflight, AUTH_NONE, 0, true,
     "roleplay.preflight"},
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

enum route_match routes_match(const char *method, const char *path, const struct route **route,
                              const char **param, char *allow, size_t allow_cap)
{
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
    int n = snprintf(allow + used, allow_cap - used, "%s%s", used > 0 ? ", " : "", ROUTES[i].method);
    if (n > 0 && used + (size_t)n < allow_cap)
      used += (size_t)n;
  }
  return path_seen ? ROUTE_NO_METHOD : ROUTE_NO_PATH;
}

size_t routes_max_body(void)
{
  size_t max = 0;
  for (size_t i = 0; i < NROUTES; i++)
    if (ROUTES[i].body_limit > max)
      max = ROUTES[i].body_limit;
  return max;
}
