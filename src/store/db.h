/*
 * db.h — the narrow driver interface under the store. The store's
 * operations (tenants.c, calls.c, live.c, outbox.c) are written once
 * against it; a driver (db_sqlite.c, db_postgres.c) is a connection, a
 * statement with `$N` parameters, a row reader and an error class.
 * The shape is Redis's ae.c / ae_epoll.c: the logic (db.c: the pool, the
 * transaction runner, the one-statement helpers) exists once, each backend
 * is a table of small functions. Only src/store/ includes this header.
 *
 * SQL is written once in PostgreSQL's parameter style ($1, $2 …, each
 * number may appear several times); the SQLite driver rewrites it to ?N
 * once per cached statement. Where the dialects genuinely differ (row
 * locks with SKIP LOCKED, advisory locks) the two texts sit side by side
 * at the call site and db_sql() picks one.
 */
#ifndef ATHOS_DB_H
#define ATHOS_DB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* -------------------------------------------------------- error classes */

/* What a driver call says, as ints beside enum store_rc (with which the
 * first values coincide, so a body can return either). DB_BUSY and
 * DB_SERIALIZATION never leave the runner: it runs the body again, and
 * turns them into STORE_UNAVAILABLE once its retries are spent. */
enum db_rc {
  DB_OK = STORE_OK,
  DB_CONFLICT = STORE_CONFLICT,       /* a unique (or other) constraint said no */
  DB_ERROR = STORE_ERROR,             /* a bug, a broken row: 500, logged */
  DB_UNAVAILABLE = STORE_UNAVAILABLE, /* the database cannot be reached: 503 */
  DB_BUSY = -10,                      /* locked, out of connections: try again shortly */
  DB_SERIALIZATION = -11,             /* serialization failure, deadlock: run it again */
};

/* A row callback returns DB_STOP to end the rows early with STORE_OK. */
#define DB_STOP 100

static inline bool db_rc_retryable(int rc)
{
  return rc == DB_BUSY || rc == DB_SERIALIZATION;
}

/* ----------------------------------------------------------- parameters */

/* Parameters for one statement: the k-th one added is $k. Text is
 * borrowed (it must outlive the call that runs the statement). Lives on
 * the caller's stack, so a query allocates nothing for its parameters. */
#define DB_PARAMS_MAX 16
enum db_type { DB_NULL, DB_INT, DB_TEXT };
struct db_params {
  int n;
  struct {
    enum db_type type;
    int64_t i;
    const char *t;
  } v[DB_PARAMS_MAX];
};
void db_p_text(struct db_params *p, const char *v);         /* NULL → SQL NULL */
void db_p_text_or_null(struct db_params *p, const char *v); /* "" → SQL NULL too */
void db_p_i64(struct db_params *p, int64_t v);
void db_p_null(struct db_params *p);

/* ----------------------------------------------------------------- rows */

struct db_driver;

/* The current row, valid only during the row callback it is given to. */
struct db_row {
  const struct db_driver *drv;
  void *res; /* the driver's statement or result */
  int i;     /* the row number within res (PostgreSQL) */
};

/* Column col as int64 (0 for NULL); as text (NULL for SQL NULL, borrowed
 * until the callback returns); copied into out (cap bytes, "" for NULL). */
int64_t db_col_i64(const struct db_row *r, int col);
const char *db_col_text(const struct db_row *r, int col);
void db_col_copy(const struct db_row *r, int col, char *out, size_t cap);

/* Reads one row into arg: STORE_OK for the next row, DB_STOP to end with
 * STORE_OK, anything else to end with it. */
typedef int db_row_fn(const struct db_row *r, void *arg);

/* --------------------------------------------------------------- driver */

enum db_dialect { DB_SQLITE, DB_POSTGRES };

struct db_conn; /* the driver's connection */

#define DB_POOL_MAX 8

/* pg_advisory_lock namespace of the cluster nodes' liveness locks: the
 * PostgreSQL driver takes (DB_LOCK_NODE_NS, node), live.c looks for them. */
#define DB_LOCK_NODE_NS "4242"

/* Every driver's database struct begins with this: the driver and the
 * pool of connections (filled by the driver's open), shared by all. */
struct db {
  const struct db_driver *drv;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct db_conn *free[DB_POOL_MAX]; /* stack of idle connections */
  size_t nfree;
};

#define DB_STAMP_LEN 48

struct db_driver {
  const char *name;
  enum db_dialect dialect;
  /* url: the driver's part (a path for SQLite, the postgres:// URL). err
   * never holds a password. */
  int (*open)(const char *url, struct db **out, char *err, size_t errlen);
  void (*close)(struct db *d); /* never NULL */
  int (*start_background)(struct db *d);
  /* Makes a connection just taken from the pool usable (PostgreSQL:
   * reconnects a broken one). DB_UNAVAILABLE when it cannot. */
  int (*ready)(struct db *d, struct db_conn *c);
  /* Runs sql (static storage: the statement cache's key) with p, calling
   * row for each row (row may be NULL); *changes (if not NULL) receives
   * the changed row count. */
  int (*query)(struct db_conn *c, const char *sql, const struct db_params *p, db_row_fn *row,
               void *arg, int64_t *changes);
  /* Runs one or more statements without parameters, unprepared
   * (migrations, transaction control). */
  int (*script)(struct db_conn *c, const char *sql);
  int (*begin)(struct db_conn *c);     /* SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN */
  void (*rollback)(struct db_conn *c); /* only if a transaction is open */
  /* A lock held until the transaction ends, serializing every node that
   * takes the same key (PostgreSQL: pg_advisory_xact_lock; SQLite: the
   * write lock BEGIN IMMEDIATE already holds). */
  int (*xact_lock)(struct db_conn *c, int64_t key);
  /* This process's node id for live calls, holding its liveness lock
   * (PostgreSQL); STORE_NOT_FOUND when the backend has one node (SQLite). */
  int (*node)(struct db *d, int64_t *node);
  int64_t (*col_i64)(const struct db_row *r, int col);
  const char *(*col_text)(const struct db_row *r, int col);
  /* A consistent copy of the live database in a new file at path, mode
   * 0600 (SQLite: the online backup API). NULL where the database has its
   * own tool (PostgreSQL: pg_dump). */
  int (*backup)(struct db *d, const char *path, char *err, size_t errlen);
  /* A stamp of the database's committed state that moves with every
   * commit of any connection on any node, read without a transaction:
   * true and out set, or false when there is none to read (then ask the
   * database). NULL where the backend has none: both today. (An SQLite
   * stamp read from the -shm file's wal-index header was tried and taken
   * out: opening and closing that file from this process drops SQLite's
   * POSIX locks on it, and another connection then truncated it under
   * SQLite's own mapping, SIGBUS.) */
  bool (*commit_stamp)(struct db *d, unsigned char out[DB_STAMP_LEN]);
};

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_postgres_driver;

/* Called by a driver's open and close: the pool over conns[0..n). */
void db_pool_init(struct db *d, const struct db_driver *drv, struct db_conn **conns, size_t n);
void db_pool_destroy(struct db *d);

/* The statement cache's slot for sql in keys[0..n): open addressing on
 * the SQL string's address (each call site passes a static string, so the
 * pointer is a stable key). Returns the slot holding sql (*hit = true),
 * else the free slot to prepare it in (*hit = false), or -1 when full. */
int db_stmt_slot(const char *const *keys, size_t n, const char *sql, bool *hit);

static inline bool db_commit_stamp(struct db *d, unsigned char out[DB_STAMP_LEN])
{
  return d->drv->commit_stamp != NULL && d->drv->commit_stamp(d, out);
}
static inline enum db_dialect db_dialect(const struct db *d)
{
  return d->drv->dialect;
}
/* The text for this database's dialect (each a string with static storage). */
static inline const char *db_sql(const struct db *d, const char *sqlite, const char *postgres)
{
  return d->drv->dialect == DB_POSTGRES ? postgres : sqlite;
}

/* --------------------------------------------------- the transaction runner */

/* A connection borrowed for one run of a body. */
struct db_tx {
  struct db *db;
  struct db_conn *conn;
  size_t rows; /* rows handed to callbacks so far (a run that read rows is not retried) */
};

enum db_mode {
  DB_AUTOCOMMIT,  /* each statement commits on its own */
  DB_TRANSACTION, /* BEGIN; body; COMMIT when it returns STORE_OK, else ROLLBACK */
};

/* A body may run more than once: it must start from its arg's initial
 * state each time (free or reset what a failed run left behind). */
typedef int db_body_fn(struct db_tx *tx, void *arg);

/* Runs body on a pooled connection, in the manner of GNU Taler's
 * TEH_DB_run_transaction: a busy or serialization failure rolls back and
 * runs it again (bounded attempts, exponential backoff, and never after
 * the first attempt took longer than the busy wait: then the database is
 * really stuck), and turns into STORE_UNAVAILABLE when they are spent.
 * Returns body's rc, or the BEGIN's / COMMIT's failure. */
enum store_rc db_run(struct db *d, enum db_mode mode, db_body_fn *body, void *arg);

/* Inside a body. db_exec: a statement whose rows are not wanted.
 * db_query: row for each row. db_query_one: read for the first row,
 * STORE_NOT_FOUND when there is none. */
int db_exec(struct db_tx *tx, const char *sql, const struct db_params *p, int64_t *changes);
int db_query(struct db_tx *tx, const char *sql, const struct db_params *p, db_row_fn *row,
             void *arg);
int db_query_one(struct db_tx *tx, const char *sql, const struct db_params *p, db_row_fn *read,
                 void *arg);
int db_xact_lock(struct db_tx *tx, int64_t key);
/* Unprepared SQL, one or more statements without parameters (migrations). */
int db_script(struct db_tx *tx, const char *sql);

/* One statement, run by db_run in autocommit (atomic on its own).
 * db_update_row: an UPDATE naming one row by a unique key; STORE_OK when
 * it changed that row, none_rc when it changed nothing (no such row, or
 * its guard said no). */
enum store_rc db_write(struct db *d, const char *sql, const struct db_params *p, int64_t *changes);
enum store_rc db_update_row(struct db *d, const char *sql, const struct db_params *p,
                            enum store_rc none_rc);
enum store_rc db_get(struct db *d, const char *sql, const struct db_params *p, db_row_fn *read,
                     void *arg);
enum store_rc db_each(struct db *d, const char *sql, const struct db_params *p, db_row_fn *row,
                      void *arg);

#endif
