/* health.c — GET /healthz (the process answers) and GET /readyz (and its
 * database does too), for load balancers and orchestrators. */
#include "api/handlers.h"

enum api_result api_healthz(struct api_request *r)
{
  return http_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

enum api_result api_readyz(struct api_request *r)
{
  int rc = store_ping(r->app->store);
  if (rc != STORE_OK)
    return http_reply_error(r, ERR_SERVICE_UNAVAILABLE, "Database unreachable");
  return http_reply_json(r, 200, json_pack("{s:s}", "status", "ready"));
}
