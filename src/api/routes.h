/*
 * routes.h — the route table: every endpoint the server answers, as data
 * (method, path pattern, handler, auth scheme, body limit, CORS), and the
 * dispatcher the HTTP server calls for each request (api_dispatch).
 */
#ifndef ATHOS_ROUTES_H
#define ATHOS_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "http/request.h"

#define API_PREFIX         "/api/external/v1"
#define BODY_LIMIT_DEFAULT (64 * 1024)

enum auth_scheme {
  AUTH_NONE,          /* health checks, the WebSocket (its ticket is checked in-band) */
  AUTH_API_KEY,       /* Authorization: Bearer ath_live_… */
  AUTH_SESSION_TOKEN, /* Authorization: Bearer <session JWT>; checked by the handler */
};

typedef enum api_result (*api_handler)(struct api_request *r);

struct route {
  const char *method;
  const char *pattern; /* exact path, or ending in "/{name}" for one segment */
  api_handler handler;
  enum auth_scheme auth;
  size_t body_limit;
  bool cors;        /* browsers may call it: CORS headers, and OPTIONS on its
                     * path answers the preflight */
  const char *name; /* for the access log */
};

enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_NO_METHOD, ROUTE_PREFLIGHT };

/* Finds the route for (method, path). On ROUTE_FOUND sets *route and
 * *param (the {…} segment, borrowed from path, or NULL). On
 * ROUTE_NO_METHOD writes the allowed methods ("GET, POST") into allow; on
 * ROUTE_PREFLIGHT (OPTIONS on the path of a CORS route) sets *route to
 * that route and writes the methods a browser may use into allow. */
enum route_match routes_match(const char *method, const char *path, const struct route **route,
                              const char **param, char *allow, size_t allow_cap);
/* The largest body any route takes: the HTTP server's limit before
 * routing (a Content-Length over it is refused at the headers). */
size_t routes_max_body(void);
/* The body limit of the route for (method, path), 0 when there is no
 * such route (a 404, 405 or preflight takes no body): the HTTP server's
 * ceiling for the request body. */
size_t routes_body_limit(const char *method, const char *path);

/* The HTTP server's dispatcher: routes r (404, 405 with Allow, the CORS
 * preflight, 413 over the route's limit), authenticates API-key routes
 * and runs the handler. */
enum api_result api_dispatch(struct api_request *r);

#endif
