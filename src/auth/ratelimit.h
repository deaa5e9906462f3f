/*
 * ratelimit.h — token buckets in memory: per API key, per tenant (API-key
 * routes, src/api/routes.c) and per client IP (redeem and the live
 * WebSocket's connects). A bucket holds up to `limit` tokens and refills
 * at `limit` per second; a request takes one. Buckets are per process:
 * on a cluster every node meters on its own (docs/internals/http.md).
 */
#ifndef ATHOS_RATELIMIT_H
#define ATHOS_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct ratelimit;

/* What one take says, for the RateLimit-* headers and Retry-After. */
struct rate_result {
  bool allowed;
  int64_t limit;       /* RateLimit-Limit: the bucket's size */
  int64_t remaining;   /* RateLimit-Remaining: whole tokens left */
  int64_t reset_sec;   /* RateLimit-Reset: seconds until the bucket is full */
  int64_t retry_after; /* Retry-After (when refused): seconds until one token */
};

/* A table of about `buckets` buckets (a power of two is not required).
 * NULL on allocation failure. */
struct ratelimit *ratelimit_new(size_t buckets);
void ratelimit_free(struct ratelimit *rl); /* accepts NULL */

/* Takes one token from key's bucket (created full) of size limit (> 0),
 * at now_ms (a monotonic clock). Thread-safe. When the table is full the
 * bucket idle the longest is reused: a fresh bucket is a full one, so
 * that only ever errs towards allowing. */
void ratelimit_take(struct ratelimit *rl, const char *key, int64_t limit, int64_t now_ms,
                    struct rate_result *out);

#define RATE_KEY_MAX 96

/* The bucket key of a client address under scope ("redeem"): an IPv4
 * address (also when IPv4-mapped), or an IPv6 address's /64, which one
 * client typically holds whole. */
void ratelimit_ip_key(const struct sockaddr *sa, const char *scope, char out[RATE_KEY_MAX]);

/* The tighter of two results (refused first, then fewer remaining). */
const struct rate_result *ratelimit_tighter(const struct rate_result *a,
                                            const struct rate_result *b);

#endif
