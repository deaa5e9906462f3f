/*
 * session_token.c — a small HS256 JWT codec on OpenSSL. We do not use a
 * general JWT library: the only algorithm we ever accept is HS256, so the
 * header is checked for exactly that before anything else happens.
 */
#include "auth/session_token.h"

#include <assert.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/crypto.h"

/* The largest decoded segment: the claims JSON at its limit. */
#define PART_MAX (TOKEN_CLAIMS_JSON_MAX + 1)

static int b64url_json(json_t *j, char *out, size_t cap)
{
  char *s = json_dumps(j, JSON_COMPACT);
  if (s == NULL)
    return -1;
  size_t n = b64url_encode(s, strlen(s), out, cap);
  free(s);
  return n == 0 ? -1 : (int)n;
}

int session_token_mint(const struct token_keys *keys, const struct session_claims *c, char *out,
                       size_t cap)
{
  assert(keys != NULL && c != NULL && out != NULL && cap > 0);
  if (keys->n == 0)
    return -1;
  const struct signing_key *k = &keys->keys[0];
  int rc = -1;
  json_t *hdr = json_pack("{s:s, s:s, s:s}", "alg", "HS256", "typ", "JWT", "kid", k->kid);
  json_t *pl = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "iss", TOKEN_ISSUER, "aud",
                         TOKEN_AUDIENCE, "tenant", c->tenant, "externalUserId", c->external_user_id,
                         "jti", c->jti, "iat", (json_int_t)c->iat, "exp", (json_int_t)c->exp);
  if (hdr == NULL || pl == NULL)
    goto out;
  if (c->external_agency_id[0] != '\0')
    json_object_set_new(pl, "externalAgencyId", json_string(c->external_agency_id));
  if (c->key_id[0] != '\0')
    json_object_set_new(pl, "key", json_string(c->key_id));
  char h64[TOKEN_B64URL_LEN(TOKEN_HEADER_JSON_MAX) + 1];
  char p64[TOKEN_B64URL_LEN(TOKEN_CLAIMS_JSON_MAX) + 1];
  if (b64url_json(hdr, h64, sizeof h64) < 0 || b64url_json(pl, p64, sizeof p64) < 0)
    goto out;
  int n = snprintf(out, cap, "%s.%s", h64, p64);
  if (n < 0 || (size_t)n + 1 + 44 > cap)
    goto out;
  uint8_t mac[SHA256_LEN];
  crypto_hmac_sha256(k->secret, SIGNING_KEY_LEN, out, (size_t)n, mac);
  out[n] = '.';
  if (b64url_encode(mac, sizeof mac, out + n + 1, cap - (size_t)n - 1) == 0)
    goto out;
  rc = 0;
out:
  json_decref(hdr);
  json_decref(pl);
  return rc;
}

/* Decodes one base64url segment as a JSON object. */
static json_t *segment_json(const char *seg, size_t len)
{
  char buf[PART_MAX];
  long n = b64url_decode(seg, len, buf, sizeof buf - 1);
  if (n <= 0)
    return NULL;
  buf[n] = '\0';
  json_t *j = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
  if (j != NULL && !json_is_object(j)) {
    json_decref(j);
    return NULL;
  }
  return j;
}

/* True if v is exactly the string s: an escaped NUL ("HS256\u0000x")
 * does not compare equal to a prefix. */
static bool json_str_is(json_t *v, const char *s)
{
  return json_is_string(v) && json_string_length(v) == strlen(s) &&
         memcmp(json_string_value(v), s, json_string_length(v)) == 0;
}

static int copy_claim(json_t *pl, const char *name, char *out, size_t cap, int required)
{
  json_t *v = json_object_get(pl, name);
  if (v == NULL) {
    out[0] = '\0';
    return required ? -1 : 0;
  }
  if (!json_is_string(v) || json_string_length(v) >= cap ||
      strlen(json_string_value(v)) != json_string_length(v))
    return -1;
  memcpy(out, json_string_value(v), json_string_length(v) + 1);
  return 0;
}

enum athos_error session_token_verify(const struct token_keys *keys, const char *token, int64_t now,
                                      struct session_claims *c)
{
  assert(keys != NULL && token != NULL && c != NULL);
  enum athos_error v = ERR_INVALID_TOKEN;
  json_t *hdr = NULL, *pl = NULL;
  size_t len = strnlen(token, TOKEN_MAX + 1);
  if (len > TOKEN_MAX)
    return ERR_INVALID_TOKEN;
  const char *dot1 = memchr(token, '.', len);
  const char *dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
  if (dot1 == NULL || dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
    return ERR_INVALID_TOKEN;

  /* 1. The header: alg pinned to HS256, kid must be one of ours. */
  hdr = segment_json(token, (size_t)(dot1 - token));
  if (hdr == NULL)
    goto out;
  json_t *alg = json_object_get(hdr, "alg");
  json_t *kid = json_object_get(hdr, "kid");
  if (!json_str_is(alg, "HS256") || !json_is_string(kid))
    goto out;
  const struct signing_key *k = NULL;
  for (size_t i = 0; i < keys->n; i++)
    if (json_str_is(kid, keys->keys[i].kid))
      k = &keys->keys[i];
  if (k == NULL)
    goto out;

  /* 2. The signature, compared in constant time. */
  uint8_t want[SHA256_LEN], got[SHA256_LEN + 2];
  crypto_hmac_sha256(k->secret, SIGNING_KEY_LEN, token, (size_t)(dot2 - token), want);
  long glen = b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), got, sizeof got);
  if (glen != SHA256_LEN || !crypto_equal(want, got, SHA256_LEN))
    goto out;

  /* 3. The claims. */
  pl = segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
  if (pl == NULL)
    goto out;
  json_t *aud = json_object_get(pl, "aud"), *iss = json_object_get(pl, "iss");
  json_t *exp = json_object_get(pl, "exp"), *iat = json_object_get(pl, "iat");
  if (!json_str_is(aud, TOKEN_AUDIENCE) || !json_str_is(iss, TOKEN_ISSUER) ||
      !json_is_integer(exp) || !json_is_integer(iat))
    goto out;
  if (copy_claim(pl, "tenant", c->tenant, sizeof c->tenant, 1) ||
      copy_claim(pl, "externalUserId", c->external_user_id, sizeof c->external_user_id, 1) ||
      copy_claim(pl, "externalAgencyId", c->external_agency_id, sizeof c->external_agency_id, 0) ||
      copy_claim(pl, "jti", c->jti, sizeof c->jti, 1) ||
      copy_claim(pl, "key", c->key_id, sizeof c->key_id, 0))
    goto out;
  c->iat = json_integer_value(iat);
  c->exp = json_integer_value(exp);
  v = now >= c->exp ? ERR_TOKEN_EXPIRED : ERR_NONE;
out:
  json_decref(hdr);
  json_decref(pl);
  return v;
}
