/*
 * roleplay.c — POST /roleplay/session: the browser SDK redeems a session
 * token for a connection ticket and the call is created. The only
 * endpoint browsers call, so the only one with CORS (and its preflight).
 *
 * Order matters: the token is verified first (401), then the body (400),
 * and only then is the token spent — together with the call row, in one
 * transaction that also checks the tenant's monthly quota — so neither a
 * malformed request nor one over quota burns a rep's token.
 */
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "api/validate.h"
#include "auth/session_token.h"
#include "live/protocol.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "util/ids.h"
#include "util/timefmt.h"

#define TICKET_RANDOM_CHARS 43
#define STATE_MAX           32
#define CATEGORY_MAX        64

static enum api_result verify_token(struct api_request *r, struct session_claims *c)
{
  const char *token = http_bearer(r);
  if (token == NULL)
    return http_reply_error(r, ERR_INVALID_TOKEN, "Missing session token");
  enum athos_error e = session_token_verify(&r->app->keys, token, time_now_ms() / 1000, c);
  return e == ERR_NONE ? API_OK : api_reply_decision(r, e);
}

/* The optional `filters` object: state (used), category (accepted). */
static enum api_result read_filters(struct api_request *r, const json_t *filters, char *state,
                                    size_t cap)
{
  char category[CATEGORY_MAX + 1];
  struct json_spec spec[] = {
      json_spec_optional(json_spec_string("state", state, cap, 1, STATE_MAX)),
      json_spec_optional(json_spec_string("category", category, sizeof category, 1, CATEGORY_MAX)),
      JSON_SPEC_END,
  };
  return filters != NULL ? validate_fields(r, filters, spec) : API_OK;
}

static void connection_url(const char *public_url, char *out, size_t cap)
{
  const char *rest = public_url;
  const char *scheme = "ws";
  if (strncmp(public_url, "https://", 8) == 0) {
    scheme = "wss";
    rest = public_url + 8;
  } else if (strncmp(public_url, "http://", 7) == 0) {
    rest = public_url + 7;
  }
  snprintf(out, cap, "%s://%s" LIVE_PATH, scheme, rest);
}

enum api_result api_roleplay_redeem(struct api_request *r)
{
  struct session_claims claims;
  json_t *body = NULL;
  enum api_result res = verify_token(r, &claims);
  if (res != API_OK)
    return res;
  if ((res = validate_json_body(r, &body)) != API_OK)
    return res;

  struct call_new n;
  memset(&n, 0, sizeof n);
  char state[STATE_MAX + 1] = "";
  int diff = PERSONA_ADVANCED;
  json_t *filters = NULL;
  /* Indexed by enum persona_difficulty. */
  const char *const difficulties[] = {persona_difficulty_name(PERSONA_BEGINNER),
                                      persona_difficulty_name(PERSONA_ADVANCED),
                                      persona_difficulty_name(PERSONA_ELITE), NULL};
  struct json_spec spec[] = {
      json_spec_string("drillKey", n.drill_key, sizeof n.drill_key, 1, DRILL_KEY_MAX),
      json_spec_optional(json_spec_enum("difficulty", &diff, difficulties)),
      json_spec_flags(json_spec_object("filters", &filters),
                      JSON_SPEC_OPTIONAL | JSON_SPEC_NULL_ABSENT),
      JSON_SPEC_END,
  };
  if ((res = validate_fields(r, body, spec)) != API_OK ||
      (res = read_filters(r, filters, state, sizeof state)) != API_OK)
    goto out;
  const struct drill_entry *d = drill_catalog_find(r->app->drills, n.drill_key);
  if (d == NULL) {
    res = http_reply_error(r, ERR_DRILL_NOT_FOUND, "Unknown drillKey");
    goto out;
  }

  struct tenant t;
  int rc = store_tenant_get(r->app->store, claims.tenant, &t);
  if (rc == STORE_NOT_FOUND) {
    res = http_reply_error(r, ERR_INVALID_TOKEN, "Invalid session token");
    goto out;
  }
  if (rc != STORE_OK) {
    res = api_reply_store_error(r, rc);
    goto out;
  }
  if (!t.active) {
    res = http_reply_error(r, ERR_TENANT_INACTIVE, "This tenant is inactive");
    goto out;
  }

  int64_t now = time_now_ms();
  char ticket[64];
  id_new(LIVE_TICKET_PREFIX, TICKET_RANDOM_CHARS, ticket, sizeof ticket);
  sha256_hex(ticket, n.ticket_hash_hex);
  n.tenant_id = t.id;
  snprintf(n.jti, sizeof n.jti, "%s", claims.jti);
  snprintf(n.key_id, sizeof n.key_id, "%s", claims.key_id);
  n.token_expires_at = claims.exp * 1000;
  id_new(CALL_ID_PREFIX, CALL_ID_RANDOM_CHARS, n.public_id, sizeof n.public_id);
  id_new("ext_", 21, n.session_id, sizeof n.session_id);
  snprintf(n.external_user_id, sizeof n.external_user_id, "%s", claims.external_user_id);
  snprintf(n.external_agency_id, sizeof n.external_agency_id, "%s", claims.external_agency_id);
  enum persona_difficulty level = (enum persona_difficulty)diff;
  snprintf(n.difficulty, sizeof n.difficulty, "%s", persona_difficulty_name(level));
  n.seed = crypto_random_u64() >> 1; /* fits a signed BIGINT */
  size_t pidx = drill_pick_persona(d->drill, state[0] != '\0' ? state : NULL, level, n.seed);
  n.persona_index = (int)pidx;
  snprintf(n.persona_name, sizeof n.persona_name, "%s", drill_persona_name(d->drill, pidx));
  n.ticket_expires_at = now + r->app->cfg->ticket_ttl_sec * 1000;
  n.created_at = now;
  n.quota_since = time_month_start(now);

  rc = store_call_create(r->app->store, &n);
  if (rc == STORE_CONFLICT) {
    res = http_reply_error(r, ERR_TOKEN_ALREADY_USED, "Session token has already been used");
    goto out;
  }
  if (rc == STORE_REVOKED) { /* the key that minted it was revoked */
    res = http_reply_error(r, ERR_INVALID_TOKEN, "Session token was revoked");
    goto out;
  }
  if (rc == STORE_QUOTA) { /* checked in the creating transaction: the token is not spent */
    res = api_reply_decision(r, ERR_TENANT_QUOTA_EXCEEDED);
    goto out;
  }
  if (rc != STORE_OK) {
    res = api_reply_store_error(r, rc);
    goto out;
  }
  char url[600];
  connection_url(r->app->cfg->public_url, url, sizeof url);
  res = http_reply_json(r, 200,
                        json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "connectionTicket", ticket,
                                  "connectionUrl", url, "sessionId", n.session_id, "callId",
                                  n.public_id, "persona", "name", n.persona_name));
out:
  json_decref(body);
  return res;
}
