/* api_key.c — API key generation and the API-key authentication step of
 * the request pipeline (key → tenant → active → IP allow-list). */
#include "auth/api_key.h"

#include <stdio.h>
#include <string.h>

#include "auth/cidr.h"
#include "http/server.h"
#include "util/hex.h"
#include "util/ids.h"

void api_key_generate(char key_out[API_KEY_MAX], struct api_key_new *rec)
{
  id_new(API_KEY_PREFIX, API_KEY_RANDOM_CHARS, key_out, API_KEY_MAX);
  id_new("key_", 16, rec->public_id, sizeof rec->public_id);
  snprintf(rec->prefix, sizeof rec->prefix, "%.13s", key_out);
  sha256_hex(key_out, rec->hash_hex);
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
  bool revoked = false;
  int rc = store_key_authenticate(r->server->store, hash, &r->tenant, &revoked);
  if (rc == STORE_NOT_FOUND)
    return http_reply_error(r, ERR_INVALID_API_KEY, "Invalid API key");
  if (rc != STORE_OK)
    return http_reply_store_error(r, rc);
  if (revoked)
    return http_reply_error(r, ERR_API_KEY_REVOKED, "This API key has been revoked");
  if (!r->tenant.active)
    return http_reply_error(r, ERR_TENANT_INACTIVE, "This tenant is inactive");
  if (!cidr_list_allows(r->tenant.ip_allow, http_peer(r)))
    return http_reply_error(r, ERR_IP_NOT_ALLOWED, "Requests from this IP address are not allowed");
  return API_OK;
}
