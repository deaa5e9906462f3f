/* rate.c — the live protocol's per-connection token bucket (see rate.h). */
#include "live/rate.h"

#include "live/protocol.h"

#define FULL (LIVE_RATE_BURST * 1000)

void live_rate_init(struct live_rate *r, int64_t now_ms)
{
  r->mono = now_ms;
  r->milli = FULL;
}

enum live_rate_verdict live_rate_take(struct live_rate *r, int64_t now_ms)
{
  int64_t dt = now_ms > r->mono ? now_ms - r->mono : 0;
  /* dt × rate thousandths of a token; capped first, so no overflow */
  int64_t refill = dt >= 2 * FULL ? 2 * (int64_t)FULL : dt * LIVE_RATE_PER_SEC;
  int64_t milli = r->milli + refill;
  if (milli > FULL)
    milli = FULL;
  r->mono = now_ms;
  milli -= 1000;
  enum live_rate_verdict v = LIVE_RATE_OK;
  if (milli < 0)
    v = milli < -FULL ? LIVE_RATE_ABUSE : LIVE_RATE_DROP;
  r->milli = (int32_t)(milli < -FULL ? -FULL : milli);
  return v;
}
