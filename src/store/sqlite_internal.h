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

#include "store/store_backend.h"

#define SQ_STMT_CACHE 64

struct sq_conn {
  sqlite3 *db;
  const char *keys[SQ_STMT_CACHE];
  sqlite3_stmt *stmts[SQ_STMT_CACHE];
};

struct sq_store {
  struct store base; /* first: a struct store * is a struct sq_store * */
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

static inline struct sq_store *sq_store(struct store *s) { return (struct sq_store *)s; }

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
/* Copies column i as text into out (cap bytes, "" for NULL). */
void sq_col_text(sqlite3_stmt *st, int i, char *out, size_t cap);
/* Column i as int64, 0 for NULL. */
int64_t sq_col_i64(sqlite3_stmt *st, int i);
/* Parameters for one statement: the k-th one added binds ?k (a bare `?`
 * counts up from 1 the same way). Text is borrowed: it must outlive the
 * sq_* call that runs the statement. Lives on the caller's stack, so a
 * query allocates nothing for its parameters (the PostgreSQL backend's
 * pg_params, for the same reason). */
#define SQ_PARAMS_MAX 16
enum sq_type { SQ_NULL, SQ_INT, SQ_TEXT };
struct sq_params {
  int n;
  struct {
    enum sq_type type;
    int64_t i;
    const char *t;
  } v[SQ_PARAMS_MAX];
};
void sq_p_text(struct sq_params *p, const char *v);         /* NULL → SQL NULL */
void sq_p_text_or_null(struct sq_params *p, const char *v); /* "" → SQL NULL too */
void sq_p_i64(struct sq_params *p, int64_t v);
void sq_p_null(struct sq_params *p);

/* Reads the current row of st into arg. Returns STORE_OK to go on to the
 * next row, SQ_STOP to stop with STORE_OK (enough rows), or another
 * store_rc to stop with it. */
typedef int sq_row_fn(sqlite3_stmt *st, void *arg);
#define SQ_STOP 100

/* On a borrowed connection (inside sq_tx, or between acquire/release);
 * sql is a string with static storage (the statement cache's key).
 * sq_exec: runs a statement whose rows are not wanted; *changes (if not
 * NULL) receives the changed row count.
 * sq_query: calls row for each row; STORE_OK at the end of the rows.
 * sq_query_one: calls read for the first row; STORE_NOT_FOUND if none. */
int sq_exec(struct sq_conn *c, const char *sql, const struct sq_params *p, int *changes);
int sq_query(struct sq_conn *c, const char *sql, const struct sq_params *p, sq_row_fn *row,
             void *arg);
int sq_query_one(struct sq_conn *c, const char *sql, const struct sq_params *p, sq_row_fn *read,
                 void *arg);
/* The same, each on a connection borrowed from the pool for the one
 * statement (no transaction: the statement is atomic on its own). */
int sq_write(struct store *s, const char *sql, const struct sq_params *p, int *changes);
/* sq_write of an UPDATE that names one row by a unique key: STORE_OK when
 * it changed that row, none_rc when it changed nothing (no such row, or
 * the row's guard said no: STORE_NOT_FOUND, STORE_CONFLICT). */
int sq_update_row(struct store *s, const char *sql, const struct sq_params *p, int none_rc);
int sq_each(struct store *s, const char *sql, const struct sq_params *p, sq_row_fn *row,
            void *arg);
int sq_get(struct store *s, const char *sql, const struct sq_params *p, sq_row_fn *read,
           void *arg);
/* Runs body(c, arg) on a pooled connection inside BEGIN IMMEDIATE: COMMIT
 * when it returns STORE_OK, ROLLBACK otherwise (also when COMMIT fails).
 * Returns body's rc, or BEGIN's or COMMIT's failure. */
int sq_tx(struct store *s, int (*body)(struct sq_conn *c, void *arg), void *arg);

/* Fills a call_row from a SELECT of SQ_CALL_COLUMNS starting at column 0. */
void sq_read_call_row(sqlite3_stmt *st, struct call_row *out);
/* sq_read_call_row as an sq_row_fn (out: a struct call_row). */
int sq_row_call(sqlite3_stmt *st, void *out);

#define SQ_CALL_COLUMNS                                                                         \
  "c.id, c.tenant_id, c.public_id, c.session_id, c.source, c.external_user_id, "                \
  "c.external_agency_id, c.drill_key, c.difficulty, c.persona_index, c.persona_name, c.seed, " \
  "c.status, c.end_reason, c.created_at, c.started_at, c.ended_at, c.scored_at, c.updated_at, " \
  "c.duration_sec"
#define SQ_CALL_NCOLUMNS 20

/* The backend's operations that live outside sqlite.c (registered in
 * sqlite_backend there; each is the store_* function of the same suffix). */
int sqlite_call_create(struct store *s, const struct call_new *n);
int sqlite_calls_created_since(struct store *s, int64_t tenant_id, int64_t since, int64_t *count);
int sqlite_call_get_scored(struct store *s, int64_t tenant_id, const char *public_id,
                           struct call_row *out, char **score_json);
int sqlite_call_turns(struct store *s, int64_t call_id,
                      int (*cb)(const struct call_turn *t, void *arg), void *arg);
int sqlite_calls_list(struct store *s, const struct call_filter *f,
                      int (*cb)(const struct call_row *c, void *arg), void *arg);
int sqlite_ticket_consume(struct store *s, const char *ticket_hash_hex, int64_t now,
                          struct call_row *out);
int sqlite_call_mark_live(struct store *s, int64_t call_id, int64_t started_at);
int sqlite_call_append_turn(struct store *s, int64_t call_id, int idx, const char *role,
                            const char *content, int64_t at_ms);
int sqlite_call_end(struct store *s, int64_t call_id, int64_t ended_at, int64_t duration_sec,
                    const char *reason);
int sqlite_calls_end_orphaned(struct store *s, int64_t now, int64_t *n);
int sqlite_scoring_claim(struct store *s, int64_t now, int64_t lease_until, struct call_row *out);
int sqlite_scoring_complete(struct store *s, int64_t call_id, int64_t lease_until,
                            const char *score_json, int64_t scored_at,
                            const struct webhook_event_new *ev);
int sqlite_outbox_claim(struct store *s, int64_t now, int64_t lease_until,
                        struct webhook_event *out, size_t max, size_t *n);
int sqlite_outbox_record_many(struct store *s, const struct webhook_attempt *a, size_t n);
int sqlite_outbox_replay(struct store *s, int64_t tenant_id, int64_t since, int64_t now,
                         int64_t *n);

#endif
