/* config.c — defaults and environment for struct athos_config. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int env_i64(const char *name, int64_t min, int64_t max, int64_t *out, char *err,
                   size_t errlen)
{
  const char *v = getenv(name);
  if (v == NULL || v[0] == '\0')
    return 0;
  char *end = NULL;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (errno != 0 || *end != '\0' || n < min || n > max) {
    snprintf(err, errlen, "%s must be an integer from %lld to %lld", name, (long long)min,
             (long long)max);
    return -1;
  }
  *out = n;
  return 0;
}

int config_set_listen(struct athos_config *c, const char *listen, char *err, size_t errlen)
{
  const char *colon = strrchr(listen, ':');
  if (colon == NULL || colon == listen || (size_t)(colon - listen) >= sizeof c->listen_host) {
    snprintf(err, errlen, "listen address must be HOST:PORT");
    return -1;
  }
  char *end = NULL;
  long port = strtol(colon + 1, &end, 10);
  if (*end != '\0' || port < 0 || port > 65535) {
    snprintf(err, errlen, "listen port must be 0..65535");
    return -1;
  }
  size_t hl = (size_t)(colon - listen);
  if (listen[0] == '[' && hl >= 2 && listen[hl - 1] == ']') /* [::1]:8080 */
    snprintf(c->listen_host, sizeof c->listen_host, "%.*s", (int)(hl - 2), listen + 1);
  else
    snprintf(c->listen_host, sizeof c->listen_host, "%.*s", (int)hl, listen);
  c->listen_port = (uint16_t)port;
  return 0;
}

int config_set_retry_schedule(struct athos_config *c, const char *list, char *err, size_t errlen)
{
  size_t n = 0;
  const char *p = list;
  while (*p != '\0') {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (end == p || errno != 0 || v < 0 || v > 7 * 86400 || n >= RETRY_SCHEDULE_MAX ||
        (*end != ',' && *end != '\0')) {
      snprintf(err, errlen, "ATHOS_WEBHOOK_RETRY_SCHEDULE must be up to %d comma-separated"
               " second counts (0..604800)", RETRY_SCHEDULE_MAX);
      return -1;
    }
    c->retry_schedule[n++] = v;
    p = *end == ',' ? end + 1 : end;
  }
  if (n == 0) {
    snprintf(err, errlen, "ATHOS_WEBHOOK_RETRY_SCHEDULE is empty");
    return -1;
  }
  c->retry_count = n;
  return 0;
}

int config_from_env(struct athos_config *c, char *err, size_t errlen)
{
  memset(c, 0, sizeof *c);
  snprintf(c->database_url, sizeof c->database_url, "sqlite:athos.db");
  snprintf(c->drills_dir, sizeof c->drills_dir, "drills");
  snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
  c->listen_port = 8080;
  /* One HTTP thread per core. Measured on 2 cores with wrk on the same
   * machine (bench/api.sh): GET /calls/{id} ~70-78k req/s with 2 threads
   * vs ~78-82k with 1, POST /session ~57-60k vs ~34-36k; the pool wins
   * once handlers do real work, and a load generator elsewhere frees the
   * core wrk takes here. */
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  c->threads = cores > 0 && cores <= 64 ? (unsigned)cores : 1;
  c->session_ttl_sec = 300;
  c->ticket_ttl_sec = 60;
  c->max_call_sec = 1800;
  c->idle_sec = 120;
  c->ws_ping_sec = 20;
  c->webhook_timeout_ms = 15000;
  c->scoring_workers = 1;
  c->max_connections = 16384;
  c->auth_cache_ms = 1000;
  config_set_retry_schedule(c, "0,5,300,1800,7200,18000,36000,36000", err, errlen);

  const char *v;
  if ((v = getenv("ATHOS_DATABASE_URL")) != NULL && v[0] != '\0')
    snprintf(c->database_url, sizeof c->database_url, "%s", v);
  if ((v = getenv("ATHOS_DRILLS_DIR")) != NULL && v[0] != '\0')
    snprintf(c->drills_dir, sizeof c->drills_dir, "%s", v);
  if ((v = getenv("ATHOS_LISTEN")) != NULL && v[0] != '\0' &&
      config_set_listen(c, v, err, errlen) != 0)
    return -1;
  if ((v = getenv("ATHOS_PUBLIC_URL")) != NULL && v[0] != '\0')
    snprintf(c->public_url, sizeof c->public_url, "%s", v);
  if ((v = getenv("ATHOS_WEBHOOK_RETRY_SCHEDULE")) != NULL && v[0] != '\0' &&
      config_set_retry_schedule(c, v, err, errlen) != 0)
    return -1;
  if ((v = getenv("ATHOS_ALLOW_PRIVATE_WEBHOOKS")) != NULL)
    c->allow_private_webhooks = strcmp(v, "1") == 0 || strcmp(v, "true") == 0 ||
                                strcmp(v, "yes") == 0 || strcmp(v, "on") == 0;
  int64_t threads = c->threads, workers = c->scoring_workers, maxconn = (int64_t)c->max_connections;
  if (env_i64("ATHOS_THREADS", 0, 64, &threads, err, errlen) ||
      env_i64("ATHOS_SESSION_TTL_SEC", 1, 86400, &c->session_ttl_sec, err, errlen) ||
      env_i64("ATHOS_TICKET_TTL_SEC", 1, 3600, &c->ticket_ttl_sec, err, errlen) ||
      env_i64("ATHOS_MAX_CALL_SEC", 1, 86400, &c->max_call_sec, err, errlen) ||
      env_i64("ATHOS_IDLE_SEC", 1, 86400, &c->idle_sec, err, errlen) ||
      env_i64("ATHOS_WS_PING_SEC", 1, 3600, &c->ws_ping_sec, err, errlen) ||
      env_i64("ATHOS_WEBHOOK_TIMEOUT_MS", 100, 120000, &c->webhook_timeout_ms, err, errlen) ||
      env_i64("ATHOS_SCORING_WORKERS", 1, 64, &workers, err, errlen) ||
      env_i64("ATHOS_MAX_CONNECTIONS", 16, 1000000, &maxconn, err, errlen) ||
      env_i64("ATHOS_AUTH_CACHE_MS", 0, 60000, &c->auth_cache_ms, err, errlen))
    return -1;
  c->threads = (unsigned)threads;
  c->scoring_workers = (unsigned)workers;
  c->max_connections = (size_t)maxconn;
  return 0;
}

void config_finish(struct athos_config *c)
{
  size_t n = strlen(c->public_url);
  while (n > 0 && c->public_url[n - 1] == '/')
    c->public_url[--n] = '\0';
  if (n == 0) {
    const char *host = c->listen_host;
    if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0')
      host = "127.0.0.1";
    if (strchr(host, ':') != NULL)
      snprintf(c->public_url, sizeof c->public_url, "http://[%s]:%u", host, c->listen_port);
    else
      snprintf(c->public_url, sizeof c->public_url, "http://%s:%u", host, c->listen_port);
  }
}
