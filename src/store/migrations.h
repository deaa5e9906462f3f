/* migrations.h — the versioned schema, shared by the SQLite and
 * PostgreSQL backends: portable SQL (BIGINT ms times, TEXT hashes), with a
 * PostgreSQL variant of a version where the dialects differ. */
#ifndef ATHOS_MIGRATIONS_H
#define ATHOS_MIGRATIONS_H

#include <stddef.h>

struct migration {
  int version;
  const char *name;
  const char *sql;          /* one or more statements (SQLite) */
  const char *sql_postgres; /* the same for PostgreSQL; NULL = sql */
};

extern const struct migration store_migrations[];
extern const size_t store_migrations_count;

#endif
