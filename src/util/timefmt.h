/* timefmt.h — wall-clock and monotonic time, and the contract's ISO 8601
 * timestamps ("2026-06-05T14:39:40.295Z"). Times are unix milliseconds. */
#ifndef ATHOS_TIMEFMT_H
#define ATHOS_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

int64_t time_now_ms(void);
/* Monotonic microseconds, for durations. */
uint64_t time_mono_us(void);
/* Monotonic milliseconds, for timers and deadlines. */
int64_t time_mono_ms(void);
/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 chars + NUL); cap >= 25. */
void time_format_iso(int64_t ms, char *out, size_t cap);
/* Parses ISO 8601 / RFC 3339: a date ("2026-06-01"), or a date-time with
 * optional fraction and a "Z" or ±HH:MM offset. Returns 0 or -1. */
int time_parse_iso(const char *s, int64_t *ms_out);

/* The first instant of ms's UTC calendar month. */
int64_t time_month_start(int64_t ms);

#endif
