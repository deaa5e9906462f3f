/*
 * db_postgres.c — the PostgreSQL driver of db.h (libpq): eight pooled
 * connections, opened on first use and reopened after a failure; a
 * per-connection cache of server-side prepared statements (PQprepare
 * once, PQexecPrepared after) keyed by the address of each call site's
 * static SQL; the SQLSTATE → error class mapping; and the node liveness
 * lock of a cluster (docs/internals/store.md).
 *
 * The connection URL may hold a password: it is never logged, and
 * connection errors are reported without it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/db.h"
#include "util/crypto.h"
#include "util/log.h"

#define POOL_SIZE           DB_POOL_MAX
#define STMT_CACHE          64
#define CONNECT_TIMEOUT_SEC "5"
struct db_conn {
  PGconn *conn;                 /* NULL until first used, and after a failure */
  const char *keys[STMT_CACHE]; /* SQL string addresses prepared on conn */
};

struct pg_db {
  struct db base; /* first: a struct db * is a struct pg_db * */
  char *url;      /* may hold a password: never logged */
  struct db_conn conns[POOL_SIZE];
  /* Cluster liveness (pg_node): this process's node id and the connection
   * holding its session advisory lock, behind live_mu. */
  pthread_mutex_t live_mu;
  int32_t node;
  struct db_conn liveness;
};

static struct pg_db *pg_db(struct db *d)
{
  return (struct pg_db *)d;
}

/* ------------------------------------------------------- connections */

static void conn_drop(struct db_conn *c)
{
  PQfinish(c->conn);
  c->conn = NULL;
  memset(c->keys, 0, sizeof c->keys); /* prepared statements died with it */
}

/* Connects c; the message (never the URL) goes to err. */
static int conn_open(struct pg_db *s, struct db_conn *c, char *err, size_t errlen)
{
  const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
  const char *const vals[] = {CONNECT_TIMEOUT_SEC, "athos", s->url, NULL};
  conn_drop(c);
  c->conn = PQconnectdbParams(keys, vals, 1);
  if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK) {
    const char *msg = c->conn != NULL ? PQerrorMessage(c->conn) : "out of memory";
    size_t len = strcspn(msg, "\n");
    snprintf(err, errlen, "cannot connect to PostgreSQL: %.*s", (int)len, msg);
    conn_drop(c);
    return DB_UNAVAILABLE;
  }
  /* Quiet NOTICEs (e.g. "relation already exists, skipping"). */
  PQclear(PQexec(c->conn, "SET client_min_messages = warning"));
  return DB_OK;
}

static int pg_ready(struct db *d, struct db_conn *c)
{
  if (c->conn != NULL && PQstatus(c->conn) == CONNECTION_OK)
    return DB_OK;
  char err[512];
  int rc = conn_open(pg_db(d), c, err, sizeof err);
  if (rc != DB_OK)
    log_warn("postgres: %s", err);
  return rc;
}

/* ------------------------------------------------------------- errors */

static bool state_is(const char *state, const char *prefix)
{
  return state != NULL && strncmp(state, prefix, strlen(prefix)) == 0;
}

/* The error class of a failed result; drops a connection that broke. */
static int pg_fail(struct db_conn *c, const PGresult *r)
{
  const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c->conn);
  int len = (int)strcspn(msg, "\n");
  if (PQstatus(c->conn) != CONNECTION_OK || state_is(state, "08") || state_is(state, "57P")) {
    log_warn("postgres unavailable: %.*s", len, msg);
    conn_drop(c);
    return DB_UNAVAILABLE;
  }
  if (state_is(state, "23505"))
    return DB_CONFLICT; /* unique violation */
  if (state_is(state, "40001") || state_is(state, "40P01")) {
    log_warn("postgres serialization: %.*s", len, msg);
    return DB_SERIALIZATION;
  }
  /* Out of connections or resources, a lock or statement timeout. */
  if (state_is(state, "53") || state_is(state, "55P03") || state_is(state, "57014")) {
    log_warn("postgres busy: %.*s", len, msg);
    return DB_BUSY;
  }
  log_error("postgres error: %.*s", len, msg);
  return DB_ERROR;
}

/* --------------------------------------------------------- statements */

static int pg_script(struct db_conn *c, const char *sql)
{
  if (c->conn == NULL)
    return DB_UNAVAILABLE;
  PGresult *r = PQexec(c->conn, sql);
  ExecStatusType st = PQresultStatus(r);
  int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? DB_OK : pg_fail(c, r);
  PQclear(r);
  return rc;
}

/* The name of sql's prepared statement on c, preparing it on first use. */
static int stmt_name(struct db_conn *c, const char *sql, char *name, size_t cap)
{
  bool hit = false;
  int k = db_stmt_slot(c->keys, STMT_CACHE, sql, &hit);
  if (k < 0) {
    log_error("postgres statement cache full");
    return DB_ERROR;
  }
  snprintf(name, cap, "athos_%d", k);
  if (hit)
    return DB_OK;
  PGresult *r = PQprepare(c->conn, name, sql, 0, NULL);
  int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? DB_OK : pg_fail(c, r);
  PQclear(r);
  if (rc == DB_OK)
    c->keys[k] = sql;
  return rc;
}

static int pg_query(struct db_conn *c, const char *sql, const struct db_params *p, db_row_fn *row,
                    void *arg, int64_t *changes)
{
  if (c->conn == NULL)
    return DB_UNAVAILABLE;
  char name[24];
  int rc = stmt_name(c, sql, name, sizeof name);
  if (rc != DB_OK)
    return rc;
  /* Parameters go as text; integers are formatted here. */
  const char *vals[DB_PARAMS_MAX];
  char ints[DB_PARAMS_MAX][24];
  int n = p != NULL ? p->n : 0;
  for (int i = 0; i < n; i++) {
    vals[i] = p->v[i].t;
    if (p->v[i].type == DB_INT) {
      snprintf(ints[i], sizeof ints[i], "%lld", (long long)p->v[i].i);
      vals[i] = ints[i];
    }
  }
  PGresult *r = PQexecPrepared(c->conn, name, n, n > 0 ? vals : NULL, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    rc = pg_fail(c, r);
    goto out;
  }
  if (changes != NULL)
    *changes = strtoll(PQcmdTuples(r), NULL, 10);
  struct db_row dr = {.drv = &db_postgres_driver, .res = r};
  for (int i = 0; row != NULL && i < PQntuples(r) && rc == DB_OK; i++) {
    dr.i = i;
    rc = row(&dr, arg);
  }
out:
  PQclear(r);
  return rc;
}

static int pg_begin(struct db_conn *c)
{
  return pg_script(c, "BEGIN");
}

static void pg_rollback(struct db_conn *c)
{
  if (c->conn != NULL && PQtransactionStatus(c->conn) != PQTRANS_IDLE)
    pg_script(c, "ROLLBACK");
}

static int pg_xact_lock(struct db_conn *c, int64_t key)
{
  char sql[64];
  snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%lld)", (long long)key);
  return pg_script(c, sql);
}

static int64_t pg_col_i64(const struct db_row *r, int col)
{
  return PQgetisnull(r->res, r->i, col) ? 0 : strtoll(PQgetvalue(r->res, r->i, col), NULL, 10);
}

static const char *pg_col_text(const struct db_row *r, int col)
{
  return PQgetisnull(r->res, r->i, col) ? NULL : PQgetvalue(r->res, r->i, col);
}

/* ------------------------------------------------------------ liveness */

/* Makes sure this process holds its node's liveness lock (a session-level
 * pg_advisory_lock(DB_LOCK_NODE_NS, node) on a connection of its own,
 * reopened if it broke) and gives the node id. Live calls are marked with
 * it; the lock disappears with the process, which is how another node
 * tells an orphaned live call from one that is still running. */
static int pg_node(struct db *d, int64_t *node)
{
  struct pg_db *s = pg_db(d);
  char err[512], sql[96];
  int rc = DB_OK;
  pthread_mutex_lock(&s->live_mu);
  *node = s->node;
  /* PQconsumeInput notices a connection the server closed (a restart, a
   * terminated backend): the lock went with it and is taken again. */
  if (s->liveness.conn != NULL && PQconsumeInput(s->liveness.conn) == 1 &&
      PQstatus(s->liveness.conn) == CONNECTION_OK)
    goto out;
  if ((rc = conn_open(s, &s->liveness, err, sizeof err)) != DB_OK) {
    log_warn("postgres: %s", err);
    goto out;
  }
  snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(" DB_LOCK_NODE_NS ", %ld)", (long)s->node);
  if ((rc = pg_script(&s->liveness, sql)) != DB_OK)
    conn_drop(&s->liveness);
out:
  pthread_mutex_unlock(&s->live_mu);
  return db_rc_retryable(rc) ? DB_UNAVAILABLE : rc;
}

/* ----------------------------------------------------------- open/close */

static void pg_close(struct db *d)
{
  struct pg_db *s = pg_db(d);
  for (size_t i = 0; i < POOL_SIZE; i++)
    conn_drop(&s->conns[i]);
  conn_drop(&s->liveness);
  free(s->url);
  pthread_mutex_destroy(&s->live_mu);
  db_pool_destroy(&s->base);
  free(s);
}

/* Connects one connection now (so a wrong URL fails at start-up); the
 * others connect on first use. */
static int pg_open(const char *url, struct db **out, char *err, size_t errlen)
{
  *out = NULL;
  struct pg_db *s = calloc(1, sizeof *s);
  if (s == NULL)
    return DB_ERROR;
  struct db_conn *pool[POOL_SIZE];
  for (size_t i = 0; i < POOL_SIZE; i++)
    pool[i] = &s->conns[i];
  db_pool_init(&s->base, &db_postgres_driver, pool, POOL_SIZE);
  pthread_mutex_init(&s->live_mu, NULL);
  s->url = strdup(url);
  uint32_t node = 0;
  int rc = s->url != NULL ? DB_OK : DB_ERROR;
  while (rc == DB_OK && node == 0) {
    if (crypto_random(&node, sizeof node) != 0)
      rc = DB_ERROR;
    node &= 0x7fffffffu; /* the second int4 key of pg_advisory_lock */
  }
  s->node = (int32_t)node;
  if (rc == DB_OK)
    rc = conn_open(s, &s->conns[0], err, errlen);
  if (rc != DB_OK) {
    pg_close(&s->base);
    return rc;
  }
  *out = &s->base;
  return DB_OK;
}

/* Nothing runs in the background for PostgreSQL (the server checkpoints). */
static int pg_start_background(struct db *d)
{
  return DB_OK;
}

const struct db_driver db_postgres_driver = {
    .name = "postgres",
    .dialect = DB_POSTGRES,
    .open = pg_open,
    .close = pg_close,
    .start_background = pg_start_background,
    .ready = pg_ready,
    .query = pg_query,
    .script = pg_script,
    .begin = pg_begin,
    .rollback = pg_rollback,
    .xact_lock = pg_xact_lock,
    .node = pg_node,
    .col_i64 = pg_col_i64,
    .col_text = pg_col_text,
};
