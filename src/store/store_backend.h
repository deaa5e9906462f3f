/*
 * store_backend.h — the backend ops table behind store.h. Each backend
 * (sqlite*.c, postgres*.c) fills one const struct store_backend; the
 * public store_* functions in store.c are thin wrappers that make one
 * indirect call through it. Only src/store/ includes this header.
 */
#ifndef ATHOS_STORE_BACKEND_H
#define ATHOS_STORE_BACKEND_H

#include "store/store.h"

/* Every backend's own store struct begins with this, so a struct store *
 * can be cast to the backend's type after dispatch. */
struct store {
  const struct store_backend *backend;
};

struct store_backend {
  const char *name;
  /* url is the backend-specific part (a path for SQLite, the whole
   * postgres:// URL for PostgreSQL). */
  int (*open)(const char *url, struct store **out, char *err, size_t errlen);
  void (*close)(struct store *s); /* never called with NULL */
  int (*migrate)(struct store *s);
  int (*start_background)(struct store *s);
  int (*ping)(struct store *s);

  int (*tenant_create)(struct store *s, struct tenant *t, const struct api_key_new *key,
                       const char *webhook_secret);
  int (*tenant_get)(struct store *s, const char *public_id, struct tenant *out);
  int (*tenant_update)(struct store *s, const struct tenant *t);
  int (*tenant_list)(struct store *s, void (*cb)(const struct tenant *t, void *arg), void *arg);
  int (*key_create)(struct store *s, int64_t tenant_id, const struct api_key_new *key);
  int (*key_revoke)(struct store *s, const char *key_public_id, int64_t now);
  int (*key_authenticate)(struct store *s, const char *hash_hex, struct tenant *tenant,
                          bool *revoked);

  int (*webhook_secret_rotate)(struct store *s, int64_t tenant_id, const char *secret,
                               int64_t now, int64_t old_expires_at);
  int (*webhook_secrets)(struct store *s, int64_t tenant_id, int64_t now,
                         char secrets[][SECRET_MAX], size_t *n);
  int (*signing_key_ensure)(struct store *s);
  int (*signing_keys)(struct store *s, struct signing_key *out, size_t *n);

  int (*call_create)(struct store *s, const struct call_new *c);
  int (*calls_created_since)(struct store *s, int64_t tenant_id, int64_t since, int64_t *count);
  int (*call_get_scored)(struct store *s, int64_t tenant_id, const char *public_id,
                         struct call_row *out, char **score_json);
  int (*call_turns)(struct store *s, int64_t call_id,
                    int (*cb)(const struct call_turn *t, void *arg), void *arg);
  int (*calls_list)(struct store *s, const struct call_filter *f,
                    int (*cb)(const struct call_row *c, void *arg), void *arg);

  int (*ticket_consume)(struct store *s, const char *ticket_hash_hex, int64_t now,
                        struct call_row *out);
  int (*call_mark_live)(struct store *s, int64_t call_id, int64_t started_at);
  int (*call_append_turn)(struct store *s, int64_t call_id, int idx, const char *role,
                          const char *content, int64_t at_ms);
  int (*call_end)(struct store *s, int64_t call_id, int64_t ended_at, int64_t duration_sec,
                  const char *reason);
  int (*calls_end_orphaned)(struct store *s, int64_t now, int64_t *n);

  int (*scoring_claim)(struct store *s, int64_t now, int64_t lease_until, struct call_row *out);
  /* lease_until 0: any claim in force; otherwise only the claim that set it. */
  int (*scoring_complete)(struct store *s, int64_t call_id, int64_t lease_until,
                          const char *score_json, int64_t scored_at,
                          const struct webhook_event_new *ev);
  int (*outbox_claim)(struct store *s, int64_t now, int64_t lease_until,
                      struct webhook_event *out, size_t max, size_t *n);
  int (*outbox_record_many)(struct store *s, const struct webhook_attempt *a, size_t n);
  int (*outbox_replay)(struct store *s, int64_t tenant_id, int64_t since, int64_t now,
                       int64_t *n);
};

extern const struct store_backend sqlite_backend;
extern const struct store_backend postgres_backend;

#endif
