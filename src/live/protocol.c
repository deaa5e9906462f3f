/* protocol.c — the end reasons' wire names, the one table both the
 * server and the CLI read (see protocol.h). */
#include "live/protocol.h"

#include <string.h>

static const char *const END_REASONS[LIVE_END_REASON_COUNT] = {
    [LIVE_END_REP_HANGUP] = "rep_hangup",
    [LIVE_END_PERSONA_HANGUP] = "persona_hangup",
    [LIVE_END_MAX_DURATION] = "max_duration",
    [LIVE_END_IDLE] = "idle",
    [LIVE_END_DISCONNECT] = "disconnect",
};

const char *live_end_reason_name(enum live_end_reason r)
{
  if ((unsigned)r >= LIVE_END_REASON_COUNT)
    return "";
  return END_REASONS[r];
}

bool live_end_reason_parse(const char *name, enum live_end_reason *out)
{
  for (unsigned i = 0; name != NULL && i < LIVE_END_REASON_COUNT; i++) {
    if (strcmp(name, END_REASONS[i]) == 0) {
      *out = (enum live_end_reason)i;
      return true;
    }
  }
  return false;
}
