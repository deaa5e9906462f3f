/*
 * sqlite_internal.h — shared plumbing of the SQLite backend: the
 * connection pool and a per-connection prepared-statement cache keyed by
 * the address of each file's static SQL string. Only src/store/ includes it.
 */
#ifndef ATHOS_SQLITE_INTERNAL_H
#define ATHOS_SQLITE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <sqlite3.h>

#include "store/store.h"

#define SQ_STMT_CACHE 64

struct sq_conn {
  sqlite3 *db;
  const char *keys[SQ_STMT_CACHE];
  sqlite3_stmt *stmts[SQ_STMT_CACHE];
};

struct store {
  char path[1024];
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct sq_conn *conns;
  size_t nconns;
  size_t *free_idx; /* stack of free connection indexes */
  size_t nfree;
  /* background checkpointer (store_start_background) */
  pthread_t ckpt_thread;
  pthread_cond_t ckpt_cv; /* wakes the checkpointer early (stop) */
  bool ckpt_running, ckpt_stop;
  sqlite3 *ckpt_db;
};

/* Borrows a connection; blocks while all are in use. */
struct sq_conn *sq_acquire(struct store *s);
void sq_release(struct store *s, struct sq_conn *c);
/* The cached statement for sql (a string with static storage), reset and
 * with bindings cleared. NULL on a prepare error (logged). */
sqlite3_stmt *sq_stmt(struct sq_conn *c, const char *sql);
/* Maps an SQLite result code to a store_rc (BUSY/LOCKED/IOERR/CANTOPEN
 * → STORE_UNAVAILABLE). */
int sq_rc(struct sq_conn *c, int rc);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int sq_begin(struct sq_conn *c);
int sq_commit(struct sq_conn *c);
void sq_rollback(struct sq_conn *c);
/* Binds text, or NULL for an empty string when empty_is_null. */
int sq_bind_text(sqlite3_stmt *st, int i, const char *v, int empty_is_null);
/* Copies column i as text into out (cap bytes, "" for NULL). */
void sq_col_text(sqlite3_stmt *st, int i, char *out, size_t cap);
/* Column i as int64, 0 for NULL. */
int64_t sq_col_i64(sqlite3_stmt *st, int i);
/* Runs a statement expected to change rows; returns STORE_OK, with the
 * number of changed rows in *changes when not NULL. */
int sq_exec_step(struct sq_conn *c, sqlite3_stmt *st, int *changes);
/* Fills a call_row from a SELECT of SQ_CALL_COLUMNS starting at column 0. */
void sq_read_call_row(sqlite3_stmt *st, struct call_row *out);

#define SQ_CALL_COLUMNS                                                                         \
  "c.id, c.tenant_id, c.public_id, c.session_id, c.source, c.external_user_id, "                \
  "c.external_agency_id, c.drill_key, c.difficulty, c.persona_index, c.persona_name, c.seed, " \
  "c.status, c.end_reason, c.created_at, c.started_at, c.ended_at, c.scored_at, c.updated_at, " \
  "c.duration_sec"
#define SQ_CALL_NCOLUMNS 20

#endif
