/*
 * session.c — POST /session: the reseller's backend exchanges its API key
 * (already authenticated by the route) for a single-use session token
 * scoped to one rep. Server-to-server only: no CORS.
 */
#include <stdio.h>

#include "api/handlers.h"
#include "api/validate.h"
#include "auth/quota.h"
#include "auth/session_token.h"
#include "util/ids.h"
#include "util/timefmt.h"

enum api_result api_session_mint(struct api_request *r)
{
  struct session_claims c = {0};
  struct json_spec spec[] = {
      json_spec_string("externalUserId", c.external_user_id, sizeof c.external_user_id, 1,
                       EXTERNAL_ID_MAX),
      json_spec_optional(json_spec_string("externalAgencyId", c.external_agency_id,
                                          sizeof c.external_agency_id, 1, EXTERNAL_ID_MAX)),
      JSON_SPEC_END,
  };
  json_t *body = NULL;
  enum api_result res = validate_json_body(r, &body);
  if (res != API_OK)
    return res;
  if ((res = validate_fields(r, body, spec)) != API_OK)
    goto out;
  enum athos_error quota = quota_check(r->app->store, r->tenant);
  if (quota != ERR_NONE) {
    res = api_reply_decision(r, quota);
    goto out;
  }

  int64_t now_ms = time_now_ms();
  snprintf(c.tenant, sizeof c.tenant, "%s", r->tenant->public_id);
  snprintf(c.key_id, sizeof c.key_id, "%s", r->key_id); /* redeem refuses it once revoked */
  id_new("jti_", 22, c.jti, sizeof c.jti);
  c.iat = now_ms / 1000;
  c.exp = c.iat + r->app->cfg->session_ttl_sec;
  char token[TOKEN_MAX];
  if (session_token_mint(&r->app->keys, &c, token, sizeof token) != 0) {
    res = API_FAIL;
    goto out;
  }
  char expires[32];
  time_format_iso(c.exp * 1000, expires, sizeof expires);
  res = http_reply_json(r, 200, json_pack("{s:s, s:s}", "token", token, "expiresAt", expires));
out:
  json_decref(body);
  return res;
}
