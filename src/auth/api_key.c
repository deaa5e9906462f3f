/*
 * api_key.c — API key generation and the API-key authentication step of
 * the request pipeline (key → tenant → active → IP allow-list).
 *
 * A successful lookup is reused for cfg->auth_cache_ms (1 s by default):
 * the database round trip is the largest cost of a cached read, and an
 * operator's revocation, deactivation or allow-list change takes effect
 * within that window on every node. Unknown keys are never cached, so
 * random keys cannot fill the cache.
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
  void *hit = NULL;
  size_t len = 0;
  if (cache != NULL && lru_get(cache, hash, now, &hit, &len)) {
    int ok = len == sizeof *out;
    if (ok)
      memcpy(out, hit, sizeof *out);
    free(hit);
    if (ok)
      return STORE_OK;
  }
  int rc = store_key_authenticate(s, hash, &out->tenant, &out->revoked);
  if (rc == STORE_OK && cache != NULL && cache_ms > 0)
    lru_put(cache, hash, out, sizeof *out, now + cache_ms);
  return rc;
}

enum athos_error api_key_authenticate(struct store *s, struct lru *cache, int64_t cache_ms,
                                      const char *key, const struct sockaddr *peer,
                                      struct tenant *out)
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
  return ERR_NONE;
}
