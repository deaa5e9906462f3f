/*
 * test_store_contract.c — the store's contract, run as the SAME cases on
 * every backend: SQLite (a fresh file per case) always, PostgreSQL (a
 * fresh database per case, created through ATHOS_TEST_DATABASE_URL) when
 * that variable is set — scripts/pg-test.sh sets it. Tenants and keys,
 * single-use tokens and tickets (also raced from several threads), calls
 * and their keyset order, the live loop's writes, scoring leases, the
 * webhook outbox, tenant isolation on every query that takes a tenant, and
 * secrets at rest (sealed under a master key, re-encrypted, never opened
 * by the wrong key), read back raw from the database itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>

#include "store/store.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timefmt.h"

/* ------------------------------------------------------------- fixtures */

enum backend { SQLITE, POSTGRES };

struct fixture {
  enum backend backend;
  char url[1200];
  char dir[64];    /* SQLite: the temp directory */
  char dbname[64]; /* PostgreSQL: the throwaway database */
  struct store *s;
};

/* The admin URL with its database name replaced by name. */
static void pg_url_with_db(const char *admin, const char *name, char *out, size_t cap)
{
  const char *scheme = strstr(admin, "://");
  const char *slash = strchr(scheme != NULL ? scheme + 3 : admin, '/');
  const char *query = strchr(admin, '?');
  size_t head = slash != NULL ? (size_t)(slash - admin) : strlen(admin);
  if (query != NULL && (size_t)(query - admin) < head)
    head = (size_t)(query - admin);
  snprintf(out, cap, "%.*s/%s%s", (int)head, admin, name, query != NULL ? query : "");
}

static int pg_admin(const char *sql)
{
  PGconn *c = PQconnectdb(getenv("ATHOS_TEST_DATABASE_URL"));
  int ok = PQstatus(c) == CONNECTION_OK;
  if (ok) {
    PGresult *r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
      fprintf(stderr, "contract: %s", PQerrorMessage(c));
    PQclear(r);
  }
  PQfinish(c);
  return ok ? 0 : -1;
}

static int open_store(struct fixture *f)
{
  char err[512] = "";
  if (store_open(f->url, &f->s, err, sizeof err) != STORE_OK || store_migrate(f->s) != STORE_OK) {
    fprintf(stderr, "contract: cannot open the store: %s\n", err);
    return -1;
  }
  return 0;
}

static int setup_sqlite(void **state)
{
  struct fixture *f = calloc(1, sizeof *f);
  f->backend = SQLITE;
  snprintf(f->dir, sizeof f->dir, "/tmp/athos-contract-XXXXXX");
  if (mkdtemp(f->dir) == NULL)
    return -1;
  snprintf(f->url, sizeof f->url, "sqlite:%s/a.db", f->dir);
  *state = f;
  return open_store(f);
}

static int setup_postgres(void **state)
{
  const char *admin = getenv("ATHOS_TEST_DATABASE_URL");
  struct fixture *f = calloc(1, sizeof *f);
  char sql[128];
  f->backend = POSTGRES;
  *state = f;
  if (admin == NULL)
    return 0; /* the case skips itself */
  id_new("athos_contract_", 12, f->dbname, sizeof f->dbname);
  for (char *p = f->dbname; *p != '\0'; p++) /* identifiers: lower case, no '-' */
    *p = *p == '-' ? '_' : (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->dbname);
  if (pg_admin(sql) != 0)
    return -1;
  pg_url_with_db(admin, f->dbname, f->url, sizeof f->url);
  return open_store(f);
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  char path[160];
  store_close(f->s);
  if (f->backend == SQLITE) {
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
      snprintf(path, sizeof path, "%s/a.db%s", f->dir, suffix[i]);
      unlink(path);
    }
    rmdir(f->dir);
  } else if (f->dbname[0] != '\0') {
    snprintf(path, sizeof path, "DROP DATABASE %s WITH (FORCE)", f->dbname);
    pg_admin(path);
  }
  free(f);
  return 0;
}

/* The fixture's store; skips the case when its backend is not configured. */
static struct store *store_of(void **state)
{
  struct fixture *f = *state;
  if (f->s == NULL)
    skip();
  return f->s;
}

/* -------------------------------------------------------------- helpers */

static void hex_of(const char *seed, char out[65])
{
  /* Distinct 64-char hex strings from a seed (not a real hash: the store
   * only needs unique 64-character lookups). */
  unsigned h = 2166136261u;
  for (const char *p = seed; *p != '\0'; p++)
    h = (h ^ (unsigned char)*p) * 16777619u;
  for (int i = 0; i < 8; i++)
    snprintf(out + 8 * i, 9, "%08x", h * (unsigned)(i + 1) + (unsigned)i);
}

static void make_tenant(struct store *s, const char *name, const char *webhook_url,
                        struct tenant *t, struct api_key_new *key)
{
  struct api_key_new k = {0};
  memset(t, 0, sizeof *t);
  id_new("ten_", 16, t->public_id, sizeof t->public_id);
  snprintf(t->name, sizeof t->name, "%s", name);
  t->active = true;
  t->webhook_enabled = true;
  t->monthly_call_quota = -1;
  snprintf(t->webhook_url, sizeof t->webhook_url, "%s", webhook_url);
  id_new("key_", 16, k.public_id, sizeof k.public_id);
  snprintf(k.prefix, sizeof k.prefix, "ak_test");
  hex_of(k.public_id, k.hash_hex);
  assert_int_equal(store_tenant_create(s, t, &k, "whsec_first"), STORE_OK);
  assert_true(t->id > 0);
  if (key != NULL)
    *key = k;
}

static void new_call(int64_t tenant_id, struct call_new *c)
{
  memset(c, 0, sizeof *c);
  c->tenant_id = tenant_id;
  id_new("jti_", 16, c->jti, sizeof c->jti);
  c->created_at = time_now_ms();
  c->token_expires_at = c->created_at + 60000;
  id_new(CALL_ID_PREFIX, CALL_ID_RANDOM_CHARS, c->public_id, sizeof c->public_id);
  id_new("ext_", 16, c->session_id, sizeof c->session_id);
  snprintf(c->external_user_id, sizeof c->external_user_id, "user-1");
  snprintf(c->drill_key, sizeof c->drill_key, "cold_call");
  snprintf(c->difficulty, sizeof c->difficulty, "easy");
  snprintf(c->persona_name, sizeof c->persona_name, "Dana");
  c->seed = 42;
  hex_of(c->public_id, c->ticket_hash_hex);
  c->ticket_expires_at = c->created_at + 60000;
}

/* Creates a call, spends its ticket and marks it live at `now`, with two
 * turns: the persona's at 0 and the user's at user_ms; returns its row. */
static void live_call(struct store *s, int64_t tenant_id, int64_t now, int64_t user_ms,
                      struct call_new *c, struct call_row *row)
{
  new_call(tenant_id, c);
  assert_int_equal(store_call_create(s, c), STORE_OK);
  assert_int_equal(store_ticket_consume(s, c->ticket_hash_hex, now, row), STORE_OK);
  assert_int_equal(store_call_mark_live(s, row->id, now), STORE_OK);
  assert_int_equal(store_call_append_turn(s, row->id, 0, "persona", "Hello?", 0), STORE_OK);
  assert_int_equal(store_call_append_turn(s, row->id, 1, "user", "Hi", user_ms), STORE_OK);
}

/* live_call, then `ended` at ended_at. */
static void ended_call(struct store *s, int64_t tenant_id, int64_t ended_at, struct call_new *c,
                       struct call_row *row)
{
  live_call(s, tenant_id, time_now_ms(), 900, c, row);
  assert_int_equal(store_call_end(s, row->id, ended_at, 3, "completed"), STORE_OK);
}

/* Claims the one ended call and scores it. */
static void score_next(struct store *s, const struct webhook_event_new *ev, struct call_row *row)
{
  int64_t now = time_now_ms();
  assert_int_equal(store_scoring_claim(s, now, now + 30000, row), STORE_OK);
  assert_int_equal(
      store_scoring_complete_leased(s, row->id, now + 30000, "{\"overall\":7}", now, ev), STORE_OK);
}

/* ------------------------------------------------- raw database access */

/* The first column of every row of sql, read past the store (the test
 * looks at what is really on disk), joined with '\n' into out. */
static void raw_column(struct fixture *f, const char *sql, char *out, size_t cap)
{
  size_t n = 0;
  out[0] = '\0';
  if (f->backend == SQLITE) {
    char path[160];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof path, "%s/a.db", f->dir);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW && n < cap)
      n += (size_t)snprintf(out + n, cap - n, "%s\n", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return;
  }
  PGconn *c = PQconnectdb(f->url);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  PGresult *r = PQexec(c, sql);
  int status = PQresultStatus(r);
  assert_true(status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK);
  for (int i = 0; status == PGRES_TUPLES_OK && i < PQntuples(r) && n < cap; i++)
    n += (size_t)snprintf(out + n, cap - n, "%s\n", PQgetvalue(r, i, 0));
  PQclear(r);
  PQfinish(c);
}

/* ---------------------------------------------------------------- cases */

static void list_tenant(const struct tenant *t, void *arg)
{
  int *n = arg;
  (*n)++;
  assert_true(t->id > 0);
}

static void test_tenants(void **state)
{
  struct store *s = store_of(state);
  struct tenant a, b, got;
  make_tenant(s, "Acme", "", &a, NULL);
  make_tenant(s, "Beta", "https://hooks.example/b", &b, NULL);
  assert_int_equal(store_tenant_get(s, a.public_id, &got), STORE_OK);
  assert_int_equal(got.id, a.id);
  assert_string_equal(got.name, "Acme");
  assert_string_equal(got.webhook_url, "");
  assert_int_equal(got.monthly_call_quota, -1);
  assert_true(got.active);

  got.active = false;
  got.monthly_call_quota = 100;
  snprintf(got.ip_allow, sizeof got.ip_allow, "10.0.0.0/8");
  assert_int_equal(store_tenant_update(s, &got), STORE_OK);
  assert_int_equal(store_tenant_get(s, a.public_id, &got), STORE_OK);
  assert_false(got.active);
  assert_int_equal(got.monthly_call_quota, 100);
  assert_string_equal(got.ip_allow, "10.0.0.0/8");
  /* B is untouched by A's update */
  assert_int_equal(store_tenant_get(s, b.public_id, &got), STORE_OK);
  assert_true(got.active);
  assert_string_equal(got.webhook_url, "https://hooks.example/b");

  assert_int_equal(store_tenant_get(s, "ten_nope", &got), STORE_NOT_FOUND);
  snprintf(got.public_id, sizeof got.public_id, "ten_nope");
  assert_int_equal(store_tenant_update(s, &got), STORE_NOT_FOUND);
  int n = 0;
  assert_int_equal(store_tenant_list(s, list_tenant, &n), STORE_OK);
  assert_int_equal(n, 2);
}

static void test_keys(void **state)
{
  struct store *s = store_of(state);
  struct tenant a, b, got;
  struct api_key_new ka, kb, k2;
  bool revoked = true;
  char kid[ID_MAX];
  int64_t gen0 = -1, gen = -1;
  make_tenant(s, "Acme", "", &a, &ka);
  make_tenant(s, "Beta", "", &b, &kb);
  assert_int_equal(store_auth_generation(s, &gen0), STORE_OK);
  assert_int_equal(store_key_authenticate(s, ka.hash_hex, &got, &revoked, kid), STORE_OK);
  assert_int_equal(got.id, a.id);
  assert_string_equal(kid, ka.public_id);
  assert_false(revoked);
  assert_int_equal(store_key_authenticate(s, kb.hash_hex, &got, &revoked, kid), STORE_OK);
  assert_int_equal(got.id, b.id);

  k2 = ka;
  id_new("key_", 16, k2.public_id, sizeof k2.public_id);
  assert_int_equal(store_key_create(s, a.id, &k2), STORE_CONFLICT); /* same hash */
  hex_of(k2.public_id, k2.hash_hex);
  assert_int_equal(store_key_create(s, a.id, &k2), STORE_OK);

  /* a token minted by ka redeems while ka is in force, not once revoked */
  struct call_new c;
  new_call(a.id, &c);
  snprintf(c.key_id, sizeof c.key_id, "%s", ka.public_id);
  assert_int_equal(store_call_create(s, &c), STORE_OK);
  new_call(a.id, &c);
  snprintf(c.key_id, sizeof c.key_id, "%s", kb.public_id); /* another tenant's key */
  assert_int_equal(store_call_create(s, &c), STORE_REVOKED);
  snprintf(c.key_id, sizeof c.key_id, "%s", ka.public_id);

  assert_int_equal(store_auth_generation(s, &gen), STORE_OK);
  assert_int_equal(gen, gen0); /* creating keys changes no answer */
  assert_int_equal(store_key_revoke(s, ka.public_id, time_now_ms()), STORE_OK);
  assert_int_equal(store_auth_generation(s, &gen), STORE_OK);
  assert_true(gen > gen0);
  assert_int_equal(store_call_create(s, &c), STORE_REVOKED);
  assert_int_equal(store_key_revoke(s, ka.public_id, time_now_ms()), STORE_OK); /* twice */
  assert_int_equal(store_key_revoke(s, "key_nope", time_now_ms()), STORE_NOT_FOUND);
  gen0 = gen;
  a.active = false;
  assert_int_equal(store_tenant_update(s, &a), STORE_OK);
  assert_int_equal(store_auth_generation(s, &gen), STORE_OK);
  assert_true(gen > gen0);
  assert_int_equal(store_key_authenticate(s, ka.hash_hex, &got, &revoked, kid), STORE_OK);
  assert_true(revoked);
  assert_int_equal(store_key_authenticate(s, k2.hash_hex, &got, &revoked, kid), STORE_OK);
  assert_false(revoked);
  assert_int_equal(got.id, a.id);
  char unknown[65];
  hex_of("unknown", unknown);
  assert_int_equal(store_key_authenticate(s, unknown, &got, &revoked, kid), STORE_NOT_FOUND);
}

static void test_secrets_and_signing_keys(void **state)
{
  struct store *s = store_of(state);
  struct tenant a, b;
  char secrets[WEBHOOK_SECRETS_MAX][SECRET_MAX];
  size_t n = WEBHOOK_SECRETS_MAX;
  make_tenant(s, "Acme", "", &a, NULL);
  make_tenant(s, "Beta", "", &b, NULL);
  int64_t now = time_now_ms();
  assert_int_equal(store_webhook_secret_rotate(s, a.id, "whsec_second", now, now + 1000), STORE_OK);
  assert_int_equal(store_webhook_secrets(s, a.id, now, secrets, &n), STORE_OK);
  assert_int_equal(n, 2);
  assert_string_equal(secrets[0], "whsec_second"); /* newest first */
  assert_string_equal(secrets[1], "whsec_first");
  n = WEBHOOK_SECRETS_MAX;
  assert_int_equal(store_webhook_secrets(s, a.id, now + 2000, secrets, &n), STORE_OK);
  assert_int_equal(n, 1); /* the old one expired */
  assert_string_equal(secrets[0], "whsec_second");
  n = 1; /* capacity is respected */
  assert_int_equal(store_webhook_secrets(s, a.id, now, secrets, &n), STORE_OK);
  assert_int_equal(n, 1);
  /* B's secrets are B's */
  n = WEBHOOK_SECRETS_MAX;
  assert_int_equal(store_webhook_secrets(s, b.id, now + 2000, secrets, &n), STORE_OK);
  assert_int_equal(n, 1);
  assert_string_equal(secrets[0], "whsec_first");

  struct signing_key keys[4];
  size_t nk = 4;
  assert_int_equal(store_migrate(s), STORE_OK); /* idempotent: still one key */
  assert_int_equal(store_signing_keys(s, keys, &nk), STORE_OK);
  assert_int_equal(nk, 1);
  assert_true(strncmp(keys[0].kid, "sk_", 3) == 0);
  assert_int_equal(store_ping(s), STORE_OK);
}

static const uint8_t KEK_A[MASTER_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const uint8_t KEK_B[MASTER_KEY_LEN] = {42, 41, 40, 39, 38};

/* Every stored secret, raw: the webhook secrets, then the signing keys. */
static void raw_secrets(void **state, char *out, size_t cap)
{
  char keys[2048];
  raw_column(*state, "SELECT secret FROM webhook_secrets ORDER BY id", out, cap);
  raw_column(*state, "SELECT secret_hex FROM signing_keys ORDER BY kid", keys, sizeof keys);
  strncat(out, keys, cap - strlen(out) - 1);
}

/* The first webhook secret of tenant_id valid now ("" when it fails). */
static int first_secret(struct store *s, int64_t tenant_id, char out[SECRET_MAX])
{
  char secrets[WEBHOOK_SECRETS_MAX][SECRET_MAX];
  size_t n = WEBHOOK_SECRETS_MAX;
  int rc = store_webhook_secrets(s, tenant_id, time_now_ms(), secrets, &n);
  snprintf(out, SECRET_MAX, "%s", rc == STORE_OK && n > 0 ? secrets[0] : "");
  return rc;
}

static void test_secrets_sealed_at_rest(void **state)
{
  struct store *s = store_of(state);
  struct tenant a;
  struct signing_key before[4], after[4];
  struct secrets_count count;
  size_t n = 4, na = 4, rewritten = 0;
  char raw[4096], got[SECRET_MAX], err[256];
  /* migrate made the signing key without a master key: a legacy row */
  assert_int_equal(store_signing_keys(s, before, &n), STORE_OK);
  store_set_master_key(s, KEK_A);
  assert_int_equal(store_secrets_check(s, &count, err, sizeof err), STORE_OK);
  assert_int_equal(count.plain, 1);
  assert_int_equal(count.sealed, 0);
  make_tenant(s, "Acme", "", &a, NULL); /* its secret is written sealed */
  assert_int_equal(store_secrets_rekey(s, KEK_A, &rewritten, err, sizeof err), STORE_OK);
  assert_int_equal(rewritten, 2);
  assert_int_equal(store_secrets_check(s, &count, err, sizeof err), STORE_OK);
  assert_int_equal(count.plain, 0);
  assert_int_equal(count.sealed, 2);

  raw_secrets(state, raw, sizeof raw);
  assert_null(strstr(raw, "whsec_first"));
  char hex[2 * SIGNING_KEY_LEN + 1];
  for (size_t i = 0; i < SIGNING_KEY_LEN; i++)
    snprintf(hex + 2 * i, 3, "%02x", before[0].secret[i]);
  assert_null(strstr(raw, hex));
  assert_non_null(strstr(raw, "enc1:"));

  /* read back as they were written */
  assert_int_equal(first_secret(s, a.id, got), STORE_OK);
  assert_string_equal(got, "whsec_first");
  assert_int_equal(store_signing_keys(s, after, &na), STORE_OK);
  assert_int_equal(na, 1);
  assert_memory_equal(after[0].secret, before[0].secret, SIGNING_KEY_LEN);
}

static void test_secrets_wrong_key_and_rotation(void **state)
{
  struct fixture *f = *state;
  struct store *s = store_of(state);
  struct tenant a, b;
  struct secrets_count count;
  size_t rewritten = 0;
  char raw[4096], got[SECRET_MAX], err[256];
  store_set_master_key(s, KEK_A);
  make_tenant(s, "Acme", "", &a, NULL);
  make_tenant(s, "Beta", "", &b, NULL);
  int64_t now = time_now_ms();
  assert_int_equal(store_webhook_secret_rotate(s, a.id, "whsec_second", now, now + 60000),
                   STORE_OK);

  /* the wrong key, or none, opens nothing and says so */
  store_set_master_key(s, KEK_B);
  assert_int_equal(store_secrets_check(s, &count, err, sizeof err), STORE_ERROR);
  assert_non_null(strstr(err, "master key does not decrypt"));
  assert_int_not_equal(first_secret(s, a.id, got), STORE_OK);
  store_set_master_key(s, NULL);
  assert_int_equal(store_secrets_check(s, &count, err, sizeof err), STORE_ERROR);
  assert_non_null(strstr(err, "no master key"));
  /* a failed rekey changes nothing */
  assert_int_equal(store_secrets_rekey(s, KEK_B, &rewritten, err, sizeof err), STORE_ERROR);

  /* rotation: A -> B re-encrypts every value; then only B opens them */
  store_set_master_key(s, KEK_A);
  raw_secrets(state, raw, sizeof raw);
  char before[4096];
  snprintf(before, sizeof before, "%s", raw);
  assert_int_equal(store_secrets_rekey(s, KEK_B, &rewritten, err, sizeof err), STORE_OK);
  assert_int_equal(rewritten, 4); /* 3 webhook secrets, 1 signing key */
  raw_secrets(state, raw, sizeof raw);
  assert_string_not_equal(raw, before);
  assert_null(strstr(raw, "whsec_"));
  assert_int_equal(first_secret(s, a.id, got), STORE_OK);
  assert_string_equal(got, "whsec_second");
  assert_int_equal(first_secret(s, b.id, got), STORE_OK);
  assert_string_equal(got, "whsec_first");
  store_set_master_key(s, KEK_A);
  assert_int_equal(store_secrets_check(s, &count, err, sizeof err), STORE_ERROR);
  store_set_master_key(s, KEK_B);
  assert_int_equal(store_secrets_check(s, &count, err, sizeof err), STORE_OK);
  assert_int_equal(count.sealed, 4);

  /* a sealed value is bound to its row: A's secret copied to B does not
   * open as B's */
  raw_column(f,
             "UPDATE webhook_secrets SET secret = (SELECT secret FROM webhook_secrets"
             " ORDER BY id DESC LIMIT 1) WHERE id = (SELECT min(id) FROM webhook_secrets"
             " WHERE tenant_id = (SELECT max(tenant_id) FROM webhook_secrets))",
             raw, sizeof raw);
  assert_int_not_equal(first_secret(s, b.id, got), STORE_OK);

  /* back to plaintext (no key) shows the check reads what is on disk */
  raw_column(f,
             "DELETE FROM webhook_secrets WHERE tenant_id = (SELECT max(tenant_id) FROM"
             " webhook_secrets)",
             raw, sizeof raw);
  assert_int_equal(store_secrets_rekey(s, NULL, &rewritten, err, sizeof err), STORE_OK);
  raw_secrets(state, raw, sizeof raw);
  assert_non_null(strstr(raw, "whsec_second"));
  assert_null(strstr(raw, "enc1:"));
}

static void test_call_create_single_use(void **state)
{
  struct store *s = store_of(state);
  struct tenant a, b;
  struct call_new c, again;
  make_tenant(s, "Acme", "", &a, NULL);
  make_tenant(s, "Beta", "", &b, NULL);
  new_call(a.id, &c);
  assert_int_equal(store_call_create(s, &c), STORE_OK);
  new_call(a.id, &again);
  snprintf(again.jti, sizeof again.jti, "%s", c.jti);
  assert_int_equal(store_call_create(s, &again), STORE_CONFLICT); /* spent */
  int64_t count = -1;
  assert_int_equal(store_calls_created_since(s, a.id, 0, &count), STORE_OK);
  assert_int_equal(count, 1);
  assert_int_equal(store_calls_created_since(s, b.id, 0, &count), STORE_OK);
  assert_int_equal(count, 0);
  assert_int_equal(store_calls_created_since(s, a.id, c.created_at + 1, &count), STORE_OK);
  assert_int_equal(count, 0);
}

/* ---- races: N threads at once, each with its own call, one shared key */

#define RACERS 6

struct race {
  struct store *s;
  pthread_barrier_t *go;
  struct call_new call;
  const char *ticket;
  int rc;
};

static void *redeem_racer(void *arg)
{
  struct race *r = arg;
  pthread_barrier_wait(r->go);
  r->rc = store_call_create(r->s, &r->call);
  return NULL;
}

static void *ticket_racer(void *arg)
{
  struct race *r = arg;
  struct call_row row;
  pthread_barrier_wait(r->go);
  r->rc = store_ticket_consume(r->s, r->ticket, time_now_ms(), &row);
  return NULL;
}

static void *claim_racer(void *arg)
{
  struct race *r = arg;
  struct call_row row;
  int64_t now = time_now_ms();
  pthread_barrier_wait(r->go);
  r->rc = store_scoring_claim(r->s, now, now + 30000, &row);
  return NULL;
}

/* Runs fn on RACERS threads released together; counts the outcomes. */
static void race(struct race *r, void *(*fn)(void *), int *ok, int *other, int other_rc)
{
  pthread_t th[RACERS];
  pthread_barrier_t go;
  pthread_barrier_init(&go, NULL, RACERS);
  for (int i = 0; i < RACERS; i++) {
    r[i].go = &go;
    assert_int_equal(pthread_create(&th[i], NULL, fn, &r[i]), 0);
  }
  *ok = *other = 0;
  for (int i = 0; i < RACERS; i++) {
    pthread_join(th[i], NULL);
    if (r[i].rc == STORE_OK)
      (*ok)++;
    else if (r[i].rc == other_rc)
      (*other)++;
  }
  pthread_barrier_destroy(&go);
}

static void test_concurrent_redeem_and_ticket(void **state)
{
  struct store *s = store_of(state);
  struct tenant a;
  struct race r[RACERS];
  int ok, conflict;
  make_tenant(s, "Acme", "", &a, NULL);
  /* one token (jti) redeemed by RACERS requests at once: one call */
  for (int i = 0; i < RACERS; i++) {
    r[i] = (struct race){.s = s};
    new_call(a.id, &r[i].call);
    snprintf(r[i].call.jti, sizeof r[i].call.jti, "jti_shared");
  }
  race(r, redeem_racer, &ok, &conflict, STORE_CONFLICT);
  assert_int_equal(ok, 1);
  assert_int_equal(conflict, RACERS - 1);
  int64_t count = 0;
  assert_int_equal(store_calls_created_since(s, a.id, 0, &count), STORE_OK);
  assert_int_equal(count, 1);

  /* that call's ticket spent by RACERS connections at once: one live call */
  const char *ticket = NULL;
  for (int i = 0; i < RACERS; i++)
    if (r[i].rc == STORE_OK)
      ticket = r[i].call.ticket_hash_hex;
  assert_non_null(ticket);
  char shared[65];
  snprintf(shared, sizeof shared, "%s", ticket);
  for (int i = 0; i < RACERS; i++)
    r[i] = (struct race){.s = s, .ticket = shared};
  race(r, ticket_racer, &ok, &conflict, STORE_CONFLICT);
  assert_int_equal(ok, 1);
  assert_int_equal(conflict, RACERS - 1);
}

/* Quota 2, six tokens (six jtis) redeemed at once: exactly two calls; the
 * four refused tokens are not spent, so they still redeem once a call is
 * reaped out of the count. */
static void test_quota_race_and_reap(void **state)
{
  struct store *s = store_of(state);
  struct tenant a;
  struct race r[RACERS];
  int ok, over;
  make_tenant(s, "Acme", "", &a, NULL);
  a.monthly_call_quota = 2;
  assert_int_equal(store_tenant_update(s, &a), STORE_OK);
  int64_t month = time_month_start(time_now_ms());
  for (int i = 0; i < RACERS; i++) {
    r[i] = (struct race){.s = s};
    new_call(a.id, &r[i].call);
    r[i].call.quota_since = month;
  }
  race(r, redeem_racer, &ok, &over, STORE_QUOTA);
  assert_int_equal(ok, 2);
  assert_int_equal(over, RACERS - 2);
  int64_t count = 0;
  assert_int_equal(store_calls_created_since(s, a.id, month, &count), STORE_OK);
  assert_int_equal(count, 2);

  /* nothing is reaped while the tickets live */
  int64_t now = time_now_ms(), n = -1;
  assert_int_equal(store_calls_reap_unstarted(s, now, now, &n), STORE_OK);
  assert_int_equal(n, 0);
  /* one of the two starts; past the tickets' life the other is reaped */
  struct call_row row;
  int started = 0;
  while (r[started].rc != STORE_OK)
    started++;
  assert_int_equal(store_ticket_consume(s, r[started].call.ticket_hash_hex, now, &row), STORE_OK);
  assert_int_equal(store_call_mark_live(s, row.id, now), STORE_OK);
  int64_t later = now + 120000;
  assert_int_equal(store_calls_reap_unstarted(s, later, later, &n), STORE_OK);
  assert_int_equal(n, 1);
  assert_int_equal(store_calls_created_since(s, a.id, month, &count), STORE_OK);
  assert_int_equal(count, 1);
  /* the reaped call is not scored and its ticket is dead */
  assert_int_equal(store_scoring_claim(s, later, later + 30000, &row), STORE_NOT_FOUND);
  for (int i = 0; i < RACERS; i++)
    if (r[i].rc == STORE_OK && i != started)
      assert_int_equal(store_ticket_consume(s, r[i].call.ticket_hash_hex, now, &row),
                       STORE_CONFLICT);

  /* a refused token was not burned: it redeems into the freed place */
  for (int i = 0; i < RACERS; i++)
    if (r[i].rc == STORE_QUOTA) {
      assert_int_equal(store_call_create(s, &r[i].call), STORE_OK);
      new_call(a.id, &r[i].call);
      r[i].call.quota_since = month;
      assert_int_equal(store_call_create(s, &r[i].call), STORE_QUOTA);
      break;
    }
  /* an unlimited tenant is never refused, and quota_since scopes the count */
  a.monthly_call_quota = -1;
  assert_int_equal(store_tenant_update(s, &a), STORE_OK);
  new_call(a.id, &r[0].call);
  assert_int_equal(store_call_create(s, &r[0].call), STORE_OK);
  a.monthly_call_quota = 1;
  assert_int_equal(store_tenant_update(s, &a), STORE_OK);
  new_call(a.id, &r[0].call);
  r[0].call.quota_since = time_now_ms() + 1000;
  assert_int_equal(store_call_create(s, &r[0].call), STORE_OK);
}

static void test_ticket_and_live_writes(void **state)
{
  struct store *s = store_of(state);
  struct tenant a;
  struct call_new c, expired;
  struct call_row row, again;
  make_tenant(s, "Acme", "", &a, NULL);
  new_call(a.id, &c);
  assert_int_equal(store_call_create(s, &c), STORE_OK);
  char unknown[65];
  hex_of("no such ticket", unknown);
  assert_int_equal(store_ticket_consume(s, unknown, c.created_at, &row), STORE_NOT_FOUND);
  assert_int_equal(store_ticket_consume(s, c.ticket_hash_hex, c.created_at, &row), STORE_OK);
  assert_string_equal(row.public_id, c.public_id);
  assert_int_equal(row.tenant_id, a.id);
  assert_string_equal(row.status, "created");
  assert_string_equal(row.external_agency_id, ""); /* NULL reads as "" */
  assert_int_equal(row.seed, 42);
  assert_int_equal(store_ticket_consume(s, c.ticket_hash_hex, c.created_at, &again),
                   STORE_CONFLICT);

  new_call(a.id, &expired);
  expired.ticket_expires_at = expired.created_at - 1;
  assert_int_equal(store_call_create(s, &expired), STORE_OK);
  assert_int_equal(store_ticket_consume(s, expired.ticket_hash_hex, expired.created_at, &again),
                   STORE_EXPIRED);

  assert_int_equal(store_call_mark_live(s, row.id, c.created_at + 10), STORE_OK);
  assert_int_equal(store_call_mark_live(s, row.id, c.created_at + 10), STORE_CONFLICT);
  assert_int_equal(store_call_append_turn(s, row.id, 0, "persona", "Hello?", 0), STORE_OK);
  assert_int_equal(store_call_append_turn(s, row.id, 1, "user", "Hi, it's Sam.", 1500), STORE_OK);
  assert_int_equal(store_call_append_turn(s, row.id, 1, "user", "twice", 1600), STORE_CONFLICT);
  assert_int_equal(store_call_end(s, row.id, c.created_at + 5000, 5, "completed"), STORE_OK);
  assert_int_equal(store_call_end(s, row.id, c.created_at + 6000, 6, "completed"), STORE_CONFLICT);
}

struct turn_log {
  int n;
  char text[256];
};

static int log_turn(const struct call_turn *t, void *arg)
{
  struct turn_log *l = arg;
  assert_int_equal(t->idx, l->n);
  size_t len = strlen(l->text);
  snprintf(l->text + len, sizeof l->text - len, "%s:%s@%lld;", t->role, t->content,
           (long long)t->at_ms);
  l->n++;
  return 0;
}

static void test_scoring_leases(void **state)
{
  struct store *s = store_of(state);
  struct tenant a, b;
  struct call_new c;
  struct call_row row, claimed, got;
  char *score = NULL;
  make_tenant(s, "Acme", "", &a, NULL);
  make_tenant(s, "Beta", "", &b, NULL);
  int64_t now = time_now_ms();
  assert_int_equal(store_scoring_claim(s, now, now + 1000, &claimed), STORE_NOT_FOUND);
  live_call(s, a.id, now, 900, &c, &row);
  assert_int_equal(store_call_end(s, row.id, now + 2000, 2, "completed"), STORE_OK);
  assert_int_equal(store_call_get_scored(s, a.id, c.public_id, &got, &score), STORE_NOT_FOUND);
  assert_null(score);

  assert_int_equal(store_scoring_claim(s, now, now + 1000, &claimed), STORE_OK);
  assert_int_equal(claimed.id, row.id);
  assert_string_equal(claimed.status, "scoring");
  /* leased: nobody else gets it until the lease runs out */
  assert_int_equal(store_scoring_claim(s, now + 500, now + 1500, &got), STORE_NOT_FOUND);
  /* the lease ran out: another worker takes it over; the first one's
   * completion no longer counts */
  assert_int_equal(store_scoring_claim(s, now + 1001, now + 9000, &got), STORE_OK);
  assert_int_equal(got.id, row.id);
  assert_int_equal(store_scoring_complete_leased(s, row.id, now + 1000, "{}", now, NULL),
                   STORE_CONFLICT);
  assert_int_equal(
      store_scoring_complete_leased(s, row.id, now + 9000, "{\"overall\":8}", now + 3000, NULL),
      STORE_OK);
  assert_int_equal(store_scoring_complete(s, row.id, "{}", now + 3000, NULL), STORE_CONFLICT);

  assert_int_equal(store_call_get_scored(s, a.id, c.public_id, &got, &score), STORE_OK);
  assert_string_equal(score, "{\"overall\":8}");
  free(score);
  score = NULL;
  assert_string_equal(got.status, "scored");
  assert_int_equal(got.ended_at, now + 2000);
  assert_int_equal(got.scored_at, now + 3000);
  assert_int_equal(got.duration_sec, 2);
  assert_string_equal(got.end_reason, "completed");
  /* isolation: B cannot read A's call */
  assert_int_equal(store_call_get_scored(s, b.id, c.public_id, &got, &score), STORE_NOT_FOUND);
  assert_null(score);

  struct turn_log l = {0};
  assert_int_equal(store_call_turns(s, row.id, log_turn, &l), STORE_OK);
  assert_int_equal(l.n, 2);
  assert_string_equal(l.text, "persona:Hello?@0;user:Hi@900;");
}

static void test_concurrent_claims(void **state)
{
  struct store *s = store_of(state);
  struct tenant a;
  struct call_new c;
  struct call_row row;
  struct race r[RACERS];
  int ok, none;
  make_tenant(s, "Acme", "", &a, NULL);
  ended_call(s, a.id, time_now_ms(), &c, &row);
  ended_call(s, a.id, time_now_ms(), &c, &row);
  for (int i = 0; i < RACERS; i++)
    r[i] = (struct race){.s = s};
  race(r, claim_racer, &ok, &none, STORE_NOT_FOUND);
  assert_int_equal(ok, 2); /* each ended call claimed once */
  assert_int_equal(none, RACERS - 2);
}

struct listed {
  int n;
  char ids[8][ID_MAX];
  int64_t ended[8];
};

static int list_call(const struct call_row *c, void *arg)
{
  struct listed *l = arg;
  assert_true(l->n < 8);
  snprintf(l->ids[l->n], ID_MAX, "%s", c->public_id);
  l->ended[l->n++] = c->ended_at;
  return 0;
}

static void test_list_order_and_cursor(void **state)
{
  struct store *s = store_of(state);
  struct tenant a, b;
  struct call_new c;
  struct call_row row;
  make_tenant(s, "Acme", "", &a, NULL);
  make_tenant(s, "Beta", "", &b, NULL);
  /* four of A's calls, two ending at the same moment; one of B's */
  const int64_t ends[] = {1000, 3000, 2000, 3000};
  for (size_t i = 0; i < 4; i++) {
    ended_call(s, a.id, ends[i], &c, &row);
    score_next(s, NULL, &row);
  }
  ended_call(s, b.id, 2500, &c, &row);
  score_next(s, NULL, &row);

  struct call_filter f = {.tenant_id = a.id, .to_ms = INT64_MAX, .limit = 10};
  struct listed all = {0};
  assert_int_equal(store_calls_list(s, &f, list_call, &all), STORE_OK);
  assert_int_equal(all.n, 4); /* none of B's */
  for (int i = 1; i < all.n; i++) {
    /* (ended_at DESC, public_id DESC) */
    assert_true(all.ended[i - 1] > all.ended[i] ||
                (all.ended[i - 1] == all.ended[i] && strcmp(all.ids[i - 1], all.ids[i]) > 0));
  }
  assert_int_equal(all.ended[0], 3000);
  assert_int_equal(all.ended[3], 1000);

  /* pages of two through the keyset cursor give the same sequence */
  struct listed page = {0};
  f.limit = 2;
  assert_int_equal(store_calls_list(s, &f, list_call, &page), STORE_OK);
  assert_int_equal(page.n, 2);
  f.after_ended_at = page.ended[1];
  f.after_public_id = page.ids[1];
  assert_int_equal(store_calls_list(s, &f, list_call, &page), STORE_OK);
  assert_int_equal(page.n, 4);
  for (int i = 0; i < 4; i++)
    assert_string_equal(page.ids[i], all.ids[i]);

  /* filters: time range, user, source, agency */
  struct call_filter g = {.tenant_id = a.id, .from_ms = 1500, .to_ms = 2500, .limit = 10};
  struct listed ranged = {0};
  assert_int_equal(store_calls_list(s, &g, list_call, &ranged), STORE_OK);
  assert_int_equal(ranged.n, 1);
  assert_int_equal(ranged.ended[0], 2000);
  g = (struct call_filter){
      .tenant_id = a.id, .to_ms = INT64_MAX, .limit = 10, .external_user_id = "someone-else"};
  ranged.n = 0;
  assert_int_equal(store_calls_list(s, &g, list_call, &ranged), STORE_OK);
  assert_int_equal(ranged.n, 0);
  g.external_user_id = "user-1";
  g.source = "roleplay";
  assert_int_equal(store_calls_list(s, &g, list_call, &ranged), STORE_OK);
  assert_int_equal(ranged.n, 4);
  g.external_agency_id = "agency-x";
  ranged.n = 0;
  assert_int_equal(store_calls_list(s, &g, list_call, &ranged), STORE_OK);
  assert_int_equal(ranged.n, 0);
}

static void test_outbox(void **state)
{
  struct store *s = store_of(state);
  struct tenant a, b, got;
  struct call_new c;
  struct call_row row;
  struct webhook_event ev[4];
  size_t n = 0;
  int64_t replayed = 0;
  make_tenant(s, "Acme", "https://hooks.example/a", &a, NULL);
  make_tenant(s, "Beta", "", &b, NULL); /* no URL: no event */
  int64_t now = time_now_ms();

  struct webhook_event_new e = {.payload = "{\"type\":\"call.scored\"}", .next_attempt_at = now};
  id_new("msg_", 16, e.msg_id, sizeof e.msg_id);
  ended_call(s, a.id, now, &c, &row);
  score_next(s, &e, &row);
  id_new("msg_", 16, e.msg_id, sizeof e.msg_id);
  ended_call(s, b.id, now, &c, &row);
  score_next(s, &e, &row);

  assert_int_equal(store_outbox_claim(s, now, now + 30000, ev, 4, &n), STORE_OK);
  assert_int_equal(n, 1); /* only A's */
  assert_int_equal(ev[0].tenant_id, a.id);
  assert_string_equal(ev[0].url, "https://hooks.example/a");
  assert_string_equal(ev[0].payload, "{\"type\":\"call.scored\"}");
  assert_int_equal(ev[0].attempts, 0);
  int64_t id = ev[0].id;
  webhook_event_clear(&ev[0]);
  assert_int_equal(store_outbox_claim(s, now, now + 30000, ev, 4, &n), STORE_OK);
  assert_int_equal(n, 0); /* leased */

  struct webhook_attempt at = {.event_id = id,
                               .attempted_at = now,
                               .http_status = 500,
                               .latency_ms = 12,
                               .outcome = WEBHOOK_RETRY,
                               .next_attempt_at = now + 5000};
  assert_int_equal(store_outbox_record(s, &at), STORE_OK);
  assert_int_equal(store_outbox_claim(s, now + 1000, now + 30000, ev, 4, &n), STORE_OK);
  assert_int_equal(n, 0); /* not due yet */
  assert_int_equal(store_outbox_claim(s, now + 5000, now + 30000, ev, 4, &n), STORE_OK);
  assert_int_equal(n, 1);
  assert_int_equal(ev[0].attempts, 1);
  webhook_event_clear(&ev[0]);

  at = (struct webhook_attempt){.event_id = id,
                                .attempted_at = now + 5000,
                                .http_status = 200,
                                .latency_ms = 7,
                                .outcome = WEBHOOK_DELIVERED};
  assert_int_equal(store_outbox_record_many(s, &at, 1), STORE_OK);
  assert_int_equal(store_outbox_claim(s, now + 99000, now + 130000, ev, 4, &n), STORE_OK);
  assert_int_equal(n, 0); /* delivered */

  /* replay is per tenant: B's replay touches nothing of A's */
  assert_int_equal(store_outbox_replay(s, b.id, 0, now + 6000, &replayed), STORE_OK);
  assert_int_equal(replayed, 0);
  assert_int_equal(store_outbox_replay(s, a.id, 0, now + 6000, &replayed), STORE_OK);
  assert_int_equal(replayed, 1);
  assert_int_equal(store_outbox_claim(s, now + 6000, now + 30000, ev, 4, &n), STORE_OK);
  assert_int_equal(n, 1);
  assert_int_equal(ev[0].attempts, 0);
  webhook_event_clear(&ev[0]);

  at = (struct webhook_attempt){.event_id = id,
                                .attempted_at = now + 6000,
                                .http_status = 410,
                                .latency_ms = 3,
                                .error = "gone",
                                .outcome = WEBHOOK_ENDPOINT_GONE};
  assert_int_equal(store_outbox_record(s, &at), STORE_OK);
  assert_int_equal(store_tenant_get(s, a.public_id, &got), STORE_OK);
  assert_false(got.webhook_enabled);
  assert_int_equal(store_tenant_get(s, b.public_id, &got), STORE_OK);
  assert_true(got.webhook_enabled);
  /* failed and disabled: a replay re-enables and requeues */
  assert_int_equal(store_outbox_replay(s, a.id, 0, now + 7000, &replayed), STORE_OK);
  assert_int_equal(replayed, 1);
  assert_int_equal(store_tenant_get(s, a.public_id, &got), STORE_OK);
  assert_true(got.webhook_enabled);
}

static void test_end_orphaned(void **state)
{
  struct fixture *f = *state;
  struct store *s = store_of(state);
  struct tenant a;
  struct call_new c;
  struct call_row row, got;
  int64_t n = -1;
  make_tenant(s, "Acme", "", &a, NULL);
  int64_t now = time_now_ms();
  live_call(s, a.id, now, 4200, &c, &row);

  /* A second process on the same database starts up. */
  struct store *peer = NULL;
  char err[256];
  assert_int_equal(store_open(f->url, &peer, err, sizeof err), STORE_OK);
  assert_int_equal(store_calls_end_orphaned(peer, now + 9000, &n), STORE_OK);
  if (f->backend == POSTGRES) {
    /* our node still holds its liveness lock: the call is not an orphan */
    assert_int_equal(n, 0);
    store_close(s); /* the node dies */
    f->s = NULL;
    /* its lock goes when its server process has exited: soon, not at once */
    for (int i = 0; i < 100; i++) {
      assert_int_equal(store_calls_end_orphaned(peer, now + 9000, &n), STORE_OK);
      if (n != 0)
        break;
      usleep(20000);
    }
  }
  assert_int_equal(n, 1); /* one process (SQLite), or a dead node's call */
  assert_int_equal(store_calls_end_orphaned(peer, now + 9000, &n), STORE_OK);
  assert_int_equal(n, 0);
  /* ended at its last acknowledged turn, as a disconnect */
  assert_int_equal(store_scoring_claim(peer, now, now + 1000, &got), STORE_OK);
  assert_int_equal(got.id, row.id);
  assert_string_equal(got.end_reason, "disconnect");
  assert_int_equal(got.ended_at, now + 4200);
  assert_int_equal(got.duration_sec, 4);
  if (f->s == NULL)
    f->s = peer; /* closed by teardown */
  else
    store_close(peer);
}

/* Revocation by another process (the CLI) shows on this process's next
 * read of the generation, however many reads it made before (SQLite skips
 * the read while the database's commit stamp has not moved). */
static void test_auth_generation_other_process(void **state)
{
  struct fixture *f = *state;
  struct store *s = store_of(state);
  struct tenant a;
  struct api_key_new ka;
  int64_t gen0 = -1, gen = -1;
  make_tenant(s, "Acme", "", &a, &ka);
  assert_int_equal(store_auth_generation(s, &gen0), STORE_OK);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(store_auth_generation(s, &gen), STORE_OK);
    assert_int_equal(gen, gen0);
  }
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    struct store *other = NULL;
    char err[256];
    int ok = store_open(f->url, &other, err, sizeof err) == STORE_OK &&
             store_key_revoke(other, ka.public_id, time_now_ms()) == STORE_OK;
    store_close(other);
    _exit(ok ? 0 : 1);
  }
  int status = -1;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(store_auth_generation(s, &gen), STORE_OK);
  assert_true(gen > gen0);
  gen0 = gen;
  assert_int_equal(store_auth_generation(s, &gen), STORE_OK);
  assert_int_equal(gen, gen0);
}

/* ----------------------------------------------------------------- main */

#define CASE(fn, setup) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define CASES(setup)                                                                               \
  {                                                                                                \
    CASE(test_tenants, setup), CASE(test_keys, setup), CASE(test_secrets_and_signing_keys, setup), \
        CASE(test_call_create_single_use, setup), CASE(test_concurrent_redeem_and_ticket, setup),  \
        CASE(test_ticket_and_live_writes, setup), CASE(test_scoring_leases, setup),                \
        CASE(test_concurrent_claims, setup), CASE(test_list_order_and_cursor, setup),              \
        CASE(test_outbox, setup), CASE(test_end_orphaned, setup),                                  \
        CASE(test_secrets_sealed_at_rest, setup),                                                  \
        CASE(test_secrets_wrong_key_and_rotation, setup), CASE(test_quota_race_and_reap, setup),   \
        CASE(test_auth_generation_other_process, setup),                                           \
  }

int main(void)
{
  log_set_level(LOG_ERROR); /* the expected refusals log warnings */
  const struct CMUnitTest sqlite[] = CASES(setup_sqlite);
  const struct CMUnitTest postgres[] = CASES(setup_postgres);
  int failed = cmocka_run_group_tests_name("store contract: sqlite", sqlite, NULL, NULL);
  if (getenv("ATHOS_TEST_DATABASE_URL") == NULL)
    fprintf(stderr, "store contract: ATHOS_TEST_DATABASE_URL not set, PostgreSQL skipped\n");
  failed += cmocka_run_group_tests_name("store contract: postgres", postgres, NULL, NULL);
  return failed;
}
