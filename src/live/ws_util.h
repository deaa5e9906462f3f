/*
 * ws_util.h — small pure helpers of the live transport (the WebSocket
 * handshake key, header tokens, UTF-8 character counts), kept apart from
 * the loop so unit tests can reach them without a socket.
 */
#ifndef ATHOS_LIVE_WS_UTIL_H
#define ATHOS_LIVE_WS_UTIL_H

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
