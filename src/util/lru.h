/*
 * lru.h — a bounded, thread-safe least-recently-used cache of byte
 * strings under string keys, with an optional time-to-live per entry.
 * Bounded twice at creation: entry count and total value bytes; the
 * least recently used entries go first when either is exceeded.
 */
#ifndef ATHOS_LRU_H
#define ATHOS_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lru;

/* Owned; free with lru_free(). max_entries >= 1. */
struct lru *lru_new(size_t max_entries, size_t max_bytes);
void lru_free(struct lru *c); /* accepts NULL */

/* Stores a copy of (val, len) under key, replacing any entry; expires_ms
 * is a monotonic ms deadline (0 = never). A value larger than max_bytes
 * is not stored. Returns 0, or -1 on allocation failure. */
int lru_put(struct lru *c, const char *key, const void *val, size_t len, int64_t expires_ms);

/* Copies the value under key into a fresh malloc'd buffer (*out, caller
 * frees) of *len bytes, if present and not expired at now_ms. */
bool lru_get(struct lru *c, const char *key, int64_t now_ms, void **out, size_t *len);

#endif
