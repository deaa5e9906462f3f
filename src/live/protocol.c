/* protocol.c — the end reasons' wire names, the one mapping both the
 * server and the CLI read (see protocol.h). A switch, so a reason added
 * to the enum without a name is a compiler warning. */
#include "live/protocol.h"

#include <string.h>

const char *live_end_reason_name(enum live_end_reason r)
{
  switch (r) {
  case LIVE_END_REP_HANGUP: return "rep_hangup";
  case LIVE_END_PERSONA_HANGUP: return "persona_hangup";
  case LIVE_END_MAX_DURATION: return "max_duration";
  case LIVE_END_IDLE: return "idle";
  case LIVE_END_DISCONNECT: return "disconnect";
  case LIVE_END_LIMIT: return "limit";
  }
  return "";
}

bool live_end_reason_parse(const char *name, enum live_end_reason *out)
{
  for (int i = 0; name != NULL && i < LIVE_END_REASON_COUNT; i++) {
    if (strcmp(name, live_end_reason_name((enum live_end_reason)i)) == 0) {
      *out = (enum live_end_reason)i;
      return true;
    }
  }
  return false;
}
