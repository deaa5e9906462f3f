/*
 * retry.c — the retry policy: any 2xx is delivered, 410 disables the
 * endpoint, 429/503 may say when to come back (Retry-After), anything else
 * (including a 3xx: redirects are never followed) waits for the next slot
 * of the schedule, with jitter so a receiver that came back up is not hit
 * by every queued event in the same second.
 */
#include "webhooks/retry.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

int64_t webhook_retry_delay_ms(const int64_t *schedule, size_t n, size_t attempt, uint64_t rnd)
{
  if (attempt >= n)
    return -1;
  int64_t base = schedule[attempt] * 1000;
  if (base <= 0)
    return 0;
  int64_t span = base * WEBHOOK_JITTER_PCT / 100;
  return base - span + (int64_t)(rnd % (uint64_t)(2 * span + 1));
}

int64_t webhook_retry_after_parse(const char *value, int64_t now_ms)
{
  if (value == NULL)
    return -1;
  while (*value == ' ' || *value == '\t')
    value++;
  if (*value == '\0')
    return -1;
  int64_t sec;
  if (isdigit((unsigned char)*value)) {
    char *end = NULL;
    long long v = strtoll(value, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
      end++;
    if (*end != '\0' || v < 0)
      return -1;
    sec = v;
  } else {
    time_t t = curl_getdate(value, NULL); /* the HTTP-date form */
    if (t == (time_t)-1)
      return -1;
    sec = (int64_t)t - now_ms / 1000;
    if (sec < 0)
      sec = 0;
  }
  return sec > WEBHOOK_RETRY_AFTER_MAX_SEC ? WEBHOOK_RETRY_AFTER_MAX_SEC : sec;
}

enum webhook_outcome webhook_decide(int http_status, int64_t retry_after_sec, size_t attempts_done,
                                    const int64_t *schedule, size_t n, int64_t now_ms, uint64_t rnd,
                                    int64_t *next_at)
{
  if (http_status >= 200 && http_status <= 299)
    return WEBHOOK_DELIVERED;
  if (http_status == 410)
    return WEBHOOK_ENDPOINT_GONE;
  int64_t delay = webhook_retry_delay_ms(schedule, n, attempts_done, rnd);
  if (delay < 0)
    return WEBHOOK_FAILED;
  if ((http_status == 429 || http_status == 503) && retry_after_sec >= 0)
    delay = retry_after_sec * 1000;
  *next_at = now_ms + delay;
  return WEBHOOK_RETRY;
}
