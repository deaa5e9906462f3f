/* crypto.c — thin, checked wrappers over OpenSSL and a strict base64. */
#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

int crypto_random(void *buf, size_t len)
{
  return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

uint64_t crypto_random_u64(void)
{
  uint64_t v = 0;
  if (crypto_random(&v, sizeof v) != 0)
    abort();
  return v;
}

/* SHA256() fetches the algorithm from the provider on every call (a
 * fifth of its cost on the API-key path, which hashes every request's
 * key); the fetch is made once instead. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
  sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void crypto_sha256(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
  pthread_once(&sha256_once, sha256_fetch);
  if (sha256_md == NULL || EVP_Digest(data, len, out, NULL, sha256_md, NULL) != 1)
    SHA256(data, len, out);
}

void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                        uint8_t out[SHA256_LEN])
{
  unsigned int outlen = SHA256_LEN;
  HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen);
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
  return CRYPTO_memcmp(a, b, len) == 0;
}

static const char B64STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* ------------------------------------------------------- AES-256-GCM */

long crypto_aead_seal(const uint8_t key[AEAD_KEY_LEN], const void *aad, size_t aadlen,
                      const void *in, size_t n, uint8_t *out, size_t cap)
{
  long rc = -1;
  int len = 0;
  EVP_CIPHER_CTX *ctx = NULL;
  if (n > INT_MAX - AEAD_OVERHEAD || cap < n + AEAD_OVERHEAD)
    return -1;
  uint8_t *nonce = out, *ct = out + AEAD_NONCE_LEN, *tag = ct + n;
  if (crypto_random(nonce, AEAD_NONCE_LEN) != 0 || (ctx = EVP_CIPHER_CTX_new()) == NULL)
    goto cleanup;
  if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
      EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1 ||
      EVP_EncryptUpdate(ctx, ct, &len, in, (int)n) != 1 ||
      EVP_EncryptFinal_ex(ctx, ct + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_LEN, tag) != 1)
    goto cleanup;
  rc = (long)(n + AEAD_OVERHEAD);
cleanup:
  EVP_CIPHER_CTX_free(ctx);
  return rc;
}

long crypto_aead_open(const uint8_t key[AEAD_KEY_LEN], const void *aad, size_t aadlen,
                      const uint8_t *in, size_t n, void *out, size_t cap)
{
  long rc = -1;
  int len = 0, fin = 0;
  EVP_CIPHER_CTX *ctx = NULL;
  if (n < AEAD_OVERHEAD || n > INT_MAX || cap < n - AEAD_OVERHEAD)
    return -1;
  size_t ctlen = n - AEAD_OVERHEAD;
  const uint8_t *nonce = in, *ct = in + AEAD_NONCE_LEN, *tag = ct + ctlen;
  if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
    goto cleanup;
  if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
      EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1 ||
      EVP_DecryptUpdate(ctx, out, &len, ct, (int)ctlen) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_LEN, (void *)tag) != 1 ||
      EVP_DecryptFinal_ex(ctx, (uint8_t *)out + len, &fin) != 1) {
    OPENSSL_cleanse(out, ctlen);
    goto cleanup;
  }
  rc = (long)ctlen;
cleanup:
  EVP_CIPHER_CTX_free(ctx);
  return rc;
}

/* ------------------------------------------------------------- base64 */

size_t b64_encoded_size(size_t n)
{
  return (n + 2) / 3 * 4 + 1;
}

static size_t encode(const char *alpha, bool pad, const void *in, size_t n, char *out, size_t cap)
{
  const uint8_t *s = in;
  size_t o = 0;
  if (cap < b64_encoded_size(n))
    return 0;
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
    out[o++] = alpha[v >> 18 & 63];
    out[o++] = alpha[v >> 12 & 63];
    out[o++] = alpha[v >> 6 & 63];
    out[o++] = alpha[v & 63];
  }
  if (i < n) {
    uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
    out[o++] = alpha[v >> 18 & 63];
    out[o++] = alpha[v >> 12 & 63];
    if (i + 1 < n)
      out[o++] = alpha[v >> 6 & 63];
    else if (pad)
      out[o++] = '=';
    if (pad)
      out[o++] = '=';
  }
  out[o] = '\0';
  return o;
}

size_t b64_encode(const void *in, size_t n, char *out, size_t cap)
{
  return encode(B64STD, true, in, n, out, cap);
}

size_t b64url_encode(const void *in, size_t n, char *out, size_t cap)
{
  return encode(B64URL, false, in, n, out, cap);
}

static int b64_value(const char *alpha, char c)
{
  const char *p = memchr(alpha, c, 64);
  return p != NULL && c != '\0' ? (int)(p - alpha) : -1;
}

/* Strict: one spelling per value. Padding, where allowed, is complete
 * ("Zm8=" but not "Zm8" plus stray "="s); the URL-safe form takes none. */
static long decode(const char *alpha, bool padded, const char *in, size_t n, void *out, size_t cap)
{
  uint8_t *d = out;
  size_t o = 0, full = n;
  while (n > 0 && in[n - 1] == '=')
    n--;
  size_t pads = full - n;
  if (n % 4 == 1 || (pads > 0 && (!padded || pads > 2 || full % 4 != 0)))
    return -1;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64_value(alpha, in[i]);
    if (v < 0)
      return -1;
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o >= cap)
        return -1;
      d[o++] = (uint8_t)(acc >> bits);
    }
  }
  /* Leftover bits must be zero: one canonical encoding per value. */
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
    return -1;
  return (long)o;
}

long b64_decode(const char *in, size_t n, void *out, size_t cap)
{
  return decode(B64STD, true, in, n, out, cap);
}

long b64url_decode(const char *in, size_t n, void *out, size_t cap)
{
  return decode(B64URL, false, in, n, out, cap);
}
