/*
 * server.c — libmicrohttpd glue: the access handler that turns MHD's
 * callbacks into one api_request per request (id, body, then the
 * dispatcher), and the completion callback that writes the access log line
 * and frees it.
 *
 * MHD calls the access handler several times per request: first with the
 * headers, then with each body chunk, then once more with no data. A
 * normal response is queued on a later call, never the first:
 * libmicrohttpd 0.9.75 sends "Connection: close" on a response queued at
 * the first call — which is exactly what a request the strict edge
 * refuses (http/strict.c) gets, before its body is read.
 *
 * Slowloris defences: a per-IP connection cap (MHD's own), total header
 * and body deadlines (http/guard.c), ATHOS_MAX_CONNECTIONS fitted to
 * RLIMIT_NOFILE, and counters instead of a log line per dropped socket.
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
#include <sys/resource.h>
#include <unistd.h>

#include "http/guard.h"
#include "http/strict.h"
#include "metrics.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timefmt.h"

#define CONNECTION_MEMORY_LIMIT (16 * 1024)
/* Descriptors kept for everything but HTTP connections: the database,
 * webhook transfers, logs, the epoll and ITC descriptors. */
#define FD_RESERVE 128
/* At most one summary line per this many seconds for dropped sockets. */
#define NOISE_SUMMARY_SEC 60

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
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  r->guard = ci != NULL ? ci->socket_context : NULL;
  id_request(r->request_id, sizeof r->request_id);
  /* The body's ceiling is known before its first byte. A route that takes
   * no body keeps the zeroed buffer, which has no room at all. */
  size_t limit = srv->cfg.body_limit(method, url);
  if (limit > 0)
    dynbuf_init(&r->body, limit);
  return r;
}

static void request_free(struct api_request *r)
{
  if (r == NULL)
    return;
  dynbuf_free(&r->body);
  free(r);
}

/* Appends a body chunk. Past the route's ceiling (or out of memory) the
 * body is dropped and marked too large: the dispatcher answers 413 once
 * MHD has read the rest (on_access cuts off one past max_body). */
static void request_append(struct api_request *r, const char *data, size_t size)
{
  r->body_read += size;
  if (r->body_too_large)
    return;
  if (size > dynbuf_room(&r->body) || dynbuf_addn(&r->body, data, size) != DYNBUF_OK) {
    dynbuf_free(&r->body);
    r->body_too_large = true;
  }
}

/* The first call: the headers are in. Starts the body clock and lets the
 * strict edge refuse the request before its body is read. */
static enum MHD_Result on_headers(struct server *srv, struct api_request *r, const char *version)
{
  guard_phase(r->guard, GUARD_BODY);
  struct strict_verdict v = strict_check(r->conn, version, srv->cfg.max_body);
  r->close_after = v.close_after;
  if (v.status == 0)
    return MHD_YES;
  metrics_inc(M_HTTP_STRICT_REFUSED);
  r->close_after = true;
  http_reply_error_status(r, v.status, v.msg, NULL);
  return r->replied ? MHD_YES : MHD_NO;
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
    return on_headers(srv, r, version);
  }
  if (*upload_data_size > 0) {
    if (r->replied) { /* refused at the headers: discard, MHD closes after */
      *upload_data_size = 0;
      return MHD_YES;
    }
    request_append(r, upload_data, *upload_data_size);
    *upload_data_size = 0;
    if (r->body_read > srv->cfg.max_body) { /* a chunked body past any route's: cut it off */
      metrics_inc(M_HTTP_BODY_CUT);
      return MHD_NO;
    }
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
  guard_phase(r->guard, r->upgrade_fn != NULL ? GUARD_UPGRADED : GUARD_REPLY);
  return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
  (void)cls;
  (void)conn;
  struct api_request *r = *con_cls;
  if (r == NULL)
    return;
  uint64_t us = time_mono_us() - r->started_us;
  unsigned status = r->replied ? r->status : 499;
  if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK || r->replied)
    log_request(r->request_id, r->method, r->name != NULL ? r->name : r->url, status, us);
  else
    metrics_inc(M_HTTP_CONN_ABANDONED); /* a client gone mid-request: counted, not logged */
  metrics_observe_request(r->name, status, us);
  /* The next request on a kept-alive connection gets a fresh header clock. */
  guard_phase(r->guard, GUARD_HEADERS);
  request_free(r);
  *con_cls = NULL;
  atomic_fetch_sub(&in_flight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
  struct server *srv = cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    *socket_context = ci != NULL ? guard_open(srv->guard, ci->connect_fd) : NULL;
    metrics_gauge_add(G_HTTP_CONNECTIONS, 1);
  } else {
    guard_close(srv->guard, *socket_context);
    *socket_context = NULL;
    metrics_gauge_add(G_HTTP_CONNECTIONS, -1);
  }
}

static int resolve_listen(const struct server_config *cfg, struct sockaddr_storage *ss,
                          socklen_t *len)
{
  struct addrinfo hints = {
      .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
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

/* libmicrohttpd's messages about one socket (over a limit, reset, timed
 * out) would let any client fill the log: they are counted, and summed up
 * in one line at most every NOISE_SUMMARY_SEC. */
static bool per_socket_noise(const char *msg)
{
  static const char *const NOISE[] = {"connection limit",
                                      "Connection reset",
                                      "timed out",
                                      "Failed to receive",
                                      "Failed to send",
                                      "reset by peer",
                                      "Closing inbound",
                                      "rejected",
                                      "Socket disconnected",
                                      "Error processing request",
                                      "Failed to add",
                                      "too large",
                                      "too long",
                                      "Header",
                                      "header",
                                      "socket is closed",
                                      "due to the error"};
  for (size_t i = 0; i < sizeof NOISE / sizeof NOISE[0]; i++)
    if (strstr(msg, NOISE[i]) != NULL)
      return true;
  return false;
}

static void noise_summary(void)
{
  static atomic_uint_fast64_t last_us;
  static atomic_uint_fast64_t logged_refused, logged_abandoned;
  uint64_t now = time_mono_us(), last = atomic_load(&last_us);
  if (last != 0 && now - last < (uint64_t)NOISE_SUMMARY_SEC * 1000000u)
    return;
  if (!atomic_compare_exchange_strong(&last_us, &last, now))
    return; /* another thread writes this one */
  uint64_t refused = metrics_get(M_HTTP_CONN_REFUSED);
  uint64_t abandoned = metrics_get(M_HTTP_CONN_ABANDONED);
  log_warn("http: %llu connection(s) refused over a limit, %llu dropped, since the last summary "
           "(see GET /metrics)",
           (unsigned long long)(refused - atomic_exchange(&logged_refused, refused)),
           (unsigned long long)(abandoned - atomic_exchange(&logged_abandoned, abandoned)));
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
  (void)cls;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n > 0 && msg[n - 1] == '\n')
    msg[--n] = '\0';
  if (!per_socket_noise(msg)) {
    log_warn("http: %s", msg);
    return;
  }
  if (strstr(msg, "limit") != NULL || strstr(msg, "rejected") != NULL ||
      strstr(msg, "Closing inbound") != NULL)
    metrics_inc(M_HTTP_CONN_REFUSED);
  else
    metrics_inc(M_HTTP_CONN_ABANDONED);
  noise_summary();
}

/* Fits max_connections to RLIMIT_NOFILE: raises the soft limit as far as
 * needed (up to the hard one), else lowers the cap and says so. */
static void fit_fd_limit(struct server_config *cfg)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return;
  rlim_t need = (rlim_t)cfg->max_connections + FD_RESERVE;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
    struct rlimit raised = {.rlim_cur = want, .rlim_max = rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
      rl.rlim_cur = want;
  }
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
    return;
  size_t fit = rl.rlim_cur > FD_RESERVE + 16 ? (size_t)(rl.rlim_cur - FD_RESERVE) : 16;
  log_warn("http: ATHOS_MAX_CONNECTIONS=%zu needs %llu descriptors but RLIMIT_NOFILE is %llu "
           "(hard limit %llu): serving at most %zu connections; raise LimitNOFILE/ulimit -n",
           cfg->max_connections, (unsigned long long)need, (unsigned long long)rl.rlim_cur,
           (unsigned long long)rl.rlim_max, fit);
  cfg->max_connections = fit;
}

int server_start(struct server *srv, const struct server_config *cfg)
{
  assert(cfg->dispatch != NULL && cfg->body_limit != NULL && cfg->host != NULL);
  srv->cfg = *cfg;
  srv->daemon = NULL;
  fit_fd_limit(&srv->cfg);
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
  srv->guard = guard_start(cfg->header_timeout_ms, cfg->body_timeout_ms);
  if (srv->guard == NULL)
    return -1;
  srv->daemon = MHD_start_daemon(
      flags, cfg->port, NULL, NULL, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
      MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
      srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
      srv, MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->cfg.max_connections,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_ip,
      /* MHD keeps this pool for every connection, upgraded WebSockets
       * included: 16 KiB (not the default 32) is most of what keeps a live
       * call under 32 KiB of RSS. Headers over it get 431. */
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY_LIMIT,
      MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
      threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, MHD_OPTION_END);
  if (srv->daemon == NULL) {
    log_error("cannot listen on %s:%u", cfg->host, cfg->port);
    guard_stop(srv->guard);
    srv->guard = NULL;
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
  guard_stop(srv->guard);
  srv->guard = NULL;
}
