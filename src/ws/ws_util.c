/* ws_util.c — the WebSocket transport's pure helpers: handshake key, header
 * tokens and UTF-8 character counting. */
#include "ws/ws_util.h"

#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

#include "util/crypto.h"

/* RFC 6455 §1.3: the server appends this to the client's key. */
static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool ws_key_valid(const char *key)
{
  unsigned char raw[18];
  if (key == NULL || strlen(key) != 24)
    return false;
  return b64_decode(key, 24, raw, sizeof raw) == 16;
}

int ws_accept_key(const char *key, char *out, size_t cap)
{
  unsigned char digest[SHA_DIGEST_LENGTH];
  char buf[128];
  size_t klen = strlen(key);
  if (cap < WS_ACCEPT_LEN || klen + sizeof WS_GUID > sizeof buf)
    return -1;
  memcpy(buf, key, klen);
  memcpy(buf + klen, WS_GUID, sizeof WS_GUID - 1);
  SHA1((const unsigned char *)buf, klen + sizeof WS_GUID - 1, digest);
  return b64_encode(digest, sizeof digest, out, cap) == WS_ACCEPT_LEN - 1 ? 0 : -1;
}

bool ws_header_has_token(const char *value, const char *token)
{
  size_t tlen = strlen(token);
  const char *p = value;
  if (value == NULL)
    return false;
  while (*p != '\0') {
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    const char *start = p;
    while (*p != '\0' && *p != ',')
      p++;
    const char *end = p;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
      end--;
    if ((size_t)(end - start) == tlen && strncasecmp(start, token, tlen) == 0)
      return true;
  }
  return false;
}

size_t ws_utf8_chars(const char *s, size_t len)
{
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80)
      n++;
  return n;
}
