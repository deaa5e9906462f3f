/*
 * sqlite_calls.c — calls as the REST API sees them: created at redeem
 * (spending the session token in the same transaction), read back only
 * once scored, listed by keyset on (ended_at DESC, public_id DESC).
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_internal.h"

int sqlite_call_create(struct store *s, const struct call_new *n)
{
  static const char SPEND[] =
      "INSERT INTO spent_tokens(jti, tenant_id, expires_at, spent_at) VALUES (?,?,?,?)";
  static const char INSERT[] =
      "INSERT INTO calls(public_id, session_id, tenant_id, source, external_user_id,"
      " external_agency_id, drill_key, difficulty, persona_index, persona_name, seed, status,"
      " ticket_hash, ticket_expires_at, created_at, updated_at)"
      " VALUES (?,?,?,'roleplay',?,?,?,?,?,?,?,'created',?,?,?,?)";
  struct sq_conn *c = sq_acquire(s);
  int rc = sq_begin(c);
  if (rc != STORE_OK)
    goto out;
  sqlite3_stmt *st = sq_stmt(c, SPEND);
  if (st == NULL) {
    rc = STORE_ERROR;
    goto fail;
  }
  sqlite3_bind_text(st, 1, n->jti, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, n->tenant_id);
  sqlite3_bind_int64(st, 3, n->token_expires_at);
  sqlite3_bind_int64(st, 4, n->created_at);
  /* The primary key on jti makes the token single-use: of two concurrent
   * redeems exactly one insert succeeds. */
  if ((rc = sq_exec_step(c, st, NULL)) != STORE_OK)
    goto fail;
  st = sq_stmt(c, INSERT);
  if (st == NULL) {
    rc = STORE_ERROR;
    goto fail;
  }
  sqlite3_bind_text(st, 1, n->public_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, n->session_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, n->tenant_id);
  sqlite3_bind_text(st, 4, n->external_user_id, -1, SQLITE_STATIC);
  sq_bind_text(st, 5, n->external_agency_id, 1);
  sqlite3_bind_text(st, 6, n->drill_key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 7, n->difficulty, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 8, n->persona_index);
  sqlite3_bind_text(st, 9, n->persona_name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 10, (int64_t)n->seed);
  sqlite3_bind_text(st, 11, n->ticket_hash_hex, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 12, n->ticket_expires_at);
  sqlite3_bind_int64(st, 13, n->created_at);
  sqlite3_bind_int64(st, 14, n->created_at);
  if ((rc = sq_exec_step(c, st, NULL)) != STORE_OK) {
    if (rc == STORE_CONFLICT) /* a random id collided: ours, not the client's */
      rc = STORE_ERROR;
    goto fail;
  }
  rc = sq_commit(c);
  goto out;
fail:
  sq_rollback(c);
out:
  sq_release(s, c);
  return rc;
}

int sqlite_calls_created_since(struct store *s, int64_t tenant_id, int64_t since, int64_t *count)
{
  static const char SQL[] = "SELECT count(*) FROM calls WHERE tenant_id = ? AND created_at >= ?";
  struct sq_conn *c = sq_acquire(s);
  sqlite3_stmt *st = sq_stmt(c, SQL);
  int rc = STORE_ERROR;
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite3_bind_int64(st, 2, since);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
      *count = sqlite3_column_int64(st, 0);
      rc = STORE_OK;
    } else {
      rc = sq_rc(c, step);
    }
    sqlite3_reset(st);
  }
  sq_release(s, c);
  return rc;
}

int sqlite_call_get_scored(struct store *s, int64_t tenant_id, const char *public_id,
                          struct call_row *out, char **score_json)
{
  static const char SQL[] = "SELECT " SQ_CALL_COLUMNS ", c.score_json FROM calls c"
                            " WHERE c.tenant_id = ? AND c.public_id = ? AND c.status = 'scored'";
  *score_json = NULL;
  struct sq_conn *c = sq_acquire(s);
  sqlite3_stmt *st = sq_stmt(c, SQL);
  int rc = STORE_ERROR;
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite3_bind_text(st, 2, public_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
      sq_read_call_row(st, out);
      const unsigned char *js = sqlite3_column_text(st, SQ_CALL_NCOLUMNS);
      *score_json = strdup(js != NULL ? (const char *)js : "null");
      rc = *score_json != NULL ? STORE_OK : STORE_ERROR;
    } else {
      rc = step == SQLITE_DONE ? STORE_NOT_FOUND : sq_rc(c, step);
    }
    sqlite3_reset(st);
  }
  sq_release(s, c);
  return rc;
}

int sqlite_call_turns(struct store *s, int64_t call_id,
                     int (*cb)(const struct call_turn *t, void *arg), void *arg)
{
  static const char SQL[] =
      "SELECT idx, role, content, at_ms FROM call_turns WHERE call_id = ? ORDER BY idx";
  struct sq_conn *c = sq_acquire(s);
  sqlite3_stmt *st = sq_stmt(c, SQL);
  int rc = STORE_ERROR;
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, call_id);
    int step;
    rc = STORE_OK;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
      struct call_turn t = {
          .idx = sqlite3_column_int(st, 0),
          .role = (const char *)sqlite3_column_text(st, 1),
          .content = (const char *)sqlite3_column_text(st, 2),
          .at_ms = sqlite3_column_int64(st, 3),
      };
      if (t.role == NULL || t.content == NULL || cb(&t, arg) != 0) {
        rc = STORE_ERROR;
        break;
      }
    }
    if (rc == STORE_OK && step != SQLITE_DONE)
      rc = sq_rc(c, step);
    sqlite3_reset(st);
  }
  sq_release(s, c);
  return rc;
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
  struct sq_conn *c = sq_acquire(s);
  sqlite3_stmt *st = sq_stmt(c, SQL);
  int rc = STORE_ERROR;
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, f->tenant_id);
    sqlite3_bind_int64(st, 2, f->from_ms);
    sqlite3_bind_int64(st, 3, f->to_ms);
    sq_bind_text(st, 4, f->source, 0);
    sq_bind_text(st, 5, f->external_user_id, 0);
    sq_bind_text(st, 6, f->external_agency_id, 0);
    sq_bind_text(st, 7, f->after_public_id, 0);
    sqlite3_bind_int64(st, 8, f->after_ended_at);
    sqlite3_bind_int(st, 9, f->limit);
    int step;
    rc = STORE_OK;
    struct call_row row;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
      sq_read_call_row(st, &row);
      if (cb(&row, arg) != 0) {
        rc = STORE_ERROR;
        break;
      }
    }
    if (rc == STORE_OK && step != SQLITE_DONE)
      rc = sq_rc(c, step);
    sqlite3_reset(st);
  }
  sq_release(s, c);
  return rc;
}
