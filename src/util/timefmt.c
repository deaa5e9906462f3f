/* timefmt.c — ISO 8601 formatting and strict parsing without locale or
 * timezone state (timegm-free arithmetic, so it is thread-safe). */
#include "util/timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t time_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t time_mono_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t time_mono_ms(void)
{
  return (int64_t)(time_mono_us() / 1000);
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

void time_format_iso(int64_t ms, char *out, size_t cap)
{
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int millis = (int)(ms - secs * 1000);
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int sod = (int)(secs - days * 86400);
  int y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  snprintf(out, cap, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, sod / 3600, (sod / 60) % 60,
           sod % 60, millis);
}

/* Reads exactly n digits. */
static int read_digits(const char **p, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)(*p)[i]))
      return -1;
    v = v * 10 + ((*p)[i] - '0');
  }
  *p += n;
  *out = v;
  return 0;
}

static int days_in_month(int y, int m)
{
  static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : dim[m - 1];
}

int time_parse_iso(const char *s, int64_t *ms_out)
{
  const char *p = s;
  int y, mo, d, h = 0, mi = 0, se = 0, millis = 0, off_min = 0;
  if (s == NULL || strlen(s) > 40)
    return -1;
  if (read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &mo) || *p++ != '-' ||
      read_digits(&p, 2, &d))
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
    return -1;
  if (*p == '\0')
    goto done;
  if (*p != 'T' && *p != 't' && *p != ' ')
    return -1;
  p++;
  if (read_digits(&p, 2, &h) || *p++ != ':' || read_digits(&p, 2, &mi))
    return -1;
  if (*p == ':') {
    p++;
    if (read_digits(&p, 2, &se))
      return -1;
    if (*p == '.') {
      p++;
      int ndig = 0;
      while (isdigit((unsigned char)*p)) {
        if (ndig < 3)
          millis = millis * 10 + (*p - '0');
        ndig++;
        p++;
      }
      if (ndig == 0 || ndig > 9)
        return -1;
      for (int i = ndig; i < 3; i++)
        millis *= 10;
    }
  }
  if (h > 23 || mi > 59 || se > 60)
    return -1;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p == '-' ? -1 : 1, oh, om;
    p++;
    if (read_digits(&p, 2, &oh) || *p++ != ':' || read_digits(&p, 2, &om) || oh > 23 || om > 59)
      return -1;
    off_min = sign * (oh * 60 + om);
  } else {
    return -1;
  }
  if (*p != '\0')
    return -1;
done:;
  int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - (int64_t)off_min * 60;
  *ms_out = secs * 1000 + millis;
  return 0;
}

int64_t time_month_start(int64_t ms)
{
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  return days_from_civil(y, m, 1) * 86400 * 1000;
}
