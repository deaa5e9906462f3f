/* ids.c — random public identifiers from the OS CSPRNG. */
#include "util/ids.h"

#include <stdint.h>
#include <stdio.h>
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

void id_request(char *out, size_t cap)
{
  uint8_t u[16];
  crypto_random(u, sizeof u);
  u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
  u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
  snprintf(out, cap,
           "req_%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
           u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
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
