/*
 * rate.h — the per-connection message rate of the live protocol
 * (LIVE_RATE_PER_SEC, LIVE_RATE_BURST in protocol.h): a token bucket in
 * thousandths of a token that may also go into debt. A message with a
 * token goes through; one without is dropped (the loop answers it with a
 * RATE_LIMITED error frame) and adds to the debt; a debt of a whole burst
 * means the peer ignores the refusals, and the loop closes it with 1008.
 * The debt is paid back at the same rate, so a client that slows down
 * recovers. Pure: the caller passes the time. loop.c charges every
 * message and control frame a client sends.
 */
#ifndef ATHOS_LIVE_RATE_H
#define ATHOS_LIVE_RATE_H

#include <stdint.h>

struct live_rate {
  int64_t mono;  /* the last refill, monotonic ms */
  int32_t milli; /* tokens × 1000; negative = debt */
};

enum live_rate_verdict {
  LIVE_RATE_OK,    /* a token was taken */
  LIVE_RATE_DROP,  /* no token: drop the message, say so */
  LIVE_RATE_ABUSE, /* a burst's worth of drops: close the connection */
};

/* A full bucket at now_ms. */
void live_rate_init(struct live_rate *r, int64_t now_ms);
/* Charges one message at now_ms (not earlier than the last call). */
enum live_rate_verdict live_rate_take(struct live_rate *r, int64_t now_ms);

#endif
