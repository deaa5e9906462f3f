/*
 * sqlite.c — the SQLite backend: connection pool, migrations, and the
 * tenant, API key, webhook secret and signing key tables. Call tables are
 * in sqlite_calls.c, the live loop's writes in sqlite_live.c, scoring and
 * the webhook outbox in sqlite_outbox.c. Every operation is registered in
 * sqlite_backend (the end of this file), which store.c dispatches to.
 *
 * WAL mode lets readers run beside the one writer; every write that must
 * be atomic runs in BEGIN IMMEDIATE so two writers never deadlock on a
 * lock upgrade, and busy_timeout turns contention into a short wait.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/migrations.h"
#include "store/sqlite_internal.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/timefmt.h"

#define POOL_SIZE 8
#define BUSY_TIMEOUT_MS 5000

static int sqlite_signing_key_ensure(struct store *s);

/* ------------------------------------------------------------- plumbing */

int sq_rc(struct sq_conn *c, int rc)
{
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_DONE:
  case SQLITE_ROW:
    return STORE_OK;
  case SQLITE_CONSTRAINT:
    return STORE_CONFLICT;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
  case SQLITE_IOERR:
  case SQLITE_CANTOPEN:
  case SQLITE_FULL:
  case SQLITE_READONLY:
    log_error("sqlite unavailable: %s", c != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    return STORE_UNAVAILABLE;
  default:
    log_error("sqlite error: %s", c != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    return STORE_ERROR;
  }
}

sqlite3_stmt *sq_stmt(struct sq_conn *c, const char *sql)
{
  /* Open addressing on the SQL string's address: each call site passes a
   * static string, so the pointer is a stable key. */
  size_t h = ((uintptr_t)sql >> 3) % SQ_STMT_CACHE;
  for (size_t i = 0; i < SQ_STMT_CACHE; i++) {
    size_t k = (h + i) % SQ_STMT_CACHE;
    if (c->keys[k] == sql) {
      sqlite3_reset(c->stmts[k]);
      sqlite3_clear_bindings(c->stmts[k]);
      return c->stmts[k];
    }
    if (c->keys[k] == NULL) {
      sqlite3_stmt *st = NULL;
      int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
      if (rc != SQLITE_OK) {
        log_error("sqlite prepare failed: %s", sqlite3_errmsg(c->db));
        return NULL;
      }
      c->keys[k] = sql;
      c->stmts[k] = st;
      return st;
    }
  }
  log_error("sqlite statement cache full");
  return NULL;
}

struct sq_conn *sq_acquire(struct store *base)
{
  struct sq_store *s = sq_store(base);
  pthread_mutex_lock(&s->mu);
  while (s->nfree == 0)
    pthread_cond_wait(&s->cv, &s->mu);
  struct sq_conn *c = &s->conns[s->free_idx[--s->nfree]];
  pthread_mutex_unlock(&s->mu);
  return c;
}

void sq_release(struct store *base, struct sq_conn *c)
{
  struct sq_store *s = sq_store(base);
  pthread_mutex_lock(&s->mu);
  s->free_idx[s->nfree++] = (size_t)(c - s->conns);
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static int exec_sql(struct sq_conn *c, const char *sql)
{
  char *msg = NULL;
  int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) {
    log_error("sqlite exec failed: %s", msg != NULL ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return sq_rc(NULL, rc) == STORE_OK ? STORE_ERROR : sq_rc(NULL, rc);
  }
  return STORE_OK;
}

int sq_begin(struct sq_conn *c) { return exec_sql(c, "BEGIN IMMEDIATE"); }
int sq_commit(struct sq_conn *c) { return exec_sql(c, "COMMIT"); }
void sq_rollback(struct sq_conn *c)
{
  if (!sqlite3_get_autocommit(c->db))
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

void sq_col_text(sqlite3_stmt *st, int i, char *out, size_t cap)
{
  const unsigned char *v = sqlite3_column_text(st, i);
  snprintf(out, cap, "%s", v != NULL ? (const char *)v : "");
}

int64_t sq_col_i64(sqlite3_stmt *st, int i)
{
  return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

void sq_read_call_row(sqlite3_stmt *st, struct call_row *out)
{
  memset(out, 0, sizeof *out);
  out->id = sq_col_i64(st, 0);
  out->tenant_id = sq_col_i64(st, 1);
  sq_col_text(st, 2, out->public_id, sizeof out->public_id);
  sq_col_text(st, 3, out->session_id, sizeof out->session_id);
  sq_col_text(st, 4, out->source, sizeof out->source);
  sq_col_text(st, 5, out->external_user_id, sizeof out->external_user_id);
  sq_col_text(st, 6, out->external_agency_id, sizeof out->external_agency_id);
  sq_col_text(st, 7, out->drill_key, sizeof out->drill_key);
  sq_col_text(st, 8, out->difficulty, sizeof out->difficulty);
  out->persona_index = (int)sq_col_i64(st, 9);
  sq_col_text(st, 10, out->persona_name, sizeof out->persona_name);
  out->seed = (uint64_t)sq_col_i64(st, 11);
  sq_col_text(st, 12, out->status, sizeof out->status);
  sq_col_text(st, 13, out->end_reason, sizeof out->end_reason);
  out->created_at = sq_col_i64(st, 14);
  out->started_at = sq_col_i64(st, 15);
  out->ended_at = sq_col_i64(st, 16);
  out->scored_at = sq_col_i64(st, 17);
  out->updated_at = sq_col_i64(st, 18);
  out->duration_sec = sq_col_i64(st, 19);
}

/* ------------------------------------------------ statements and transactions */

void sq_p_text(struct sq_params *p, const char *v)
{
  assert(p->n < SQ_PARAMS_MAX);
  if (p->n >= SQ_PARAMS_MAX)
    return;
  p->v[p->n].type = v != NULL ? SQ_TEXT : SQ_NULL;
  p->v[p->n].t = v;
  p->n++;
}

void sq_p_text_or_null(struct sq_params *p, const char *v)
{
  sq_p_text(p, v != NULL && v[0] != '\0' ? v : NULL);
}

void sq_p_i64(struct sq_params *p, int64_t v)
{
  assert(p->n < SQ_PARAMS_MAX);
  if (p->n >= SQ_PARAMS_MAX)
    return;
  p->v[p->n].type = SQ_INT;
  p->v[p->n].i = v;
  p->n++;
}

void sq_p_null(struct sq_params *p) { sq_p_text(p, NULL); }

/* The cached statement for sql with p bound from ?1 on (a cached
 * statement's bindings start cleared, so an SQ_NULL needs no call). NULL on
 * a prepare error (logged). */
static sqlite3_stmt *stmt_bound(struct sq_conn *c, const char *sql, const struct sq_params *p)
{
  sqlite3_stmt *st = sq_stmt(c, sql);
  if (st == NULL || p == NULL)
    return st;
  for (int i = 0; i < p->n; i++) {
    if (p->v[i].type == SQ_INT)
      sqlite3_bind_int64(st, i + 1, p->v[i].i);
    else if (p->v[i].type == SQ_TEXT)
      sqlite3_bind_text(st, i + 1, p->v[i].t, -1, SQLITE_STATIC);
  }
  return st;
}

int sq_exec(struct sq_conn *c, const char *sql, const struct sq_params *p, int *changes)
{
  sqlite3_stmt *st = stmt_bound(c, sql, p);
  if (st == NULL)
    return STORE_ERROR;
  int step = sqlite3_step(st);
  int rc = step == SQLITE_DONE || step == SQLITE_ROW ? STORE_OK : sq_rc(c, step);
  if (rc == STORE_OK && changes != NULL)
    *changes = sqlite3_changes(c->db);
  sqlite3_reset(st);
  return rc;
}

int sq_query(struct sq_conn *c, const char *sql, const struct sq_params *p, sq_row_fn *row,
             void *arg)
{
  sqlite3_stmt *st = stmt_bound(c, sql, p);
  if (st == NULL)
    return STORE_ERROR;
  int rc = STORE_OK, step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW)
    if ((rc = row(st, arg)) != STORE_OK)
      break;
  if (step != SQLITE_ROW && step != SQLITE_DONE)
    rc = sq_rc(c, step);
  else if (rc == SQ_STOP)
    rc = STORE_OK;
  sqlite3_reset(st);
  return rc;
}

int sq_query_one(struct sq_conn *c, const char *sql, const struct sq_params *p, sq_row_fn *read,
                 void *arg)
{
  sqlite3_stmt *st = stmt_bound(c, sql, p);
  if (st == NULL)
    return STORE_ERROR;
  int step = sqlite3_step(st);
  int rc = step == SQLITE_ROW    ? read(st, arg)
           : step == SQLITE_DONE ? STORE_NOT_FOUND
                                 : sq_rc(c, step);
  sqlite3_reset(st);
  return rc;
}

int sq_write(struct store *s, const char *sql, const struct sq_params *p, int *changes)
{
  struct sq_conn *c = sq_acquire(s);
  int rc = sq_exec(c, sql, p, changes);
  sq_release(s, c);
  return rc;
}

int sq_update_row(struct store *s, const char *sql, const struct sq_params *p, int none_rc)
{
  int changes = 0;
  int rc = sq_write(s, sql, p, &changes);
  return rc == STORE_OK && changes != 1 ? none_rc : rc;
}

int sq_get(struct store *s, const char *sql, const struct sq_params *p, sq_row_fn *read,
           void *arg)
{
  struct sq_conn *c = sq_acquire(s);
  int rc = sq_query_one(c, sql, p, read, arg);
  sq_release(s, c);
  return rc;
}

int sq_each(struct store *s, const char *sql, const struct sq_params *p, sq_row_fn *row,
            void *arg)
{
  struct sq_conn *c = sq_acquire(s);
  int rc = sq_query(c, sql, p, row, arg);
  sq_release(s, c);
  return rc;
}

int sq_tx(struct store *s, int (*body)(struct sq_conn *c, void *arg), void *arg)
{
  struct sq_conn *c = sq_acquire(s);
  int rc = sq_begin(c);
  if (rc != STORE_OK)
    goto out;
  if ((rc = body(c, arg)) != STORE_OK)
    goto fail;
  /* A COMMIT that failed (SQLITE_BUSY) leaves the transaction open: it
   * is rolled back so the connection goes back to the pool clean. */
  if ((rc = sq_commit(c)) != STORE_OK)
    goto fail;
  goto out;
fail:
  sq_rollback(c);
out:
  sq_release(s, c);
  return rc;
}

int sq_row_call(sqlite3_stmt *st, void *out)
{
  sq_read_call_row(st, out);
  return STORE_OK;
}

/* ----------------------------------------------------------- open/close */

static int open_conn(struct sq_store *s, struct sq_conn *c, char *err, size_t errlen)
{
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(s->path, &c->db, flags, NULL);
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "cannot open %s: %s", s->path,
             c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    return STORE_UNAVAILABLE;
  }
  sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
  const char *pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                        "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;";
  if (sqlite3_exec(c->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot configure %s: %s", s->path, sqlite3_errmsg(c->db));
    return STORE_UNAVAILABLE;
  }
  return STORE_OK;
}

static void sqlite_close(struct store *base);

/* path: the file (the part after "sqlite:"). */
static int sqlite_open(const char *path, struct store **out, char *err, size_t errlen)
{
  *out = NULL;
  if (path[0] == '\0' || strlen(path) >= sizeof((struct sq_store *)0)->path) {
    snprintf(err, errlen, "invalid database path");
    return STORE_ERROR;
  }
  struct sq_store *s = calloc(1, sizeof *s);
  if (s == NULL)
    return STORE_ERROR;
  s->base.backend = &sqlite_backend;
  snprintf(s->path, sizeof s->path, "%s", path);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  pthread_cond_init(&s->ckpt_cv, NULL);
  s->conns = calloc(POOL_SIZE, sizeof *s->conns);
  s->free_idx = calloc(POOL_SIZE, sizeof *s->free_idx);
  if (s->conns == NULL || s->free_idx == NULL)
    goto fail;
  for (size_t i = 0; i < POOL_SIZE; i++) {
    if (open_conn(s, &s->conns[i], err, errlen) != STORE_OK) {
      s->nconns = i + 1;
      goto fail;
    }
    s->free_idx[s->nfree++] = i;
  }
  s->nconns = POOL_SIZE;
  *out = &s->base;
  return STORE_OK;
fail:
  sqlite_close(&s->base);
  return STORE_UNAVAILABLE;
}

/* ---------------------------------------------------------- checkpoints */

#define CHECKPOINT_INTERVAL_MS 1000

static void *checkpoint_main(void *arg)
{
  struct sq_store *s = arg;
  pthread_mutex_lock(&s->mu);
  while (!s->ckpt_stop) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += CHECKPOINT_INTERVAL_MS % 1000 * 1000000L;
    until.tv_sec += CHECKPOINT_INTERVAL_MS / 1000 + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&s->ckpt_cv, &s->mu, &until);
    if (s->ckpt_stop)
      break;
    pthread_mutex_unlock(&s->mu);
    /* PASSIVE never blocks writers or readers: it copies what it can. */
    int rc = sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
      log_warn("sqlite checkpoint failed: %s", sqlite3_errmsg(s->ckpt_db));
    pthread_mutex_lock(&s->mu);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

static int sqlite_start_background(struct store *base)
{
  struct sq_store *s = sq_store(base);
  char err[1400]; /* room for the path in open_conn's messages */
  struct sq_conn ck = {0};
  if (s->ckpt_running)
    return STORE_OK;
  if (open_conn(s, &ck, err, sizeof err) != STORE_OK) {
    log_error("checkpointer: %s", err);
    sqlite3_close(ck.db);
    return STORE_UNAVAILABLE;
  }
  /* The pool's connections stop checkpointing on commit; all pooled
   * connections are idle here (start-up, before any thread uses them). */
  for (size_t i = 0; i < s->nconns; i++)
    sqlite3_exec(s->conns[i].db, "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL);
  s->ckpt_db = ck.db;
  s->ckpt_stop = false;
  if (pthread_create(&s->ckpt_thread, NULL, checkpoint_main, s) != 0) {
    sqlite3_close(s->ckpt_db);
    s->ckpt_db = NULL;
    return STORE_ERROR;
  }
  s->ckpt_running = true;
  return STORE_OK;
}

static void checkpoint_stop(struct sq_store *s)
{
  if (!s->ckpt_running)
    return;
  pthread_mutex_lock(&s->mu);
  s->ckpt_stop = true;
  pthread_cond_signal(&s->ckpt_cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->ckpt_thread, NULL);
  sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  sqlite3_close(s->ckpt_db);
  s->ckpt_db = NULL;
  s->ckpt_running = false;
}

static void sqlite_close(struct store *base)
{
  struct sq_store *s = sq_store(base);
  checkpoint_stop(s);
  for (size_t i = 0; i < s->nconns; i++) {
    for (size_t k = 0; k < SQ_STMT_CACHE; k++)
      sqlite3_finalize(s->conns[i].stmts[k]);
    sqlite3_close(s->conns[i].db);
  }
  free(s->conns);
  free(s->free_idx);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  pthread_cond_destroy(&s->ckpt_cv);
  free(s);
}

/* ----------------------------------------------------------- migrations */

static int sqlite_migrate(struct store *s)
{
  struct sq_conn *c = sq_acquire(s);
  int rc = exec_sql(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                       " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
  if (rc != STORE_OK)
    goto out;
  for (size_t i = 0; i < store_migrations_count; i++) {
    const struct migration *m = &store_migrations[i];
    if ((rc = sq_begin(c)) != STORE_OK)
      goto out;
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(c->db, "SELECT 1 FROM schema_migrations WHERE version = ?", -1, &st, NULL);
    sqlite3_bind_int(st, 1, m->version);
    int applied = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (applied) {
      sq_rollback(c);
      continue;
    }
    if ((rc = exec_sql(c, m->sql)) != STORE_OK) {
      sq_rollback(c);
      goto out;
    }
    sqlite3_prepare_v2(c->db, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?,?,?)",
                       -1, &st, NULL);
    sqlite3_bind_int(st, 1, m->version);
    sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, time_now_ms());
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
      rc = sq_rc(c, step);
      sq_rollback(c);
      goto out;
    }
    if ((rc = sq_commit(c)) != STORE_OK)
      goto out;
    log_info("migration %d (%s) applied", m->version, m->name);
  }
  rc = STORE_OK;
out:
  sq_release(s, c);
  if (rc == STORE_OK)
    rc = sqlite_signing_key_ensure(s);
  return rc;
}

static int row_exists(sqlite3_stmt *st, void *arg) { return STORE_OK; }

static int sqlite_ping(struct store *s)
{
  static const char SQL[] = "SELECT count(*) FROM schema_migrations";
  int rc = sq_get(s, SQL, NULL, row_exists, NULL);
  return rc == STORE_ERROR ? STORE_UNAVAILABLE : rc;
}

/* -------------------------------------------------------------- tenants */

#define TENANT_COLUMNS                                                              \
  "id, public_id, name, active, coalesce(webhook_url,''), webhook_enabled, "        \
  "coalesce(ip_allow,''), coalesce(monthly_call_quota,-1), created_at"

static void read_tenant(sqlite3_stmt *st, int col, struct tenant *t)
{
  memset(t, 0, sizeof *t);
  t->id = sqlite3_column_int64(st, col + 0);
  sq_col_text(st, col + 1, t->public_id, sizeof t->public_id);
  sq_col_text(st, col + 2, t->name, sizeof t->name);
  t->active = sqlite3_column_int(st, col + 3) != 0;
  sq_col_text(st, col + 4, t->webhook_url, sizeof t->webhook_url);
  t->webhook_enabled = sqlite3_column_int(st, col + 5) != 0;
  sq_col_text(st, col + 6, t->ip_allow, sizeof t->ip_allow);
  t->monthly_call_quota = sqlite3_column_int64(st, col + 7);
  t->created_at = sqlite3_column_int64(st, col + 8);
}

/* The six settings an operator sets, in the order both the INSERT and the
 * UPDATE list them: name, active, webhook_url, webhook_enabled, ip_allow,
 * monthly_call_quota (NULL when unlimited). */
static void tenant_settings(struct sq_params *p, const struct tenant *t)
{
  sq_p_text(p, t->name);
  sq_p_i64(p, t->active);
  sq_p_text_or_null(p, t->webhook_url);
  sq_p_i64(p, t->webhook_enabled);
  sq_p_text_or_null(p, t->ip_allow);
  if (t->monthly_call_quota >= 0)
    sq_p_i64(p, t->monthly_call_quota);
  else
    sq_p_null(p);
}

static int row_tenant(sqlite3_stmt *st, void *out)
{
  read_tenant(st, 0, out);
  return STORE_OK;
}

static int insert_key(struct sq_conn *c, int64_t tenant_id, const struct api_key_new *key)
{
  static const char SQL[] =
      "INSERT INTO api_keys(public_id, tenant_id, prefix, key_hash, created_at) VALUES (?,?,?,?,?)";
  struct sq_params p = {0};
  sq_p_text(&p, key->public_id);
  sq_p_i64(&p, tenant_id);
  sq_p_text(&p, key->prefix);
  sq_p_text(&p, key->hash_hex);
  sq_p_i64(&p, time_now_ms());
  return sq_exec(c, SQL, &p, NULL);
}

static int insert_secret(struct sq_conn *c, int64_t tenant_id, const char *secret, int64_t now)
{
  static const char SQL[] =
      "INSERT INTO webhook_secrets(tenant_id, secret, created_at) VALUES (?,?,?)";
  struct sq_params p = {0};
  sq_p_i64(&p, tenant_id);
  sq_p_text(&p, secret);
  sq_p_i64(&p, now);
  return sq_exec(c, SQL, &p, NULL);
}

struct tenant_create {
  struct tenant *t;
  const struct api_key_new *key;
  const char *webhook_secret;
};

static int tenant_create_tx(struct sq_conn *c, void *arg)
{
  static const char SQL[] =
      "INSERT INTO tenants(public_id, name, active, webhook_url, webhook_enabled, ip_allow,"
      " monthly_call_quota, created_at) VALUES (?,?,?,?,?,?,?,?)";
  struct tenant_create *a = arg;
  struct tenant *t = a->t;
  t->created_at = time_now_ms();
  struct sq_params p = {0};
  sq_p_text(&p, t->public_id);
  tenant_settings(&p, t);
  sq_p_i64(&p, t->created_at);
  int rc = sq_exec(c, SQL, &p, NULL);
  if (rc != STORE_OK)
    return rc;
  t->id = sqlite3_last_insert_rowid(c->db);
  if ((rc = insert_key(c, t->id, a->key)) != STORE_OK)
    return rc;
  return insert_secret(c, t->id, a->webhook_secret, t->created_at);
}

static int sqlite_tenant_create(struct store *s, struct tenant *t, const struct api_key_new *key,
                                const char *webhook_secret)
{
  struct tenant_create a = {.t = t, .key = key, .webhook_secret = webhook_secret};
  return sq_tx(s, tenant_create_tx, &a);
}

static int sqlite_tenant_get(struct store *s, const char *public_id, struct tenant *out)
{
  static const char SQL[] = "SELECT " TENANT_COLUMNS " FROM tenants WHERE public_id = ?";
  struct sq_params p = {0};
  sq_p_text(&p, public_id);
  return sq_get(s, SQL, &p, row_tenant, out);
}

static int sqlite_tenant_update(struct store *s, const struct tenant *t)
{
  static const char SQL[] =
      "UPDATE tenants SET name = ?, active = ?, webhook_url = ?, webhook_enabled = ?,"
      " ip_allow = ?, monthly_call_quota = ? WHERE public_id = ?";
  struct sq_params p = {0};
  tenant_settings(&p, t);
  sq_p_text(&p, t->public_id);
  return sq_update_row(s, SQL, &p, STORE_NOT_FOUND);
}

struct tenant_list {
  void (*cb)(const struct tenant *t, void *arg);
  void *arg;
};

static int row_tenant_list(sqlite3_stmt *st, void *arg)
{
  struct tenant_list *l = arg;
  struct tenant t;
  read_tenant(st, 0, &t);
  l->cb(&t, l->arg);
  return STORE_OK;
}

static int sqlite_tenant_list(struct store *s, void (*cb)(const struct tenant *t, void *arg),
                              void *arg)
{
  static const char SQL[] = "SELECT " TENANT_COLUMNS " FROM tenants ORDER BY id";
  struct tenant_list l = {.cb = cb, .arg = arg};
  return sq_each(s, SQL, NULL, row_tenant_list, &l);
}

/* ---------------------------------------------------------------- keys */

static int sqlite_key_create(struct store *s, int64_t tenant_id, const struct api_key_new *key)
{
  struct sq_conn *c = sq_acquire(s);
  int rc = insert_key(c, tenant_id, key);
  sq_release(s, c);
  return rc;
}

static int sqlite_key_revoke(struct store *s, const char *key_public_id, int64_t now)
{
  static const char SQL[] =
      "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE public_id = ?";
  struct sq_params p = {0};
  sq_p_i64(&p, now);
  sq_p_text(&p, key_public_id);
  return sq_update_row(s, SQL, &p, STORE_NOT_FOUND);
}

struct key_auth {
  const char *hash_hex;
  struct tenant *tenant;
  bool *revoked;
};

static int row_key_auth(sqlite3_stmt *st, void *arg)
{
  struct key_auth *a = arg;
  const unsigned char *stored = sqlite3_column_text(st, 0);
  /* The index found the row; compare again in constant time so the
   * decision never depends on a short-circuiting comparison. */
  if (stored == NULL || strlen((const char *)stored) != 64 ||
      !crypto_equal(stored, a->hash_hex, 64))
    return STORE_NOT_FOUND;
  *a->revoked = sqlite3_column_int(st, 1) != 0;
  read_tenant(st, 2, a->tenant);
  return STORE_OK;
}

static int sqlite_key_authenticate(struct store *s, const char *hash_hex, struct tenant *tenant,
                                   bool *revoked)
{
  static const char SQL[] = "SELECT k.key_hash, k.revoked_at IS NOT NULL, t.id, t.public_id, t.name,"
                            " t.active, coalesce(t.webhook_url,''), t.webhook_enabled,"
                            " coalesce(t.ip_allow,''), coalesce(t.monthly_call_quota,-1), t.created_at"
                            " FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
                            " WHERE k.key_hash = ?";
  struct key_auth a = {.hash_hex = hash_hex, .tenant = tenant, .revoked = revoked};
  struct sq_params p = {0};
  sq_p_text(&p, hash_hex);
  return sq_get(s, SQL, &p, row_key_auth, &a);
}

/* ------------------------------------------------------ webhook secrets */

struct secret_rotate {
  int64_t tenant_id;
  const char *secret;
  int64_t now, old_expires_at;
};

static int secret_rotate_tx(struct sq_conn *c, void *arg)
{
  static const char SQL[] = "UPDATE webhook_secrets SET expires_at = ?"
                            " WHERE tenant_id = ? AND (expires_at IS NULL OR expires_at > ?)";
  struct secret_rotate *a = arg;
  struct sq_params p = {0};
  sq_p_i64(&p, a->old_expires_at);
  sq_p_i64(&p, a->tenant_id);
  sq_p_i64(&p, a->old_expires_at);
  int rc = sq_exec(c, SQL, &p, NULL);
  if (rc != STORE_OK)
    return rc;
  return insert_secret(c, a->tenant_id, a->secret, a->now);
}

static int sqlite_webhook_secret_rotate(struct store *s, int64_t tenant_id, const char *secret,
                                        int64_t now, int64_t old_expires_at)
{
  struct secret_rotate a = {
      .tenant_id = tenant_id, .secret = secret, .now = now, .old_expires_at = old_expires_at};
  return sq_tx(s, secret_rotate_tx, &a);
}

struct secret_list {
  char (*secrets)[SECRET_MAX];
  size_t cap, *n;
};

static int row_secret(sqlite3_stmt *st, void *arg)
{
  struct secret_list *l = arg;
  if (*l->n >= l->cap)
    return SQ_STOP;
  sq_col_text(st, 0, l->secrets[(*l->n)++], SECRET_MAX);
  return STORE_OK;
}

static int sqlite_webhook_secrets(struct store *s, int64_t tenant_id, int64_t now,
                                  char secrets[][SECRET_MAX], size_t *n)
{
  static const char SQL[] = "SELECT secret FROM webhook_secrets WHERE tenant_id = ?"
                            " AND (expires_at IS NULL OR expires_at > ?) ORDER BY id DESC";
  struct secret_list l = {.secrets = secrets, .cap = *n, .n = n};
  *n = 0;
  struct sq_params p = {0};
  sq_p_i64(&p, tenant_id);
  sq_p_i64(&p, now);
  return sq_each(s, SQL, &p, row_secret, &l);
}

/* --------------------------------------------------------- signing keys */

static int sqlite_signing_key_ensure(struct store *s)
{
  static const char SQL[] = "INSERT INTO signing_keys(kid, secret_hex, created_at)"
                            " SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM signing_keys)";
  uint8_t secret[SIGNING_KEY_LEN];
  char secret_hex[2 * SIGNING_KEY_LEN + 1];
  char kid[32];
  if (crypto_random(secret, sizeof secret) != 0)
    return STORE_ERROR;
  hex_encode(secret, sizeof secret, secret_hex);
  id_new("sk_", 16, kid, sizeof kid);
  struct sq_params p = {0};
  sq_p_text(&p, kid);
  sq_p_text(&p, secret_hex);
  sq_p_i64(&p, time_now_ms());
  return sq_write(s, SQL, &p, NULL);
}

struct key_list {
  struct signing_key *out;
  size_t cap, *n;
};

static int row_signing_key(sqlite3_stmt *st, void *arg)
{
  struct key_list *l = arg;
  if (*l->n >= l->cap)
    return SQ_STOP;
  struct signing_key *k = &l->out[*l->n];
  sq_col_text(st, 0, k->kid, sizeof k->kid);
  const unsigned char *hex = sqlite3_column_text(st, 1);
  if (hex == NULL || strlen((const char *)hex) != 2 * SIGNING_KEY_LEN ||
      hex_decode((const char *)hex, k->secret, SIGNING_KEY_LEN) != 0) {
    log_error("signing key %s is corrupt", k->kid);
    return STORE_ERROR;
  }
  k->created_at = sqlite3_column_int64(st, 2);
  (*l->n)++;
  return STORE_OK;
}

static int sqlite_signing_keys(struct store *s, struct signing_key *out, size_t *n)
{
  static const char SQL[] = "SELECT kid, secret_hex, created_at FROM signing_keys"
                            " ORDER BY created_at DESC, kid";
  struct key_list l = {.out = out, .cap = *n, .n = n};
  *n = 0;
  return sq_each(s, SQL, NULL, row_signing_key, &l);
}

/* --------------------------------------------------------------- backend */

const struct store_backend sqlite_backend = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .migrate = sqlite_migrate,
    .start_background = sqlite_start_background,
    .ping = sqlite_ping,
    .tenant_create = sqlite_tenant_create,
    .tenant_get = sqlite_tenant_get,
    .tenant_update = sqlite_tenant_update,
    .tenant_list = sqlite_tenant_list,
    .key_create = sqlite_key_create,
    .key_revoke = sqlite_key_revoke,
    .key_authenticate = sqlite_key_authenticate,
    .webhook_secret_rotate = sqlite_webhook_secret_rotate,
    .webhook_secrets = sqlite_webhook_secrets,
    .signing_key_ensure = sqlite_signing_key_ensure,
    .signing_keys = sqlite_signing_keys,
    .call_create = sqlite_call_create,
    .calls_created_since = sqlite_calls_created_since,
    .call_get_scored = sqlite_call_get_scored,
    .call_turns = sqlite_call_turns,
    .calls_list = sqlite_calls_list,
    .ticket_consume = sqlite_ticket_consume,
    .call_mark_live = sqlite_call_mark_live,
    .call_append_turn = sqlite_call_append_turn,
    .call_end = sqlite_call_end,
    .calls_end_orphaned = sqlite_calls_end_orphaned,
    .scoring_claim = sqlite_scoring_claim,
    .scoring_complete = sqlite_scoring_complete,
    .outbox_claim = sqlite_outbox_claim,
    .outbox_record_many = sqlite_outbox_record_many,
    .outbox_replay = sqlite_outbox_replay,
};
