/*
 * session_token.h — the session token: an HS256 JWT minted by POST
 * /session and redeemed once by POST /roleplay/session. The algorithm is
 * pinned: a token whose header says anything but HS256 (including "none")
 * is refused before any signature work. Keys come from the database (a
 * kid per key) so every node of a cluster verifies every node's tokens.
 */
#ifndef ATHOS_SESSION_TOKEN_H
#define ATHOS_SESSION_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "store/store.h"

#define TOKEN_AUDIENCE "athos:roleplay"
#define TOKEN_ISSUER   "athos"
#define TOKEN_KEYS_MAX 4

/* Token size, derived from the claim limits rather than guessed. jansson
 * writes one input byte as at most 6 (a control byte becomes \u00XX; '"'
 * and '\' become 2), so the longest claims JSON is its fixed part (names,
 * iss, aud, two integers: under 256 bytes) plus 6 bytes per byte of each
 * string claim. Base64url turns n bytes into ceil(4n/3); the signature is
 * 43 characters. A buffer of TOKEN_MAX holds the token of any claims within
 * their limits, so session_token_mint never runs out of room in one. */
#define TOKEN_JSON_ESCAPE_MAX 6
#define TOKEN_HEADER_JSON_MAX (64 + TOKEN_JSON_ESCAPE_MAX * 32) /* kid[32] */
/* tenant, key, jti, ids */
#define TOKEN_CLAIMS_JSON_MAX \
  (256 + TOKEN_JSON_ESCAPE_MAX * (2 * ID_MAX + 64 + 2 * EXTERNAL_ID_MAX))
#define TOKEN_B64URL_LEN(n) (((n)*4 + 2) / 3)
#define TOKEN_MAX                                                                              \
  (TOKEN_B64URL_LEN(TOKEN_HEADER_JSON_MAX) + 1 + TOKEN_B64URL_LEN(TOKEN_CLAIMS_JSON_MAX) + 1 + \
   TOKEN_B64URL_LEN(32) + 1)

struct token_keys {
  struct signing_key keys[TOKEN_KEYS_MAX]; /* [0] signs; all verify */
  size_t n;
};

struct session_claims {
  char tenant[ID_MAX]; /* tenant public id */
  char external_user_id[EXTERNAL_ID_MAX + 1];
  char external_agency_id[EXTERNAL_ID_MAX + 1]; /* "" = none */
  char jti[64];
  char key_id[ID_MAX]; /* "key": the minting API key's public id ("" = not recorded) */
  int64_t iat, exp;    /* unix seconds */
};

/* Signs claims with keys->keys[0] into out. Returns 0 or -1. */
int session_token_mint(const struct token_keys *keys, const struct session_claims *c, char *out,
                       size_t cap);
/* Verifies alg, kid, signature, aud, iss and exp (against now, unix
 * seconds) and fills claims. The decision: ERR_NONE, ERR_INVALID_TOKEN, or
 * ERR_TOKEN_EXPIRED (a genuine token past exp: claims are filled). */
enum athos_error session_token_verify(const struct token_keys *keys, const char *token, int64_t now,
                                      struct session_claims *c);

#endif
