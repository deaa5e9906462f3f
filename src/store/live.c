/*
 * live.c — the live loop's writes: spending a connection ticket, marking
 * the call live, appending turns (each committed before the persona's
 * reply goes out), ending the call, ending at start-up the calls a
 * dead process left live, and reaping the calls redeemed but never
 * started.
 */
#include <string.h>

#include "store/store_internal.h"

struct ticket {
  const char *hash_hex;
  int64_t now;
  struct call_row *out;
  bool spent;
};

/* Maps the ticket's row to why the UPDATE that tried to spend it refused. */
static int row_ticket_refused(const struct db_row *r, void *arg)
{
  struct call_row *row = arg;
  call_row_read(r, row);
  if (db_col_i64(r, CALL_NCOLUMNS) != 0 || strcmp(row->status, "created") != 0)
    return STORE_CONFLICT;
  return STORE_EXPIRED;
}

static int row_ticket_spent(const struct db_row *r, void *arg)
{
  struct ticket *t = arg;
  call_row_read(r, t->out);
  t->spent = true;
  return STORE_OK;
}

static int ticket_consume_body(struct db_tx *tx, void *arg)
{
  /* One UPDATE decides: of two connections (or nodes) racing with the
   * same ticket, exactly one changes the row (on PostgreSQL the second
   * waits on the row lock and re-checks ticket_used_at IS NULL on the
   * committed row). The SELECT after a refusal only explains it. */
  static const char SPEND[] = "UPDATE calls SET ticket_used_at = $1, updated_at = $1"
                              " WHERE ticket_hash = $2 AND ticket_used_at IS NULL"
                              " AND ticket_expires_at > $1 AND status = 'created'"
                              " RETURNING " CALL_COLUMNS_OF("");
  static const char READ[] = "SELECT " CALL_COLUMNS ","
                             " CASE WHEN c.ticket_used_at IS NULL THEN 0 ELSE 1 END"
                             " FROM calls c WHERE c.ticket_hash = $1";
  struct ticket *t = arg;
  t->spent = false;
  struct db_params p = {0};
  db_p_i64(&p, t->now);
  db_p_text(&p, t->hash_hex);
  int rc = db_query(tx, SPEND, &p, row_ticket_spent, t);
  if (rc != STORE_OK || t->spent)
    return rc;
  p = (struct db_params){0};
  db_p_text(&p, t->hash_hex);
  return db_query_one(tx, READ, &p, row_ticket_refused, t->out);
}

int store_ticket_consume(struct store *s, const char *ticket_hash_hex, int64_t now,
                         struct call_row *out)
{
  struct ticket t = {.hash_hex = ticket_hash_hex, .now = now, .out = out};
  return db_run(s->db, DB_AUTOCOMMIT, ticket_consume_body, &t);
}

int store_call_mark_live(struct store *s, int64_t call_id, int64_t started_at)
{
  static const char SQL[] = "UPDATE calls SET status = 'live', started_at = $1, updated_at = $1,"
                            " live_node = $3 WHERE id = $2 AND status = 'created'";
  /* A cluster node marks its calls with its id, holding its liveness
   * lock; a single SQLite process leaves live_node NULL. */
  int64_t node = 0;
  int rc = s->db->drv->node(s->db, &node);
  if (rc != STORE_OK && rc != STORE_NOT_FOUND)
    return rc;
  struct db_params p = {0};
  db_p_i64(&p, started_at);
  db_p_i64(&p, call_id);
  if (rc == STORE_OK)
    db_p_i64(&p, node);
  else
    db_p_null(&p);
  return db_update_row(s->db, SQL, &p, STORE_CONFLICT);
}

int store_call_append_turn_timed(struct store *s, int64_t call_id, int idx, const char *role,
                                 const char *content, int64_t at_ms, int64_t start_ms,
                                 int64_t end_ms)
{
  static const char SQL[] = "INSERT INTO call_turns(call_id, idx, role, content, at_ms, start_ms,"
                            " end_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)";
  struct db_params p = {0};
  db_p_i64(&p, call_id);
  db_p_i64(&p, idx);
  db_p_text(&p, role);
  db_p_text(&p, content);
  db_p_i64(&p, at_ms);
  if (start_ms >= 0 && end_ms >= start_ms) {
    db_p_i64(&p, start_ms);
    db_p_i64(&p, end_ms);
  } else {
    db_p_null(&p);
    db_p_null(&p);
  }
  return db_write(s->db, SQL, &p, NULL);
}

int store_call_append_turn(struct store *s, int64_t call_id, int idx, const char *role,
                           const char *content, int64_t at_ms)
{
  return store_call_append_turn_timed(s, call_id, idx, role, content, at_ms, -1, -1);
}

int store_call_set_turn_text(struct store *s, int64_t call_id, int idx, const char *content)
{
  static const char SQL[] = "UPDATE call_turns SET content = $1 WHERE call_id = $2 AND idx = $3";
  struct db_params p = {0};
  db_p_text(&p, content);
  db_p_i64(&p, call_id);
  db_p_i64(&p, idx);
  return db_update_row(s->db, SQL, &p, STORE_NOT_FOUND);
}

int store_call_set_turn_audio(struct store *s, int64_t call_id, int idx, int64_t start_ms,
                              int64_t end_ms)
{
  static const char SQL[] =
      "UPDATE call_turns SET start_ms = $1, end_ms = $2 WHERE call_id = $3 AND idx = $4";
  struct db_params p = {0};
  db_p_i64(&p, start_ms);
  db_p_i64(&p, end_ms);
  db_p_i64(&p, call_id);
  db_p_i64(&p, idx);
  return db_update_row(s->db, SQL, &p, STORE_NOT_FOUND);
}

int store_call_end(struct store *s, int64_t call_id, int64_t ended_at, int64_t duration_sec,
                   const char *reason)
{
  static const char SQL[] =
      "UPDATE calls SET status = 'ended', ended_at = $1, updated_at = $1, duration_sec = $2,"
      " end_reason = $3 WHERE id = $4 AND status IN ('created', 'live')";
  struct db_params p = {0};
  db_p_i64(&p, ended_at);
  db_p_i64(&p, duration_sec);
  db_p_text(&p, reason);
  db_p_i64(&p, call_id);
  return db_update_row(s->db, SQL, &p, STORE_CONFLICT);
}

/* The end time of an orphan is its last acknowledged turn (or its start):
 * the moment the call was last known to be alive. */
#define END_ORPHANS                                                                \
  "UPDATE calls SET status = 'ended', end_reason = 'disconnect', updated_at = $1," \
  " ended_at = coalesce(started_at, created_at) + coalesce((SELECT max(at_ms)"     \
  "   FROM call_turns t WHERE t.call_id = calls.id AND t.at_ms > 0), 0),"          \
  " duration_sec = coalesce((SELECT max(at_ms) FROM call_turns t"                  \
  "   WHERE t.call_id = calls.id), 0) / 1000"                                      \
  " WHERE status = 'live'"

int store_calls_end_orphaned(struct store *s, int64_t now, int64_t *n)
{
  /* SQLite: one process, so every live call at start-up is an orphan.
   * PostgreSQL: a live call is an orphan only if the node that runs it no
   * longer holds its liveness lock (the process died): a node starting
   * up must not end the calls its peers are running. */
  static const char SQLITE[] = END_ORPHANS;
  static const char POSTGRES[] = END_ORPHANS
      " AND NOT EXISTS (SELECT 1 FROM pg_locks l"
      "   WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
      "   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
      "   AND l.classid = " DB_LOCK_NODE_NS " AND l.objid::bigint = calls.live_node)";
  struct db_params p = {0};
  db_p_i64(&p, now);
  *n = 0;
  return db_write(s->db, db_sql(s->db, SQLITE, POSTGRES), &p, n);
}

int store_calls_reap_unstarted(struct store *s, int64_t now, int64_t before, int64_t *n)
{
  /* The status guard makes a reap and a late start exclusive: whichever
   * UPDATE comes second changes nothing (a start then finds the call
   * gone, like an expired ticket). */
  static const char SQL[] =
      "UPDATE calls SET status = 'expired', end_reason = 'ticket_expired', ended_at = $1,"
      " updated_at = $1 WHERE status = 'created' AND ticket_expires_at < $2";
  struct db_params p = {0};
  db_p_i64(&p, now);
  db_p_i64(&p, before);
  *n = 0;
  return db_write(s->db, SQL, &p, n);
}
