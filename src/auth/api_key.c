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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/cidr.h"
#include "http/server.h"
#include "util/hex.h"
#include "util/ids.h"
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
static int lookup(struct api_request *r, const char *hash, struct cached_auth *out)
{
  struct server *srv = r->server;
  int64_t now = (int64_t)(time_mono_us() / 1000);
  void *hit = NULL;
  size_t len = 0;
  if (srv->auth_cache != NULL && lru_get(srv->auth_cache, hash, now, &hit, &len)) {
    int ok = len == sizeof *out;
    if (ok)
      memcpy(out, hit, sizeof *out);
    free(hit);
    if (ok)
      return STORE_OK;
  }
  int rc = store_key_authenticate(srv->store, hash, &out->tenant, &out->revoked);
  if (rc == STORE_OK && srv->auth_cache != NULL && srv->cfg->auth_cache_ms > 0)
    lru_put(srv->auth_cache, hash, out, sizeof *out, now + srv->cfg->auth_cache_ms);
  return rc;
}

enum api_result api_key_authenticate(struct api_request *r)
{
  const char *key = http_bearer(r);
  if (key == NULL)
    return http_reply_error(r, ERR_INVALID_API_KEY, "Missing API key: send Authorization: Bearer ath_live_…");
  if (!id_valid(key, API_KEY_PREFIX, API_KEY_RANDOM_CHARS))
    return http_reply_error(r, ERR_INVALID_API_KEY, "Invalid API key");
  char hash[65];
  sha256_hex(key, hash);
  struct cached_auth a;
  int rc = lookup(r, hash, &a);
  if (rc == STORE_NOT_FOUND)
    return http_reply_error(r, ERR_INVALID_API_KEY, "Invalid API key");
  if (rc != STORE_OK)
    return http_reply_store_error(r, rc);
  if (a.revoked)
    return http_reply_error(r, ERR_API_KEY_REVOKED, "This API key has been revoked");
  if (!a.tenant.active)
    return http_reply_error(r, ERR_TENANT_INACTIVE, "This tenant is inactive");
  if (!cidr_list_allows(a.tenant.ip_allow, http_peer(r)))
    return http_reply_error(r, ERR_IP_NOT_ALLOWED, "Requests from this IP address are not allowed");
  r->tenant = a.tenant;
  return API_OK;
}
