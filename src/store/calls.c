/*
 * calls.c — calls as the REST API sees them: created at redeem (spending
 * the session token in the same transaction), read back only once
 * scored, listed by keyset on (ended_at DESC, public_id DESC). Also the
 * call row reader the live loop and the scorer share.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

void call_row_read(const struct db_row *r, struct call_row *out)
{
  memset(out, 0, sizeof *out);
  out->id = db_col_i64(r, 0);
  out->tenant_id = db_col_i64(r, 1);
  db_col_copy(r, 2, out->public_id, sizeof out->public_id);
  db_col_copy(r, 3, out->session_id, sizeof out->session_id);
  db_col_copy(r, 4, out->source, sizeof out->source);
  db_col_copy(r, 5, out->external_user_id, sizeof out->external_user_id);
  db_col_copy(r, 6, out->external_agency_id, sizeof out->external_agency_id);
  db_col_copy(r, 7, out->drill_key, sizeof out->drill_key);
  db_col_copy(r, 8, out->difficulty, sizeof out->difficulty);
  out->persona_index = (int)db_col_i64(r, 9);
  db_col_copy(r, 10, out->persona_name, sizeof out->persona_name);
  out->seed = (uint64_t)db_col_i64(r, 11);
  db_col_copy(r, 12, out->status, sizeof out->status);
  db_col_copy(r, 13, out->end_reason, sizeof out->end_reason);
  out->created_at = db_col_i64(r, 14);
  out->started_at = db_col_i64(r, 15);
  out->ended_at = db_col_i64(r, 16);
  out->scored_at = db_col_i64(r, 17);
  out->updated_at = db_col_i64(r, 18);
  out->duration_sec = db_col_i64(r, 19);
}

int call_row_fn(const struct db_row *r, void *out)
{
  call_row_read(r, out);
  return STORE_OK;
}

/* --------------------------------------------------------------- redeem */

/* pg_advisory_xact_lock keys of the per-tenant quota locks: this base
 * plus the tenant's internal id (clear of the 4242 namespace's keys). */
#define LOCK_QUOTA_BASE ((int64_t)4242003 << 32)

/* The calls counted against the quota (the calls_created index). */
#define COUNT_QUOTA_CALLS                                                \
  "SELECT count(*) FROM calls WHERE tenant_id = $1 AND created_at >= $2" \
  " AND status <> 'expired'"

static int row_count(const struct db_row *r, void *count)
{
  *(int64_t *)count = db_col_i64(r, 0);
  return STORE_OK;
}

static int row_quota(const struct db_row *r, void *quota)
{
  /* NULL (no quota) reads as 0 from db_col_i64: tell them apart. */
  *(int64_t *)quota = db_col_text(r, 0) == NULL ? -1 : db_col_i64(r, 0);
  return STORE_OK;
}

/* STORE_OK if the tenant may have one more call, STORE_QUOTA if not. The
 * lock serializes the redeems of one tenant on every node (SQLite: BEGIN
 * IMMEDIATE already did), so the count cannot move until we commit. */
static int quota_allows(struct db_tx *tx, const struct call_new *n)
{
  static const char QUOTA[] = "SELECT monthly_call_quota FROM tenants WHERE id = $1";
  static const char COUNT[] = COUNT_QUOTA_CALLS;
  int rc = db_xact_lock(tx, LOCK_QUOTA_BASE + n->tenant_id);
  if (rc != STORE_OK)
    return rc;
  int64_t quota = -1, used = 0;
  struct db_params p = {0};
  db_p_i64(&p, n->tenant_id);
  if ((rc = db_query_one(tx, QUOTA, &p, row_quota, &quota)) != STORE_OK)
    return rc == STORE_NOT_FOUND ? STORE_ERROR : rc;
  if (quota < 0)
    return STORE_OK;
  db_p_i64(&p, n->quota_since);
  if ((rc = db_query_one(tx, COUNT, &p, row_count, &used)) != STORE_OK)
    return rc;
  return used < quota ? STORE_OK : STORE_QUOTA;
}

static int row_exists(const struct db_row *r, void *arg)
{
  (void)r;
  (void)arg;
  return STORE_OK;
}

/* STORE_OK if the key that minted the token is still in force, else
 * STORE_REVOKED. A revocation that commits first is seen (READ COMMITTED
 * reads the latest committed row); one that commits after this redeem's
 * commit is too late for this call, as for any request in flight. */
static int minting_key_valid(struct db_tx *tx, const struct call_new *n)
{
  static const char SQL[] = "SELECT 1 FROM api_keys"
                            " WHERE public_id = $1 AND tenant_id = $2 AND revoked_at IS NULL";
  if (n->key_id[0] == '\0')
    return STORE_OK;
  struct db_params p = {0};
  db_p_text(&p, n->key_id);
  db_p_i64(&p, n->tenant_id);
  int rc = db_query_one(tx, SQL, &p, row_exists, NULL);
  return rc == STORE_NOT_FOUND ? STORE_REVOKED : rc;
}

static int call_create_tx(struct db_tx *tx, void *arg)
{
  static const char SPEND[] =
      "INSERT INTO spent_tokens(jti, tenant_id, expires_at, spent_at) VALUES ($1, $2, $3, $4)";
  static const char INSERT[] =
      "INSERT INTO calls(public_id, session_id, tenant_id, source, external_user_id,"
      " external_agency_id, drill_key, difficulty, persona_index, persona_name, seed, status,"
      " ticket_hash, ticket_expires_at, created_at, updated_at)"
      " VALUES ($1, $2, $3, 'roleplay', $4, $5, $6, $7, $8, $9, $10, 'created', $11, $12, $13,"
      " $13)";
  const struct call_new *n = arg;
  struct db_params p = {0};
  db_p_text(&p, n->jti);
  db_p_i64(&p, n->tenant_id);
  db_p_i64(&p, n->token_expires_at);
  db_p_i64(&p, n->created_at);
  /* The primary key on jti makes the token single-use: of two concurrent
   * redeems exactly one insert succeeds (on PostgreSQL the second waits
   * for the first commit, then fails 23505); the other's STORE_CONFLICT
   * is the client's: a spent token. A spent token is told as such
   * before the quota is looked at. */
  int rc = db_exec(tx, SPEND, &p, NULL);
  if (rc != STORE_OK)
    return rc;
  if ((rc = minting_key_valid(tx, n)) != STORE_OK || (rc = quota_allows(tx, n)) != STORE_OK)
    return rc; /* rolled back: the token stays unspent */
  p = (struct db_params){0};
  db_p_text(&p, n->public_id);
  db_p_text(&p, n->session_id);
  db_p_i64(&p, n->tenant_id);
  db_p_text(&p, n->external_user_id);
  db_p_text_or_null(&p, n->external_agency_id);
  db_p_text(&p, n->drill_key);
  db_p_text(&p, n->difficulty);
  db_p_i64(&p, n->persona_index);
  db_p_text(&p, n->persona_name);
  db_p_i64(&p, (int64_t)n->seed);
  db_p_text(&p, n->ticket_hash_hex);
  db_p_i64(&p, n->ticket_expires_at);
  db_p_i64(&p, n->created_at);
  rc = db_exec(tx, INSERT, &p, NULL);
  if (rc == STORE_CONFLICT) /* a random id collided: ours, not the client's */
    rc = STORE_ERROR;
  return rc;
}

int store_call_create(struct store *s, const struct call_new *c)
{
  /* The body only reads c: the cast drops const for the runner's void *. */
  return db_run(s->db, DB_TRANSACTION, call_create_tx, (void *)c);
}

int store_calls_created_since(struct store *s, int64_t tenant_id, int64_t since, int64_t *count)
{
  static const char SQL[] = COUNT_QUOTA_CALLS;
  struct db_params p = {0};
  db_p_i64(&p, tenant_id);
  db_p_i64(&p, since);
  return db_get(s->db, SQL, &p, row_count, count); /* count(*) always has its one row */
}

int store_scoring_backlog(struct store *s, int64_t *count)
{
  static const char SQL[] = "SELECT count(*) FROM calls WHERE status = 'ended'";
  struct db_params p = {0};
  return db_get(s->db, SQL, &p, row_count, count);
}

/* ---------------------------------------------------------------- reads */

struct scored {
  struct call_row *out;
  char **score_json; /* owned by the caller once set */
};

static int row_scored(const struct db_row *r, void *arg)
{
  struct scored *a = arg;
  call_row_read(r, a->out);
  const char *js = db_col_text(r, CALL_NCOLUMNS);
  free(*a->score_json); /* a retried run */
  *a->score_json = strdup(js != NULL ? js : "null");
  return *a->score_json != NULL ? STORE_OK : STORE_ERROR;
}

int store_call_get_scored(struct store *s, int64_t tenant_id, const char *public_id,
                          struct call_row *out, char **score_json)
{
  static const char SQL[] = "SELECT " CALL_COLUMNS ", c.score_json FROM calls c"
                            " WHERE c.tenant_id = $1 AND c.public_id = $2 AND c.status = 'scored'";
  *score_json = NULL;
  struct scored a = {.out = out, .score_json = score_json};
  struct db_params p = {0};
  db_p_i64(&p, tenant_id);
  db_p_text(&p, public_id);
  return db_get(s->db, SQL, &p, row_scored, &a);
}

struct turns {
  int (*cb)(const struct call_turn *t, void *arg);
  void *arg;
};

static int row_turn(const struct db_row *r, void *arg)
{
  struct turns *a = arg;
  struct call_turn t = {
      .idx = (int)db_col_i64(r, 0),
      .role = db_col_text(r, 1),
      .content = db_col_text(r, 2),
      .at_ms = db_col_i64(r, 3),
      .start_ms = db_col_i64(r, 4),
      .end_ms = db_col_i64(r, 5),
  };
  if (t.role == NULL || t.content == NULL || a->cb(&t, a->arg) != 0)
    return STORE_ERROR;
  return STORE_OK;
}

int store_call_turns(struct store *s, int64_t call_id,
                     int (*cb)(const struct call_turn *t, void *arg), void *arg)
{
  static const char SQL[] =
      "SELECT idx, role, content, at_ms, COALESCE(start_ms, -1), COALESCE(end_ms, -1)"
      " FROM call_turns WHERE call_id = $1 ORDER BY idx";
  struct turns a = {.cb = cb, .arg = arg};
  struct db_params p = {0};
  db_p_i64(&p, call_id);
  return db_each(s->db, SQL, &p, row_turn, &a);
}

struct calls {
  int (*cb)(const struct call_row *c, void *arg);
  void *arg;
};

static int row_listed_call(const struct db_row *r, void *arg)
{
  struct calls *a = arg;
  struct call_row row;
  call_row_read(r, &row);
  return a->cb(&row, a->arg) != 0 ? STORE_ERROR : STORE_OK;
}

int store_calls_list(struct store *s, const struct call_filter *f,
                     int (*cb)(const struct call_row *c, void *arg), void *arg)
{
  /* Optional filters are written as "($n IS NULL OR col = $n)" so one
   * prepared statement serves every combination (the CASTs give
   * PostgreSQL the parameters' types); the keyset condition uses the
   * (tenant_id, status, ended_at, public_id) index. */
  static const char SQL[] =
      "SELECT " CALL_COLUMNS " FROM calls c"
      " WHERE c.tenant_id = $1 AND c.status = 'scored'"
      " AND c.ended_at >= $2 AND c.ended_at <= $3"
      " AND (CAST($4 AS TEXT) IS NULL OR c.source = CAST($4 AS TEXT))"
      " AND (CAST($5 AS TEXT) IS NULL OR c.external_user_id = CAST($5 AS TEXT))"
      " AND (CAST($6 AS TEXT) IS NULL OR c.external_agency_id = CAST($6 AS TEXT))"
      " AND (CAST($7 AS TEXT) IS NULL OR c.ended_at < CAST($8 AS BIGINT)"
      "      OR (c.ended_at = CAST($8 AS BIGINT) AND c.public_id < CAST($7 AS TEXT)))"
      " ORDER BY c.ended_at DESC, c.public_id DESC LIMIT $9";
  struct calls a = {.cb = cb, .arg = arg};
  struct db_params p = {0};
  db_p_i64(&p, f->tenant_id);
  db_p_i64(&p, f->from_ms);
  db_p_i64(&p, f->to_ms);
  db_p_text(&p, f->source);
  db_p_text(&p, f->external_user_id);
  db_p_text(&p, f->external_agency_id);
  db_p_text(&p, f->after_public_id);
  db_p_i64(&p, f->after_ended_at);
  db_p_i64(&p, f->limit);
  return db_each(s->db, SQL, &p, row_listed_call, &a);
}
