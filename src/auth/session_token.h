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
#define TOKEN_ISSUER "athos"
#define TOKEN_KEYS_MAX 4
#define TOKEN_MAX 2048

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
enum athos_error session_token_verify(const struct token_keys *keys, const char *token,
                                      int64_t now, struct session_claims *c);

#endif
