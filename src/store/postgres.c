/*
 * postgres.c — the PostgreSQL backend (libpq): connection pool,
 * migrations, and the tenant, API key, webhook secret and signing key
 * tables. Calls and the live loop's writes are in postgres_calls.c,
 * scoring and the webhook outbox in postgres_outbox.c.
 *
 * Several `athos serve` processes share one database: every rule that
 * must hold across them is in the database — primary keys (a spent jti),
 * guarded UPDATEs (a ticket, a lease), row locks with SKIP LOCKED (claims)
 * and transaction-scoped advisory locks (migrations, the first signing
 * key). Transactions run at READ COMMITTED: each atomic step is either one
 * statement or guarded by a unique key or a row lock, which is enough.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/migrations.h"
#include "store/postgres_internal.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/timefmt.h"

#define CONNECT_TIMEOUT_SEC "5"
/* pg_advisory_xact_lock keys (one namespace, one key per purpose). */
#define LOCK_MIGRATE "4242001"
#define LOCK_SIGNING_KEY "4242002"

static inline struct pg_store *pg_store(struct store *s) { return (struct pg_store *)s; }

/* ------------------------------------------------------------- plumbing */

static void conn_drop(struct pg_conn *c)
{
  PQfinish(c->conn);
  c->conn = NULL;
  memset(c->keys, 0, sizeof c->keys); /* prepared statements died with it */
}

/* Connects c; the message (never the URL: it may hold a password) goes to
 * err. */
static int conn_open(struct pg_store *s, struct pg_conn *c, char *err, size_t errlen)
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
    return STORE_UNAVAILABLE;
  }
  /* Quiet NOTICEs (e.g. "relation already exists, skipping"). */
  PGresult *r = PQexec(c->conn, "SET client_min_messages = warning");
  PQclear(r);
  return STORE_OK;
}

int pg_acquire(struct store *base, struct pg_conn **out)
{
  struct pg_store *s = pg_store(base);
  pthread_mutex_lock(&s->mu);
  while (s->nfree == 0)
    pthread_cond_wait(&s->cv, &s->mu);
  struct pg_conn *c = &s->conns[s->free_idx[--s->nfree]];
  pthread_mutex_unlock(&s->mu);
  *out = c;
  if (c->conn != NULL && PQstatus(c->conn) == CONNECTION_OK)
    return STORE_OK;
  char err[512];
  if (conn_open(s, c, err, sizeof err) != STORE_OK) {
    log_warn("postgres: %s", err);
    return STORE_UNAVAILABLE;
  }
  return STORE_OK;
}

void pg_release(struct store *base, struct pg_conn *c)
{
  struct pg_store *s = pg_store(base);
  pthread_mutex_lock(&s->mu);
  s->free_idx[s->nfree++] = (size_t)(c - s->conns);
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

/* Maps a failed result to a store_rc; drops a connection that broke. */
static int pg_fail(struct pg_conn *c, const PGresult *r)
{
  const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c->conn);
  size_t len = strcspn(msg, "\n");
  if (PQstatus(c->conn) != CONNECTION_OK ||
      (state != NULL && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0))) {
    log_warn("postgres unavailable: %.*s", (int)len, msg);
    conn_drop(c);
    return STORE_UNAVAILABLE;
  }
  if (state != NULL && strcmp(state, "23505") == 0)
    return STORE_CONFLICT;
  /* Out of connections or resources, a serialization failure, a deadlock,
   * a lock or statement timeout: worth a retry, not a bug. */
  if (state != NULL && (strncmp(state, "53", 2) == 0 || strcmp(state, "40001") == 0 ||
                        strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0 ||
                        strcmp(state, "57014") == 0)) {
    log_warn("postgres busy: %.*s", (int)len, msg);
    return STORE_UNAVAILABLE;
  }
  log_error("postgres error: %.*s", (int)len, msg);
  return STORE_ERROR;
}

/* Runs sql with no parameters and no prepared statement (transaction
 * control, migrations: may hold several statements). */
static int pg_simple(struct pg_conn *c, const char *sql)
{
  if (c->conn == NULL)
    return STORE_UNAVAILABLE;
  PGresult *r = PQexec(c->conn, sql);
  ExecStatusType st = PQresultStatus(r);
  int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? STORE_OK : pg_fail(c, r);
  PQclear(r);
  return rc;
}

int pg_begin(struct pg_conn *c) { return pg_simple(c, "BEGIN"); }
int pg_commit(struct pg_conn *c) { return pg_simple(c, "COMMIT"); }
void pg_rollback(struct pg_conn *c)
{
  if (c->conn != NULL && PQtransactionStatus(c->conn) != PQTRANS_IDLE)
    pg_simple(c, "ROLLBACK");
}

void pg_p_text(struct pg_params *p, const char *v)
{
  assert(p->n < PG_PARAMS_MAX);
  if (p->n < PG_PARAMS_MAX)
    p->v[p->n++] = v;
}

void pg_p_text_or_null(struct pg_params *p, const char *v)
{
  pg_p_text(p, v != NULL && v[0] != '\0' ? v : NULL);
}

void pg_p_i64(struct pg_params *p, int64_t v)
{
  assert(p->n < PG_PARAMS_MAX);
  if (p->n >= PG_PARAMS_MAX)
    return;
  snprintf(p->buf[p->n], sizeof p->buf[p->n], "%lld", (long long)v);
  p->v[p->n] = p->buf[p->n];
  p->n++;
}

void pg_p_null(struct pg_params *p) { pg_p_text(p, NULL); }

int pg_exec(struct pg_conn *c, const char *sql, const struct pg_params *p, PGresult **res)
{
  *res = NULL;
  if (c->conn == NULL)
    return STORE_UNAVAILABLE;
  /* Open addressing on the SQL string's address, as in the SQLite
   * backend: each call site passes a static string. */
  size_t h = ((uintptr_t)sql >> 3) % PG_STMT_CACHE;
  int slot = -1;
  bool prepared = false;
  for (size_t i = 0; i < PG_STMT_CACHE; i++) {
    size_t k = (h + i) % PG_STMT_CACHE;
    if (c->keys[k] == sql || c->keys[k] == NULL) {
      slot = (int)k;
      prepared = c->keys[k] == sql;
      break;
    }
  }
  if (slot < 0) {
    log_error("postgres statement cache full");
    return STORE_ERROR;
  }
  char name[16];
  snprintf(name, sizeof name, "athos_%d", slot);
  PGresult *r;
  if (!prepared) {
    r = PQprepare(c->conn, name, sql, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      int rc = pg_fail(c, r);
      PQclear(r);
      return rc;
    }
    PQclear(r);
    c->keys[slot] = sql;
  }
  r = PQexecPrepared(c->conn, name, p != NULL ? p->n : 0, p != NULL ? p->v : NULL, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    *res = r;
    return STORE_OK;
  }
  int rc = pg_fail(c, r);
  PQclear(r);
  return rc;
}

int pg_exec_cmd(struct pg_conn *c, const char *sql, const struct pg_params *p, int *changes)
{
  PGresult *r = NULL;
  int rc = pg_exec(c, sql, p, &r);
  if (rc == STORE_OK && changes != NULL)
    *changes = atoi(PQcmdTuples(r));
  PQclear(r);
  return rc;
}

void pg_col_text(const PGresult *r, int row, int col, char *out, size_t cap)
{
  snprintf(out, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

int64_t pg_col_i64(const PGresult *r, int row, int col)
{
  return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

void pg_read_call_row(const PGresult *r, int row, int col, struct call_row *out)
{
  memset(out, 0, sizeof *out);
  out->id = pg_col_i64(r, row, col + 0);
  out->tenant_id = pg_col_i64(r, row, col + 1);
  pg_col_text(r, row, col + 2, out->public_id, sizeof out->public_id);
  pg_col_text(r, row, col + 3, out->session_id, sizeof out->session_id);
  pg_col_text(r, row, col + 4, out->source, sizeof out->source);
  pg_col_text(r, row, col + 5, out->external_user_id, sizeof out->external_user_id);
  pg_col_text(r, row, col + 6, out->external_agency_id, sizeof out->external_agency_id);
  pg_col_text(r, row, col + 7, out->drill_key, sizeof out->drill_key);
  pg_col_text(r, row, col + 8, out->difficulty, sizeof out->difficulty);
  out->persona_index = (int)pg_col_i64(r, row, col + 9);
  pg_col_text(r, row, col + 10, out->persona_name, sizeof out->persona_name);
  out->seed = (uint64_t)pg_col_i64(r, row, col + 11);
  pg_col_text(r, row, col + 12, out->status, sizeof out->status);
  pg_col_text(r, row, col + 13, out->end_reason, sizeof out->end_reason);
  out->created_at = pg_col_i64(r, row, col + 14);
  out->started_at = pg_col_i64(r, row, col + 15);
  out->ended_at = pg_col_i64(r, row, col + 16);
  out->scored_at = pg_col_i64(r, row, col + 17);
  out->updated_at = pg_col_i64(r, row, col + 18);
  out->duration_sec = pg_col_i64(r, row, col + 19);
}

int pg_tx(struct store *s, int (*body)(struct pg_conn *c, void *arg), void *arg)
{
  struct pg_conn *c;
  int rc = pg_acquire(s, &c);
  if (rc != STORE_OK || (rc = pg_begin(c)) != STORE_OK)
    goto out;
  if ((rc = body(c, arg)) != STORE_OK)
    goto fail;
  if ((rc = pg_commit(c)) != STORE_OK)
    goto fail; /* pg_rollback is a no-op if COMMIT ended the transaction */
  goto out;
fail:
  pg_rollback(c);
out:
  pg_release(s, c);
  return rc;
}

int pg_write(struct store *s, const char *sql, const struct pg_params *p, int *changes)
{
  struct pg_conn *c;
  int rc = pg_acquire(s, &c);
  if (rc == STORE_OK)
    rc = pg_exec_cmd(c, sql, p, changes);
  pg_release(s, c);
  return rc;
}

int pg_update_row(struct store *s, const char *sql, const struct pg_params *p, int none_rc)
{
  int changes = 0;
  int rc = pg_write(s, sql, p, &changes);
  return rc == STORE_OK && changes != 1 ? none_rc : rc;
}

int pg_fetch(struct store *s, const char *sql, const struct pg_params *p, PGresult **res)
{
  struct pg_conn *c;
  *res = NULL;
  int rc = pg_acquire(s, &c);
  if (rc == STORE_OK)
    rc = pg_exec(c, sql, p, res);
  pg_release(s, c);
  return rc;
}

int pg_get(struct store *s, const char *sql, const struct pg_params *p,
           int (*read)(const PGresult *r, void *arg), void *arg)
{
  PGresult *r = NULL;
  int rc = pg_fetch(s, sql, p, &r);
  if (rc == STORE_OK)
    rc = PQntuples(r) > 0 ? read(r, arg) : STORE_NOT_FOUND;
  PQclear(r);
  return rc;
}

int pg_row_call(const PGresult *r, void *out)
{
  pg_read_call_row(r, 0, 0, out);
  return STORE_OK;
}

/* ----------------------------------------------------------- open/close */

static void pg_close(struct store *base)
{
  struct pg_store *s = pg_store(base);
  for (size_t i = 0; i < PG_POOL_SIZE; i++)
    conn_drop(&s->conns[i]);
  conn_drop(&s->liveness);
  free(s->url);
  pthread_mutex_destroy(&s->live_mu);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}

/* Connects one connection now (so a wrong URL fails at start-up); the
 * others connect on first use. */
static int pg_open(const char *url, struct store **out, char *err, size_t errlen)
{
  *out = NULL;
  struct pg_store *s = calloc(1, sizeof *s);
  if (s == NULL)
    return STORE_ERROR;
  s->base.backend = &postgres_backend;
  s->url = strdup(url);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  pthread_mutex_init(&s->live_mu, NULL);
  uint32_t node = 0;
  while (node == 0) {
    if (crypto_random(&node, sizeof node) != 0) {
      pg_close(&s->base);
      return STORE_ERROR;
    }
    node &= 0x7fffffffu; /* the second int4 key of pg_advisory_lock */
  }
  s->node = (int32_t)node;
  for (size_t i = 0; i < PG_POOL_SIZE; i++)
    s->free_idx[s->nfree++] = i;
  if (s->url == NULL) {
    pg_close(&s->base);
    return STORE_ERROR;
  }
  int rc = conn_open(s, &s->conns[0], err, errlen);
  if (rc != STORE_OK) {
    pg_close(&s->base);
    return rc;
  }
  *out = &s->base;
  return STORE_OK;
}

int pg_liveness_ensure(struct store *base, int64_t *node)
{
  struct pg_store *s = pg_store(base);
  char err[512], sql[96];
  int rc = STORE_OK;
  pthread_mutex_lock(&s->live_mu);
  *node = s->node;
  /* PQconsumeInput notices a connection the server closed (a restart, a
   * terminated backend): the lock went with it and is taken again. */
  if (s->liveness.conn != NULL && PQconsumeInput(s->liveness.conn) == 1 &&
      PQstatus(s->liveness.conn) == CONNECTION_OK)
    goto out;
  if ((rc = conn_open(s, &s->liveness, err, sizeof err)) != STORE_OK) {
    log_warn("postgres: %s", err);
    goto out;
  }
  snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(" PG_LOCK_NODE_NS ", %ld)", (long)s->node);
  if ((rc = pg_simple(&s->liveness, sql)) != STORE_OK)
    conn_drop(&s->liveness);
out:
  pthread_mutex_unlock(&s->live_mu);
  return rc;
}

/* Nothing runs in the background for PostgreSQL (the server checkpoints). */
static int pg_start_background(struct store *s) { return STORE_OK; }

static int pg_ping(struct store *s)
{
  static const char SQL[] = "SELECT 1";
  return pg_write(s, SQL, NULL, NULL) == STORE_OK ? STORE_OK : STORE_UNAVAILABLE;
}

/* ----------------------------------------------------------- migrations */

static int pg_signing_key_ensure(struct store *s);

static int migrate_tx(struct pg_conn *c, void *arg)
{
  static const char APPLIED[] = "SELECT 1 FROM schema_migrations WHERE version = $1";
  static const char RECORD[] =
      "INSERT INTO schema_migrations(version, name, applied_at) VALUES ($1, $2, $3)";
  int rc = pg_simple(c, "SELECT pg_advisory_xact_lock(" LOCK_MIGRATE ")");
  if (rc != STORE_OK)
    return rc;
  if ((rc = pg_simple(c, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY"
                         " KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")) != STORE_OK)
    return rc;
  for (size_t i = 0; i < store_migrations_count; i++) {
    const struct migration *m = &store_migrations[i];
    struct pg_params p = {0};
    pg_p_i64(&p, m->version);
    PGresult *r = NULL;
    if ((rc = pg_exec(c, APPLIED, &p, &r)) != STORE_OK)
      return rc;
    int applied = PQntuples(r) > 0;
    PQclear(r);
    if (applied)
      continue;
    if ((rc = pg_simple(c, m->sql_postgres != NULL ? m->sql_postgres : m->sql)) != STORE_OK)
      return rc;
    p = (struct pg_params){0};
    pg_p_i64(&p, m->version);
    pg_p_text(&p, m->name);
    pg_p_i64(&p, time_now_ms());
    if ((rc = pg_exec_cmd(c, RECORD, &p, NULL)) != STORE_OK)
      return rc;
    log_info("migration %d (%s) applied", m->version, m->name);
  }
  return STORE_OK;
}

/* All pending versions in one transaction under an advisory lock: two
 * nodes starting together apply each version once (the second waits,
 * then finds it recorded). PostgreSQL DDL is transactional. */
static int pg_migrate(struct store *s)
{
  int rc = pg_tx(s, migrate_tx, NULL);
  if (rc == STORE_OK)
    rc = pg_signing_key_ensure(s);
  return rc;
}

/* -------------------------------------------------------------- tenants */

#define TENANT_COLUMNS                                                              \
  "id, public_id, name, active, coalesce(webhook_url,''), webhook_enabled, "        \
  "coalesce(ip_allow,''), coalesce(monthly_call_quota,-1), created_at"

static void read_tenant(const PGresult *r, int row, int col, struct tenant *t)
{
  memset(t, 0, sizeof *t);
  t->id = pg_col_i64(r, row, col + 0);
  pg_col_text(r, row, col + 1, t->public_id, sizeof t->public_id);
  pg_col_text(r, row, col + 2, t->name, sizeof t->name);
  t->active = pg_col_i64(r, row, col + 3) != 0;
  pg_col_text(r, row, col + 4, t->webhook_url, sizeof t->webhook_url);
  t->webhook_enabled = pg_col_i64(r, row, col + 5) != 0;
  pg_col_text(r, row, col + 6, t->ip_allow, sizeof t->ip_allow);
  t->monthly_call_quota = pg_col_i64(r, row, col + 7);
  t->created_at = pg_col_i64(r, row, col + 8);
}

/* The six settings an operator sets, in the order both the INSERT and the
 * UPDATE list them: name, active, webhook_url, webhook_enabled, ip_allow,
 * monthly_call_quota (NULL when unlimited). */
static void tenant_settings(struct pg_params *p, const struct tenant *t)
{
  pg_p_text(p, t->name);
  pg_p_i64(p, t->active);
  pg_p_text_or_null(p, t->webhook_url);
  pg_p_i64(p, t->webhook_enabled);
  pg_p_text_or_null(p, t->ip_allow);
  if (t->monthly_call_quota >= 0)
    pg_p_i64(p, t->monthly_call_quota);
  else
    pg_p_null(p);
}

static int row_tenant(const PGresult *r, void *out)
{
  read_tenant(r, 0, 0, out);
  return STORE_OK;
}

static int insert_key(struct pg_conn *c, int64_t tenant_id, const struct api_key_new *key)
{
  static const char SQL[] = "INSERT INTO api_keys(public_id, tenant_id, prefix, key_hash,"
                            " created_at) VALUES ($1, $2, $3, $4, $5)";
  struct pg_params p = {0};
  pg_p_text(&p, key->public_id);
  pg_p_i64(&p, tenant_id);
  pg_p_text(&p, key->prefix);
  pg_p_text(&p, key->hash_hex);
  pg_p_i64(&p, time_now_ms());
  return pg_exec_cmd(c, SQL, &p, NULL);
}

static int insert_secret(struct pg_conn *c, int64_t tenant_id, const char *secret, int64_t now)
{
  static const char SQL[] =
      "INSERT INTO webhook_secrets(tenant_id, secret, created_at) VALUES ($1, $2, $3)";
  struct pg_params p = {0};
  pg_p_i64(&p, tenant_id);
  pg_p_text(&p, secret);
  pg_p_i64(&p, now);
  return pg_exec_cmd(c, SQL, &p, NULL);
}

struct tenant_create {
  struct tenant *t;
  const struct api_key_new *key;
  const char *webhook_secret;
};

static int tenant_create_tx(struct pg_conn *c, void *arg)
{
  static const char SQL[] =
      "INSERT INTO tenants(public_id, name, active, webhook_url, webhook_enabled, ip_allow,"
      " monthly_call_quota, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
  struct tenant_create *a = arg;
  struct tenant *t = a->t;
  t->created_at = time_now_ms();
  struct pg_params p = {0};
  pg_p_text(&p, t->public_id);
  tenant_settings(&p, t);
  pg_p_i64(&p, t->created_at);
  PGresult *r = NULL;
  int rc = pg_exec(c, SQL, &p, &r);
  if (rc == STORE_OK)
    t->id = pg_col_i64(r, 0, 0);
  PQclear(r);
  if (rc != STORE_OK)
    return rc;
  if ((rc = insert_key(c, t->id, a->key)) != STORE_OK)
    return rc;
  return insert_secret(c, t->id, a->webhook_secret, t->created_at);
}

static int pg_tenant_create(struct store *s, struct tenant *t, const struct api_key_new *key,
                            const char *webhook_secret)
{
  struct tenant_create a = {.t = t, .key = key, .webhook_secret = webhook_secret};
  return pg_tx(s, tenant_create_tx, &a);
}

static int pg_tenant_get(struct store *s, const char *public_id, struct tenant *out)
{
  static const char SQL[] = "SELECT " TENANT_COLUMNS " FROM tenants WHERE public_id = $1";
  struct pg_params p = {0};
  pg_p_text(&p, public_id);
  return pg_get(s, SQL, &p, row_tenant, out);
}

static int pg_tenant_update(struct store *s, const struct tenant *t)
{
  static const char SQL[] =
      "UPDATE tenants SET name = $1, active = $2, webhook_url = $3, webhook_enabled = $4,"
      " ip_allow = $5, monthly_call_quota = $6 WHERE public_id = $7";
  struct pg_params p = {0};
  tenant_settings(&p, t);
  pg_p_text(&p, t->public_id);
  return pg_update_row(s, SQL, &p, STORE_NOT_FOUND);
}

static int pg_tenant_list(struct store *s, void (*cb)(const struct tenant *t, void *arg),
                          void *arg)
{
  static const char SQL[] = "SELECT " TENANT_COLUMNS " FROM tenants ORDER BY id";
  PGresult *r = NULL;
  int rc = pg_fetch(s, SQL, NULL, &r);
  if (rc == STORE_OK) {
    struct tenant t;
    for (int i = 0; i < PQntuples(r); i++) {
      read_tenant(r, i, 0, &t);
      cb(&t, arg);
    }
  }
  PQclear(r);
  return rc;
}

/* ---------------------------------------------------------------- keys */

static int pg_key_create(struct store *s, int64_t tenant_id, const struct api_key_new *key)
{
  struct pg_conn *c;
  int rc = pg_acquire(s, &c);
  if (rc == STORE_OK)
    rc = insert_key(c, tenant_id, key);
  pg_release(s, c);
  return rc;
}

static int pg_key_revoke(struct store *s, const char *key_public_id, int64_t now)
{
  static const char SQL[] =
      "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE public_id = $2";
  struct pg_params p = {0};
  pg_p_i64(&p, now);
  pg_p_text(&p, key_public_id);
  return pg_update_row(s, SQL, &p, STORE_NOT_FOUND);
}

struct key_auth {
  const char *hash_hex;
  struct tenant *tenant;
  bool *revoked;
};

static int row_key_auth(const PGresult *r, void *arg)
{
  struct key_auth *a = arg;
  const char *stored = PQgetvalue(r, 0, 0);
  /* The index found the row; compare again in constant time. */
  if (strlen(stored) != 64 || strlen(a->hash_hex) != 64 || !crypto_equal(stored, a->hash_hex, 64))
    return STORE_NOT_FOUND;
  *a->revoked = pg_col_i64(r, 0, 1) != 0;
  read_tenant(r, 0, 2, a->tenant);
  return STORE_OK;
}

static int pg_key_authenticate(struct store *s, const char *hash_hex, struct tenant *tenant,
                               bool *revoked)
{
  static const char SQL[] =
      "SELECT k.key_hash, (k.revoked_at IS NOT NULL)::int, t.id, t.public_id, t.name,"
      " t.active, coalesce(t.webhook_url,''), t.webhook_enabled,"
      " coalesce(t.ip_allow,''), coalesce(t.monthly_call_quota,-1), t.created_at"
      " FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash = $1";
  struct key_auth a = {.hash_hex = hash_hex, .tenant = tenant, .revoked = revoked};
  struct pg_params p = {0};
  pg_p_text(&p, hash_hex);
  return pg_get(s, SQL, &p, row_key_auth, &a);
}

/* ------------------------------------------------------ webhook secrets */

struct secret_rotate {
  int64_t tenant_id;
  const char *secret;
  int64_t now, old_expires_at;
};

static int secret_rotate_tx(struct pg_conn *c, void *arg)
{
  static const char SQL[] = "UPDATE webhook_secrets SET expires_at = $1"
                            " WHERE tenant_id = $2 AND (expires_at IS NULL OR expires_at > $1)";
  struct secret_rotate *a = arg;
  struct pg_params p = {0};
  pg_p_i64(&p, a->old_expires_at);
  pg_p_i64(&p, a->tenant_id);
  int rc = pg_exec_cmd(c, SQL, &p, NULL);
  if (rc != STORE_OK)
    return rc;
  return insert_secret(c, a->tenant_id, a->secret, a->now);
}

static int pg_webhook_secret_rotate(struct store *s, int64_t tenant_id, const char *secret,
                                    int64_t now, int64_t old_expires_at)
{
  struct secret_rotate a = {
      .tenant_id = tenant_id, .secret = secret, .now = now, .old_expires_at = old_expires_at};
  return pg_tx(s, secret_rotate_tx, &a);
}

static int pg_webhook_secrets(struct store *s, int64_t tenant_id, int64_t now,
                              char secrets[][SECRET_MAX], size_t *n)
{
  static const char SQL[] = "SELECT secret FROM webhook_secrets WHERE tenant_id = $1"
                            " AND (expires_at IS NULL OR expires_at > $2) ORDER BY id DESC";
  size_t cap = *n;
  *n = 0;
  struct pg_params p = {0};
  pg_p_i64(&p, tenant_id);
  pg_p_i64(&p, now);
  PGresult *r = NULL;
  int rc = pg_fetch(s, SQL, &p, &r);
  if (rc == STORE_OK)
    for (int i = 0; i < PQntuples(r) && *n < cap; i++)
      pg_col_text(r, i, 0, secrets[(*n)++], SECRET_MAX);
  PQclear(r);
  return rc;
}

/* --------------------------------------------------------- signing keys */

struct signing_key_new {
  const char *kid, *secret_hex;
};

static int signing_key_ensure_tx(struct pg_conn *c, void *arg)
{
  static const char SQL[] =
      "INSERT INTO signing_keys(kid, secret_hex, created_at)"
      " SELECT $1::text, $2::text, $3::bigint WHERE NOT EXISTS (SELECT 1 FROM signing_keys)";
  const struct signing_key_new *k = arg;
  int rc = pg_simple(c, "SELECT pg_advisory_xact_lock(" LOCK_SIGNING_KEY ")");
  if (rc != STORE_OK)
    return rc;
  struct pg_params p = {0};
  pg_p_text(&p, k->kid);
  pg_p_text(&p, k->secret_hex);
  pg_p_i64(&p, time_now_ms());
  return pg_exec_cmd(c, SQL, &p, NULL);
}

/* Under an advisory lock, so two nodes migrating a fresh database at the
 * same moment create one key, not two. */
static int pg_signing_key_ensure(struct store *s)
{
  uint8_t secret[SIGNING_KEY_LEN];
  char secret_hex[2 * SIGNING_KEY_LEN + 1];
  char kid[32];
  if (crypto_random(secret, sizeof secret) != 0)
    return STORE_ERROR;
  hex_encode(secret, sizeof secret, secret_hex);
  id_new("sk_", 16, kid, sizeof kid);
  struct signing_key_new k = {.kid = kid, .secret_hex = secret_hex};
  return pg_tx(s, signing_key_ensure_tx, &k);
}

static int pg_signing_keys(struct store *s, struct signing_key *out, size_t *n)
{
  static const char SQL[] = "SELECT kid, secret_hex, created_at FROM signing_keys"
                            " ORDER BY created_at DESC, kid";
  size_t cap = *n;
  *n = 0;
  PGresult *r = NULL;
  int rc = pg_fetch(s, SQL, NULL, &r);
  if (rc == STORE_OK) {
    for (int i = 0; i < PQntuples(r) && *n < cap; i++) {
      struct signing_key *k = &out[*n];
      pg_col_text(r, i, 0, k->kid, sizeof k->kid);
      const char *hex = PQgetvalue(r, i, 1);
      if (strlen(hex) != 2 * SIGNING_KEY_LEN || hex_decode(hex, k->secret, SIGNING_KEY_LEN) != 0) {
        log_error("signing key %s is corrupt", k->kid);
        rc = STORE_ERROR;
        break;
      }
      k->created_at = pg_col_i64(r, i, 2);
      (*n)++;
    }
  }
  PQclear(r);
  return rc;
}

/* --------------------------------------------------------------- backend */

const struct store_backend postgres_backend = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .migrate = pg_migrate,
    .start_background = pg_start_background,
    .ping = pg_ping,
    .tenant_create = pg_tenant_create,
    .tenant_get = pg_tenant_get,
    .tenant_update = pg_tenant_update,
    .tenant_list = pg_tenant_list,
    .key_create = pg_key_create,
    .key_revoke = pg_key_revoke,
    .key_authenticate = pg_key_authenticate,
    .webhook_secret_rotate = pg_webhook_secret_rotate,
    .webhook_secrets = pg_webhook_secrets,
    .signing_key_ensure = pg_signing_key_ensure,
    .signing_keys = pg_signing_keys,
    .call_create = pg_call_create,
    .calls_created_since = pg_calls_created_since,
    .call_get_scored = pg_call_get_scored,
    .call_turns = pg_call_turns,
    .calls_list = pg_calls_list,
    .ticket_consume = pg_ticket_consume,
    .call_mark_live = pg_call_mark_live,
    .call_append_turn = pg_call_append_turn,
    .call_end = pg_call_end,
    .calls_end_orphaned = pg_calls_end_orphaned,
    .scoring_claim = pg_scoring_claim,
    .scoring_complete = pg_scoring_complete,
    .outbox_claim = pg_outbox_claim,
    .outbox_record_many = pg_outbox_record_many,
    .outbox_replay = pg_outbox_replay,
};
