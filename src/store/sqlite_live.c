/*
 * sqlite_live.c — the live loop's writes: spending a connection ticket,
 * marking the call live, appending turns (each committed before the
 * persona's reply goes out) and ending the call.
 */
#include <string.h>

#include "store/sqlite_internal.h"

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
  struct sq_conn *c = sq_acquire(s);
  int rc = STORE_ERROR, changes = 0;
  sqlite3_stmt *st = sq_stmt(c, SPEND);
  if (st == NULL)
    goto out;
  sqlite3_bind_int64(st, 1, now);
  sqlite3_bind_text(st, 2, ticket_hash_hex, -1, SQLITE_STATIC);
  if ((rc = sq_exec_step(c, st, &changes)) != STORE_OK)
    goto out;
  st = sq_stmt(c, READ);
  if (st == NULL) {
    rc = STORE_ERROR;
    goto out;
  }
  sqlite3_bind_text(st, 1, ticket_hash_hex, -1, SQLITE_STATIC);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    sq_read_call_row(st, out);
    if (changes == 1)
      rc = STORE_OK;
    else if (sqlite3_column_type(st, SQ_CALL_NCOLUMNS) != SQLITE_NULL ||
             strcmp(out->status, "created") != 0)
      rc = STORE_CONFLICT;
    else
      rc = STORE_EXPIRED;
  } else {
    rc = step == SQLITE_DONE ? STORE_NOT_FOUND : sq_rc(c, step);
  }
  sqlite3_reset(st);
out:
  sq_release(s, c);
  return rc;
}

int sqlite_call_mark_live(struct store *s, int64_t call_id, int64_t started_at)
{
  static const char SQL[] = "UPDATE calls SET status = 'live', started_at = ?1, updated_at = ?1"
                            " WHERE id = ?2 AND status = 'created'";
  struct sq_conn *c = sq_acquire(s);
  sqlite3_stmt *st = sq_stmt(c, SQL);
  int rc = STORE_ERROR, changes = 0;
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, started_at);
    sqlite3_bind_int64(st, 2, call_id);
    rc = sq_exec_step(c, st, &changes);
    if (rc == STORE_OK && changes != 1)
      rc = STORE_CONFLICT;
  }
  sq_release(s, c);
  return rc;
}

int sqlite_call_append_turn(struct store *s, int64_t call_id, int idx, const char *role,
                           const char *content, int64_t at_ms)
{
  static const char SQL[] =
      "INSERT INTO call_turns(call_id, idx, role, content, at_ms) VALUES (?,?,?,?,?)";
  struct sq_conn *c = sq_acquire(s);
  sqlite3_stmt *st = sq_stmt(c, SQL);
  int rc = STORE_ERROR;
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, call_id);
    sqlite3_bind_int(st, 2, idx);
    sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, content, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, at_ms);
    rc = sq_exec_step(c, st, NULL);
  }
  sq_release(s, c);
  return rc;
}

int sqlite_call_end(struct store *s, int64_t call_id, int64_t ended_at, int64_t duration_sec,
                   const char *reason)
{
  static const char SQL[] =
      "UPDATE calls SET status = 'ended', ended_at = ?1, updated_at = ?1, duration_sec = ?2,"
      " end_reason = ?3 WHERE id = ?4 AND status IN ('created', 'live')";
  struct sq_conn *c = sq_acquire(s);
  sqlite3_stmt *st = sq_stmt(c, SQL);
  int rc = STORE_ERROR, changes = 0;
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, ended_at);
    sqlite3_bind_int64(st, 2, duration_sec);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, call_id);
    rc = sq_exec_step(c, st, &changes);
    if (rc == STORE_OK && changes != 1)
      rc = STORE_CONFLICT;
  }
  sq_release(s, c);
  return rc;
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
  struct sq_conn *c = sq_acquire(s);
  sqlite3_stmt *st = sq_stmt(c, SQL);
  int rc = STORE_ERROR, changes = 0;
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, now);
    rc = sq_exec_step(c, st, &changes);
    *n = changes;
  }
  sq_release(s, c);
  return rc;
}
