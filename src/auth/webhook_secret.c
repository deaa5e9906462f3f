/* webhook_secret.c — generation of whsec_ signing secrets. */
#include "auth/webhook_secret.h"

#include <string.h>

#include "util/crypto.h"

int webhook_secret_new(char out[SECRET_MAX])
{
  unsigned char raw[WEBHOOK_SECRET_BYTES];
  size_t plen = strlen(WEBHOOK_SECRET_PREFIX);
  if (crypto_random(raw, sizeof raw) != 0)
    return -1;
  memcpy(out, WEBHOOK_SECRET_PREFIX, plen);
  return b64_encode(raw, sizeof raw, out + plen, SECRET_MAX - plen) > 0 ? 0 : -1;
}
