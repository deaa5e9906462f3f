/*
 * ws_util.h — small pure helpers of the WebSocket transport (the opening
 * handshake's key and accept value, header tokens, UTF-8 character
 * counts), used by the server's handshake (live/handshake.c), the CLI's
 * client (cli/ws_client.c) and the live protocol's checks; kept apart
 * from ws.c so unit tests and fuzzers reach them without a socket.
 */
#ifndef ATHOS_WS_UTIL_H
#define ATHOS_WS_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Length of a Sec-WebSocket-Accept value (base64 of a SHA-1), plus NUL. */
#define WS_ACCEPT_LEN 29

/* True if key is a valid Sec-WebSocket-Key: base64 of exactly 16 bytes
 * (RFC 6455 §4.2.1). */
bool ws_key_valid(const char *key);
/* Writes base64(SHA-1(key + RFC 6455 GUID)) into out (NUL-terminated).
 * Returns 0, or -1 if cap < WS_ACCEPT_LEN. */
int ws_accept_key(const char *key, char *out, size_t cap);
/* True if the comma-separated header value lists token
 * (case-insensitive, surrounding blanks ignored): "keep-alive, Upgrade"
 * has "upgrade". NULL value = false. */
bool ws_header_has_token(const char *value, const char *token);
/* The number of characters (code points) in len bytes of valid UTF-8;
 * continuation bytes are not counted. */
size_t ws_utf8_chars(const char *s, size_t len);

#endif
