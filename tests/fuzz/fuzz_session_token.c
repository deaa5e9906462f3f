/*
 * fuzz_session_token.c — libFuzzer driver for session_token_verify()
 * (src/auth/session_token.h): the JWT a reseller's browser hands to POST
 * /roleplay/session.
 *
 * The first input byte picks a mode, the rest is the payload:
 *   0  the payload is the whole token (random bytes, dots, base64…);
 *   1  the payload is the claims JSON, wrapped in a valid HS256 header and
 *      signed by the driver with our key — gets past the signature so the
 *      claim parsing (aud, iss, exp, copy_claim) is reached;
 *   2  the payload is the header JSON, with valid claims, signed — the
 *      alg / kid checks.
 * Whatever is accepted (ERR_NONE or ERR_TOKEN_EXPIRED) must have every claim
 * string NUL-terminated inside its array, and re-minting those claims must
 * succeed (TOKEN_MAX holds any claims within their limits) and give a token
 * that verifies to the same claims (strings, iat, exp).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/session_token.h"
#include "util/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1780000000 /* 2026-05-28 */

static struct token_keys KEYS;

static void keys_init(void)
{
  if (KEYS.n != 0)
    return;
  memset(&KEYS, 0, sizeof KEYS);
  snprintf(KEYS.keys[0].kid, sizeof KEYS.keys[0].kid, "k_2026a");
  snprintf(KEYS.keys[1].kid, sizeof KEYS.keys[1].kid, "k_2025z");
  for (size_t i = 0; i < SIGNING_KEY_LEN; i++) {
    KEYS.keys[0].secret[i] = (uint8_t)(i * 7 + 1);
    KEYS.keys[1].secret[i] = (uint8_t)(i * 13 + 5);
  }
  KEYS.n = 2;
}

static void check_terminated(const char *s, size_t cap)
{
  if (memchr(s, '\0', cap) == NULL)
    abort();
}

static void check_accepted(const struct session_claims *c, enum athos_error v)
{
  check_terminated(c->tenant, sizeof c->tenant);
  check_terminated(c->external_user_id, sizeof c->external_user_id);
  check_terminated(c->external_agency_id, sizeof c->external_agency_id);
  check_terminated(c->jti, sizeof c->jti);
  if ((v == ERR_NONE) != (NOW < c->exp))
    abort();
  /* Re-mint what we read: the token must verify to the same claims. */
  char again[TOKEN_MAX + 1];
  struct session_claims back;
  /* Claims that verified fit their arrays, and TOKEN_MAX is derived from
   * those limits with every byte escaped at its worst: mint never refuses. */
  if (session_token_mint(&KEYS, c, again, sizeof again) != 0)
    abort();
  memset(&back, 0, sizeof back);
  enum athos_error v2 = session_token_verify(&KEYS, again, NOW, &back);
  if (v2 != v || strcmp(back.tenant, c->tenant) != 0 ||
      strcmp(back.external_user_id, c->external_user_id) != 0 ||
      strcmp(back.external_agency_id, c->external_agency_id) != 0 ||
      strcmp(back.jti, c->jti) != 0 || back.iat != c->iat || back.exp != c->exp)
    abort();
}

/* header.payload, both JSON texts, base64url'd and signed with key 0. */
static char *sign(const char *hdr, size_t hn, const char *pl, size_t pn)
{
  size_t cap = b64_encoded_size(hn) + b64_encoded_size(pn) + 64;
  char *out = malloc(cap);
  if (out == NULL)
    return NULL;
  size_t a = b64url_encode(hdr, hn, out, cap);
  out[a] = '.';
  size_t b = b64url_encode(pl, pn, out + a + 1, cap - a - 1);
  if ((hn > 0 && a == 0) || (pn > 0 && b == 0))
    abort();
  size_t n = a + 1 + b;
  uint8_t mac[SHA256_LEN];
  crypto_hmac_sha256(KEYS.keys[0].secret, SIGNING_KEY_LEN, out, n, mac);
  out[n] = '.';
  if (b64url_encode(mac, sizeof mac, out + n + 1, cap - n - 1) == 0)
    abort();
  return out;
}

static const char GOOD_HDR[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k_2026a\"}";
static const char GOOD_PL[] =
    "{\"iss\":\"athos\",\"aud\":\"athos:roleplay\",\"tenant\":\"ten_4bY2kQf9cVx1ZmN8pLr3T\","
    "\"externalUserId\":\"agent-1042\",\"jti\":\"jti_Qm3k9Zx2\",\"iat\":1779999000,"
    "\"exp\":1780000900,\"externalAgencyId\":\"agency-7\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  keys_init();
  if (size == 0)
    return 0;
  unsigned mode = data[0] % 3;
  const char *p = (const char *)data + 1;
  size_t n = size - 1;
  char *token = NULL;
  if (mode == 0) {
    token = malloc(n + 1);
    if (token == NULL)
      return 0;
    memcpy(token, p, n);
    token[n] = '\0';
  } else if (mode == 1) {
    token = sign(GOOD_HDR, sizeof GOOD_HDR - 1, p, n);
  } else {
    token = sign(p, n, GOOD_PL, sizeof GOOD_PL - 1);
  }
  if (token == NULL)
    return 0;
  struct session_claims c;
  memset(&c, 0x5a, sizeof c); /* no NUL for free: the verifier must write them */
  enum athos_error v = session_token_verify(&KEYS, token, NOW, &c);
  if (v == ERR_NONE || v == ERR_TOKEN_EXPIRED)
    check_accepted(&c, v);
  else if (v != ERR_INVALID_TOKEN)
    abort();
  free(token);
  return 0;
}
