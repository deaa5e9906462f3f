/*
 * signer.c — Standard Webhooks signing. The signed content is
 * "<msg_id>.<timestamp>.<body>" and the timestamp is the attempt's, so a
 * retry is re-signed and never trips a receiver's 5-minute replay window.
 */
#include "webhooks/signer.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"
#include "util/ids.h"

static const char SECRET_PREFIX[] = "whsec_";

long webhook_secret_decode(const char *secret, uint8_t *key, size_t cap)
{
  size_t plen = sizeof SECRET_PREFIX - 1;
  if (strncmp(secret, SECRET_PREFIX, plen) == 0)
    secret += plen;
  size_t n = strlen(secret);
  if (n == 0)
    return -1;
  long len = b64_decode(secret, n, key, cap);
  return len > 0 ? len : -1;
}

int webhook_sign(const char *const *secrets, size_t n, const char *msg_id, int64_t timestamp,
                 const char *body, size_t len, char *out, size_t cap)
{
  int rc = -1;
  uint8_t key[WEBHOOK_SECRET_KEY_MAX];
  char *content = NULL;
  if (cap == 0)
    return -1;
  out[0] = '\0';
  if (n == 0)
    goto out;

  /* The content is built once and signed with each key. */
  char head[ID_MAX + 32];
  int hlen = snprintf(head, sizeof head, "%s.%" PRId64 ".", msg_id, timestamp);
  if (hlen < 0 || (size_t)hlen >= sizeof head)
    goto out;
  content = malloc((size_t)hlen + len + 1);
  if (content == NULL)
    goto out;
  memcpy(content, head, (size_t)hlen);
  if (len > 0)
    memcpy(content + hlen, body, len);

  size_t used = 0;
  for (size_t i = 0; i < n; i++) {
    long klen = webhook_secret_decode(secrets[i], key, sizeof key);
    if (klen < 0)
      goto out;
    uint8_t mac[SHA256_LEN];
    crypto_hmac_sha256(key, (size_t)klen, content, (size_t)hlen + len, mac);
    char b64[b64_encoded_size(SHA256_LEN)];
    if (b64_encode(mac, sizeof mac, b64, sizeof b64) == 0)
      goto out;
    int w = snprintf(out + used, cap - used, "%sv1,%s", i > 0 ? " " : "", b64);
    if (w < 0 || (size_t)w >= cap - used)
      goto out;
    used += (size_t)w;
  }
  rc = 0;
out:
  OPENSSL_cleanse(key, sizeof key);
  free(content);
  if (rc != 0)
    out[0] = '\0';
  return rc;
}
