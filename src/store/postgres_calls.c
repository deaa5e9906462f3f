/*
 * postgres_calls.c — calls in PostgreSQL: created at redeem (spending the
 * session token's jti in the same transaction: its primary key makes the
 * token single-use across every node), REST reads, and the live loop's
 * writes (ticket consume, live, turns, end).
 */
#include <stdlib.h>
#include <string.h>

#include "store/postgres_internal.h"

/* ------------------------------------------------------------------ calls */

static int call_create_tx(struct pg_conn *c, void *arg)
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
  struct pg_params p = {0};
  pg_p_text(&p, n->jti);
  pg_p_i64(&p, n->tenant_id);
  pg_p_i64(&p, n->token_expires_at);
  pg_p_i64(&p, n->created_at);
  /* Of two nodes redeeming one token concurrently, the second insert
   * waits for the first transaction and then fails with 23505:
   * STORE_CONFLICT, the client's (a spent token). */
  int rc = pg_exec_cmd(c, SPEND, &p, NULL);
  if (rc != STORE_OK)
    return rc;
  p = (struct pg_params){0};
  pg_p_text(&p, n->public_id);
  pg_p_text(&p, n->session_id);
  pg_p_i64(&p, n->tenant_id);
  pg_p_text(&p, n->external_user_id);
  pg_p_text_or_null(&p, n->external_agency_id);
  pg_p_text(&p, n->drill_key);
  pg_p_text(&p, n->difficulty);
  pg_p_i64(&p, n->persona_index);
  pg_p_text(&p, n->persona_name);
  pg_p_i64(&p, (int64_t)n->seed);
  pg_p_text(&p, n->ticket_hash_hex);
  pg_p_i64(&p, n->ticket_expires_at);
  pg_p_i64(&p, n->created_at);
  rc = pg_exec_cmd(c, INSERT, &p, NULL);
  if (rc == STORE_CONFLICT) /* a random id collided: ours, not the client's */
    rc = STORE_ERROR;
  return rc;
}

int pg_call_create(struct store *s, const struct call_new *n)
{
  /* The body only reads n: the cast drops const for pg_tx's void *. */
  return pg_tx(s, call_create_tx, (void *)n);
}

static int row_count(const PGresult *r, void *count)
{
  *(int64_t *)count = pg_col_i64(r, 0, 0);
  return STORE_OK;
}

int pg_calls_created_since(struct store *s, int64_t tenant_id, int64_t since, int64_t *count)
{
  static const char SQL[] =
      "SELECT count(*) FROM calls WHERE tenant_id = $1 AND created_at >= $2";
  struct pg_params p = {0};
  pg_p_i64(&p, tenant_id);
  pg_p_i64(&p, since);
  return pg_get(s, SQL, &p, row_count, count); /* count(*) always has its one row */
}

struct scored {
  struct call_row *out;
  char **score_json; /* owned by the caller once set */
};

static int row_scored(const PGresult *r, void *arg)
{
  struct scored *a = arg;
  pg_read_call_row(r, 0, 0, a->out);
  *a->score_json = strdup(PQgetisnull(r, 0, PG_CALL_NCOLUMNS) ? "null"
                                                               : PQgetvalue(r, 0, PG_CALL_NCOLUMNS));
  return *a->score_json != NULL ? STORE_OK : STORE_ERROR;
}

int pg_call_get_scored(struct store *s, int64_t tenant_id, const char *public_id,
                       struct call_row *out, char **score_json)
{
  static const char SQL[] = "SELECT " PG_CALL_COLUMNS ", c.score_json FROM calls c"
                            " WHERE c.tenant_id = $1 AND c.public_id = $2 AND c.status = 'scored'";
  *score_json = NULL;
  struct scored a = {.out = out, .score_json = score_json};
  struct pg_params p = {0};
  pg_p_i64(&p, tenant_id);
  pg_p_text(&p, public_id);
  return pg_get(s, SQL, &p, row_scored, &a);
}

int pg_call_turns(struct store *s, int64_t call_id,
                  int (*cb)(const struct call_turn *t, void *arg), void *arg)
{
  static const char SQL[] =
      "SELECT idx, role, content, at_ms FROM call_turns WHERE call_id = $1 ORDER BY idx";
  struct pg_params p = {0};
  pg_p_i64(&p, call_id);
  PGresult *r = NULL;
  /* pg_fetch gives the connection back before the callbacks run: they may
   * be slow and never need it. */
  int rc = pg_fetch(s, SQL, &p, &r);
  if (rc == STORE_OK) {
    for (int i = 0; i < PQntuples(r); i++) {
      struct call_turn t = {
          .idx = (int)pg_col_i64(r, i, 0),
          .role = PQgetvalue(r, i, 1),
          .content = PQgetvalue(r, i, 2),
          .at_ms = pg_col_i64(r, i, 3),
      };
      if (cb(&t, arg) != 0) {
        rc = STORE_ERROR;
        break;
      }
    }
  }
  PQclear(r);
  return rc;
}

int pg_calls_list(struct store *s, const struct call_filter *f,
                  int (*cb)(const struct call_row *c, void *arg), void *arg)
{
  /* Optional filters as "($n::text IS NULL OR col = $n)": one prepared
   * statement serves every combination. */
  static const char SQL[] =
      "SELECT " PG_CALL_COLUMNS " FROM calls c"
      " WHERE c.tenant_id = $1 AND c.status = 'scored'"
      " AND c.ended_at >= $2 AND c.ended_at <= $3"
      " AND ($4::text IS NULL OR c.source = $4::text)"
      " AND ($5::text IS NULL OR c.external_user_id = $5::text)"
      " AND ($6::text IS NULL OR c.external_agency_id = $6::text)"
      " AND ($7::text IS NULL OR c.ended_at < $8::bigint"
      "      OR (c.ended_at = $8::bigint AND c.public_id < $7::text))"
      " ORDER BY c.ended_at DESC, c.public_id DESC LIMIT $9";
  struct pg_params p = {0};
  pg_p_i64(&p, f->tenant_id);
  pg_p_i64(&p, f->from_ms);
  pg_p_i64(&p, f->to_ms);
  pg_p_text(&p, f->source);
  pg_p_text(&p, f->external_user_id);
  pg_p_text(&p, f->external_agency_id);
  pg_p_text(&p, f->after_public_id);
  pg_p_i64(&p, f->after_ended_at);
  pg_p_i64(&p, f->limit);
  PGresult *r = NULL;
  int rc = pg_fetch(s, SQL, &p, &r);
  if (rc == STORE_OK) {
    struct call_row row;
    for (int i = 0; i < PQntuples(r); i++) {
      pg_read_call_row(r, i, 0, &row);
      if (cb(&row, arg) != 0) {
        rc = STORE_ERROR;
        break;
      }
    }
  }
  PQclear(r);
  return rc;
}

/* ------------------------------------------------------------ live calls */

/* Maps the ticket's row to why the UPDATE that tried to spend it refused. */
static int row_ticket_refused(const PGresult *r, void *out)
{
  struct call_row *row = out;
  pg_read_call_row(r, 0, 0, row);
  if (strcmp(PQgetvalue(r, 0, PG_CALL_NCOLUMNS), "t") == 0 || strcmp(row->status, "created") != 0)
    return STORE_CONFLICT;
  return STORE_EXPIRED;
}

int pg_ticket_consume(struct store *s, const char *ticket_hash_hex, int64_t now,
                      struct call_row *out)
{
  /* One UPDATE decides: of two nodes racing with the same ticket, the
   * second waits on the row lock, re-checks ticket_used_at IS NULL on the
   * committed row and changes nothing. The SELECT only explains a refusal. */
  static const char SPEND[] = "UPDATE calls c SET ticket_used_at = $1, updated_at = $1"
                              " WHERE c.ticket_hash = $2 AND c.ticket_used_at IS NULL"
                              " AND c.ticket_expires_at > $1 AND c.status = 'created'"
                              " RETURNING " PG_CALL_COLUMNS;
  static const char READ[] = "SELECT " PG_CALL_COLUMNS ", c.ticket_used_at IS NOT NULL"
                             " FROM calls c WHERE c.ticket_hash = $1";
  struct pg_conn *c;
  PGresult *r = NULL;
  int rc = pg_acquire(s, &c);
  if (rc != STORE_OK)
    goto out;
  struct pg_params p = {0};
  pg_p_i64(&p, now);
  pg_p_text(&p, ticket_hash_hex);
  if ((rc = pg_exec(c, SPEND, &p, &r)) != STORE_OK)
    goto out;
  if (PQntuples(r) == 1) {
    pg_read_call_row(r, 0, 0, out);
    goto out;
  }
  PQclear(r);
  r = NULL;
  p = (struct pg_params){0};
  pg_p_text(&p, ticket_hash_hex);
  if ((rc = pg_exec(c, READ, &p, &r)) != STORE_OK)
    goto out;
  rc = PQntuples(r) > 0 ? row_ticket_refused(r, out) : STORE_NOT_FOUND;
out:
  PQclear(r);
  pg_release(s, c);
  return rc;
}

int pg_call_mark_live(struct store *s, int64_t call_id, int64_t started_at)
{
  static const char SQL[] = "UPDATE calls SET status = 'live', started_at = $1, updated_at = $1,"
                            " live_node = $3 WHERE id = $2 AND status = 'created'";
  int64_t node = 0;
  int rc = pg_liveness_ensure(s, &node);
  if (rc != STORE_OK)
    return rc;
  struct pg_params p = {0};
  pg_p_i64(&p, started_at);
  pg_p_i64(&p, call_id);
  pg_p_i64(&p, node);
  return pg_update_row(s, SQL, &p, STORE_CONFLICT);
}

int pg_call_append_turn(struct store *s, int64_t call_id, int idx, const char *role,
                        const char *content, int64_t at_ms)
{
  static const char SQL[] =
      "INSERT INTO call_turns(call_id, idx, role, content, at_ms) VALUES ($1, $2, $3, $4, $5)";
  struct pg_params p = {0};
  pg_p_i64(&p, call_id);
  pg_p_i64(&p, idx);
  pg_p_text(&p, role);
  pg_p_text(&p, content);
  pg_p_i64(&p, at_ms);
  return pg_write(s, SQL, &p, NULL);
}

int pg_call_end(struct store *s, int64_t call_id, int64_t ended_at, int64_t duration_sec,
                const char *reason)
{
  static const char SQL[] =
      "UPDATE calls SET status = 'ended', ended_at = $1, updated_at = $1, duration_sec = $2,"
      " end_reason = $3 WHERE id = $4 AND status IN ('created', 'live')";
  struct pg_params p = {0};
  pg_p_i64(&p, ended_at);
  pg_p_i64(&p, duration_sec);
  pg_p_text(&p, reason);
  pg_p_i64(&p, call_id);
  return pg_update_row(s, SQL, &p, STORE_CONFLICT);
}

int pg_calls_end_orphaned(struct store *s, int64_t now, int64_t *n)
{
  /* The end time of an orphan is its last acknowledged turn (or its
   * start): the moment the call was last known to be alive. In a cluster
   * a live call is an orphan only if the node that runs it no longer holds
   * its liveness lock (the process died): a node starting up must not end
   * the calls its peers are running. */
  static const char SQL[] =
      "UPDATE calls SET status = 'ended', end_reason = 'disconnect', updated_at = $1,"
      " ended_at = coalesce(started_at, created_at) + greatest(0, coalesce((SELECT max(at_ms)"
      "   FROM call_turns t WHERE t.call_id = calls.id), 0)),"
      " duration_sec = coalesce((SELECT max(at_ms) FROM call_turns t"
      "   WHERE t.call_id = calls.id), 0) / 1000"
      " WHERE status = 'live' AND NOT EXISTS (SELECT 1 FROM pg_locks l"
      "   WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
      "   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
      "   AND l.classid = " PG_LOCK_NODE_NS " AND l.objid::bigint = calls.live_node)";
  struct pg_params p = {0};
  pg_p_i64(&p, now);
  int changes = 0;
  int rc = pg_write(s, SQL, &p, &changes);
  *n = changes;
  return rc;
}
