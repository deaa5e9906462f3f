/*
 * fuzz_timefmt.c — libFuzzer driver for time_parse_iso() (src/util/timefmt.h),
 * which reads the from/to query parameters of GET /calls.
 *
 * The first input byte picks a mode:
 *   even  the rest is the timestamp text (NUL-terminated): must be refused
 *         or give a time that survives format → parse unchanged when it is
 *         within years 0001–9999 (the formatter's four-digit range);
 *         and a canonical "YYYY-MM-DDTHH:MM:SS.mmmZ" input that is accepted
 *         must format back to itself (leap second :60 excepted);
 *   odd   the rest seeds a millisecond time in 0001–9999: format → parse
 *         must give it back exactly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z in unix ms. */
#define MS_MIN (-62135596800000LL)
#define MS_MAX (253402300799999LL)

static void round_trip(int64_t ms)
{
  char iso[32], again[32];
  int64_t back = 0;
  time_format_iso(ms, iso, sizeof iso);
  if (strlen(iso) != 24 || time_parse_iso(iso, &back) != 0 || back != ms)
    abort();
  time_format_iso(back, again, sizeof again);
  if (strcmp(iso, again) != 0)
    abort();
}

static int canonical(const char *s)
{
  static const char SHAPE[] = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (strlen(s) != sizeof SHAPE - 1)
    return 0;
  for (size_t i = 0; SHAPE[i] != '\0'; i++)
    if (SHAPE[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != SHAPE[i])
      return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  if (data[0] & 1) {
    uint64_t v = 0;
    for (size_t i = 1; i < size && i <= 8; i++)
      v = v << 8 | data[i];
    round_trip(MS_MIN + (int64_t)(v % (uint64_t)(MS_MAX - MS_MIN + 1)));
    return 0;
  }
  char *s = malloc(size);
  if (s == NULL)
    return 0;
  memcpy(s, data + 1, size - 1);
  s[size - 1] = '\0';
  int64_t ms = 0;
  if (time_parse_iso(s, &ms) == 0) {
    if (ms >= MS_MIN && ms <= MS_MAX)
      round_trip(ms);
    if (canonical(s) && strncmp(s + 17, "60", 2) != 0) {
      char iso[32];
      time_format_iso(ms, iso, sizeof iso);
      if (strcmp(iso, s) != 0)
        abort();
    }
  }
  free(s);
  return 0;
}
