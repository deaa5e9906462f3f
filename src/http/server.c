/*
 * server.c — libmicrohttpd glue: the access handler that turns MHD's
 * callbacks into one api_request per request (id, body, then the
 * dispatcher), and the completion callback that writes the access log line
 * and frees it.
 *
 * MHD calls the access handler several times per request: first with the
 * headers, then with each body chunk, then once more with no data. We only
 * ever queue a response on a later call, never the first: libmicrohttpd
 * 0.9.75 sends "Connection: close" on a response queued at the first call.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/ids.h"
#include "util/log.h"
#include "util/timefmt.h"

#define CONNECTION_MEMORY_LIMIT (16 * 1024)

static atomic_int in_flight;

static struct api_request *request_new(struct server *srv, struct MHD_Connection *conn,
                                       const char *method, const char *url)
{
  struct api_request *r = calloc(1, sizeof *r);
  if (r == NULL)
    return NULL;
  r->conn = conn;
  r->app = srv->cfg.app;
  r->method = method;
  r->url = url;
  r->started_us = time_mono_us();
  id_request(r->request_id, sizeof r->request_id);
  return r;
}

static void request_free(struct api_request *r)
{
  if (r == NULL)
    return;
  free(r->body);
  free(r);
}

/* Appends a body chunk, keeping at most limit bytes. */
static void request_append(struct api_request *r, const char *data, size_t size, size_t limit)
{
  r->body_started = true;
  if (r->body_too_large)
    return;
  if (r->body_len + size > limit) {
    r->body_too_large = true;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    return;
  }
  char *nb = realloc(r->body, r->body_len + size + 1);
  if (nb == NULL) {
    r->body_too_large = true;
    return;
  }
  memcpy(nb + r->body_len, data, size);
  r->body_len += size;
  nb[r->body_len] = '\0';
  r->body = nb;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
  struct server *srv = cls;
  struct api_request *r = *con_cls;
  if (r == NULL) {
    r = request_new(srv, conn, method, url);
    if (r == NULL)
      return MHD_NO;
    *con_cls = r;
    atomic_fetch_add(&in_flight, 1);
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    request_append(r, upload_data, *upload_data_size, srv->cfg.max_body);
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (r->replied)
    return MHD_YES;
  enum api_result res = srv->cfg.dispatch(r);
  if (res == API_FAIL && !r->replied)
    http_reply_error(r, ERR_INTERNAL_ERROR, "Internal error");
  if (!r->replied) {
    log_error("request %s: handler returned without a reply", r->request_id);
    return MHD_NO;
  }
  return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
  struct api_request *r = *con_cls;
  if (r == NULL)
    return;
  log_request(r->request_id, r->method, r->name != NULL ? r->name : r->url,
              r->replied ? r->status : 499, time_mono_us() - r->started_us);
  request_free(r);
  *con_cls = NULL;
  atomic_fetch_sub(&in_flight, 1);
}

static int resolve_listen(const struct server_config *cfg, struct sockaddr_storage *ss,
                          socklen_t *len)
{
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  char port[8];
  snprintf(port, sizeof port, "%u", cfg->port);
  if (getaddrinfo(cfg->host, port, &hints, &res) != 0 || res == NULL)
    return -1;
  memcpy(ss, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n > 0 && msg[n - 1] == '\n')
    msg[--n] = '\0';
  log_warn("http: %s", msg);
}

int server_start(struct server *srv, const struct server_config *cfg)
{
  assert(cfg->dispatch != NULL && cfg->host != NULL);
  srv->cfg = *cfg;
  srv->daemon = NULL;
  struct sockaddr_storage ss;
  socklen_t sslen;
  if (resolve_listen(cfg, &ss, &sslen) != 0) {
    log_error("cannot resolve listen address %s", cfg->host);
    return -1;
  }
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_UPGRADE | MHD_USE_ITC |
                   MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
  if (ss.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  /* The external logger must be the first option, or MHD prints its
   * start-up messages itself. The pool option is only given for a real
   * pool: 0/1 means one internal epoll thread. */
  unsigned threads = cfg->threads;
  srv->daemon = MHD_start_daemon(
      flags, cfg->port, NULL, NULL, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER,
      on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&ss,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
      /* MHD keeps this pool for every connection, upgraded WebSockets
       * included: 16 KiB (not the default 32) is most of what keeps a live
       * call under 32 KiB of RSS. Headers over it get 431. */
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY_LIMIT,
      MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
      threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, MHD_OPTION_END);
  if (srv->daemon == NULL) {
    log_error("cannot listen on %s:%u", cfg->host, cfg->port);
    return -1;
  }
  return 0;
}

void server_quiesce(struct server *srv)
{
  if (srv->daemon != NULL)
    MHD_quiesce_daemon(srv->daemon);
}

void server_stop(struct server *srv)
{
  if (srv->daemon == NULL)
    return;
  /* Drain: in-flight requests finish (bounded at 10 s). */
  for (int i = 0; i < 1000 && atomic_load(&in_flight) > 0; i++)
    usleep(10000);
  MHD_stop_daemon(srv->daemon);
  srv->daemon = NULL;
}
