/* hex.c — hex encoding and SHA-256 hex digests. */
#include "util/hex.h"

#include <string.h>

#include "util/crypto.h"

void hex_encode(const uint8_t *in, size_t n, char *out)
{
  static const char HEX[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = HEX[in[i] >> 4];
    out[2 * i + 1] = HEX[in[i] & 15];
  }
  out[2 * n] = '\0';
}

static int nibble(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int hex_decode(const char *in, uint8_t *out, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    int hi = nibble(in[2 * i]), lo = hi < 0 ? -1 : nibble(in[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return in[2 * n] == '\0' ? 0 : -1;
}

void sha256_hex(const char *s, char out[65])
{
  uint8_t d[SHA256_LEN];
  crypto_sha256(s, strlen(s), d);
  hex_encode(d, sizeof d, out);
}
