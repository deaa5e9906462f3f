/*
 * payload.h — the body of a call.scored webhook. It stays small (well
 * under 20 KB): ids only, the receiver fetches the detail over REST.
 */
#ifndef ATHOS_WEBHOOK_PAYLOAD_H
#define ATHOS_WEBHOOK_PAYLOAD_H

#include <stdint.h>

#include "store/store.h"

/* {"type":"call.scored","timestamp":ISO(scored_at),"data":{"callId",
 * "source","externalUserId","externalAgencyId" (null when none),
 * "drillKey","scoredAt"}} as compact JSON. Returns a malloc'd string
 * (caller frees), or NULL when out of memory. */
char *webhook_payload_call_scored(const struct call_row *c, int64_t scored_at);

#endif
