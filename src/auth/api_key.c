/*
 * api_key.c — API key generation and the API-key authentication step of
 * the request pipeline (key → tenant → active → IP allow-list).
 *
 * A successful lookup is reused for cfg->auth_cache_ms (1 s by default),
 * but only while the store's auth generation is the one it was made at.
 * Every revocation and tenant change bumps that counter in its own
 * transaction, so it takes effect on the next request on every node; a
 * request pays one primary-key read for the generation instead of the
 * key → tenant join (on SQLite only when a commit moved the wal-index
 * header since the last read: store_auth_generation). Unknown keys are never cached, so random keys cannot
 * fill the cache.
 */
#include "auth/api_key.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/cidr.h"
#include "util/hex.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timefmt.h"

#define AUTH_CACHE_ENTRIES 4096

struct cached_auth {
  struct tenant tenant;
  bool revoked;
  char key_id[ID_MAX];
  int64_t generation; /* the auth generation read before the lookup */
};

void api_key_generate(char key_out[API_KEY_MAX], struct api_key_new *rec)
{
  id_new(API_KEY_PREFIX, API_KEY_RANDOM_CHARS, key_out, API_KEY_MAX);
  id_new("key_", 16, rec->public_id, sizeof rec->public_id);
  snprintf(rec->prefix, sizeof rec->prefix, "%.13s", key_out);
  sha256_hex(key_out, rec->hash_hex);
}

struct lru *api_key_cache_new(void)
{
  return lru_new(AUTH_CACHE_ENTRIES, AUTH_CACHE_ENTRIES * sizeof(struct cached_auth));
}

/* The key's tenant and revocation, from the cache or the store. */
static int lookup(struct store *s, struct lru *cache, int64_t cache_ms, const char *hash,
                  struct cached_auth *out)
{
  int64_t now = (int64_t)(time_mono_us() / 1000);
  int64_t generation = 0;
  bool cached = cache != NULL && cache_ms > 0;
  /* Read before the lookup: a change committed after this read bumps the
   * generation, so what the lookup saw is never kept beyond it. */
  int rc = cached ? store_auth_generation(s, &generation) : STORE_OK;
  if (rc != STORE_OK)
    return rc == STORE_NOT_FOUND ? STORE_ERROR : rc; /* not migrated */
  void *hit = NULL;
  size_t len = 0;
  if (cached && lru_get(cache, hash, now, &hit, &len)) {
    int ok = len == sizeof *out;
    if (ok)
      memcpy(out, hit, sizeof *out);
    free(hit);
    if (ok && out->generation == generation)
      return STORE_OK;
  }
  rc = store_key_authenticate(s, hash, &out->tenant, &out->revoked, out->key_id);
  out->generation = generation;
  if (rc == STORE_OK && cached)
    lru_put(cache, hash, out, sizeof *out, now + cache_ms);
  return rc;
}

enum athos_error api_key_authenticate(struct store *s, struct lru *cache, int64_t cache_ms,
                                      const char *key, const struct sockaddr *peer,
                                      struct tenant *out, char key_id[ID_MAX])
{
  assert(s != NULL && out != NULL);
  if (key == NULL || !id_valid(key, API_KEY_PREFIX, API_KEY_RANDOM_CHARS))
    return ERR_INVALID_API_KEY;
  char hash[65];
  sha256_hex(key, hash);
  struct cached_auth a;
  int rc = lookup(s, cache, cache_ms, hash, &a);
  if (rc == STORE_NOT_FOUND)
    return ERR_INVALID_API_KEY;
  if (rc != STORE_OK) {
    if (rc != STORE_UNAVAILABLE)
      log_error("api key lookup: store error %d", rc);
    return athos_error_from_store(rc);
  }
  if (a.revoked)
    return ERR_API_KEY_REVOKED;
  if (!a.tenant.active)
    return ERR_TENANT_INACTIVE;
  if (!cidr_list_allows(a.tenant.ip_allow, peer))
    return ERR_IP_NOT_ALLOWED;
  *out = a.tenant;
  snprintf(key_id, ID_MAX, "%s", a.key_id);
  return ERR_NONE;
}
