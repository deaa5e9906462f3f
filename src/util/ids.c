/* ids.c — random public identifiers from the OS CSPRNG. */
#include "util/ids.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"

static const char URLSAFE[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void id_new(const char *prefix, size_t nchars, char *out, size_t cap)
{
  size_t plen = strlen(prefix);
  uint8_t rnd[64];
  if (plen + nchars + 1 > cap || nchars > sizeof rnd) {
    out[0] = '\0';
    return;
  }
  crypto_random(rnd, nchars);
  memcpy(out, prefix, plen);
  for (size_t i = 0; i < nchars; i++)
    out[plen + i] = URLSAFE[rnd[i] & 63]; /* 256 % 64 == 0: no bias */
  out[plen + nchars] = '\0';
}

/* Request ids need uniqueness, not secrecy, and one is made per request:
 * each thread draws them from its own batch of CSPRNG bytes (one RAND_bytes
 * call per 16 ids, where a call costs as much as the rest of the id) and
 * spells the UUID by hand (snprintf with 16 arguments was the other half). */
#define REQUEST_ID_BATCH 16

static void request_uuid_bytes(uint8_t u[16])
{
  static _Thread_local uint8_t pool[16 * REQUEST_ID_BATCH];
  static _Thread_local size_t used = sizeof pool;
  if (used == sizeof pool) {
    if (crypto_random(pool, sizeof pool) != 0)
      abort();
    used = 0;
  }
  memcpy(u, pool + used, 16);
  memset(pool + used, 0, 16); /* an id's bytes are never handed out twice */
  used += 16;
}

void id_request(char *out, size_t cap)
{
  static const char HEX[] = "0123456789abcdef";
  uint8_t u[16];
  if (cap < 41) {
    if (cap > 0)
      out[0] = '\0';
    return;
  }
  request_uuid_bytes(u);
  u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
  u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
  memcpy(out, "req_", 4);
  char *o = out + 4;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      *o++ = '-';
    *o++ = HEX[u[i] >> 4];
    *o++ = HEX[u[i] & 15];
  }
  *o = '\0';
}

int id_valid(const char *s, const char *prefix, size_t max_chars)
{
  size_t plen = strlen(prefix);
  if (strncmp(s, prefix, plen) != 0)
    return 0;
  s += plen;
  size_t n = strlen(s);
  if (n == 0 || n > max_chars)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (memchr(URLSAFE, s[i], 64) == NULL)
      return 0;
  return 1;
}
