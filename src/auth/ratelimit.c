/*
 * ratelimit.c — the token-bucket table of ratelimit.h: open addressing
 * over a keyed hash (a random seed per process, so clients cannot aim
 * their keys at one probe run), in shards with a mutex each, so requests
 * of different keys rarely wait on each other. Tokens are kept in
 * thousandths to stay in integers.
 */
#include "auth/ratelimit.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"

#define SHARDS 16
#define PROBES 8
#define MILLI  1000

struct bucket {
  char key[RATE_KEY_MAX]; /* "" = free */
  int64_t tokens_m;       /* thousandths of a token */
  int64_t last_ms;
};

struct shard {
  pthread_mutex_t mu;
  struct bucket *b;
  size_t n;
};

struct ratelimit {
  uint64_t seed;
  struct shard shards[SHARDS];
};

struct ratelimit *ratelimit_new(size_t buckets)
{
  struct ratelimit *rl = calloc(1, sizeof *rl);
  if (rl == NULL)
    return NULL;
  rl->seed = crypto_random_u64();
  size_t per = buckets / SHARDS > PROBES ? buckets / SHARDS : PROBES;
  for (size_t i = 0; i < SHARDS; i++) {
    pthread_mutex_init(&rl->shards[i].mu, NULL);
    rl->shards[i].b = calloc(per, sizeof(struct bucket));
    rl->shards[i].n = per;
    if (rl->shards[i].b == NULL) {
      ratelimit_free(rl);
      return NULL;
    }
  }
  return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
  if (rl == NULL)
    return;
  for (size_t i = 0; i < SHARDS; i++) {
    free(rl->shards[i].b);
    pthread_mutex_destroy(&rl->shards[i].mu);
  }
  free(rl);
}

/* FNV-1a over the key, mixed with the seed (splitmix64's finalizer). */
static uint64_t hash_key(uint64_t seed, const char *key)
{
  uint64_t h = 1469598103934665603ull ^ seed;
  for (const char *p = key; *p != '\0'; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

/* key's bucket in the shard: found, or a free one, or the one idle the
 * longest among the probes (reset to full). */
static struct bucket *find(struct shard *s, uint64_t h, const char *key, int64_t limit_m)
{
  struct bucket *oldest = NULL;
  for (size_t i = 0; i < PROBES; i++) {
    struct bucket *b = &s->b[(h + i) % s->n];
    if (strcmp(b->key, key) == 0)
      return b;
    bool older = oldest != NULL && oldest->key[0] != '\0' && b->last_ms < oldest->last_ms;
    if (b->key[0] == '\0' || oldest == NULL || older)
      oldest = b;
  }
  snprintf(oldest->key, sizeof oldest->key, "%s", key);
  oldest->tokens_m = limit_m;
  oldest->last_ms = 0;
  return oldest;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
  return a <= 0 ? 0 : (a + b - 1) / b;
}

void ratelimit_take(struct ratelimit *rl, const char *key, int64_t limit, int64_t now_ms,
                    struct rate_result *out)
{
  assert(rl != NULL && key != NULL && limit > 0 && out != NULL);
  uint64_t h = hash_key(rl->seed, key);
  struct shard *s = &rl->shards[h % SHARDS];
  int64_t cap_m = limit * MILLI;
  pthread_mutex_lock(&s->mu);
  struct bucket *b = find(s, h / SHARDS, key, cap_m);
  if (b->last_ms != 0 && now_ms > b->last_ms) {
    /* limit tokens a second = limit thousandths a millisecond */
    int64_t refill = (now_ms - b->last_ms) * limit;
    b->tokens_m = refill >= cap_m - b->tokens_m ? cap_m : b->tokens_m + refill;
  }
  if (b->tokens_m > cap_m) /* the limit was lowered */
    b->tokens_m = cap_m;
  b->last_ms = now_ms;
  out->allowed = b->tokens_m >= MILLI;
  if (out->allowed)
    b->tokens_m -= MILLI;
  int64_t tokens_m = b->tokens_m;
  pthread_mutex_unlock(&s->mu);
  out->limit = limit;
  out->remaining = tokens_m / MILLI;
  out->reset_sec = ceil_div(cap_m - tokens_m, limit * MILLI);
  out->retry_after = out->allowed ? 0 : ceil_div(MILLI - tokens_m, limit * MILLI);
  if (!out->allowed && out->retry_after < 1)
    out->retry_after = 1;
}

const struct rate_result *ratelimit_tighter(const struct rate_result *a,
                                            const struct rate_result *b)
{
  if (a->allowed != b->allowed)
    return a->allowed ? b : a;
  return b->remaining < a->remaining ? b : a;
}

void ratelimit_ip_key(const struct sockaddr *sa, const char *scope, char out[RATE_KEY_MAX])
{
  char ip[INET6_ADDRSTRLEN] = "?";
  if (sa != NULL && sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof ip);
  } else if (sa != NULL && sa->sa_family == AF_INET6) {
    struct in6_addr a = ((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
      inet_ntop(AF_INET, &a.s6_addr[12], ip, sizeof ip);
    } else {
      memset(&a.s6_addr[8], 0, 8); /* the /64 */
      inet_ntop(AF_INET6, &a, ip, sizeof ip);
    }
  }
  snprintf(out, RATE_KEY_MAX, "%s:%s", scope, ip);
}
