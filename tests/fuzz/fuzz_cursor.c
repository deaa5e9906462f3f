/*
 * fuzz_cursor.c — libFuzzer driver for cursor_decode() (src/api/cursor.h),
 * the one piece of GET /calls that a client hands back to us verbatim.
 *
 * The first input byte picks a mode, the rest is the payload:
 *   0  the payload is the cursor string: must be refused or decode to a
 *      well-formed position (never crash, whatever the bytes);
 *   1  the payload is a *position* ("c1.<ms>.<id>" or any bytes), sealed by
 *      the driver with the right key — this gets past the MAC so the
 *      fuzzer reaches the strtoll / id parsing behind it;
 *   2  the payload seeds a structured cursor (ended_at, 21 id chars): the
 *      round trip decode(encode(c)) == c must hold, and the same cursor
 *      must be refused under another tenant.
 * Any accepted cursor must re-encode to a cursor that decodes to the same
 * position.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cursor.h"
#include "util/crypto.h"
#include "util/ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t SECRET[32] = "athos-fuzz-cursor-secret-0123456";
static const struct cursor_key KEY = {SECRET, sizeof SECRET, "ten_4bY2kQf9cVx1ZmN8pLr3T"};
static const struct cursor_key OTHER = {SECRET, sizeof SECRET, "ten_Other0000000000000000"};

static const char URLSAFE[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void check_accepted(const struct cursor *c)
{
  /* A decoded cursor is a non-negative time and a valid call id. */
  if (c->ended_at < 0 || memchr(c->public_id, '\0', sizeof c->public_id) == NULL ||
      !id_valid(c->public_id, CALL_ID_PREFIX, CALL_ID_RANDOM_CHARS))
    abort();
  char again[CURSOR_MAX + 1];
  struct cursor back;
  if (cursor_encode(&KEY, c, again, sizeof again) != 0)
    abort(); /* anything we accept we must be able to issue */
  memset(&back, 0, sizeof back);
  if (cursor_decode(&KEY, again, &back) != 0 || back.ended_at != c->ended_at ||
      strcmp(back.public_id, c->public_id) != 0)
    abort();
}

/* Mode 1: seal an arbitrary position the way cursor.h documents it. */
static void sealed(const char *pos, size_t n)
{
  char raw[256], msg[512], wire[512];
  uint8_t mac[SHA256_LEN];
  if (n > 120 || memchr(pos, '\0', n) != NULL)
    return;
  int m = snprintf(msg, sizeof msg, "cursor.%s.%.*s", KEY.tenant, (int)n, pos);
  crypto_hmac_sha256(KEY.secret, KEY.len, msg, (size_t)m, mac);
  memcpy(raw, pos, n);
  raw[n] = '.';
  size_t t = b64url_encode(mac, 16, raw + n + 1, sizeof raw - n - 1);
  if (t == 0 || b64url_encode(raw, n + 1 + t, wire, sizeof wire) == 0)
    abort();
  struct cursor c;
  if (cursor_decode(&KEY, wire, &c) == 0)
    check_accepted(&c);
}

/* Mode 2: a structured round trip. */
static void round_trip(const uint8_t *p, size_t n)
{
  struct cursor c, back;
  uint64_t ms = 0;
  memset(&c, 0, sizeof c);
  for (size_t i = 0; i < 8 && i < n; i++)
    ms = ms << 8 | p[i];
  c.ended_at = (int64_t)(ms >> 1); /* non-negative; the full range */
  size_t off = strlen(CALL_ID_PREFIX);
  memcpy(c.public_id, CALL_ID_PREFIX, off);
  for (size_t i = 0; i < CALL_ID_RANDOM_CHARS; i++)
    c.public_id[off + i] = URLSAFE[(8 + i < n ? p[8 + i] : i) & 63];
  char wire[CURSOR_MAX + 1];
  if (cursor_encode(&KEY, &c, wire, sizeof wire) != 0)
    abort(); /* the largest int64 and a full id must fit CURSOR_MAX */
  if (strlen(wire) > CURSOR_MAX)
    abort();
  memset(&back, 0, sizeof back);
  if (cursor_decode(&KEY, wire, &back) != 0 || back.ended_at != c.ended_at ||
      strcmp(back.public_id, c.public_id) != 0)
    abort();
  if (cursor_decode(&OTHER, wire, &back) == 0)
    abort(); /* another tenant's cursor */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  unsigned mode = data[0] % 3;
  data++, size--;
  if (mode == 2) {
    round_trip(data, size);
    return 0;
  }
  if (mode == 1) {
    sealed((const char *)data, size);
    return 0;
  }
  /* The handler passes a NUL-terminated query value. */
  char *s = malloc(size + 1);
  if (s == NULL)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  struct cursor c;
  memset(&c, 0x5a, sizeof c);
  if (cursor_decode(&KEY, s, &c) == 0)
    check_accepted(&c);
  free(s);
  return 0;
}
