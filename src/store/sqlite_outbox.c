/*
 * sqlite_outbox.c — the scoring pipeline's and the webhook deliverer's
 * tables: claiming calls to score under a lease, committing a score
 * together with its call.scored event (the transactional outbox), claiming
 * due events under a lease, recording attempts and replaying.
 *
 * Leases, not locks: a claim writes lease_until; a worker or a node that
 * dies simply lets it run out and another one claims the row again. The
 * guards in the UPDATEs (status, lease) make every transition happen once.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_internal.h"

/* --------------------------------------------------------------- scoring */

int sqlite_scoring_claim(struct store *s, int64_t now, int64_t lease_until, struct call_row *out)
{
  /* Oldest ended call first; a `scoring` call whose lease ran out is a
   * crashed worker's and is taken over. */
  static const char PICK[] =
      "SELECT id FROM calls WHERE status = 'ended'"
      " OR (status = 'scoring' AND (lease_until IS NULL OR lease_until < ?1))"
      " ORDER BY ended_at, id LIMIT 1";
  static const char LEASE[] = "UPDATE calls SET status = 'scoring', lease_until = ?1,"
                              " updated_at = ?2 WHERE id = ?3";
  static const char READ[] = "SELECT " SQ_CALL_COLUMNS " FROM calls c WHERE c.id = ?";
  struct sq_conn *c = sq_acquire(s);
  int rc = sq_begin(c);
  if (rc != STORE_OK)
    goto out;
  sqlite3_stmt *st = sq_stmt(c, PICK);
  if (st == NULL) {
    rc = STORE_ERROR;
    goto fail;
  }
  sqlite3_bind_int64(st, 1, now);
  int step = sqlite3_step(st);
  if (step != SQLITE_ROW) {
    rc = step == SQLITE_DONE ? STORE_NOT_FOUND : sq_rc(c, step);
    sqlite3_reset(st);
    goto fail;
  }
  int64_t id = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);

  st = sq_stmt(c, LEASE);
  if (st == NULL) {
    rc = STORE_ERROR;
    goto fail;
  }
  sqlite3_bind_int64(st, 1, lease_until);
  sqlite3_bind_int64(st, 2, now);
  sqlite3_bind_int64(st, 3, id);
  if ((rc = sq_exec_step(c, st, NULL)) != STORE_OK)
    goto fail;

  st = sq_stmt(c, READ);
  if (st == NULL) {
    rc = STORE_ERROR;
    goto fail;
  }
  sqlite3_bind_int64(st, 1, id);
  step = sqlite3_step(st);
  if (step == SQLITE_ROW)
    sq_read_call_row(st, out);
  rc = step == SQLITE_ROW ? STORE_OK : step == SQLITE_DONE ? STORE_ERROR : sq_rc(c, step);
  sqlite3_reset(st);
  if (rc != STORE_OK)
    goto fail;
  rc = sq_commit(c);
  goto out;
fail:
  sq_rollback(c);
out:
  sq_release(s, c);
  return rc;
}

/* lease_until 0: any claim in force; otherwise only the claim that wrote it. */
int sqlite_scoring_complete(struct store *s, int64_t call_id, int64_t lease_until,
                            const char *score_json, int64_t scored_at,
                            const struct webhook_event_new *ev)
{
  static const char SCORE[] =
      "UPDATE calls SET status = 'scored', score_json = ?1, scored_at = ?2, updated_at = ?2,"
      " lease_until = NULL WHERE id = ?3 AND status = 'scoring'"
      " AND (?4 = 0 OR lease_until = ?4)";
  /* The event exists only when the tenant has somewhere to send it; a
   * tenant whose endpoint is disabled (410) still gets it queued. */
  static const char EVENT[] =
      "INSERT INTO webhook_events(msg_id, tenant_id, call_id, payload, status, attempts,"
      " next_attempt_at, created_at)"
      " SELECT ?1, t.id, c.id, ?2, 'pending', 0, ?3, ?4 FROM calls c"
      " JOIN tenants t ON t.id = c.tenant_id"
      " WHERE c.id = ?5 AND coalesce(t.webhook_url, '') <> ''";
  struct sq_conn *c = sq_acquire(s);
  int changes = 0;
  int rc = sq_begin(c);
  if (rc != STORE_OK)
    goto out;
  sqlite3_stmt *st = sq_stmt(c, SCORE);
  if (st == NULL) {
    rc = STORE_ERROR;
    goto fail;
  }
  sqlite3_bind_text(st, 1, score_json, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, scored_at);
  sqlite3_bind_int64(st, 3, call_id);
  sqlite3_bind_int64(st, 4, lease_until);
  if ((rc = sq_exec_step(c, st, &changes)) != STORE_OK)
    goto fail;
  if (changes == 0) {
    rc = STORE_CONFLICT; /* scored already, or our lease was taken over */
    goto fail;
  }
  if (ev != NULL) {
    st = sq_stmt(c, EVENT);
    if (st == NULL) {
      rc = STORE_ERROR;
      goto fail;
    }
    sqlite3_bind_text(st, 1, ev->msg_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ev->payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ev->next_attempt_at);
    sqlite3_bind_int64(st, 4, scored_at);
    sqlite3_bind_int64(st, 5, call_id);
    if ((rc = sq_exec_step(c, st, NULL)) != STORE_OK) {
      if (rc == STORE_CONFLICT) /* a random msg id collided: ours */
        rc = STORE_ERROR;
      goto fail;
    }
  }
  rc = sq_commit(c);
  goto out;
fail:
  sq_rollback(c);
out:
  sq_release(s, c);
  return rc;
}

/* ---------------------------------------------------------------- outbox */

int sqlite_outbox_claim(struct store *s, int64_t now, int64_t lease_until,
                       struct webhook_event *out, size_t max, size_t *n)
{
  /* The URL is read now, not when the event was made: an endpoint the
   * tenant moved receives its backlog at the new address. */
  static const char PICK[] =
      "SELECT e.id, e.tenant_id, e.msg_id, e.payload, e.attempts, t.webhook_url"
      " FROM webhook_events e JOIN tenants t ON t.id = e.tenant_id"
      " WHERE e.status = 'pending' AND e.next_attempt_at <= ?1"
      " AND (e.lease_until IS NULL OR e.lease_until < ?1)"
      " AND t.webhook_enabled = 1 AND coalesce(t.webhook_url, '') <> ''"
      " ORDER BY e.next_attempt_at, e.id LIMIT ?2";
  static const char LEASE[] = "UPDATE webhook_events SET lease_until = ?1 WHERE id = ?2";
  *n = 0;
  if (max == 0)
    return STORE_OK;
  struct sq_conn *c = sq_acquire(s);
  size_t got = 0;
  int rc = sq_begin(c);
  if (rc != STORE_OK)
    goto out;
  sqlite3_stmt *st = sq_stmt(c, PICK);
  if (st == NULL) {
    rc = STORE_ERROR;
    goto fail;
  }
  sqlite3_bind_int64(st, 1, now);
  sqlite3_bind_int64(st, 2, (int64_t)max);
  int step = SQLITE_DONE;
  while (got < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
    struct webhook_event *e = &out[got];
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(st, 0);
    e->tenant_id = sqlite3_column_int64(st, 1);
    sq_col_text(st, 2, e->msg_id, sizeof e->msg_id);
    const unsigned char *p = sqlite3_column_text(st, 3);
    e->payload = strdup(p != NULL ? (const char *)p : "");
    e->attempts = sqlite3_column_int(st, 4);
    sq_col_text(st, 5, e->url, sizeof e->url);
    got++;
    if (e->payload == NULL) {
      rc = STORE_ERROR;
      sqlite3_reset(st);
      goto fail;
    }
  }
  if (got < max && step != SQLITE_DONE) {
    rc = sq_rc(c, step);
    sqlite3_reset(st);
    goto fail;
  }
  sqlite3_reset(st);
  for (size_t i = 0; i < got; i++) {
    st = sq_stmt(c, LEASE);
    if (st == NULL) {
      rc = STORE_ERROR;
      goto fail;
    }
    sqlite3_bind_int64(st, 1, lease_until);
    sqlite3_bind_int64(st, 2, out[i].id);
    if ((rc = sq_exec_step(c, st, NULL)) != STORE_OK)
      goto fail;
  }
  if ((rc = sq_commit(c)) != STORE_OK)
    goto fail;
  *n = got;
  goto out;
fail:
  sq_rollback(c);
  for (size_t i = 0; i < got; i++)
    webhook_event_clear(&out[i]);
out:
  sq_release(s, c);
  return rc;
}

static int record_one(struct sq_conn *c, const struct webhook_attempt *a)
{
  static const char ATTEMPT[] =
      "INSERT INTO webhook_attempts(event_id, attempted_at, http_status, latency_ms, error)"
      " VALUES (?,?,?,?,?)";
  static const char DELIVERED[] =
      "UPDATE webhook_events SET status = 'delivered', attempts = attempts + 1,"
      " delivered_at = ?1, lease_until = NULL WHERE id = ?2";
  static const char RETRY[] =
      "UPDATE webhook_events SET attempts = attempts + 1, next_attempt_at = ?1,"
      " lease_until = NULL WHERE id = ?2";
  static const char FAILED[] =
      "UPDATE webhook_events SET status = 'failed', attempts = attempts + 1,"
      " lease_until = NULL WHERE id = ?2";
  static const char GONE[] =
      "UPDATE tenants SET webhook_enabled = 0"
      " WHERE id = (SELECT tenant_id FROM webhook_events WHERE id = ?)";
  sqlite3_stmt *st = sq_stmt(c, ATTEMPT);
  if (st == NULL)
    return STORE_ERROR;
  sqlite3_bind_int64(st, 1, a->event_id);
  sqlite3_bind_int64(st, 2, a->attempted_at);
  if (a->http_status > 0)
    sqlite3_bind_int(st, 3, a->http_status);
  sqlite3_bind_int64(st, 4, a->latency_ms);
  sq_bind_text(st, 5, a->error, 1);
  int rc = sq_exec_step(c, st, NULL);
  if (rc != STORE_OK)
    return rc;

  const char *sql = NULL;
  int64_t v = 0;
  switch (a->outcome) {
  case WEBHOOK_DELIVERED:
    sql = DELIVERED;
    v = a->attempted_at + a->latency_ms;
    break;
  case WEBHOOK_RETRY:
    sql = RETRY;
    v = a->next_attempt_at;
    break;
  case WEBHOOK_FAILED:
  case WEBHOOK_ENDPOINT_GONE: /* this event is failed (replayable) */
    sql = FAILED;
    break;
  }
  if (sql == NULL || (st = sq_stmt(c, sql)) == NULL)
    return STORE_ERROR;
  sqlite3_bind_int64(st, 1, v);
  sqlite3_bind_int64(st, 2, a->event_id);
  if ((rc = sq_exec_step(c, st, NULL)) != STORE_OK)
    return rc;
  if (a->outcome == WEBHOOK_ENDPOINT_GONE) {
    if ((st = sq_stmt(c, GONE)) == NULL)
      return STORE_ERROR;
    sqlite3_bind_int64(st, 1, a->event_id);
    rc = sq_exec_step(c, st, NULL);
  }
  return rc;
}

int sqlite_outbox_record_many(struct store *s, const struct webhook_attempt *a, size_t n)
{
  struct sq_conn *c = sq_acquire(s);
  int rc = sq_begin(c);
  if (rc != STORE_OK)
    goto out;
  for (size_t i = 0; i < n; i++)
    if ((rc = record_one(c, &a[i])) != STORE_OK)
      goto fail;
  rc = sq_commit(c);
  goto out;
fail:
  sq_rollback(c);
out:
  sq_release(s, c);
  return rc;
}

int sqlite_outbox_replay(struct store *s, int64_t tenant_id, int64_t since, int64_t now, int64_t *n)
{
  /* The same msg id goes out again: to the receiver a replay is a
   * redelivery it can deduplicate. attempts restarts so the event gets a
   * whole schedule; the history stays in webhook_attempts. */
  static const char REQUEUE[] =
      "UPDATE webhook_events SET status = 'pending', attempts = 0, next_attempt_at = ?1,"
      " lease_until = NULL, delivered_at = NULL WHERE tenant_id = ?2 AND created_at >= ?3";
  static const char ENABLE[] = "UPDATE tenants SET webhook_enabled = 1 WHERE id = ?";
  struct sq_conn *c = sq_acquire(s);
  int changes = 0;
  *n = 0;
  int rc = sq_begin(c);
  if (rc != STORE_OK)
    goto out;
  sqlite3_stmt *st = sq_stmt(c, REQUEUE);
  if (st == NULL) {
    rc = STORE_ERROR;
    goto fail;
  }
  sqlite3_bind_int64(st, 1, now);
  sqlite3_bind_int64(st, 2, tenant_id);
  sqlite3_bind_int64(st, 3, since);
  if ((rc = sq_exec_step(c, st, &changes)) != STORE_OK)
    goto fail;
  if ((st = sq_stmt(c, ENABLE)) == NULL) {
    rc = STORE_ERROR;
    goto fail;
  }
  sqlite3_bind_int64(st, 1, tenant_id);
  if ((rc = sq_exec_step(c, st, NULL)) != STORE_OK)
    goto fail;
  if ((rc = sq_commit(c)) != STORE_OK)
    goto fail;
  *n = changes;
  goto out;
fail:
  sq_rollback(c);
out:
  sq_release(s, c);
  return rc;
}
