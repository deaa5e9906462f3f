/* test_secrets.c — the pieces under secrets at rest: AES-256-GCM sealing
 * (src/util/crypto.h: a round trip; a flipped byte, the wrong key or the
 * wrong aad open nothing; fresh nonces; the same bytes as OpenSSL's own
 * GCM for that nonce), and the master key file (src/util/keyfile.h: raw,
 * hex and base64 forms; a world-readable, short or missing file is
 * refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "util/crypto.h"
#include "util/hex.h"
#include "util/keyfile.h"

static const uint8_t KEY[AEAD_KEY_LEN] = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80,
                                          0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0x01};

static void test_aead_round_trip_and_tamper(void **state)
{
  (void)state;
  const char *msg = "whsec_a secret of some length";
  size_t n = strlen(msg);
  uint8_t sealed[128], sealed2[128], other[AEAD_KEY_LEN];
  char out[128];
  long len = crypto_aead_seal(KEY, "aad-1", 5, msg, n, sealed, sizeof sealed);
  assert_int_equal(len, (long)(n + AEAD_OVERHEAD));
  assert_null(memmem(sealed, (size_t)len, "whsec_", 6));
  assert_int_equal(crypto_aead_open(KEY, "aad-1", 5, sealed, (size_t)len, out, sizeof out), n);
  assert_memory_equal(out, msg, n);
  /* a fresh nonce each time: the same input seals differently */
  assert_int_equal(crypto_aead_seal(KEY, "aad-1", 5, msg, n, sealed2, sizeof sealed2), len);
  assert_memory_not_equal(sealed, sealed2, (size_t)len);
  /* the wrong aad, the wrong key, any flipped byte: nothing opens */
  assert_int_equal(crypto_aead_open(KEY, "aad-2", 5, sealed, (size_t)len, out, sizeof out), -1);
  memcpy(other, KEY, sizeof other);
  other[31] ^= 1;
  assert_int_equal(crypto_aead_open(other, "aad-1", 5, sealed, (size_t)len, out, sizeof out), -1);
  for (long i = 0; i < len; i++) {
    sealed[i] ^= 0x40;
    assert_int_equal(crypto_aead_open(KEY, "aad-1", 5, sealed, (size_t)len, out, sizeof out), -1);
    sealed[i] ^= 0x40;
  }
  /* truncated, or no room */
  assert_int_equal(crypto_aead_open(KEY, "aad-1", 5, sealed, AEAD_OVERHEAD - 1, out, sizeof out),
                   -1);
  assert_int_equal(crypto_aead_open(KEY, "aad-1", 5, sealed, (size_t)len, out, n - 1), -1);
  assert_int_equal(crypto_aead_seal(KEY, "", 0, msg, n, sealed, n + AEAD_OVERHEAD - 1), -1);
}

/* The seal is standard AES-256-GCM: its ciphertext and tag equal what
 * OpenSSL's one-shot EVP produces for the same nonce. */
static void test_aead_is_standard_gcm(void **state)
{
  (void)state;
  const char *msg = "0123456789abcdef0123";
  uint8_t sealed[64], ct[64], tag[AEAD_TAG_LEN];
  int len = 0;
  long n = crypto_aead_seal(KEY, "x", 1, msg, 20, sealed, sizeof sealed);
  assert_int_equal(n, 20 + AEAD_OVERHEAD);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, KEY, sealed), 1);
  assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &len, (const uint8_t *)"x", 1), 1);
  assert_int_equal(EVP_EncryptUpdate(ctx, ct, &len, (const uint8_t *)msg, 20), 1);
  assert_int_equal(EVP_EncryptFinal_ex(ctx, ct + len, &len), 1);
  assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_LEN, tag), 1);
  EVP_CIPHER_CTX_free(ctx);
  assert_memory_equal(sealed + AEAD_NONCE_LEN, ct, 20);
  assert_memory_equal(sealed + AEAD_NONCE_LEN + 20, tag, AEAD_TAG_LEN);
}

/* Writes data to a new file with mode; returns its path (static). */
static const char *key_file(const void *data, size_t n, mode_t mode)
{
  static char path[64];
  snprintf(path, sizeof path, "/tmp/athos-keyfile-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, n), (ssize_t)n);
  assert_int_equal(fchmod(fd, mode), 0);
  close(fd);
  return path;
}

static void test_keyfile_forms(void **state)
{
  (void)state;
  uint8_t key[KEYFILE_KEY_LEN];
  char err[256], hex[2 * KEYFILE_KEY_LEN + 2], b64[64];
  hex_encode(KEY, sizeof KEY, hex);
  hex[2 * KEYFILE_KEY_LEN] = '\n';
  hex[2 * KEYFILE_KEY_LEN + 1] = '\0';
  size_t nb = b64_encode(KEY, sizeof KEY, b64, sizeof b64);
  const struct {
    const void *data;
    size_t n;
  } forms[] = {{KEY, sizeof KEY}, {hex, strlen(hex)}, {b64, nb}};
  for (size_t i = 0; i < 3; i++) {
    const char *p = key_file(forms[i].data, forms[i].n, 0600);
    memset(key, 0, sizeof key);
    assert_int_equal(keyfile_load(p, key, err, sizeof err), 0);
    assert_memory_equal(key, KEY, sizeof KEY);
    unlink(p);
  }
}

static void test_keyfile_refusals(void **state)
{
  (void)state;
  uint8_t key[KEYFILE_KEY_LEN];
  char err[256];
  const char *p = key_file(KEY, sizeof KEY, 0644);
  assert_int_equal(keyfile_load(p, key, err, sizeof err), -1);
  assert_non_null(strstr(err, "other users"));
  unlink(p);
  p = key_file("0123abcd\n", 9, 0600);
  assert_int_equal(keyfile_load(p, key, err, sizeof err), -1);
  assert_non_null(strstr(err, "32 bytes"));
  assert_int_equal(keyfile_load(p, key, err, sizeof err), -1);
  unlink(p);
  p = key_file(KEY, 31, 0600); /* one byte short of raw */
  assert_int_equal(keyfile_load(p, key, err, sizeof err), -1);
  unlink(p);
  assert_int_equal(keyfile_load("/nonexistent/athos.key", key, err, sizeof err), -1);
  assert_non_null(strstr(err, "cannot open"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aead_round_trip_and_tamper),
      cmocka_unit_test(test_aead_is_standard_gcm),
      cmocka_unit_test(test_keyfile_forms),
      cmocka_unit_test(test_keyfile_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
