/* hex.h — lowercase hex encoding, and the SHA-256 hex digest we store in
 * place of every bearer secret (API keys, connection tickets). */
#ifndef ATHOS_HEX_H
#define ATHOS_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2n hex digits and a NUL into out (cap >= 2n+1). */
void hex_encode(const uint8_t *in, size_t n, char *out);
/* Decodes exactly 2n hex digits followed by NUL. Returns 0 or -1. */
int hex_decode(const char *in, uint8_t *out, size_t n);
/* SHA-256 of the NUL-terminated s as 64 hex digits (out[65]). */
void sha256_hex(const char *s, char out[65]);

#endif
