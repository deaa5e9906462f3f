/*
 * metrics.c — GET /metrics: the counters of src/metrics.h in the
 * Prometheus text format, for the operator only. A scrape is allowed from
 * loopback when the request did not come through a proxy (no Forwarded or
 * X-Forwarded-For header), or from anywhere with
 * `Authorization: Bearer $ATHOS_METRICS_TOKEN` when that is set. Anyone
 * else gets 404, as if the endpoint did not exist.
 */
#include <netinet/in.h>
#include <string.h>

#include "api/handlers.h"
#include "app.h"
#include "metrics.h"
#include "store/store.h"
#include "util/crypto.h"

#define METRICS_MAX (1024 * 1024)

static bool peer_is_loopback(const struct sockaddr *sa)
{
  if (sa == NULL)
    return false;
  if (sa->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
  }
  return false;
}

static bool may_read(struct api_request *r)
{
  const char *token = r->app->cfg->metrics_token;
  if (token[0] != '\0') {
    const char *given = http_bearer(r);
    if (given != NULL && strlen(given) == strlen(token) &&
        crypto_equal(given, token, strlen(token)))
      return true;
  }
  return peer_is_loopback(http_peer(r)) && http_header(r, "Forwarded") == NULL &&
         http_header(r, "X-Forwarded-For") == NULL;
}

enum api_result api_metrics(struct api_request *r)
{
  if (!may_read(r))
    return http_reply_error_status(r, 404, "No such endpoint", NULL);
  int64_t backlog = 0;
  if (store_scoring_backlog(r->app->store, &backlog) == STORE_OK) /* else the last value */
    metrics_gauge_set(G_SCORING_BACKLOG, backlog);
  struct dynbuf b;
  dynbuf_init(&b, METRICS_MAX);
  if (metrics_render(&b) != DYNBUF_OK)
    return API_FAIL;
  size_t len = 0;
  char *body = dynbuf_take(&b, &len);
  if (body == NULL)
    return API_FAIL;
  return http_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", body, len);
}
