/*
 * store.h — the one door to the database. Nothing outside src/store/
 * writes SQL. Each operation is written once (tenants.c, calls.c, live.c,
 * outbox.c) over a narrow driver interface (db.h) with two drivers:
 * SQLite (db_sqlite.c), the embedded default, and PostgreSQL
 * (db_postgres.c), on which several `athos serve` processes form a
 * cluster (docs/internals/store.md).
 *
 * Every function is thread-safe (a pool of connections behind a mutex)
 * and every query on tenant data is scoped by the tenant's internal id,
 * which never leaves the process. Times are unix milliseconds.
 *
 * Return codes: an enum store_rc as int: STORE_OK (0), a refusal
 * (positive), or an error (negative); STORE_UNAVAILABLE means the database
 * cannot be reached, or stayed busy through the runner's retries (503).
 */
#ifndef ATHOS_STORE_H
#define ATHOS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/ids.h"

enum store_rc {
  STORE_OK = 0,
  STORE_NOT_FOUND = 1,
  STORE_CONFLICT = 2, /* a uniqueness rule said no (e.g. a spent token) */
  STORE_EXPIRED = 3,
  STORE_QUOTA = 4,        /* the tenant's monthly call quota is used up */
  STORE_REVOKED = 5,      /* the API key that minted a session token is revoked */
  STORE_ERROR = -1,       /* a bug or a broken row: 500 */
  STORE_UNAVAILABLE = -2, /* cannot reach / lock the database: 503 */
};

struct store;

/* url: "sqlite:PATH" (or a bare path), or "postgres://…" /
 * "postgresql://…" (a libpq URL). Owned result; close with store_close().
 * err never contains the URL (it may hold a password). */
int store_open(const char *url, struct store **out, char *err, size_t errlen);
void store_close(struct store *s); /* accepts NULL */
/* Applies pending versioned migrations; idempotent. */
int store_migrate(struct store *s);
/* Starts background maintenance for a long-running server (SQLite: WAL
 * checkpoints move to their own thread and connection, so no request or
 * live call ever waits on the checkpoint's fsyncs; PostgreSQL: nothing).
 * Stopped by store_close(). The CLI does not call it. */
int store_start_background(struct store *s);
/* A cheap round trip (readiness). */
int store_ping(struct store *s);
/* `athos backup PATH`: a consistent copy of the live database in a new
 * file (refused if path exists), taken while servers keep serving.
 * SQLite only; STORE_ERROR with err set otherwise. */
int store_backup(struct store *s, const char *path, char *err, size_t errlen);

/* ---------------------------------------------------------------- tenants */

#define TENANT_NAME_MAX 200
#define WEBHOOK_URL_MAX 2048
#define IP_ALLOW_MAX    1024
#define SECRET_MAX      128

struct tenant {
  int64_t id; /* internal */
  char public_id[ID_MAX];
  char name[TENANT_NAME_MAX + 1];
  bool active;
  char webhook_url[WEBHOOK_URL_MAX + 1]; /* "" = none */
  bool webhook_enabled;                  /* false after a 410 */
  char ip_allow[IP_ALLOW_MAX + 1];       /* comma-separated CIDRs, "" = any */
  int64_t monthly_call_quota;            /* -1 = unlimited */
  int64_t rate_limit;                    /* requests a second; -1 = server default, 0 = none */
  int64_t created_at;
};

/* A new API key as stored: never the key itself. */
struct api_key_new {
  char public_id[ID_MAX]; /* key_… */
  char prefix[24];        /* the first characters, for operators */
  char hash_hex[65];      /* SHA-256 of the whole key */
};

/* Creates a tenant with its first API key and webhook secret, in one
 * transaction. t->id and t->created_at are filled in. */
int store_tenant_create(struct store *s, struct tenant *t, const struct api_key_new *key,
                        const char *webhook_secret);
int store_tenant_get(struct store *s, const char *public_id, struct tenant *out);
/* Writes every field of t (found by t->public_id), and bumps the auth
 * generation in the same transaction. */
int store_tenant_update(struct store *s, const struct tenant *t);
/* Calls cb for each tenant, oldest first. */
int store_tenant_list(struct store *s, void (*cb)(const struct tenant *t, void *arg), void *arg);

int store_key_create(struct store *s, int64_t tenant_id, const struct api_key_new *key);
/* STORE_NOT_FOUND if no such key; revoking twice is OK. Bumps the auth
 * generation in the same transaction. */
int store_key_revoke(struct store *s, const char *key_public_id, int64_t now);

/* Authenticates an API key by the SHA-256 hex of the presented key. On
 * STORE_OK fills tenant, *revoked and key_id (the key's public id). */
int store_key_authenticate(struct store *s, const char *hash_hex, struct tenant *tenant,
                           bool *revoked, char key_id[ID_MAX]);

/* The auth generation: a counter shared by every node, bumped by every
 * change that can turn an API key's answer (revocation, a tenant's
 * settings). One primary-key read: the per-request check that keeps the
 * API-key caches exact. */
int store_auth_generation(struct store *s, int64_t *gen);

/* ------------------------------------------------------- webhook secrets */

#define WEBHOOK_SECRETS_MAX 4

/* Adds a new signing secret; existing unexpired ones expire at
 * old_expires_at (rotation overlap). */
int store_webhook_secret_rotate(struct store *s, int64_t tenant_id, const char *secret, int64_t now,
                                int64_t old_expires_at);
/* The secrets valid at `now`, newest first. *n is in/out (capacity/count). */
int store_webhook_secrets(struct store *s, int64_t tenant_id, int64_t now,
                          char secrets[][SECRET_MAX], size_t *n);

/* ----------------------------------------------------- JWT signing keys */

#define SIGNING_KEY_LEN 32

struct signing_key {
  char kid[32];
  uint8_t secret[SIGNING_KEY_LEN];
  int64_t created_at;
};

/* Creates the first signing key if there is none (done by migrate, so
 * every node of a cluster shares it). */
int store_signing_key_ensure(struct store *s);
/* Loads up to *n keys, newest first. */
int store_signing_keys(struct store *s, struct signing_key *out, size_t *n);

/* ------------------------------------------------------ secrets at rest */

#define MASTER_KEY_LEN 32

/* Sets the key-encryption key (ATHOS_MASTER_KEY_FILE): webhook secrets and
 * signing keys written from now on are sealed with AES-256-GCM under it,
 * and sealed values are opened with it. Call before any thread uses s. */
void store_set_master_key(struct store *s, const uint8_t key[MASTER_KEY_LEN]);

struct secrets_count {
  size_t plain, sealed; /* stored values of each form */
};
/* Opens every stored secret with the current master key (or none), and
 * counts the forms. STORE_ERROR with err set if one does not open: the
 * wrong master key, or sealed values and no key. */
int store_secrets_check(struct store *s, struct secrets_count *out, char *err, size_t errlen);
/* Re-encrypts every stored secret under next (NULL: back to plaintext)
 * in one transaction, opening each with the current key; then s uses
 * next. Nothing changes if one value does not open (err set). out counts
 * the values rewritten. */
int store_secrets_rekey(struct store *s, const uint8_t *next, size_t *out, char *err,
                        size_t errlen);

/* ------------------------------------------------------------------ calls */

#define EXTERNAL_ID_MAX  256
#define DRILL_KEY_MAX    64
#define PERSONA_NAME_MAX 128

/* A call as created by redeem. */
struct call_new {
  int64_t tenant_id;
  char jti[64]; /* the session token's id, spent atomically here */
  int64_t token_expires_at;
  char public_id[ID_MAX];  /* athos_call_… */
  char session_id[ID_MAX]; /* ext_… */
  char external_user_id[EXTERNAL_ID_MAX + 1];
  char external_agency_id[EXTERNAL_ID_MAX + 1]; /* "" = none */
  char drill_key[DRILL_KEY_MAX + 1];
  char difficulty[16];
  int persona_index;
  char persona_name[PERSONA_NAME_MAX + 1];
  uint64_t seed;
  char ticket_hash_hex[65];
  int64_t ticket_expires_at;
  int64_t created_at;
  int64_t quota_since; /* the start of the quota's month (unix ms) */
  char key_id[ID_MAX]; /* the minting API key's public id; "" = not checked */
};

/* Spends the token's jti and creates the call in one transaction, which
 * also checks the tenant's monthly quota (read in that transaction, and
 * serialized per tenant, so concurrent redeems never overshoot it).
 * STORE_CONFLICT if the jti was already spent; STORE_REVOKED if the key
 * c->key_id is revoked (or gone); STORE_QUOTA if the tenant
 * already has monthly_call_quota calls counted since c->quota_since
 * (the token is not spent: the transaction rolls back). */
int store_call_create(struct store *s, const struct call_new *c);

/* Ended calls not scored yet, every tenant's (the scoring queue's depth,
 * for /metrics). */
int store_scoring_backlog(struct store *s, int64_t *count);

/* Calls counted against the quota for the tenant since `since`: every
 * call created since then, but those reaped as `expired`. */
int store_calls_created_since(struct store *s, int64_t tenant_id, int64_t since, int64_t *count);

/* Ends with status `expired` (end reason "ticket_expired") every call
 * still `created` whose ticket expired before `before`: redeemed but
 * never started. They are never scored and no longer count against the
 * quota. *n receives how many. */
int store_calls_reap_unstarted(struct store *s, int64_t now, int64_t before, int64_t *n);

/* A call row, as the REST API, the live loop and the scorer read it. */
struct call_row {
  int64_t id; /* internal */
  int64_t tenant_id;
  char public_id[ID_MAX];
  char session_id[ID_MAX];
  char source[16];
  char external_user_id[EXTERNAL_ID_MAX + 1];
  char external_agency_id[EXTERNAL_ID_MAX + 1]; /* "" = null */
  char drill_key[DRILL_KEY_MAX + 1];
  char difficulty[16];
  int persona_index;
  char persona_name[PERSONA_NAME_MAX + 1];
  uint64_t seed;
  char status[16];
  char end_reason[24];
  int64_t created_at, started_at, ended_at, scored_at, updated_at; /* 0 = null */
  int64_t duration_sec;
};

/* A scored call of the tenant, by public id; STORE_NOT_FOUND for an
 * unknown id, another tenant's call or one not yet scored. *score_json is
 * malloc'd (caller frees). */
int store_call_get_scored(struct store *s, int64_t tenant_id, const char *public_id,
                          struct call_row *out, char **score_json);

struct call_turn {
  int idx;
  const char *role;         /* borrowed for the callback's duration */
  const char *content;      /* borrowed for the callback's duration */
  int64_t at_ms;            /* offset from the call's start */
  int64_t start_ms, end_ms; /* place in the call's audio; -1 = none */
};

/* Calls cb for each turn of the call, in order. */
int store_call_turns(struct store *s, int64_t call_id,
                     int (*cb)(const struct call_turn *t, void *arg), void *arg);

struct call_filter {
  int64_t tenant_id;
  int64_t from_ms, to_ms; /* inclusive on ended_at; to_ms = INT64_MAX if none */
  const char *source;     /* NULL = any */
  const char *external_user_id;
  const char *external_agency_id;
  /* keyset position: rows strictly after (after_ended_at, after_public_id)
   * in (ended_at DESC, public_id DESC) order; after_public_id NULL = start */
  int64_t after_ended_at;
  const char *after_public_id;
  int limit;
};

/* Scored calls matching f, newest first; cb is called per row. */
int store_calls_list(struct store *s, const struct call_filter *f,
                     int (*cb)(const struct call_row *c, void *arg), void *arg);

/* ------------------------------------------------------------ live calls */

/* Spends a connection ticket (by hash) atomically, returning the call.
 * STORE_NOT_FOUND (unknown), STORE_EXPIRED, STORE_CONFLICT (already used). */
int store_ticket_consume(struct store *s, const char *ticket_hash_hex, int64_t now,
                         struct call_row *out);
/* created → live, startedAt = started_at. */
int store_call_mark_live(struct store *s, int64_t call_id, int64_t started_at);
/* Appends one turn (committed before it returns). */
int store_call_append_turn(struct store *s, int64_t call_id, int idx, const char *role,
                           const char *content, int64_t at_ms);
/* The same with the turn's place in the call's audio (ms from the call's
 * start; -1 = none): a recognised rep utterance. */
int store_call_append_turn_timed(struct store *s, int64_t call_id, int idx, const char *role,
                                 const char *content, int64_t at_ms, int64_t start_ms,
                                 int64_t end_ms);
/* Replaces a turn's text (a persona line cut short by a barge-in). */
int store_call_set_turn_text(struct store *s, int64_t call_id, int idx, const char *content);
/* Sets a turn's place in the call's audio (ms from the call's start,
 * 0 <= start_ms <= end_ms): a persona line once it has played. */
int store_call_set_turn_audio(struct store *s, int64_t call_id, int idx, int64_t start_ms,
                              int64_t end_ms);

/* ------------------------------------------------------------ recordings */

/* A voice call's recording: registered when it starts (so a killed
 * server's file is still served), finished when the call ends. */
int store_recording_begin(struct store *s, int64_t call_id, const char *path, int64_t now);
/* waveform_json: {"peaksPerSecond":10,"peaks":[...]} text, or NULL. */
int store_recording_finish(struct store *s, int64_t call_id, int64_t duration_ms,
                           const char *waveform_json);
struct recording_row {
  char path[1024];
  int64_t duration_ms; /* -1 = unknown (the call did not end cleanly) */
  char *waveform_json; /* malloc'd or NULL */
};
/* The call's recording, unless deleted; STORE_NOT_FOUND if none. Free
 * out->waveform_json. */
int store_recording_get(struct store *s, int64_t call_id, struct recording_row *out);
/* Recordings created before `before` and not yet deleted, oldest first,
 * at most limit: cb(call_id, path). */
int store_recordings_expired(struct store *s, int64_t before, int limit,
                             int (*cb)(int64_t call_id, const char *path, void *arg), void *arg);
int store_recording_mark_deleted(struct store *s, int64_t call_id, int64_t now);
/* live → ended with the reason and duration. */
int store_call_end(struct store *s, int64_t call_id, int64_t ended_at, int64_t duration_sec,
                   const char *reason);
/* At start-up: every call left `live` by a dead process is ended with
 * reason "disconnect". *n receives how many. */
int store_calls_end_orphaned(struct store *s, int64_t now, int64_t *n);

/* --------------------------------------------------- scoring and outbox */

/* Claims one call to score: an `ended` call, or a `scoring` call whose
 * lease ran out (its worker died). Sets status `scoring` with a lease
 * until lease_until. STORE_NOT_FOUND when there is none. */
int store_scoring_claim(struct store *s, int64_t now, int64_t lease_until, struct call_row *out);

struct webhook_event_new {
  char msg_id[ID_MAX]; /* msg_… */
  const char *payload; /* the JSON body */
  int64_t next_attempt_at;
};

/* In one transaction: the score, status `scored`, scoredAt, and (if the
 * tenant has a webhook URL) the outbox event. Only if the call is still
 * `scoring`: STORE_CONFLICT otherwise (nothing is scored twice). */
int store_scoring_complete(struct store *s, int64_t call_id, const char *score_json,
                           int64_t scored_at, const struct webhook_event_new *ev);
/* The same, but only for the claim that set lease_until: a worker whose
 * lease ran out and whose call was claimed again gets STORE_CONFLICT. */
int store_scoring_complete_leased(struct store *s, int64_t call_id, int64_t lease_until,
                                  const char *score_json, int64_t scored_at,
                                  const struct webhook_event_new *ev);

struct webhook_event {
  int64_t id; /* internal */
  int64_t tenant_id;
  char msg_id[ID_MAX];
  char *payload; /* malloc'd by the store; freed by webhook_event_clear */
  int attempts;
  char url[WEBHOOK_URL_MAX + 1];
};
void webhook_event_clear(struct webhook_event *e);

/* Claims up to max due events (next_attempt_at <= now, status pending,
 * tenant endpoint enabled), leasing them until lease_until so another
 * node does not send them at the same time. Returns the count in *n. */
int store_outbox_claim(struct store *s, int64_t now, int64_t lease_until, struct webhook_event *out,
                       size_t max, size_t *n);

enum webhook_outcome {
  WEBHOOK_DELIVERED,
  WEBHOOK_RETRY,         /* next_attempt_at set */
  WEBHOOK_FAILED,        /* retries exhausted */
  WEBHOOK_ENDPOINT_GONE, /* a 410: the tenant's endpoint is disabled */
};

struct webhook_attempt {
  int64_t event_id;
  int64_t attempted_at;
  int http_status; /* 0 = no response */
  int64_t latency_ms;
  const char *error; /* NULL = none */
  enum webhook_outcome outcome;
  int64_t next_attempt_at; /* for WEBHOOK_RETRY */
};
/* Records one attempt and moves the event on. */
int store_outbox_record(struct store *s, const struct webhook_attempt *a);
/* Records n attempts in one transaction (the deliverer batches them). */
int store_outbox_record_many(struct store *s, const struct webhook_attempt *a, size_t n);
/* Puts every event of the tenant created since `since` back in the queue
 * (and re-enables the endpoint). *n receives how many. */
int store_outbox_replay(struct store *s, int64_t tenant_id, int64_t since, int64_t now, int64_t *n);

#endif
