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
