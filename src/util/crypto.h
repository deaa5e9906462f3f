/*
 * crypto.h — the few primitives the server needs, on OpenSSL: random
 * bytes, SHA-256, HMAC-SHA256, constant-time comparison, AES-256-GCM (the
 * store's secrets at rest), and base64 in both the standard and the
 * URL-safe (unpadded) alphabets.
 */
#ifndef ATHOS_CRYPTO_H
#define ATHOS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

/* Cryptographically secure random bytes. Returns 0 or -1. */
int crypto_random(void *buf, size_t len);
uint64_t crypto_random_u64(void);
void crypto_sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);
void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                        uint8_t out[SHA256_LEN]);
/* Constant-time: true if equal. */
bool crypto_equal(const void *a, const void *b, size_t len);

/* AES-256-GCM with a fresh random 96-bit nonce. A sealed value is
 * nonce || ciphertext || tag, AEAD_OVERHEAD bytes longer than the input. */
#define AEAD_KEY_LEN   32
#define AEAD_NONCE_LEN 12
#define AEAD_TAG_LEN   16
#define AEAD_OVERHEAD  (AEAD_NONCE_LEN + AEAD_TAG_LEN)
/* Seals in[0..n) bound to aad. Returns the sealed length, or -1 (cap too
 * small, or an OpenSSL failure). */
long crypto_aead_seal(const uint8_t key[AEAD_KEY_LEN], const void *aad, size_t aadlen,
                      const void *in, size_t n, uint8_t *out, size_t cap);
/* Opens a sealed value. Returns the plaintext length, or -1 when the key,
 * the aad or any byte is wrong (nothing is written that can be trusted). */
long crypto_aead_open(const uint8_t key[AEAD_KEY_LEN], const void *aad, size_t aadlen,
                      const uint8_t *in, size_t n, void *out, size_t cap);

/* Encoded length, including NUL, of n bytes. */
size_t b64_encoded_size(size_t n);
/* Standard alphabet with padding. Returns the length written (no NUL
 * counted), or 0 if cap is too small. */
size_t b64_encode(const void *in, size_t n, char *out, size_t cap);
/* URL-safe alphabet, no padding. */
size_t b64url_encode(const void *in, size_t n, char *out, size_t cap);
/* Decoders: strict (foreign characters, non-zero leftover bits and
 * partial padding are refused; the URL-safe form takes no padding, the
 * standard form's is optional but complete). Return the decoded length,
 * or -1. */
long b64_decode(const char *in, size_t n, void *out, size_t cap);
long b64url_decode(const char *in, size_t n, void *out, size_t cap);

#endif
