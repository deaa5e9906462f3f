/*
 * metrics.h — process-wide counters, gauges and the request latency
 * histogram behind GET /metrics (Prometheus text format). Every update is
 * one relaxed atomic add, so any thread may bump a counter on its hot path
 * without a lock; metrics_render() reads them all (a snapshot that may be
 * torn between counters, which Prometheus tolerates).
 *
 * Other modules only call metrics_inc()/metrics_gauge_add(); the HTTP
 * server records every request with metrics_observe_request().
 */
#ifndef ATHOS_METRICS_H
#define ATHOS_METRICS_H

#include <stdint.h>

#include "util/dynbuf.h"

enum metric_counter {
  M_HTTP_CONN_REFUSED,   /* connections over ATHOS_MAX_CONNECTIONS[_PER_IP] */
  M_HTTP_CONN_DEADLINE,  /* connections closed by the header/body deadline */
  M_HTTP_CONN_ABANDONED, /* connections MHD dropped (reset, timeout, bad read) */
  M_HTTP_STRICT_REFUSED, /* requests refused by the strict edge (http/strict.c) */
  M_HTTP_BODY_CUT,       /* bodies cut off past the ceiling as they arrived */
  M_STORE_ERRORS,        /* store operations that failed (ours, not the client's) */
  M_RATE_LIMITED,        /* requests or messages refused by a rate limit */
  M_WEBHOOK_DELIVERED,   /* webhook deliveries by outcome */
  M_WEBHOOK_RETRY,
  M_WEBHOOK_FAILED,
  M_COUNTER_COUNT
};

enum metric_gauge {
  G_LIVE_CALLS,       /* WebSocket calls open */
  G_HTTP_CONNECTIONS, /* HTTP connections open (upgraded ones included) */
  G_SCORING_BACKLOG,  /* ended calls waiting to be scored (read from the store per scrape) */
  G_VOICE_DECODERS,   /* speech recognisers in memory (ATHOS_VOICE_DECODERS bounds them) */
  G_GAUGE_COUNT
};

void metrics_inc(enum metric_counter c);
void metrics_add(enum metric_counter c, uint64_t n);
uint64_t metrics_get(enum metric_counter c);
void metrics_gauge_add(enum metric_gauge g, int64_t delta);
void metrics_gauge_set(enum metric_gauge g, int64_t value);

/* Records one answered request: route is the route's name (a string that
 * lives for the whole process, e.g. a literal; NULL = no route matched),
 * status the status sent, us its duration. Lock-free; routes × statuses
 * beyond the table's size are counted under route "other". */
void metrics_observe_request(const char *route, unsigned status, uint64_t us);

/* Appends everything in the Prometheus text exposition format (0.0.4) to
 * b. Returns DYNBUF_OK or the dynbuf error (b freed). */
enum dynbuf_rc metrics_render(struct dynbuf *b);

#endif
