/*
 * cursor.h — the opaque pagination cursor of GET /calls: the keyset
 * position (endedAt, id) of the last row served, sealed with an HMAC that
 * binds it to the tenant. A cursor the server did not issue to this
 * tenant — garbage, edited, or another tenant's — decodes as invalid (400).
 *
 * Wire form: base64url("c1.<endedAt ms>.<athos_call_…>.<base64url mac>"),
 * mac = first 16 bytes of HMAC-SHA256(key, "cursor." tenant "." position).
 */
#ifndef ATHOS_CURSOR_H
#define ATHOS_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "util/ids.h"

#define CURSOR_MAX 160

struct cursor {
  int64_t ended_at;
  char public_id[ID_MAX];
};

struct cursor_key {
  const uint8_t *secret; /* borrowed */
  size_t len;
  const char *tenant; /* the tenant's public id */
};

/* Returns 0, or -1 if cap is too small. */
int cursor_encode(const struct cursor_key *k, const struct cursor *c, char *out, size_t cap);
/* Returns 0, or -1 for anything but a cursor issued under k. */
int cursor_decode(const struct cursor_key *k, const char *s, struct cursor *out);

#endif
