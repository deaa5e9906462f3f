/*
 * metrics.c — the counters, gauges and request histogram of metrics.h,
 * and their rendering in the Prometheus text format.
 *
 * Requests are kept per (route, status) in a fixed open-addressed table
 * of SERIES slots: a slot is claimed once with a compare-and-swap on its
 * key and never released, so recording a request is a short probe plus
 * relaxed atomic adds, with no lock. Route names are process-lifetime
 * strings (the route table's literals), compared by pointer.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define SERIES   256
#define NBUCKETS 12

/* Upper bounds of the latency buckets, in microseconds (and their label). */
static const uint64_t BUCKET_US[NBUCKETS] = {1000,   5000,   10000,   25000,   50000,   100000,
                                             250000, 500000, 1000000, 2500000, 5000000, 10000000};
static const char *const BUCKET_LE[NBUCKETS] = {"0.001", "0.005", "0.01", "0.025", "0.05", "0.1",
                                                "0.25",  "0.5",   "1",    "2.5",   "5",    "10"};

static const char *const COUNTER_NAME[M_COUNTER_COUNT] = {
    [M_HTTP_CONN_REFUSED] = "athos_http_connections_refused_total",
    [M_HTTP_CONN_DEADLINE] = "athos_http_connections_deadline_closed_total",
    [M_HTTP_CONN_ABANDONED] = "athos_http_connections_abandoned_total",
    [M_HTTP_STRICT_REFUSED] = "athos_http_requests_refused_strict_total",
    [M_HTTP_BODY_CUT] = "athos_http_bodies_cut_total",
    [M_STORE_ERRORS] = "athos_store_errors_total",
    [M_RATE_LIMITED] = "athos_rate_limited_total",
    [M_WEBHOOK_DELIVERED] = "athos_webhook_deliveries_total{outcome=\"delivered\"}",
    [M_WEBHOOK_RETRY] = "athos_webhook_deliveries_total{outcome=\"retry\"}",
    [M_WEBHOOK_FAILED] = "athos_webhook_deliveries_total{outcome=\"failed\"}",
};

static const char *const GAUGE_NAME[G_GAUGE_COUNT] = {
    [G_LIVE_CALLS] = "athos_live_calls",
    [G_HTTP_CONNECTIONS] = "athos_http_connections",
    [G_SCORING_BACKLOG] = "athos_scoring_queue_depth",
    [G_VOICE_DECODERS] = "athos_voice_decoders",
};

struct series {
  _Atomic(const char *) route; /* NULL: free slot */
  atomic_uint status;          /* written before route is published */
  atomic_uint_fast64_t count;
  atomic_uint_fast64_t sum_us;
  atomic_uint_fast64_t bucket[NBUCKETS]; /* non-cumulative; summed when rendered */
};

static atomic_uint_fast64_t counters[M_COUNTER_COUNT];
static atomic_int_fast64_t gauges[G_GAUGE_COUNT];
static struct series table[SERIES];
static const char OTHER[] = "other";
static const char UNMATCHED[] = "unmatched";

void metrics_add(enum metric_counter c, uint64_t n)
{
  atomic_fetch_add_explicit(&counters[c], n, memory_order_relaxed);
}

void metrics_inc(enum metric_counter c)
{
  metrics_add(c, 1);
}

uint64_t metrics_get(enum metric_counter c)
{
  return atomic_load_explicit(&counters[c], memory_order_relaxed);
}

void metrics_gauge_add(enum metric_gauge g, int64_t delta)
{
  atomic_fetch_add_explicit(&gauges[g], delta, memory_order_relaxed);
}

void metrics_gauge_set(enum metric_gauge g, int64_t value)
{
  atomic_store_explicit(&gauges[g], value, memory_order_relaxed);
}

/* The slot of (route, status), claiming a free one; NULL when full. A
 * "claiming" marker keeps two threads from taking the same slot for
 * different keys while status is written. */
static struct series *series_find(const char *route, unsigned status)
{
  static const char CLAIMING[] = "";
  size_t h = ((size_t)(uintptr_t)route >> 4) * 31u + status;
  for (size_t i = 0; i < SERIES; i++) {
    struct series *s = &table[(h + i) % SERIES];
    const char *k = atomic_load_explicit(&s->route, memory_order_acquire);
    while (k == CLAIMING) /* another thread is writing this slot's status */
      k = atomic_load_explicit(&s->route, memory_order_acquire);
    if (k == NULL) {
      const char *expected = NULL;
      if (atomic_compare_exchange_strong(&s->route, &expected, CLAIMING)) {
        atomic_store_explicit(&s->status, status, memory_order_relaxed);
        atomic_store_explicit(&s->route, route, memory_order_release);
        return s;
      }
      k = expected;
      while (k == CLAIMING)
        k = atomic_load_explicit(&s->route, memory_order_acquire);
    }
    if (k == route && atomic_load_explicit(&s->status, memory_order_relaxed) == status)
      return s;
  }
  return NULL;
}

void metrics_observe_request(const char *route, unsigned status, uint64_t us)
{
  struct series *s = series_find(route != NULL ? route : UNMATCHED, status);
  if (s == NULL)
    s = series_find(OTHER, 0);
  if (s == NULL)
    return;
  atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->sum_us, us, memory_order_relaxed);
  for (size_t i = 0; i < NBUCKETS; i++)
    if (us <= BUCKET_US[i]) {
      atomic_fetch_add_explicit(&s->bucket[i], 1, memory_order_relaxed);
      break;
    }
}

/* The histogram of one series: cumulative buckets, sum and count. */
static enum dynbuf_rc render_series(struct dynbuf *b, const struct series *s, const char *route,
                                    unsigned status)
{
  uint64_t cum = 0;
  uint64_t count = atomic_load_explicit(&s->count, memory_order_relaxed);
  enum dynbuf_rc rc = DYNBUF_OK;
  for (size_t i = 0; i < NBUCKETS && rc == DYNBUF_OK; i++) {
    cum += atomic_load_explicit(&s->bucket[i], memory_order_relaxed);
    rc = dynbuf_addf(b,
                     "athos_http_request_duration_seconds_bucket{route=\"%s\",status=\"%u\","
                     "le=\"%s\"} %llu\n",
                     route, status, BUCKET_LE[i], (unsigned long long)cum);
  }
  if (rc != DYNBUF_OK)
    return rc;
  if (count < cum)
    count = cum; /* a torn read: keep +Inf >= every bucket */
  return dynbuf_addf(
      b,
      "athos_http_request_duration_seconds_bucket{route=\"%s\",status=\"%u\",le=\"+Inf\"} %llu\n"
      "athos_http_request_duration_seconds_sum{route=\"%s\",status=\"%u\"} %.6f\n"
      "athos_http_request_duration_seconds_count{route=\"%s\",status=\"%u\"} %llu\n",
      route, status, (unsigned long long)count, route, status,
      (double)atomic_load_explicit(&s->sum_us, memory_order_relaxed) / 1e6, route, status,
      (unsigned long long)count);
}

/* "# TYPE" once per family: names with labels share the part before '{'. */
static enum dynbuf_rc render_type(struct dynbuf *b, const char *name, const char *type,
                                  const char *prev)
{
  size_t n = 0;
  while (name[n] != '\0' && name[n] != '{')
    n++;
  if (prev != NULL && strncmp(prev, name, n) == 0 && (prev[n] == '\0' || prev[n] == '{'))
    return DYNBUF_OK;
  return dynbuf_addf(b, "# TYPE %.*s %s\n", (int)n, name, type);
}

enum dynbuf_rc metrics_render(struct dynbuf *b)
{
  enum dynbuf_rc rc = DYNBUF_OK;
  const char *prev = NULL;
  for (size_t i = 0; i < M_COUNTER_COUNT && rc == DYNBUF_OK; i++) {
    rc = render_type(b, COUNTER_NAME[i], "counter", prev);
    if (rc == DYNBUF_OK)
      rc = dynbuf_addf(b, "%s %llu\n", COUNTER_NAME[i], (unsigned long long)metrics_get(i));
    prev = COUNTER_NAME[i];
  }
  for (size_t i = 0; i < G_GAUGE_COUNT && rc == DYNBUF_OK; i++)
    rc = dynbuf_addf(b, "# TYPE %s gauge\n%s %lld\n", GAUGE_NAME[i], GAUGE_NAME[i],
                     (long long)atomic_load_explicit(&gauges[i], memory_order_relaxed));
  /* Two passes: a family's samples must be contiguous. */
  if (rc == DYNBUF_OK)
    rc = dynbuf_add(b, "# TYPE athos_http_requests_total counter\n");
  for (size_t i = 0; i < SERIES && rc == DYNBUF_OK; i++) {
    const char *route = atomic_load_explicit(&table[i].route, memory_order_acquire);
    if (route != NULL && route[0] != '\0')
      rc = dynbuf_addf(
          b, "athos_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n", route,
          atomic_load_explicit(&table[i].status, memory_order_relaxed),
          (unsigned long long)atomic_load_explicit(&table[i].count, memory_order_relaxed));
  }
  if (rc == DYNBUF_OK)
    rc = dynbuf_add(b, "# TYPE athos_http_request_duration_seconds histogram\n");
  for (size_t i = 0; i < SERIES && rc == DYNBUF_OK; i++) {
    const char *route = atomic_load_explicit(&table[i].route, memory_order_acquire);
    if (route != NULL && route[0] != '\0')
      rc = render_series(b, &table[i], route,
                         atomic_load_explicit(&table[i].status, memory_order_relaxed));
  }
  return rc;
}
