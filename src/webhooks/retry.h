/*
 * retry.h — what happens after a delivery attempt: the pure decision from
 * the HTTP status (or none), the Retry-After header and the retry schedule,
 * kept apart from the deliverer so it can be unit-tested.
 */
#ifndef ATHOS_WEBHOOK_RETRY_H
#define ATHOS_WEBHOOK_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define WEBHOOK_JITTER_PCT 10
/* A Retry-After longer than this is clamped (a receiver cannot park an
 * event for a month). */
#define WEBHOOK_RETRY_AFTER_MAX_SEC (24 * 3600)

/* Milliseconds to wait before attempt number `attempt` (0-based):
 * schedule[attempt] seconds with ±WEBHOOK_JITTER_PCT % jitter drawn from
 * rnd. -1 when the schedule has no such attempt. */
int64_t webhook_retry_delay_ms(const int64_t *schedule, size_t n, size_t attempt, uint64_t rnd);

/* Parses a Retry-After value: delta-seconds or an HTTP-date. Returns the
 * seconds to wait from now_ms (0 for a date in the past, clamped to
 * WEBHOOK_RETRY_AFTER_MAX_SEC), or -1 if absent or unparsable. */
int64_t webhook_retry_after_parse(const char *value, int64_t now_ms);

/* Decides the outcome of one attempt. http_status 0 = no response (timeout,
 * refused, SSRF guard). attempts_done counts this one. retry_after_sec is
 * -1 when absent; it is honoured on 429 and 503 only. On WEBHOOK_RETRY
 * *next_at is set. */
enum webhook_outcome webhook_decide(int http_status, int64_t retry_after_sec, size_t attempts_done,
                                    const int64_t *schedule, size_t n, int64_t now_ms, uint64_t rnd,
                                    int64_t *next_at);

#endif
