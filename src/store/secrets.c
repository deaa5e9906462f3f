/*
 * secrets.c — secrets at rest: the webhook signing secrets and the JWT
 * signing keys are stored sealed with AES-256-GCM under a key-encryption
 * key (the master key, ATHOS_MASTER_KEY_FILE) when one is set. Legacy
 * plaintext rows are still read, and sealed by the start-up check or by
 * `athos keys rotate-master`, which re-encrypts every value in one
 * transaction. tenants.c calls secret_seal / secret_open on its secret
 * columns' write and read paths (docs/internals/store.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store/store_internal.h"
#include "util/crypto.h"
#include "util/log.h"

void store_set_master_key(struct store *s, const uint8_t key[MASTER_KEY_LEN])
{
  s->sealing = key != NULL;
  if (key != NULL)
    memcpy(s->kek, key, MASTER_KEY_LEN);
  else
    OPENSSL_cleanse(s->kek, sizeof s->kek);
}

void secret_aad_webhook(int64_t tenant_id, char *out, size_t cap)
{
  snprintf(out, cap, "webhook_secrets/tenant/%" PRId64, tenant_id);
}

void secret_aad_signing(const char *kid, char *out, size_t cap)
{
  snprintf(out, cap, "signing_keys/kid/%s", kid);
}

/* Seals plain under kek (NULL: stores it as it is). */
static int seal_with(const uint8_t *kek, const char *aad, const char *plain, char *out, size_t cap)
{
  size_t n = strlen(plain);
  uint8_t raw[SECRET_TEXT_MAX];
  size_t pre = sizeof SEALED_PREFIX - 1;
  if (kek == NULL) {
    if (n + 1 > cap)
      return -1;
    memcpy(out, plain, n + 1);
    return 0;
  }
  long len = crypto_aead_seal(kek, aad, strlen(aad), plain, n, raw, sizeof raw);
  if (len < 0 || cap < pre + b64_encoded_size((size_t)len))
    return -1;
  memcpy(out, SEALED_PREFIX, pre);
  return b64_encode(raw, (size_t)len, out + pre, cap - pre) > 0 ? 0 : -1;
}

/* Opens stored with kek (NULL: only plaintext opens). */
static int open_with(const uint8_t *kek, const char *aad, const char *stored, char *out, size_t cap)
{
  size_t pre = sizeof SEALED_PREFIX - 1;
  uint8_t raw[SECRET_TEXT_MAX];
  if (strncmp(stored, SEALED_PREFIX, pre) != 0) {
    size_t n = strlen(stored);
    if (n + 1 > cap)
      return -1;
    memcpy(out, stored, n + 1);
    return 0;
  }
  if (kek == NULL)
    return -1;
  long n = b64_decode(stored + pre, strlen(stored + pre), raw, sizeof raw);
  if (n < 0 || cap == 0)
    return -1;
  long len = crypto_aead_open(kek, aad, strlen(aad), raw, (size_t)n, out, cap - 1);
  if (len < 0)
    return -1;
  out[len] = '\0';
  return 0;
}

int secret_seal(const struct store *s, const char *aad, const char *plain, char *out, size_t cap)
{
  return seal_with(s->sealing ? s->kek : NULL, aad, plain, out, cap);
}

int secret_open(const struct store *s, const char *aad, const char *stored, char *out, size_t cap)
{
  if (open_with(s->sealing ? s->kek : NULL, aad, stored, out, cap) == 0)
    return 0;
  log_error("a stored secret (%s) does not open under the master key", aad);
  return -1;
}

/* ------------------------------------------------- check and re-encrypt */

/* One stored value, its row and, while re-encrypting, its new form. */
struct secret_item {
  int64_t id;   /* webhook_secrets.id, or 0 for a signing key */
  char kid[64]; /* signing_keys.kid */
  char text[SECRET_TEXT_MAX];
};

struct secret_walk {
  const uint8_t *from, *to; /* to: unused by a check */
  bool rewrite;
  struct secret_item *items;
  size_t n, cap;
  struct secrets_count count;
  char failed[96]; /* the aad of the first value that did not open */
};

static int walk_value(struct secret_walk *w, int64_t id, const char *kid, const char *aad,
                      const char *stored)
{
  char plain[SECRET_TEXT_MAX];
  if (stored == NULL || open_with(w->from, aad, stored, plain, sizeof plain) != 0) {
    snprintf(w->failed, sizeof w->failed, "%s", aad);
    return STORE_ERROR;
  }
  bool sealed = strncmp(stored, SEALED_PREFIX, sizeof SEALED_PREFIX - 1) == 0;
  sealed ? w->count.sealed++ : w->count.plain++;
  int rc = STORE_OK;
  if (w->rewrite) {
    if (w->n == w->cap) {
      size_t cap = w->cap != 0 ? 2 * w->cap : 16;
      struct secret_item *items = realloc(w->items, cap * sizeof *items);
      if (items == NULL) {
        rc = STORE_ERROR;
        goto cleanup;
      }
      w->items = items;
      w->cap = cap;
    }
    struct secret_item *it = &w->items[w->n];
    it->id = id;
    snprintf(it->kid, sizeof it->kid, "%s", kid != NULL ? kid : "");
    if (seal_with(w->to, aad, plain, it->text, sizeof it->text) != 0) {
      rc = STORE_ERROR;
      goto cleanup;
    }
    w->n++;
  }
cleanup:
  OPENSSL_cleanse(plain, sizeof plain);
  return rc;
}

static int row_webhook_secret(const struct db_row *r, void *arg)
{
  char aad[64];
  secret_aad_webhook(db_col_i64(r, 1), aad, sizeof aad);
  return walk_value(arg, db_col_i64(r, 0), NULL, aad, db_col_text(r, 2));
}

static int row_signing_secret(const struct db_row *r, void *arg)
{
  char aad[96];
  const char *kid = db_col_text(r, 0);
  secret_aad_signing(kid != NULL ? kid : "", aad, sizeof aad);
  return walk_value(arg, 0, kid, aad, db_col_text(r, 1));
}

static int write_item(struct db_tx *tx, const struct secret_item *it)
{
  static const char WEBHOOK[] = "UPDATE webhook_secrets SET secret = $1 WHERE id = $2";
  static const char SIGNING[] = "UPDATE signing_keys SET secret_hex = $1 WHERE kid = $2";
  struct db_params p = {0};
  db_p_text(&p, it->text);
  if (it->kid[0] != '\0') {
    db_p_text(&p, it->kid);
    return db_exec(tx, SIGNING, &p, NULL);
  }
  db_p_i64(&p, it->id);
  return db_exec(tx, WEBHOOK, &p, NULL);
}

static int walk_tx(struct db_tx *tx, void *arg)
{
  static const char WEBHOOK[] = "SELECT id, tenant_id, secret FROM webhook_secrets ORDER BY id";
  static const char SIGNING[] = "SELECT kid, secret_hex FROM signing_keys ORDER BY kid";
  struct secret_walk *w = arg;
  w->n = 0; /* a retried run starts over */
  w->count = (struct secrets_count){0};
  w->failed[0] = '\0';
  int rc = db_query(tx, WEBHOOK, NULL, row_webhook_secret, w);
  if (rc == STORE_OK)
    rc = db_query(tx, SIGNING, NULL, row_signing_secret, w);
  for (size_t i = 0; rc == STORE_OK && i < w->n; i++)
    rc = write_item(tx, &w->items[i]);
  return rc;
}

/* Runs the walk; explains a value that did not open in err. */
static int walk_run(struct store *s, struct secret_walk *w, char *err, size_t errlen)
{
  int rc = db_run(s->db, w->rewrite ? DB_TRANSACTION : DB_AUTOCOMMIT, walk_tx, w);
  if (w->items != NULL)
    OPENSSL_cleanse(w->items, w->cap * sizeof *w->items);
  free(w->items);
  w->items = NULL;
  if (rc == STORE_OK)
    return STORE_OK;
  if (w->failed[0] == '\0')
    snprintf(err, errlen, "database error while reading the stored secrets");
  else if (w->from == NULL)
    snprintf(err, errlen,
             "the database holds encrypted secrets (%s) and no master key is set"
             " (ATHOS_MASTER_KEY_FILE)",
             w->failed);
  else
    snprintf(err, errlen,
             "the master key does not decrypt the stored secrets (%s): wrong"
             " ATHOS_MASTER_KEY_FILE?",
             w->failed);
  return STORE_ERROR;
}

int store_secrets_check(struct store *s, struct secrets_count *out, char *err, size_t errlen)
{
  struct secret_walk w = {.from = s->sealing ? s->kek : NULL};
  int rc = walk_run(s, &w, err, errlen);
  *out = w.count;
  return rc;
}

int store_secrets_rekey(struct store *s, const uint8_t *next, size_t *out, char *err, size_t errlen)
{
  uint8_t to[MASTER_KEY_LEN];
  if (next != NULL)
    memcpy(to, next, sizeof to);
  struct secret_walk w = {
      .from = s->sealing ? s->kek : NULL, .to = next != NULL ? to : NULL, .rewrite = true};
  int rc = walk_run(s, &w, err, errlen);
  *out = rc == STORE_OK ? w.n : 0;
  if (rc == STORE_OK)
    store_set_master_key(s, next != NULL ? to : NULL);
  OPENSSL_cleanse(to, sizeof to);
  return rc;
}
