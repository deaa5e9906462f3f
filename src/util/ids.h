/*
 * ids.h — public identifiers. Every id that crosses the API boundary is
 * random (never a database row id): "athos_call_" + 21 URL-safe chars,
 * "ext_…", "req_<uuid v4>", "ten_…", "key_…", "msg_…".
 */
#ifndef ATHOS_IDS_H
#define ATHOS_IDS_H

#include <stddef.h>

#define ID_MAX               64
#define CALL_ID_PREFIX       "athos_call_"
#define CALL_ID_RANDOM_CHARS 21

/* prefix + nchars random URL-safe characters. cap >= strlen(prefix)+nchars+1. */
void id_new(const char *prefix, size_t nchars, char *out, size_t cap);
/* "req_" + RFC 4122 version-4 UUID; cap >= 41. */
void id_request(char *out, size_t cap);
/* True if s is prefix followed by 1..max_chars URL-safe characters. */
int id_valid(const char *s, const char *prefix, size_t max_chars);

#endif
