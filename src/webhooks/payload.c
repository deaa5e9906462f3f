/* payload.c — builds the call.scored webhook body with jansson. */
#include "webhooks/payload.h"

#include <jansson.h>

#include "util/timefmt.h"

char *webhook_payload_call_scored(const struct call_row *c, int64_t scored_at)
{
  char iso[32];
  char *out = NULL;
  time_format_iso(scored_at, iso, sizeof iso);
  json_t *data =
      json_pack("{s:s, s:s, s:s, s:o, s:s, s:s}", "callId", c->public_id, "source",
                c->source[0] != '\0' ? c->source : "roleplay", "externalUserId",
                c->external_user_id, "externalAgencyId",
                c->external_agency_id[0] != '\0' ? json_string(c->external_agency_id) : json_null(),
                "drillKey", c->drill_key, "scoredAt", iso);
  if (data == NULL)
    return NULL;
  json_t *body =
      json_pack("{s:s, s:s, s:o}", "type", "call.scored", "timestamp", iso, "data", data);
  if (body == NULL)
    return NULL; /* json_pack's "o" stole data even on failure */
  out = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  return out;
}
