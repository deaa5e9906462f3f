/*
 * sqlite_calls.c — calls as the REST API sees them: created at redeem
 * (spending the session token in the same transaction), read back only
 * once scored, listed by keyset on (ended_at DESC, public_id DESC).
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_internal.h"

static int call_create_tx(struct sq_conn *c, void *arg)
{
  static const char SPEND[] =
      "INSERT INTO spent_tokens(jti, tenant_id, expires_at, spent_at) VALUES (?,?,?,?)";
  static const char INSERT[] =
      "INSERT INTO calls(public_id, session_id, tenant_id, source, external_user_id,"
      " external_agency_id, drill_key, difficulty, persona_index, persona_name, seed, status,"
      " ticket_hash, ticket_expires_at, created_at, updated_at)"
      " VALUES (?,?,?,'roleplay',?,?,?,?,?,?,?,'created',?,?,?,?)";
  const struct call_new *n = arg;
  struct sq_params p = {0};
  sq_p_text(&p, n->jti);
  sq_p_i64(&p, n->tenant_id);
  sq_p_i64(&p, n->token_expires_at);
  sq_p_i64(&p, n->created_at);
  /* The primary key on jti makes the token single-use: of two concurrent
   * redeems exactly one insert succeeds (the other's STORE_CONFLICT is
   * the client's: a spent token). */
  int rc = sq_exec(c, SPEND, &p, NULL);
  if (rc != STORE_OK)
    return rc;
  p = (struct sq_params){0};
  sq_p_text(&p, n->public_id);
  sq_p_text(&p, n->session_id);
  sq_p_i64(&p, n->tenant_id);
  sq_p_text(&p, n->external_user_id);
  sq_p_text_or_null(&p, n->external_agency_id);
  sq_p_text(&p, n->drill_key);
  sq_p_text(&p, n->difficulty);
  sq_p_i64(&p, n->persona_index);
  sq_p_text(&p, n->persona_name);
  sq_p_i64(&p, (int64_t)n->seed);
  sq_p_text(&p, n->ticket_hash_hex);
  sq_p_i64(&p, n->ticket_expires_at);
  sq_p_i64(&p, n->created_at);
  sq_p_i64(&p, n->created_at);
  rc = sq_exec(c, INSERT, &p, NULL);
  if (rc == STORE_CONFLICT) /* a random id collided: ours, not the client's */
    rc = STORE_ERROR;
  return rc;
}

int sqlite_call_create(struct store *s, const struct call_new *n)
{
  /* The body only reads n: the cast drops const for sq_tx's void *. */
  return sq_tx(s, call_create_tx, (void *)n);
}

static int row_count(sqlite3_stmt *st, void *count)
{
  *(int64_t *)count = sqlite3_column_int64(st, 0);
  return STORE_OK;
}

int sqlite_calls_created_since(struct store *s, int64_t tenant_id, int64_t since, int64_t *count)
{
  static const char SQL[] = "SELECT count(*) FROM calls WHERE tenant_id = ? AND created_at >= ?";
  struct sq_params p = {0};
  sq_p_i64(&p, tenant_id);
  sq_p_i64(&p, since);
  return sq_get(s, SQL, &p, row_count, count); /* count(*) always has its one row */
}

struct scored {
  struct call_row *out;
  char **score_json; /* owned by the caller once set */
};

static int row_scored(sqlite3_stmt *st, void *arg)
{
  struct scored *a = arg;
  sq_read_call_row(st, a->out);
  const unsigned char *js = sqlite3_column_text(st, SQ_CALL_NCOLUMNS);
  *a->score_json = strdup(js != NULL ? (const char *)js : "null");
  return *a->score_json != NULL ? STORE_OK : STORE_ERROR;
}

int sqlite_call_get_scored(struct store *s, int64_t tenant_id, const char *public_id,
                           struct call_row *out, char **score_json)
{
  static const char SQL[] = "SELECT " SQ_CALL_COLUMNS ", c.score_json FROM calls c"
                            " WHERE c.tenant_id = ? AND c.public_id = ? AND c.status = 'scored'";
  *score_json = NULL;
  struct scored a = {.out = out, .score_json = score_json};
  struct sq_params p = {0};
  sq_p_i64(&p, tenant_id);
  sq_p_text(&p, public_id);
  return sq_get(s, SQL, &p, row_scored, &a);
}

struct turns {
  int (*cb)(const struct call_turn *t, void *arg);
  void *arg;
};

static int row_turn(sqlite3_stmt *st, void *arg)
{
  struct turns *a = arg;
  struct call_turn t = {
      .idx = sqlite3_column_int(st, 0),
      .role = (const char *)sqlite3_column_text(st, 1),
      .content = (const char *)sqlite3_column_text(st, 2),
      .at_ms = sqlite3_column_int64(st, 3),
  };
  if (t.role == NULL || t.content == NULL || a->cb(&t, a->arg) != 0)
    return STORE_ERROR;
  return STORE_OK;
}

int sqlite_call_turns(struct store *s, int64_t call_id,
                      int (*cb)(const struct call_turn *t, void *arg), void *arg)
{
  static const char SQL[] =
      "SELECT idx, role, content, at_ms FROM call_turns WHERE call_id = ? ORDER BY idx";
  struct turns a = {.cb = cb, .arg = arg};
  struct sq_params p = {0};
  sq_p_i64(&p, call_id);
  return sq_each(s, SQL, &p, row_turn, &a);
}

struct calls {
  int (*cb)(const struct call_row *c, void *arg);
  void *arg;
};

static int row_listed_call(sqlite3_stmt *st, void *arg)
{
  struct calls *a = arg;
  struct call_row row;
  sq_read_call_row(st, &row);
  return a->cb(&row, a->arg) != 0 ? STORE_ERROR : STORE_OK;
}

int sqlite_calls_list(struct store *s, const struct call_filter *f,
                      int (*cb)(const struct call_row *c, void *arg), void *arg)
{
  /* Optional filters are written as "(? IS NULL OR col = ?)" so one
   * prepared statement serves every combination; the keyset condition
   * uses the (tenant_id, status, ended_at, public_id) index. */
  static const char SQL[] =
      "SELECT " SQ_CALL_COLUMNS " FROM calls c"
      " WHERE c.tenant_id = ?1 AND c.status = 'scored'"
      " AND c.ended_at >= ?2 AND c.ended_at <= ?3"
      " AND (?4 IS NULL OR c.source = ?4)"
      " AND (?5 IS NULL OR c.external_user_id = ?5)"
      " AND (?6 IS NULL OR c.external_agency_id = ?6)"
      " AND (?7 IS NULL OR c.ended_at < ?8 OR (c.ended_at = ?8 AND c.public_id < ?7))"
      " ORDER BY c.ended_at DESC, c.public_id DESC LIMIT ?9";
  struct calls a = {.cb = cb, .arg = arg};
  struct sq_params p = {0};
  sq_p_i64(&p, f->tenant_id);
  sq_p_i64(&p, f->from_ms);
  sq_p_i64(&p, f->to_ms);
  sq_p_text(&p, f->source);
  sq_p_text(&p, f->external_user_id);
  sq_p_text(&p, f->external_agency_id);
  sq_p_text(&p, f->after_public_id);
  sq_p_i64(&p, f->after_ended_at);
  sq_p_i64(&p, f->limit);
  return sq_each(s, SQL, &p, row_listed_call, &a);
}
