/*
 * sqlite_live.c — the live loop's writes: spending a connection ticket,
 * marking the call live, appending turns (each committed before the
 * persona's reply goes out) and ending the call.
 */
#include <string.h>

#include "store/sqlite_internal.h"

struct ticket_read {
  struct call_row *out;
  int changes; /* of the spending UPDATE */
};

/* Maps the ticket's row to the outcome of the UPDATE that tried to spend it. */
static int row_ticket(sqlite3_stmt *st, void *arg)
{
  struct ticket_read *a = arg;
  sq_read_call_row(st, a->out);
  if (a->changes == 1)
    return STORE_OK;
  if (sqlite3_column_type(st, SQ_CALL_NCOLUMNS) != SQLITE_NULL ||
      strcmp(a->out->status, "created") != 0)
    return STORE_CONFLICT;
  return STORE_EXPIRED;
}

int sqlite_ticket_consume(struct store *s, const char *ticket_hash_hex, int64_t now,
                          struct call_row *out)
{
  /* One UPDATE decides atomically: of two connections racing with the
   * same ticket exactly one changes the row. The SELECT after it only
   * explains a refusal. */
  static const char SPEND[] = "UPDATE calls SET ticket_used_at = ?1, updated_at = ?1"
                              " WHERE ticket_hash = ?2 AND ticket_used_at IS NULL"
                              " AND ticket_expires_at > ?1 AND status = 'created'";
  static const char READ[] = "SELECT " SQ_CALL_COLUMNS ", c.ticket_used_at, c.ticket_expires_at"
                             " FROM calls c WHERE c.ticket_hash = ?";
  struct ticket_read a = {.out = out, .changes = 0};
  struct sq_conn *c = sq_acquire(s);
  struct sq_params p = {0};
  sq_p_i64(&p, now);
  sq_p_text(&p, ticket_hash_hex);
  int rc = sq_exec(c, SPEND, &p, &a.changes);
  if (rc != STORE_OK)
    goto out;
  p = (struct sq_params){0};
  sq_p_text(&p, ticket_hash_hex);
  rc = sq_query_one(c, READ, &p, row_ticket, &a);
out:
  sq_release(s, c);
  return rc;
}

int sqlite_call_mark_live(struct store *s, int64_t call_id, int64_t started_at)
{
  static const char SQL[] = "UPDATE calls SET status = 'live', started_at = ?1, updated_at = ?1"
                            " WHERE id = ?2 AND status = 'created'";
  struct sq_params p = {0};
  sq_p_i64(&p, started_at);
  sq_p_i64(&p, call_id);
  return sq_update_row(s, SQL, &p, STORE_CONFLICT);
}

int sqlite_call_append_turn(struct store *s, int64_t call_id, int idx, const char *role,
                            const char *content, int64_t at_ms)
{
  static const char SQL[] =
      "INSERT INTO call_turns(call_id, idx, role, content, at_ms) VALUES (?,?,?,?,?)";
  struct sq_params p = {0};
  sq_p_i64(&p, call_id);
  sq_p_i64(&p, idx);
  sq_p_text(&p, role);
  sq_p_text(&p, content);
  sq_p_i64(&p, at_ms);
  return sq_write(s, SQL, &p, NULL);
}

int sqlite_call_end(struct store *s, int64_t call_id, int64_t ended_at, int64_t duration_sec,
                    const char *reason)
{
  static const char SQL[] =
      "UPDATE calls SET status = 'ended', ended_at = ?1, updated_at = ?1, duration_sec = ?2,"
      " end_reason = ?3 WHERE id = ?4 AND status IN ('created', 'live')";
  struct sq_params p = {0};
  sq_p_i64(&p, ended_at);
  sq_p_i64(&p, duration_sec);
  sq_p_text(&p, reason);
  sq_p_i64(&p, call_id);
  return sq_update_row(s, SQL, &p, STORE_CONFLICT);
}

int sqlite_calls_end_orphaned(struct store *s, int64_t now, int64_t *n)
{
  /* The end time of an orphan is its last acknowledged turn (or its
   * start): the moment the call was last known to be alive. */
  static const char SQL[] =
      "UPDATE calls SET status = 'ended', end_reason = 'disconnect', updated_at = ?1,"
      " ended_at = max(coalesce(started_at, created_at),"
      "   coalesce(started_at, created_at) + coalesce((SELECT max(at_ms) FROM call_turns t"
      "     WHERE t.call_id = calls.id), 0)),"
      " duration_sec = coalesce((SELECT max(at_ms) FROM call_turns t"
      "     WHERE t.call_id = calls.id), 0) / 1000"
      " WHERE status = 'live'";
  struct sq_params p = {0};
  sq_p_i64(&p, now);
  int changes = 0;
  int rc = sq_write(s, SQL, &p, &changes);
  *n = changes;
  return rc;
}
