/*
 * store_internal.h — what the store's subject files (tenants.c, calls.c,
 * live.c, outbox.c) share: the store itself (a database behind the driver
 * interface of db.h) and the call row's columns and reader. Only
 * src/store/ includes it.
 */
#ifndef ATHOS_STORE_INTERNAL_H
#define ATHOS_STORE_INTERNAL_H

#include "store/db.h"

struct store {
  struct db *db; /* owned */
};

/* The columns of a struct call_row, with a table prefix ("c.") or none
 * (RETURNING, which SQLite does not let name an alias). */
#define CALL_COLUMNS_OF(P)                                                                    \
  P "id, " P "tenant_id, " P "public_id, " P "session_id, " P "source, " P "external_user_id, " \
  P "external_agency_id, " P "drill_key, " P "difficulty, " P "persona_index, "               \
  P "persona_name, " P "seed, " P "status, " P "end_reason, " P "created_at, " P "started_at, " \
  P "ended_at, " P "scored_at, " P "updated_at, " P "duration_sec"
#define CALL_COLUMNS CALL_COLUMNS_OF("c.")
#define CALL_NCOLUMNS 20

/* Fills out from CALL_COLUMNS starting at column 0. */
void call_row_read(const struct db_row *r, struct call_row *out);
/* call_row_read as a db_row_fn (out: a struct call_row). */
int call_row_fn(const struct db_row *r, void *out);

#endif
