/* migrations.h — the versioned schema, shared by the SQLite and (later)
 * PostgreSQL backends: portable SQL only (BIGINT ms times, TEXT hashes). */
#ifndef ATHOS_MIGRATIONS_H
#define ATHOS_MIGRATIONS_H

#include <stddef.h>

struct migration {
  int version;
  const char *name;
  const char *sql; /* one or more statements */
};

extern const struct migration store_migrations[];
extern const size_t store_migrations_count;

#endif
