/*
 * sqlite_stamp.h — a lock-free stamp of a WAL-mode SQLite database's last
 * commit, read from the wal-index header in the "-shm" file that every
 * connection on the machine shares (https://sqlite.org/walformat.html).
 * The SQLite driver's commit_stamp (db.h) is built on it.
 */
#ifndef ATHOS_SQLITE_STAMP_H
#define ATHOS_SQLITE_STAMP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/db.h"

struct sqlite_stamp {
  pthread_mutex_t mu;                /* guards the mapping's creation */
  const volatile unsigned char *hdr; /* the -shm file's first page, or NULL */
  size_t maplen;
};

void sqlite_stamp_init(struct sqlite_stamp *st);
void sqlite_stamp_close(struct sqlite_stamp *st);
/* Copies the committed state's stamp of the database at db_path into out.
 * False when there is none to read (not mapped yet, the header is being
 * written, not WAL): the caller then reads the database itself. Call only
 * while this process holds a connection that has read the database, so
 * the -shm file is not truncated under the mapping. */
bool sqlite_stamp_read(struct sqlite_stamp *st, const char *db_path,
                       unsigned char out[DB_STAMP_LEN]);

#endif
