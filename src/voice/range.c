/*
 * range.c — a strict little parser: digits only (no signs, no spaces
 * inside numbers), at most 19 of them so nothing overflows, optional
 * spaces around the value; anything else makes the header ignored.
 */
#include "voice/range.h"

#include <stdbool.h>
#include <stdio.h>
#include <strings.h>

#define RANGE_MAX_DIGITS 19 /* < 2^63 */

static const char *skip_ws(const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* Parses digits at *p into *v, advancing *p. False if none or too many. */
static bool parse_num(const char **p, uint64_t *v)
{
  const char *s = *p;
  uint64_t n = 0;
  int digits = 0;
  while (*s >= '0' && *s <= '9') {
    if (++digits > RANGE_MAX_DIGITS)
      return false;
    n = n * 10 + (uint64_t)(*s - '0');
    s++;
  }
  if (digits == 0)
    return false;
  *p = s;
  *v = n;
  return true;
}

enum range_result range_parse(const char *header, uint64_t size, struct byte_range *out)
{
  if (!header)
    return RANGE_NONE;
  const char *p = skip_ws(header);
  if (strncasecmp(p, "bytes", 5) != 0)
    return RANGE_NONE;
  p = skip_ws(p + 5);
  if (*p++ != '=')
    return RANGE_NONE;
  p = skip_ws(p);
  uint64_t first = 0, last = 0;
  bool has_first = parse_num(&p, &first), has_last;
  if (*p++ != '-')
    return RANGE_NONE;
  has_last = parse_num(&p, &last);
  if (*skip_ws(p) != '\0') /* a second range, or junk */
    return RANGE_NONE;
  if (!has_first && !has_last)
    return RANGE_NONE;
  if (!has_first) { /* suffix: the last `last` bytes */
    if (last == 0 || size == 0)
      return RANGE_UNSATISFIABLE;
    out->first = last >= size ? 0 : size - last;
    out->last = size - 1;
    return RANGE_PARTIAL;
  }
  if (has_last && last < first)
    return RANGE_NONE; /* invalid: ignored, not unsatisfiable */
  if (first >= size)
    return RANGE_UNSATISFIABLE;
  out->first = first;
  out->last = has_last && last < size ? last : size - 1;
  return RANGE_PARTIAL;
}

int range_content_range(enum range_result res, const struct byte_range *r, uint64_t size, char *buf,
                        size_t cap)
{
  int n;
  if (res == RANGE_PARTIAL)
    n = snprintf(buf, cap, "bytes %llu-%llu/%llu", (unsigned long long)r->first,
                 (unsigned long long)r->last, (unsigned long long)size);
  else if (res == RANGE_UNSATISFIABLE)
    n = snprintf(buf, cap, "bytes */%llu", (unsigned long long)size);
  else
    return -1;
  return n < 0 || (size_t)n >= cap ? -1 : n;
}
