/*
 * db.c — the driver-independent half of db.h: parameters, row access, the
 * connection pool, the transaction runner and the one-statement helpers.
 * A driver only talks to its database; everything here is written once.
 */
#include <assert.h>
#include <string.h>
#include <time.h>

#include "store/db.h"
#include "util/log.h"
#include "util/timefmt.h"

/* The runner's bounds: attempts in all, the first backoff (doubled each
 * time), and the age past which a failure is not retried (a SQLite busy
 * error only comes after its 5 s busy wait: retrying that would make a
 * stuck database answer 503 after 15 s instead of 5). */
#define RUN_ATTEMPTS   4
#define RUN_BACKOFF_MS 2
#define RUN_BUDGET_MS  1000

/* ----------------------------------------------------------- parameters */

static void param(struct db_params *p, enum db_type type, int64_t i, const char *t)
{
  assert(p->n < DB_PARAMS_MAX);
  if (p->n >= DB_PARAMS_MAX)
    return;
  p->v[p->n].type = type;
  p->v[p->n].i = i;
  p->v[p->n].t = t;
  p->n++;
}

void db_p_text(struct db_params *p, const char *v)
{
  param(p, v != NULL ? DB_TEXT : DB_NULL, 0, v);
}

void db_p_text_or_null(struct db_params *p, const char *v)
{
  db_p_text(p, v != NULL && v[0] != '\0' ? v : NULL);
}

void db_p_i64(struct db_params *p, int64_t v)
{
  param(p, DB_INT, v, NULL);
}
void db_p_null(struct db_params *p)
{
  param(p, DB_NULL, 0, NULL);
}

/* ----------------------------------------------------------------- rows */

int64_t db_col_i64(const struct db_row *r, int col)
{
  return r->drv->col_i64(r, col);
}
const char *db_col_text(const struct db_row *r, int col)
{
  return r->drv->col_text(r, col);
}

void db_col_copy(const struct db_row *r, int col, char *out, size_t cap)
{
  const char *v = r->drv->col_text(r, col);
  size_t len = v != NULL ? strnlen(v, cap - 1) : 0;
  memcpy(out, v != NULL ? v : "", len);
  out[len] = '\0';
}

/* ----------------------------------------------------------------- pool */

void db_pool_init(struct db *d, const struct db_driver *drv, struct db_conn **conns, size_t n)
{
  assert(n <= DB_POOL_MAX);
  d->drv = drv;
  pthread_mutex_init(&d->mu, NULL);
  pthread_cond_init(&d->cv, NULL);
  for (size_t i = 0; i < n && i < DB_POOL_MAX; i++)
    d->free[d->nfree++] = conns[i];
}

void db_pool_destroy(struct db *d)
{
  pthread_mutex_destroy(&d->mu);
  pthread_cond_destroy(&d->cv);
}

/* Borrows a connection, blocking while all are in use. */
static struct db_conn *pool_take(struct db *d)
{
  pthread_mutex_lock(&d->mu);
  while (d->nfree == 0)
    pthread_cond_wait(&d->cv, &d->mu);
  struct db_conn *c = d->free[--d->nfree];
  pthread_mutex_unlock(&d->mu);
  return c;
}

static void pool_give(struct db *d, struct db_conn *c)
{
  pthread_mutex_lock(&d->mu);
  assert(d->nfree < DB_POOL_MAX);
  d->free[d->nfree++] = c;
  pthread_cond_signal(&d->cv);
  pthread_mutex_unlock(&d->mu);
}

int db_stmt_slot(const char *const *keys, size_t n, const char *sql, bool *hit)
{
  size_t h = ((uintptr_t)sql >> 3) % n;
  for (size_t i = 0; i < n; i++) {
    size_t k = (h + i) % n;
    if (keys[k] == sql || keys[k] == NULL) {
      *hit = keys[k] == sql;
      return (int)k;
    }
  }
  *hit = false;
  return -1;
}

/* ---------------------------------------------------------------- runner */

static void sleep_ms(int64_t ms)
{
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L};
  nanosleep(&ts, NULL);
}

/* One run of body on tx's connection. */
static int run_once(struct db_tx *tx, enum db_mode mode, db_body_fn *body, void *arg)
{
  const struct db_driver *drv = tx->db->drv;
  int rc = drv->ready(tx->db, tx->conn);
  if (rc != DB_OK)
    return rc;
  if (mode == DB_AUTOCOMMIT)
    return body(tx, arg);
  if ((rc = drv->begin(tx->conn)) != DB_OK)
    return rc;
  if ((rc = body(tx, arg)) == DB_OK)
    rc = drv->script(tx->conn, "COMMIT");
  /* A body that failed, or a COMMIT that did (SQLite busy leaves the
   * transaction open): the connection goes back to the pool clean. */
  if (rc != DB_OK)
    drv->rollback(tx->conn);
  return rc;
}

enum store_rc db_run(struct db *d, enum db_mode mode, db_body_fn *body, void *arg)
{
  struct db_tx tx = {.db = d, .conn = pool_take(d)};
  int64_t start = time_mono_ms(), backoff = RUN_BACKOFF_MS;
  int rc = DB_ERROR;
  for (int attempt = 1;; attempt++) {
    tx.rows = 0;
    rc = run_once(&tx, mode, body, arg);
    if (!db_rc_retryable(rc))
      break;
    /* Rows already handed to a callback cannot be taken back. */
    if (attempt == RUN_ATTEMPTS || tx.rows > 0 || time_mono_ms() - start > RUN_BUDGET_MS) {
      log_warn("database busy: giving up after %d attempt(s)", attempt);
      rc = STORE_UNAVAILABLE;
      break;
    }
    sleep_ms(backoff);
    backoff *= 2;
  }
  pool_give(d, tx.conn);
  assert(rc == STORE_OK || rc == STORE_NOT_FOUND || rc == STORE_CONFLICT || rc == STORE_EXPIRED ||
         rc == STORE_QUOTA || rc == STORE_REVOKED || rc == STORE_ERROR || rc == STORE_UNAVAILABLE);
  return (enum store_rc)rc;
}

/* ------------------------------------------------------ inside a body */

/* Counts the rows a caller's callback sees (see db_run). */
struct counted {
  struct db_tx *tx;
  db_row_fn *row;
  void *arg;
};

static int counted_row(const struct db_row *r, void *arg)
{
  struct counted *c = arg;
  c->tx->rows++;
  return c->row(r, c->arg);
}

int db_exec(struct db_tx *tx, const char *sql, const struct db_params *p, int64_t *changes)
{
  return tx->db->drv->query(tx->conn, sql, p, NULL, NULL, changes);
}

int db_query(struct db_tx *tx, const char *sql, const struct db_params *p, db_row_fn *row,
             void *arg)
{
  struct counted c = {.tx = tx, .row = row, .arg = arg};
  int rc = tx->db->drv->query(tx->conn, sql, p, counted_row, &c, NULL);
  return rc == DB_STOP ? DB_OK : rc;
}

struct first {
  db_row_fn *read;
  void *arg;
  bool seen;
};

static int first_row(const struct db_row *r, void *arg)
{
  struct first *f = arg;
  f->seen = true;
  int rc = f->read(r, f->arg);
  return rc == DB_OK ? DB_STOP : rc;
}

int db_query_one(struct db_tx *tx, const char *sql, const struct db_params *p, db_row_fn *read,
                 void *arg)
{
  struct first f = {.read = read, .arg = arg};
  int rc = db_query(tx, sql, p, first_row, &f);
  return rc == DB_OK && !f.seen ? STORE_NOT_FOUND : rc;
}

int db_xact_lock(struct db_tx *tx, int64_t key)
{
  return tx->db->drv->xact_lock(tx->conn, key);
}
int db_script(struct db_tx *tx, const char *sql)
{
  return tx->db->drv->script(tx->conn, sql);
}

/* ------------------------------------------------ one statement, pooled */

struct one {
  const char *sql;
  const struct db_params *p;
  db_row_fn *row;
  void *arg;
  int64_t *changes;
  bool first_only;
};

static int one_body(struct db_tx *tx, void *arg)
{
  struct one *o = arg;
  if (o->row == NULL)
    return db_exec(tx, o->sql, o->p, o->changes);
  if (o->first_only)
    return db_query_one(tx, o->sql, o->p, o->row, o->arg);
  return db_query(tx, o->sql, o->p, o->row, o->arg);
}

enum store_rc db_write(struct db *d, const char *sql, const struct db_params *p, int64_t *changes)
{
  struct one o = {.sql = sql, .p = p, .changes = changes};
  return db_run(d, DB_AUTOCOMMIT, one_body, &o);
}

enum store_rc db_update_row(struct db *d, const char *sql, const struct db_params *p,
                            enum store_rc none_rc)
{
  int64_t changes = 0;
  enum store_rc rc = db_write(d, sql, p, &changes);
  return rc == STORE_OK && changes == 0 ? none_rc : rc;
}

enum store_rc db_get(struct db *d, const char *sql, const struct db_params *p, db_row_fn *read,
                     void *arg)
{
  struct one o = {.sql = sql, .p = p, .row = read, .arg = arg, .first_only = true};
  return db_run(d, DB_AUTOCOMMIT, one_body, &o);
}

enum store_rc db_each(struct db *d, const char *sql, const struct db_params *p, db_row_fn *row,
                      void *arg)
{
  struct one o = {.sql = sql, .p = p, .row = row, .arg = arg};
  return db_run(d, DB_AUTOCOMMIT, one_body, &o);
}
