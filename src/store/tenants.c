/*
 * tenants.c — the operator's tables: tenants, their API keys and webhook
 * signing secrets, and the JWT signing keys every node shares. Each
 * operation is written once over db.h.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "store/store_internal.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/timefmt.h"

/* pg_advisory_xact_lock key of the first signing key (4242 namespace). */
#define LOCK_SIGNING_KEY 4242002

/* -------------------------------------------------------------- tenants */

#define TENANT_COLUMNS_OF(P)                                                                \
  P "id, " P "public_id, " P "name, " P "active, coalesce(" P "webhook_url,''), " P         \
    "webhook_enabled, coalesce(" P "ip_allow,''), coalesce(" P "monthly_call_quota,-1), " P \
    "created_at, coalesce(" P "rate_limit,-1)"

/* Fills t from TENANT_COLUMNS starting at column col. */
static void read_tenant(const struct db_row *r, int col, struct tenant *t)
{
  memset(t, 0, sizeof *t);
  t->id = db_col_i64(r, col + 0);
  db_col_copy(r, col + 1, t->public_id, sizeof t->public_id);
  db_col_copy(r, col + 2, t->name, sizeof t->name);
  t->active = db_col_i64(r, col + 3) != 0;
  db_col_copy(r, col + 4, t->webhook_url, sizeof t->webhook_url);
  t->webhook_enabled = db_col_i64(r, col + 5) != 0;
  db_col_copy(r, col + 6, t->ip_allow, sizeof t->ip_allow);
  t->monthly_call_quota = db_col_i64(r, col + 7);
  t->created_at = db_col_i64(r, col + 8);
  t->rate_limit = db_col_i64(r, col + 9);
}

static int row_tenant(const struct db_row *r, void *out)
{
  read_tenant(r, 0, out);
  return STORE_OK;
}

/* The seven settings an operator sets, in the order both the INSERT and
 * the UPDATE list them: name, active, webhook_url, webhook_enabled,
 * ip_allow, monthly_call_quota (NULL when unlimited), rate_limit (NULL
 * for the server's default). */
static void tenant_settings(struct db_params *p, const struct tenant *t)
{
  db_p_text(p, t->name);
  db_p_i64(p, t->active);
  db_p_text_or_null(p, t->webhook_url);
  db_p_i64(p, t->webhook_enabled);
  db_p_text_or_null(p, t->ip_allow);
  if (t->monthly_call_quota >= 0)
    db_p_i64(p, t->monthly_call_quota);
  else
    db_p_null(p);
  if (t->rate_limit >= 0)
    db_p_i64(p, t->rate_limit);
  else
    db_p_null(p);
}

static int insert_key(struct db_tx *tx, int64_t tenant_id, const struct api_key_new *key)
{
  static const char SQL[] = "INSERT INTO api_keys(public_id, tenant_id, prefix, key_hash,"
                            " created_at) VALUES ($1, $2, $3, $4, $5)";
  struct db_params p = {0};
  db_p_text(&p, key->public_id);
  db_p_i64(&p, tenant_id);
  db_p_text(&p, key->prefix);
  db_p_text(&p, key->hash_hex);
  db_p_i64(&p, time_now_ms());
  return db_exec(tx, SQL, &p, NULL);
}

static int insert_secret(struct db_tx *tx, int64_t tenant_id, const char *secret, int64_t now)
{
  static const char SQL[] =
      "INSERT INTO webhook_secrets(tenant_id, secret, created_at) VALUES ($1, $2, $3)";
  struct db_params p = {0};
  db_p_i64(&p, tenant_id);
  db_p_text(&p, secret);
  db_p_i64(&p, now);
  return db_exec(tx, SQL, &p, NULL);
}

struct tenant_create {
  struct store *s;
  struct tenant *t;
  const struct api_key_new *key;
  const char *webhook_secret;
};

static int row_id(const struct db_row *r, void *id)
{
  *(int64_t *)id = db_col_i64(r, 0);
  return STORE_OK;
}

static int tenant_create_tx(struct db_tx *tx, void *arg)
{
  static const char SQL[] =
      "INSERT INTO tenants(public_id, name, active, webhook_url, webhook_enabled, ip_allow,"
      " monthly_call_quota, rate_limit, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
      " RETURNING id";
  struct tenant_create *a = arg;
  struct tenant *t = a->t;
  t->created_at = time_now_ms();
  struct db_params p = {0};
  db_p_text(&p, t->public_id);
  tenant_settings(&p, t);
  db_p_i64(&p, t->created_at);
  int rc = db_query_one(tx, SQL, &p, row_id, &t->id);
  if (rc != STORE_OK)
    return rc == STORE_NOT_FOUND ? STORE_ERROR : rc;
  return insert_key(tx, t->id, a->key);
}

/* The stored form of a tenant's webhook secret. */
static int webhook_secret_seal(struct store *s, int64_t tenant_id, const char *secret,
                               char out[SECRET_TEXT_MAX])
{
  char aad[64];
  secret_aad_webhook(tenant_id, aad, sizeof aad);
  return secret_seal(s, aad, secret, out, SECRET_TEXT_MAX) == 0 ? STORE_OK : STORE_ERROR;
}

/* The secret is sealed with the tenant's id as aad, known only after the
 * insert: the tenant and its key go in, then the sealed secret, all in
 * one transaction. */
static int tenant_create_sealed_tx(struct db_tx *tx, void *arg)
{
  struct tenant_create *a = arg;
  char sealed[SECRET_TEXT_MAX];
  int rc = tenant_create_tx(tx, a);
  if (rc == STORE_OK)
    rc = webhook_secret_seal(a->s, a->t->id, a->webhook_secret, sealed);
  if (rc == STORE_OK)
    rc = insert_secret(tx, a->t->id, sealed, a->t->created_at);
  return rc;
}

int store_tenant_create(struct store *s, struct tenant *t, const struct api_key_new *key,
                        const char *webhook_secret)
{
  struct tenant_create a = {.s = s, .t = t, .key = key, .webhook_secret = webhook_secret};
  return db_run(s->db, DB_TRANSACTION, tenant_create_sealed_tx, &a);
}

int store_tenant_get(struct store *s, const char *public_id, struct tenant *out)
{
  static const char SQL[] = "SELECT " TENANT_COLUMNS_OF("") " FROM tenants WHERE public_id = $1";
  struct db_params p = {0};
  db_p_text(&p, public_id);
  return db_get(s->db, SQL, &p, row_tenant, out);
}

/* ------------------------------------------------------ auth generation */

/* One UPDATE of the row that decides an API key's answer, and the bump
 * of the generation, committed together: no node can cache the old
 * answer under the new generation. */
struct auth_change {
  const char *sql;
  const struct db_params *p;
};

static int auth_change_tx(struct db_tx *tx, void *arg)
{
  static const char BUMP[] = "UPDATE settings SET value = value + 1 WHERE name = 'auth_generation'";
  const struct auth_change *a = arg;
  int64_t changed = 0;
  int rc = db_exec(tx, a->sql, a->p, &changed);
  if (rc != STORE_OK)
    return rc;
  if (changed == 0)
    return STORE_NOT_FOUND;
  return db_exec(tx, BUMP, NULL, NULL);
}

static int auth_change(struct store *s, const char *sql, const struct db_params *p)
{
  struct auth_change a = {.sql = sql, .p = p};
  return db_run(s->db, DB_TRANSACTION, auth_change_tx, &a);
}

static int row_i64(const struct db_row *r, void *out)
{
  *(int64_t *)out = db_col_i64(r, 0);
  return STORE_OK;
}

/* Every request asks (api_key.c), so the read is skipped while the
 * database's commit stamp is the one the last read was made at: no commit
 * anywhere since means no bump since. The stamp is taken before the read,
 * so a bump committed in between moves it and the next call reads again. */
int store_auth_generation(struct store *s, int64_t *gen)
{
  static const char SQL[] = "SELECT value FROM settings WHERE name = 'auth_generation'";
  unsigned char stamp[DB_STAMP_LEN];
  bool stamped = db_commit_stamp(s->db, stamp);
  if (stamped) {
    pthread_mutex_lock(&s->gen_mu);
    bool same = s->gen_known && memcmp(s->gen_stamp, stamp, sizeof stamp) == 0;
    if (same)
      *gen = s->gen;
    pthread_mutex_unlock(&s->gen_mu);
    if (same)
      return STORE_OK;
  }
  int rc = db_get(s->db, SQL, NULL, row_i64, gen);
  if (rc == STORE_OK && stamped) {
    pthread_mutex_lock(&s->gen_mu);
    memcpy(s->gen_stamp, stamp, sizeof stamp);
    s->gen = *gen;
    s->gen_known = true;
    pthread_mutex_unlock(&s->gen_mu);
  }
  return rc;
}

int store_tenant_update(struct store *s, const struct tenant *t)
{
  static const char SQL[] =
      "UPDATE tenants SET name = $1, active = $2, webhook_url = $3, webhook_enabled = $4,"
      " ip_allow = $5, monthly_call_quota = $6, rate_limit = $7 WHERE public_id = $8";
  struct db_params p = {0};
  tenant_settings(&p, t);
  db_p_text(&p, t->public_id);
  return auth_change(s, SQL, &p);
}

struct tenant_list {
  void (*cb)(const struct tenant *t, void *arg);
  void *arg;
};

static int row_tenant_list(const struct db_row *r, void *arg)
{
  struct tenant_list *l = arg;
  struct tenant t;
  read_tenant(r, 0, &t);
  l->cb(&t, l->arg);
  return STORE_OK;
}

int store_tenant_list(struct store *s, void (*cb)(const struct tenant *t, void *arg), void *arg)
{
  static const char SQL[] = "SELECT " TENANT_COLUMNS_OF("") " FROM tenants ORDER BY id";
  struct tenant_list l = {.cb = cb, .arg = arg};
  return db_each(s->db, SQL, NULL, row_tenant_list, &l);
}

/* ---------------------------------------------------------------- keys */

struct key_create {
  int64_t tenant_id;
  const struct api_key_new *key;
};

static int key_create_body(struct db_tx *tx, void *arg)
{
  const struct key_create *a = arg;
  return insert_key(tx, a->tenant_id, a->key);
}

int store_key_create(struct store *s, int64_t tenant_id, const struct api_key_new *key)
{
  struct key_create a = {.tenant_id = tenant_id, .key = key};
  return db_run(s->db, DB_AUTOCOMMIT, key_create_body, &a);
}

int store_key_revoke(struct store *s, const char *key_public_id, int64_t now)
{
  static const char SQL[] =
      "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE public_id = $2";
  struct db_params p = {0};
  db_p_i64(&p, now);
  db_p_text(&p, key_public_id);
  return auth_change(s, SQL, &p);
}

struct key_auth {
  const char *hash_hex;
  struct tenant *tenant;
  bool *revoked;
  char *key_id;
};

static int row_key_auth(const struct db_row *r, void *arg)
{
  struct key_auth *a = arg;
  const char *stored = db_col_text(r, 0);
  /* The index found the row; compare again in constant time so the
   * decision never depends on a short-circuiting comparison. */
  if (stored == NULL || strlen(stored) != 64 || strlen(a->hash_hex) != 64 ||
      !crypto_equal(stored, a->hash_hex, 64))
    return STORE_NOT_FOUND;
  *a->revoked = db_col_i64(r, 1) != 0;
  db_col_copy(r, 2, a->key_id, ID_MAX);
  read_tenant(r, 3, a->tenant);
  return STORE_OK;
}

int store_key_authenticate(struct store *s, const char *hash_hex, struct tenant *tenant,
                           bool *revoked, char key_id[ID_MAX])
{
  static const char SQL[] = "SELECT k.key_hash, CASE WHEN k.revoked_at IS NULL THEN 0 ELSE 1 END, "
                            "k.public_id, " TENANT_COLUMNS_OF(
                                "t.") " FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
                                      " WHERE k.key_hash = $1";
  struct key_auth a = {
      .hash_hex = hash_hex, .tenant = tenant, .revoked = revoked, .key_id = key_id};
  struct db_params p = {0};
  db_p_text(&p, hash_hex);
  return db_get(s->db, SQL, &p, row_key_auth, &a);
}

/* ------------------------------------------------------ webhook secrets */

struct secret_rotate {
  int64_t tenant_id;
  const char *secret;
  int64_t now, old_expires_at;
};

static int secret_rotate_tx(struct db_tx *tx, void *arg)
{
  static const char SQL[] = "UPDATE webhook_secrets SET expires_at = $1"
                            " WHERE tenant_id = $2 AND (expires_at IS NULL OR expires_at > $1)";
  struct secret_rotate *a = arg;
  struct db_params p = {0};
  db_p_i64(&p, a->old_expires_at);
  db_p_i64(&p, a->tenant_id);
  int rc = db_exec(tx, SQL, &p, NULL);
  if (rc != STORE_OK)
    return rc;
  return insert_secret(tx, a->tenant_id, a->secret, a->now);
}

int store_webhook_secret_rotate(struct store *s, int64_t tenant_id, const char *secret, int64_t now,
                                int64_t old_expires_at)
{
  char sealed[SECRET_TEXT_MAX];
  if (webhook_secret_seal(s, tenant_id, secret, sealed) != STORE_OK)
    return STORE_ERROR;
  struct secret_rotate a = {
      .tenant_id = tenant_id, .secret = sealed, .now = now, .old_expires_at = old_expires_at};
  return db_run(s->db, DB_TRANSACTION, secret_rotate_tx, &a);
}

struct secret_list {
  const struct store *s;
  char aad[64];
  char (*secrets)[SECRET_MAX];
  size_t cap, *n;
};

static int row_secret(const struct db_row *r, void *arg)
{
  struct secret_list *l = arg;
  const char *stored = db_col_text(r, 0);
  if (*l->n >= l->cap)
    return DB_STOP;
  if (stored == NULL || secret_open(l->s, l->aad, stored, l->secrets[*l->n], SECRET_MAX) != 0)
    return STORE_ERROR;
  (*l->n)++;
  return STORE_OK;
}

int store_webhook_secrets(struct store *s, int64_t tenant_id, int64_t now,
                          char secrets[][SECRET_MAX], size_t *n)
{
  static const char SQL[] = "SELECT secret FROM webhook_secrets WHERE tenant_id = $1"
                            " AND (expires_at IS NULL OR expires_at > $2) ORDER BY id DESC";
  struct secret_list l = {.s = s, .secrets = secrets, .cap = *n, .n = n};
  secret_aad_webhook(tenant_id, l.aad, sizeof l.aad);
  *n = 0;
  struct db_params p = {0};
  db_p_i64(&p, tenant_id);
  db_p_i64(&p, now);
  return db_each(s->db, SQL, &p, row_secret, &l);
}

/* --------------------------------------------------------- signing keys */

struct signing_key_new {
  const char *kid, *secret_hex;
};

static int signing_key_ensure_tx(struct db_tx *tx, void *arg)
{
  static const char SQL[] =
      "INSERT INTO signing_keys(kid, secret_hex, created_at) SELECT CAST($1 AS TEXT),"
      " CAST($2 AS TEXT), CAST($3 AS BIGINT) WHERE NOT EXISTS (SELECT 1 FROM signing_keys)";
  const struct signing_key_new *k = arg;
  int rc = db_xact_lock(tx, LOCK_SIGNING_KEY);
  if (rc != STORE_OK)
    return rc;
  struct db_params p = {0};
  db_p_text(&p, k->kid);
  db_p_text(&p, k->secret_hex);
  db_p_i64(&p, time_now_ms());
  return db_exec(tx, SQL, &p, NULL);
}

/* Under a lock, so two nodes migrating a fresh database at the same
 * moment create one key, not two. */
int store_signing_key_ensure(struct store *s)
{
  uint8_t secret[SIGNING_KEY_LEN];
  char secret_hex[2 * SIGNING_KEY_LEN + 1], sealed[SECRET_TEXT_MAX], aad[96];
  char kid[32];
  int rc = STORE_ERROR;
  if (crypto_random(secret, sizeof secret) != 0)
    goto cleanup;
  hex_encode(secret, sizeof secret, secret_hex);
  id_new("sk_", 16, kid, sizeof kid);
  secret_aad_signing(kid, aad, sizeof aad);
  if (secret_seal(s, aad, secret_hex, sealed, sizeof sealed) != 0)
    goto cleanup;
  struct signing_key_new k = {.kid = kid, .secret_hex = sealed};
  rc = db_run(s->db, DB_TRANSACTION, signing_key_ensure_tx, &k);
cleanup:
  OPENSSL_cleanse(secret, sizeof secret);
  OPENSSL_cleanse(secret_hex, sizeof secret_hex);
  return rc;
}

struct key_list {
  const struct store *s;
  struct signing_key *out;
  size_t cap, *n;
};

static int row_signing_key(const struct db_row *r, void *arg)
{
  struct key_list *l = arg;
  if (*l->n >= l->cap)
    return DB_STOP;
  struct signing_key *k = &l->out[*l->n];
  db_col_copy(r, 0, k->kid, sizeof k->kid);
  const char *stored = db_col_text(r, 1);
  char hex[SECRET_TEXT_MAX], aad[96];
  secret_aad_signing(k->kid, aad, sizeof aad);
  if (stored == NULL || secret_open(l->s, aad, stored, hex, sizeof hex) != 0)
    return STORE_ERROR;
  bool ok = strlen(hex) == 2 * SIGNING_KEY_LEN && hex_decode(hex, k->secret, SIGNING_KEY_LEN) == 0;
  OPENSSL_cleanse(hex, sizeof hex);
  if (!ok) {
    log_error("signing key %s is corrupt", k->kid);
    return STORE_ERROR;
  }
  k->created_at = db_col_i64(r, 2);
  (*l->n)++;
  return STORE_OK;
}

int store_signing_keys(struct store *s, struct signing_key *out, size_t *n)
{
  static const char SQL[] = "SELECT kid, secret_hex, created_at FROM signing_keys"
                            " ORDER BY created_at DESC, kid";
  struct key_list l = {.s = s, .out = out, .cap = *n, .n = n};
  *n = 0;
  return db_each(s->db, SQL, NULL, row_signing_key, &l);
}
