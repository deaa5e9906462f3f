/* cursor.c — sealing and strict opening of the list cursor. */
#include "api/cursor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"

#define MAC_LEN 16
#define RAW_MAX 128

/* mac over "cursor.<tenant>.<position>" */
static void cursor_mac(const struct cursor_key *k, const char *pos, size_t len,
                       uint8_t mac[SHA256_LEN])
{
  char msg[RAW_MAX + ID_MAX + 16];
  int n = snprintf(msg, sizeof msg, "cursor.%s.%.*s", k->tenant, (int)len, pos);
  crypto_hmac_sha256(k->secret, k->len, msg, n > 0 ? (size_t)n : 0, mac);
}

int cursor_encode(const struct cursor_key *k, const struct cursor *c, char *out, size_t cap)
{
  char raw[RAW_MAX];
  int n = snprintf(raw, sizeof raw, "c1.%lld.%s", (long long)c->ended_at, c->public_id);
  if (n < 0 || (size_t)n + 2 + 24 >= sizeof raw)
    return -1;
  uint8_t mac[SHA256_LEN];
  cursor_mac(k, raw, (size_t)n, mac);
  raw[n] = '.';
  size_t m = b64url_encode(mac, MAC_LEN, raw + n + 1, sizeof raw - (size_t)n - 1);
  if (m == 0)
    return -1;
  return b64url_encode(raw, (size_t)n + 1 + m, out, cap) > 0 ? 0 : -1;
}

int cursor_decode(const struct cursor_key *k, const char *s, struct cursor *out)
{
  char raw[RAW_MAX + 1];
  size_t len = strnlen(s, CURSOR_MAX + 1);
  if (len == 0 || len > CURSOR_MAX)
    return -1;
  long n = b64url_decode(s, len, raw, sizeof raw - 1);
  if (n <= 3)
    return -1;
  raw[n] = '\0';
  if (strlen(raw) != (size_t)n || strncmp(raw, "c1.", 3) != 0)
    return -1;

  /* The seal first: nothing of an unsealed cursor is interpreted. */
  char *dot = strrchr(raw, '.');
  uint8_t got[MAC_LEN + 2], want[SHA256_LEN];
  if (dot == NULL || b64url_decode(dot + 1, strlen(dot + 1), got, sizeof got) != MAC_LEN)
    return -1;
  cursor_mac(k, raw, (size_t)(dot - raw), want);
  if (!crypto_equal(got, want, MAC_LEN))
    return -1;
  *dot = '\0';

  char *p = raw + 3, *end = NULL;
  if (*p < '0' || *p > '9')
    return -1;
  errno = 0;
  long long ms = strtoll(p, &end, 10);
  if (errno != 0 || end == p || *end != '.' || ms < 0)
    return -1;
  const char *id = end + 1;
  if (!id_valid(id, CALL_ID_PREFIX, CALL_ID_RANDOM_CHARS) ||
      strlen(id) != strlen(CALL_ID_PREFIX) + CALL_ID_RANDOM_CHARS)
    return -1;
  out->ended_at = ms;
  snprintf(out->public_id, sizeof out->public_id, "%s", id);
  return 0;
}
