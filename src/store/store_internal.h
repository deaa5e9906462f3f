/*
 * store_internal.h — what the store's subject files (tenants.c, calls.c,
 * live.c, outbox.c) share: the store itself (a database behind the driver
 * interface of db.h) and the call row's columns and reader. Only
 * src/store/ includes it.
 */
#ifndef ATHOS_STORE_INTERNAL_H
#define ATHOS_STORE_INTERNAL_H

#include "store/db.h"

struct store {
  struct db *db; /* owned */
  bool sealing;  /* a master key is set: secrets are written sealed */
  uint8_t kek[MASTER_KEY_LEN];
  /* The auth generation last read and the commit stamp it was read at
   * (store_auth_generation): reused while the stamp has not moved. */
  pthread_mutex_t gen_mu;
  bool gen_known;
  unsigned char gen_stamp[DB_STAMP_LEN];
  int64_t gen;
};

/* Secrets at rest (secrets.c). A stored secret is either legacy plaintext
 * or SEALED_PREFIX + base64(AES-256-GCM nonce || ciphertext || tag) under
 * the master key, bound to aad (the table and the row's owner, so a value
 * copied to another row does not open). */
#define SEALED_PREFIX   "enc1:"
#define SECRET_TEXT_MAX 512 /* the longest stored form secrets.c handles */
/* The stored form of plain: sealed if a master key is set, else plain
 * itself. Returns 0, or -1 (too long, or a crypto failure). */
int secret_seal(const struct store *s, const char *aad, const char *plain, char *out, size_t cap);
/* The plaintext of a stored value (legacy plaintext is returned as it
 * is). Returns 0, or -1 (logged without the value) when a sealed value
 * does not open under the master key or there is none. */
int secret_open(const struct store *s, const char *aad, const char *stored, char *out, size_t cap);
/* The aad of a webhook secret (by tenant) and of a signing key (by kid). */
void secret_aad_webhook(int64_t tenant_id, char *out, size_t cap);
void secret_aad_signing(const char *kid, char *out, size_t cap);

/* The columns of a struct call_row, with a table prefix ("c.") or none
 * (RETURNING, which SQLite does not let name an alias). */
#define CALL_COLUMNS_OF(P)                                                                        \
  P "id, " P "tenant_id, " P "public_id, " P "session_id, " P "source, " P "external_user_id, " P \
    "external_agency_id, " P "drill_key, " P "difficulty, " P "persona_index, " P                 \
    "persona_name, " P "seed, " P "status, " P "end_reason, " P "created_at, " P "started_at, " P \
    "ended_at, " P "scored_at, " P "updated_at, " P "duration_sec"
#define CALL_COLUMNS  CALL_COLUMNS_OF("c.")
#define CALL_NCOLUMNS 20

/* Fills out from CALL_COLUMNS starting at column 0. */
void call_row_read(const struct db_row *r, struct call_row *out);
/* call_row_read as a db_row_fn (out: a struct call_row). */
int call_row_fn(const struct db_row *r, void *out);

#endif
