/*
 * postgres_internal.h — shared plumbing of the PostgreSQL backend: the
 * connection pool (reconnecting a broken connection on the next acquire),
 * a per-connection cache of server-side prepared statements keyed by the
 * address of each call site's static SQL string, parameter building and
 * result reading. Only src/store/postgres*.c include it.
 */
#ifndef ATHOS_POSTGRES_INTERNAL_H
#define ATHOS_POSTGRES_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>

#include "store/store_backend.h"

#define PG_POOL_SIZE 8
#define PG_STMT_CACHE 64
#define PG_PARAMS_MAX 16

struct pg_conn {
  PGconn *conn;     /* NULL until first used, and after a failure */
  const char *keys[PG_STMT_CACHE]; /* SQL string addresses prepared on conn */
};

struct pg_store {
  struct store base; /* first: a struct store * is a struct pg_store * */
  char *url;         /* the connection URL; may hold a password: never logged */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct pg_conn conns[PG_POOL_SIZE];
  size_t free_idx[PG_POOL_SIZE]; /* stack of free connection indexes */
  size_t nfree;
  /* Cluster liveness (pg_liveness_ensure): this process's node id and the
   * connection holding its session advisory lock, behind live_mu. */
  pthread_mutex_t live_mu;
  int32_t node;
  struct pg_conn liveness;
};

/* Text parameters for one statement. Values are borrowed (they must
 * outlive the pg_exec call) except integers, formatted into buf. */
struct pg_params {
  int n;
  const char *v[PG_PARAMS_MAX];
  char buf[PG_PARAMS_MAX][24];
};

/* Borrows a connection, (re)connecting it if needed. On STORE_UNAVAILABLE
 * *out is still set and must be released. */
int pg_acquire(struct store *s, struct pg_conn **out);
void pg_release(struct store *s, struct pg_conn *c);
/* Makes sure this process holds its node's liveness lock (a session-level
 * pg_advisory_lock(PG_LOCK_NODE_NS, node) on a connection of its own,
 * reopened if it broke) and gives the node id. Live calls are marked with
 * it; the lock disappears with the process, which is how another node
 * tells an orphaned live call from one that is still running. */
int pg_liveness_ensure(struct store *s, int64_t *node);
#define PG_LOCK_NODE_NS "4242"

void pg_p_text(struct pg_params *p, const char *v);         /* NULL → SQL NULL */
void pg_p_text_or_null(struct pg_params *p, const char *v); /* "" → SQL NULL too */
void pg_p_i64(struct pg_params *p, int64_t v);
void pg_p_null(struct pg_params *p);

/* Runs sql (a string with static storage) as a prepared statement of c.
 * On STORE_OK *res is the result (caller PQclear()s it); otherwise NULL.
 * Connection failures → STORE_UNAVAILABLE (the connection is dropped and
 * reopened by the next acquire), unique violations → STORE_CONFLICT. */
int pg_exec(struct pg_conn *c, const char *sql, const struct pg_params *p, PGresult **res);
/* pg_exec for a statement whose rows are not wanted; *changes (if not
 * NULL) receives the affected row count. */
int pg_exec_cmd(struct pg_conn *c, const char *sql, const struct pg_params *p, int *changes);
/* BEGIN (READ COMMITTED) / COMMIT / ROLLBACK (only if in a transaction). */
int pg_begin(struct pg_conn *c);
int pg_commit(struct pg_conn *c);
void pg_rollback(struct pg_conn *c);

/* A pooled connection for one statement (no transaction: the statement
 * is atomic on its own); sql is a string with static storage.
 * pg_write: pg_exec_cmd. pg_fetch: pg_exec; the connection is back in the
 * pool before the caller reads *res (the caller PQclear()s it, also on
 * failure: it is NULL then). pg_get: calls read on a result with at
 * least one row (read looks at row 0) and returns its rc;
 * STORE_NOT_FOUND when there are no rows. */
int pg_write(struct store *s, const char *sql, const struct pg_params *p, int *changes);
int pg_fetch(struct store *s, const char *sql, const struct pg_params *p, PGresult **res);
/* pg_write of an UPDATE that names one row by a unique key: STORE_OK when
 * it changed that row, none_rc when it changed nothing (no such row, or
 * the row's guard said no: STORE_NOT_FOUND, STORE_CONFLICT). */
int pg_update_row(struct store *s, const char *sql, const struct pg_params *p, int none_rc);
int pg_get(struct store *s, const char *sql, const struct pg_params *p,
           int (*read)(const PGresult *r, void *arg), void *arg);
/* Runs body(c, arg) on a pooled connection inside BEGIN … COMMIT when it
 * returns STORE_OK, ROLLBACK otherwise (also when COMMIT fails). Returns
 * body's rc, or the acquire's, BEGIN's or COMMIT's failure. */
int pg_tx(struct store *s, int (*body)(struct pg_conn *c, void *arg), void *arg);

/* Column values of row `row`: text copied into out ("" for NULL), int64
 * (0 for NULL). */
void pg_col_text(const PGresult *r, int row, int col, char *out, size_t cap);
int64_t pg_col_i64(const PGresult *r, int row, int col);
/* Fills a call_row from PG_CALL_COLUMNS starting at column col. */
void pg_read_call_row(const PGresult *r, int row, int col, struct call_row *out);
/* pg_read_call_row of row 0 from column 0, as a pg_get reader (out: a
 * struct call_row). */
int pg_row_call(const PGresult *r, void *out);

#define PG_CALL_COLUMNS                                                                         \
  "c.id, c.tenant_id, c.public_id, c.session_id, c.source, c.external_user_id, "                \
  "c.external_agency_id, c.drill_key, c.difficulty, c.persona_index, c.persona_name, c.seed, " \
  "c.status, c.end_reason, c.created_at, c.started_at, c.ended_at, c.scored_at, c.updated_at, " \
  "c.duration_sec"
#define PG_CALL_NCOLUMNS 20

/* Operations outside postgres.c, registered in postgres_backend there. */
int pg_call_create(struct store *s, const struct call_new *n);
int pg_calls_created_since(struct store *s, int64_t tenant_id, int64_t since, int64_t *count);
int pg_call_get_scored(struct store *s, int64_t tenant_id, const char *public_id,
                       struct call_row *out, char **score_json);
int pg_call_turns(struct store *s, int64_t call_id,
                  int (*cb)(const struct call_turn *t, void *arg), void *arg);
int pg_calls_list(struct store *s, const struct call_filter *f,
                  int (*cb)(const struct call_row *c, void *arg), void *arg);
int pg_ticket_consume(struct store *s, const char *ticket_hash_hex, int64_t now,
                      struct call_row *out);
int pg_call_mark_live(struct store *s, int64_t call_id, int64_t started_at);
int pg_call_append_turn(struct store *s, int64_t call_id, int idx, const char *role,
                        const char *content, int64_t at_ms);
int pg_call_end(struct store *s, int64_t call_id, int64_t ended_at, int64_t duration_sec,
                const char *reason);
int pg_calls_end_orphaned(struct store *s, int64_t now, int64_t *n);
int pg_scoring_claim(struct store *s, int64_t now, int64_t lease_until, struct call_row *out);
int pg_scoring_complete(struct store *s, int64_t call_id, int64_t lease_until,
                        const char *score_json, int64_t scored_at,
                        const struct webhook_event_new *ev);
int pg_outbox_claim(struct store *s, int64_t now, int64_t lease_until,
                    struct webhook_event *out, size_t max, size_t *n);
int pg_outbox_record_many(struct store *s, const struct webhook_attempt *a, size_t n);
int pg_outbox_replay(struct store *s, int64_t tenant_id, int64_t since, int64_t now,
                     int64_t *n);

#endif
