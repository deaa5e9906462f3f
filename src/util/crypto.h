/*
 * crypto.h — the few primitives the server needs, on OpenSSL: random
 * bytes, SHA-256, HMAC-SHA256, constant-time comparison, and base64 in
 * both the standard and the URL-safe (unpadded) alphabets.
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
