/*
 * fuzz_base64.c — libFuzzer driver for the base64 / base64url codecs
 * (src/util/crypto.h) that open cursors, JWTs and webhook secrets.
 *
 * Properties, on both alphabets:
 *   - decode(encode(x)) == x, and encode writes exactly
 *     b64_encoded_size(n) - 1 characters (standard) or the unpadded
 *     length (url), and refuses a buffer one byte short;
 *   - decoding arbitrary text either fails or gives bytes that encode
 *     back to the same text modulo padding (one canonical encoding per
 *     value), never writing past the exact-size output buffer (ASan);
 *   - a decode into a buffer one byte too small fails cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef size_t (*enc_fn)(const void *, size_t, char *, size_t);
typedef long (*dec_fn)(const char *, size_t, void *, size_t);

static size_t unpadded(const char *s, size_t n)
{
  while (n > 0 && s[n - 1] == '=')
    n--;
  return n;
}

static void encode_decode(enc_fn enc, dec_fn dec, bool pad, const uint8_t *in, size_t n)
{
  size_t cap = b64_encoded_size(n);
  char *text = malloc(cap);
  uint8_t *back = malloc(n + 1);
  if (text == NULL || back == NULL)
    goto out;
  if (cap > 1 && enc(in, n, text, cap - 1) != 0)
    abort(); /* one byte short: refused */
  size_t len = enc(in, n, text, cap);
  size_t want = pad ? cap - 1 : (n * 8 + 5) / 6;
  if (len != want || text[len] != '\0' || (n > 0 && len == 0))
    abort();
  long got = dec(text, len, back, n);
  if (got != (long)n || (n > 0 && memcmp(back, in, n) != 0))
    abort();
  if (n > 0 && dec(text, len, back, n - 1) != -1)
    abort(); /* decoded output one byte too large for the buffer */
out:
  free(text);
  free(back);
}

static void decode_text(enc_fn enc, dec_fn dec, const char *s, size_t n)
{
  size_t cap = n * 3 / 4 + 1;
  uint8_t *out = malloc(cap);
  if (out == NULL)
    return;
  long got = dec(s, n, out, cap);
  if (got >= 0) {
    if ((size_t)got > cap)
      abort();
    /* Exact-size buffer: ASan catches a write past it. */
    uint8_t *exact = malloc((size_t)got + 1);
    if (exact != NULL) {
      if (dec(s, n, exact, (size_t)got) != got || memcmp(exact, out, (size_t)got) != 0)
        abort();
      free(exact);
    }
    size_t tcap = b64_encoded_size((size_t)got);
    char *text = malloc(tcap);
    if (text != NULL) {
      size_t len = enc(out, (size_t)got, text, tcap);
      size_t a = unpadded(text, len), b = unpadded(s, n);
      if (a != b || memcmp(text, s, a) != 0)
        abort(); /* two texts for one value */
      free(text);
    }
  }
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  encode_decode(b64_encode, b64_decode, true, data, size);
  encode_decode(b64url_encode, b64url_decode, false, data, size);
  decode_text(b64_encode, b64_decode, (const char *)data, size);
  decode_text(b64url_encode, b64url_decode, (const char *)data, size);
  return 0;
}
