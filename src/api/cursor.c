/* cursor.c — encoding and strict decoding of the list cursor. */
#include "api/cursor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"

int cursor_encode(const struct cursor *c, char *out, size_t cap)
{
  char raw[96];
  int n = snprintf(raw, sizeof raw, "c1.%lld.%s", (long long)c->ended_at, c->public_id);
  if (n < 0 || (size_t)n >= sizeof raw)
    return -1;
  return b64url_encode(raw, (size_t)n, out, cap) > 0 ? 0 : -1;
}

int cursor_decode(const char *s, struct cursor *out)
{
  char raw[97];
  size_t len = strnlen(s, CURSOR_MAX + 1);
  if (len == 0 || len > CURSOR_MAX)
    return -1;
  long n = b64url_decode(s, len, raw, sizeof raw - 1);
  if (n <= 3)
    return -1;
  raw[n] = '\0';
  if (strlen(raw) != (size_t)n || strncmp(raw, "c1.", 3) != 0)
    return -1;
  char *p = raw + 3, *end = NULL;
  if (*p < '0' || *p > '9')
    return -1;
  long long ms = strtoll(p, &end, 10);
  if (end == p || *end != '.' || ms < 0)
    return -1;
  const char *id = end + 1;
  if (!id_valid(id, CALL_ID_PREFIX, CALL_ID_RANDOM_CHARS) ||
      strlen(id) != strlen(CALL_ID_PREFIX) + CALL_ID_RANDOM_CHARS)
    return -1;
  out->ended_at = ms;
  snprintf(out->public_id, sizeof out->public_id, "%s", id);
  return 0;
}
