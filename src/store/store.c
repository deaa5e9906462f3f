/*
 * store.c — the public store_* functions: store_open picks a backend by
 * the URL's scheme, every other function is one indirect call through the
 * store's ops table (struct store_backend in store_backend.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_backend.h"

int store_open(const char *url, struct store **out, char *err, size_t errlen)
{
  *out = NULL;
  if (url == NULL) {
    snprintf(err, errlen, "no database URL");
    return STORE_ERROR;
  }
  if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
    return postgres_backend.open(url, out, err, errlen);
  if (strncmp(url, "sqlite:", 7) == 0)
    return sqlite_backend.open(url + 7, out, err, errlen);
  if (strstr(url, "://") != NULL) {
    snprintf(err, errlen, "unsupported database URL scheme (use sqlite:PATH or postgres://…)");
    return STORE_ERROR;
  }
  return sqlite_backend.open(url, out, err, errlen); /* a bare path */
}

void store_close(struct store *s)
{
  if (s != NULL)
    s->backend->close(s);
}

int store_migrate(struct store *s) { return s->backend->migrate(s); }
int store_start_background(struct store *s) { return s->backend->start_background(s); }
int store_ping(struct store *s) { return s->backend->ping(s); }

/* ---------------------------------------------------------------- tenants */

int store_tenant_create(struct store *s, struct tenant *t, const struct api_key_new *key,
                        const char *webhook_secret)
{
  return s->backend->tenant_create(s, t, key, webhook_secret);
}

int store_tenant_get(struct store *s, const char *public_id, struct tenant *out)
{
  return s->backend->tenant_get(s, public_id, out);
}

int store_tenant_update(struct store *s, const struct tenant *t)
{
  return s->backend->tenant_update(s, t);
}

int store_tenant_list(struct store *s, void (*cb)(const struct tenant *t, void *arg), void *arg)
{
  return s->backend->tenant_list(s, cb, arg);
}

int store_key_create(struct store *s, int64_t tenant_id, const struct api_key_new *key)
{
  return s->backend->key_create(s, tenant_id, key);
}

int store_key_revoke(struct store *s, const char *key_public_id, int64_t now)
{
  return s->backend->key_revoke(s, key_public_id, now);
}

int store_key_authenticate(struct store *s, const char *hash_hex, struct tenant *tenant,
                           bool *revoked)
{
  return s->backend->key_authenticate(s, hash_hex, tenant, revoked);
}

/* ----------------------------------------------- secrets and signing keys */

int store_webhook_secret_rotate(struct store *s, int64_t tenant_id, const char *secret,
                                int64_t now, int64_t old_expires_at)
{
  return s->backend->webhook_secret_rotate(s, tenant_id, secret, now, old_expires_at);
}

int store_webhook_secrets(struct store *s, int64_t tenant_id, int64_t now,
                          char secrets[][SECRET_MAX], size_t *n)
{
  return s->backend->webhook_secrets(s, tenant_id, now, secrets, n);
}

int store_signing_key_ensure(struct store *s) { return s->backend->signing_key_ensure(s); }

int store_signing_keys(struct store *s, struct signing_key *out, size_t *n)
{
  return s->backend->signing_keys(s, out, n);
}

/* ------------------------------------------------------------------ calls */

int store_call_create(struct store *s, const struct call_new *c)
{
  return s->backend->call_create(s, c);
}

int store_calls_created_since(struct store *s, int64_t tenant_id, int64_t since, int64_t *count)
{
  return s->backend->calls_created_since(s, tenant_id, since, count);
}

int store_call_get_scored(struct store *s, int64_t tenant_id, const char *public_id,
                          struct call_row *out, char **score_json)
{
  return s->backend->call_get_scored(s, tenant_id, public_id, out, score_json);
}

int store_call_turns(struct store *s, int64_t call_id,
                     int (*cb)(const struct call_turn *t, void *arg), void *arg)
{
  return s->backend->call_turns(s, call_id, cb, arg);
}

int store_calls_list(struct store *s, const struct call_filter *f,
                     int (*cb)(const struct call_row *c, void *arg), void *arg)
{
  return s->backend->calls_list(s, f, cb, arg);
}

/* ------------------------------------------------------------ live calls */

int store_ticket_consume(struct store *s, const char *ticket_hash_hex, int64_t now,
                         struct call_row *out)
{
  return s->backend->ticket_consume(s, ticket_hash_hex, now, out);
}

int store_call_mark_live(struct store *s, int64_t call_id, int64_t started_at)
{
  return s->backend->call_mark_live(s, call_id, started_at);
}

int store_call_append_turn(struct store *s, int64_t call_id, int idx, const char *role,
                           const char *content, int64_t at_ms)
{
  return s->backend->call_append_turn(s, call_id, idx, role, content, at_ms);
}

int store_call_end(struct store *s, int64_t call_id, int64_t ended_at, int64_t duration_sec,
                   const char *reason)
{
  return s->backend->call_end(s, call_id, ended_at, duration_sec, reason);
}

int store_calls_end_orphaned(struct store *s, int64_t now, int64_t *n)
{
  return s->backend->calls_end_orphaned(s, now, n);
}

/* --------------------------------------------------- scoring and outbox */

int store_scoring_claim(struct store *s, int64_t now, int64_t lease_until, struct call_row *out)
{
  return s->backend->scoring_claim(s, now, lease_until, out);
}

int store_scoring_complete(struct store *s, int64_t call_id, const char *score_json,
                           int64_t scored_at, const struct webhook_event_new *ev)
{
  return s->backend->scoring_complete(s, call_id, 0, score_json, scored_at, ev);
}

int store_scoring_complete_leased(struct store *s, int64_t call_id, int64_t lease_until,
                                  const char *score_json, int64_t scored_at,
                                  const struct webhook_event_new *ev)
{
  return s->backend->scoring_complete(s, call_id, lease_until, score_json, scored_at, ev);
}

void webhook_event_clear(struct webhook_event *e)
{
  if (e == NULL)
    return;
  free(e->payload);
  e->payload = NULL;
}

int store_outbox_claim(struct store *s, int64_t now, int64_t lease_until,
                       struct webhook_event *out, size_t max, size_t *n)
{
  return s->backend->outbox_claim(s, now, lease_until, out, max, n);
}

int store_outbox_record(struct store *s, const struct webhook_attempt *a)
{
  return s->backend->outbox_record_many(s, a, 1);
}

int store_outbox_record_many(struct store *s, const struct webhook_attempt *a, size_t n)
{
  return s->backend->outbox_record_many(s, a, n);
}

int store_outbox_replay(struct store *s, int64_t tenant_id, int64_t since, int64_t now, int64_t *n)
{
  return s->backend->outbox_replay(s, tenant_id, since, now, n);
}
