/*
 * cursor.h — the opaque pagination cursor of GET /calls: the keyset
 * position (endedAt, id) of the last row served, as base64url text
 * "c1.<endedAt ms>.<athos_call_…>". Decoding is strict; every query is
 * tenant-scoped anyway, so a forged cursor can only skip rows of the
 * caller's own tenant.
 */
#ifndef ATHOS_CURSOR_H
#define ATHOS_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "util/ids.h"

#define CURSOR_MAX 128

struct cursor {
  int64_t ended_at;
  char public_id[ID_MAX];
};

/* Returns 0, or -1 if cap is too small. */
int cursor_encode(const struct cursor *c, char *out, size_t cap);
/* Returns 0, or -1 for anything but a cursor we produced. */
int cursor_decode(const char *s, struct cursor *out);

#endif
