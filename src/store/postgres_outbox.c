/*
 * postgres_outbox.c — scoring claims and the webhook outbox in
 * PostgreSQL. Claims are one statement each: the candidate rows are
 * picked with FOR UPDATE SKIP LOCKED, so nodes claiming at the same
 * moment each get different rows and never wait on one another, and the
 * lease they write (lease_until) keeps the row theirs until it runs out.
 */
#include <stdlib.h>
#include <string.h>

#include "store/postgres_internal.h"

/* --------------------------------------------------------------- scoring */

int pg_scoring_claim(struct store *s, int64_t now, int64_t lease_until, struct call_row *out)
{
  /* Oldest ended call first; a `scoring` call whose lease ran out is a
   * dead worker's (of any node) and is taken over. */
  static const char SQL[] =
      "UPDATE calls c SET status = 'scoring', lease_until = $2, updated_at = $1"
      " WHERE c.id = (SELECT id FROM calls WHERE status = 'ended'"
      "   OR (status = 'scoring' AND (lease_until IS NULL OR lease_until < $1))"
      "   ORDER BY ended_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
      " RETURNING " PG_CALL_COLUMNS;
  struct pg_conn *c;
  PGresult *r = NULL;
  int rc = pg_acquire(s, &c);
  if (rc == STORE_OK) {
    struct pg_params p = {0};
    pg_p_i64(&p, now);
    pg_p_i64(&p, lease_until);
    if ((rc = pg_exec(c, SQL, &p, &r)) == STORE_OK) {
      if (PQntuples(r) == 1)
        pg_read_call_row(r, 0, 0, out);
      else
        rc = STORE_NOT_FOUND;
    }
  }
  PQclear(r);
  pg_release(s, c);
  return rc;
}

int pg_scoring_complete(struct store *s, int64_t call_id, int64_t lease_until,
                        const char *score_json, int64_t scored_at,
                        const struct webhook_event_new *ev)
{
  static const char SCORE[] =
      "UPDATE calls SET status = 'scored', score_json = $1, scored_at = $2, updated_at = $2,"
      " lease_until = NULL WHERE id = $3 AND status = 'scoring'"
      " AND ($4::bigint = 0 OR lease_until = $4::bigint)";
  /* The event exists only when the tenant has somewhere to send it. */
  static const char EVENT[] =
      "INSERT INTO webhook_events(msg_id, tenant_id, call_id, payload, status, attempts,"
      " next_attempt_at, created_at)"
      " SELECT $1::text, t.id, c.id, $2::text, 'pending', 0, $3::bigint, $4::bigint FROM calls c"
      " JOIN tenants t ON t.id = c.tenant_id"
      " WHERE c.id = $5 AND coalesce(t.webhook_url, '') <> ''";
  struct pg_conn *c;
  int changes = 0;
  int rc = pg_acquire(s, &c);
  if (rc != STORE_OK || (rc = pg_begin(c)) != STORE_OK)
    goto out;
  struct pg_params p = {0};
  pg_p_text(&p, score_json);
  pg_p_i64(&p, scored_at);
  pg_p_i64(&p, call_id);
  pg_p_i64(&p, lease_until);
  if ((rc = pg_exec_cmd(c, SCORE, &p, &changes)) != STORE_OK)
    goto fail;
  if (changes == 0) {
    rc = STORE_CONFLICT; /* scored already, or our lease was taken over */
    goto fail;
  }
  if (ev != NULL) {
    p = (struct pg_params){0};
    pg_p_text(&p, ev->msg_id);
    pg_p_text(&p, ev->payload);
    pg_p_i64(&p, ev->next_attempt_at);
    pg_p_i64(&p, scored_at);
    pg_p_i64(&p, call_id);
    if ((rc = pg_exec_cmd(c, EVENT, &p, NULL)) != STORE_OK) {
      if (rc == STORE_CONFLICT) /* a random msg id collided: ours */
        rc = STORE_ERROR;
      goto fail;
    }
  }
  rc = pg_commit(c);
  goto out;
fail:
  pg_rollback(c);
out:
  pg_release(s, c);
  return rc;
}

/* ---------------------------------------------------------------- outbox */

int pg_outbox_claim(struct store *s, int64_t now, int64_t lease_until,
                    struct webhook_event *out, size_t max, size_t *n)
{
  /* The URL is read now, not when the event was made: an endpoint the
   * tenant moved receives its backlog at the new address. */
  static const char SQL[] =
      "WITH picked AS ("
      "  SELECT e.id, t.webhook_url FROM webhook_events e JOIN tenants t ON t.id = e.tenant_id"
      "  WHERE e.status = 'pending' AND e.next_attempt_at <= $1"
      "  AND (e.lease_until IS NULL OR e.lease_until < $1)"
      "  AND t.webhook_enabled = 1 AND coalesce(t.webhook_url, '') <> ''"
      "  ORDER BY e.next_attempt_at, e.id LIMIT $3 FOR UPDATE OF e SKIP LOCKED)"
      " UPDATE webhook_events w SET lease_until = $2 FROM picked"
      " WHERE w.id = picked.id"
      " RETURNING w.id, w.tenant_id, w.msg_id, w.payload, w.attempts, picked.webhook_url";
  *n = 0;
  if (max == 0)
    return STORE_OK;
  struct pg_conn *c;
  PGresult *r = NULL;
  size_t got = 0;
  int rc = pg_acquire(s, &c);
  if (rc == STORE_OK) {
    struct pg_params p = {0};
    pg_p_i64(&p, now);
    pg_p_i64(&p, lease_until);
    pg_p_i64(&p, (int64_t)max);
    rc = pg_exec(c, SQL, &p, &r);
  }
  pg_release(s, c);
  if (rc != STORE_OK)
    goto out;
  for (int i = 0; i < PQntuples(r) && got < max; i++) {
    struct webhook_event *e = &out[got];
    memset(e, 0, sizeof *e);
    e->id = pg_col_i64(r, i, 0);
    e->tenant_id = pg_col_i64(r, i, 1);
    pg_col_text(r, i, 2, e->msg_id, sizeof e->msg_id);
    e->payload = strdup(PQgetvalue(r, i, 3));
    e->attempts = (int)pg_col_i64(r, i, 4);
    pg_col_text(r, i, 5, e->url, sizeof e->url);
    got++;
    if (e->payload == NULL) {
      /* The leases run out and another claim sends them. */
      for (size_t k = 0; k < got; k++)
        webhook_event_clear(&out[k]);
      rc = STORE_ERROR;
      goto out;
    }
  }
  *n = got;
out:
  PQclear(r);
  return rc;
}

static int record_one(struct pg_conn *c, const struct webhook_attempt *a)
{
  static const char ATTEMPT[] =
      "INSERT INTO webhook_attempts(event_id, attempted_at, http_status, latency_ms, error)"
      " VALUES ($1, $2, $3, $4, $5)";
  static const char DELIVERED[] =
      "UPDATE webhook_events SET status = 'delivered', attempts = attempts + 1,"
      " delivered_at = $1, lease_until = NULL WHERE id = $2";
  static const char RETRY[] =
      "UPDATE webhook_events SET attempts = attempts + 1, next_attempt_at = $1,"
      " lease_until = NULL WHERE id = $2";
  static const char FAILED[] =
      "UPDATE webhook_events SET status = 'failed', attempts = attempts + 1,"
      " lease_until = NULL WHERE id = $1";
  static const char GONE[] =
      "UPDATE tenants SET webhook_enabled = 0"
      " WHERE id = (SELECT tenant_id FROM webhook_events WHERE id = $1)";
  struct pg_params p = {0};
  pg_p_i64(&p, a->event_id);
  pg_p_i64(&p, a->attempted_at);
  if (a->http_status > 0)
    pg_p_i64(&p, a->http_status);
  else
    pg_p_null(&p);
  pg_p_i64(&p, a->latency_ms);
  pg_p_text_or_null(&p, a->error);
  int rc = pg_exec_cmd(c, ATTEMPT, &p, NULL);
  if (rc != STORE_OK)
    return rc;

  p = (struct pg_params){0};
  switch (a->outcome) {
  case WEBHOOK_DELIVERED:
    pg_p_i64(&p, a->attempted_at + a->latency_ms);
    pg_p_i64(&p, a->event_id);
    rc = pg_exec_cmd(c, DELIVERED, &p, NULL);
    break;
  case WEBHOOK_RETRY:
    pg_p_i64(&p, a->next_attempt_at);
    pg_p_i64(&p, a->event_id);
    rc = pg_exec_cmd(c, RETRY, &p, NULL);
    break;
  case WEBHOOK_FAILED:
  case WEBHOOK_ENDPOINT_GONE: /* this event is failed (replayable) */
    pg_p_i64(&p, a->event_id);
    rc = pg_exec_cmd(c, FAILED, &p, NULL);
    break;
  default:
    rc = STORE_ERROR;
  }
  if (rc == STORE_OK && a->outcome == WEBHOOK_ENDPOINT_GONE) {
    p = (struct pg_params){0};
    pg_p_i64(&p, a->event_id);
    rc = pg_exec_cmd(c, GONE, &p, NULL);
  }
  return rc;
}

int pg_outbox_record_many(struct store *s, const struct webhook_attempt *a, size_t n)
{
  struct pg_conn *c;
  int rc = pg_acquire(s, &c);
  if (rc != STORE_OK || (rc = pg_begin(c)) != STORE_OK)
    goto out;
  for (size_t i = 0; i < n; i++)
    if ((rc = record_one(c, &a[i])) != STORE_OK)
      goto fail;
  rc = pg_commit(c);
  goto out;
fail:
  pg_rollback(c);
out:
  pg_release(s, c);
  return rc;
}

int pg_outbox_replay(struct store *s, int64_t tenant_id, int64_t since, int64_t now, int64_t *n)
{
  /* The same msg id goes out again: to the receiver a replay is a
   * redelivery it can deduplicate. */
  static const char REQUEUE[] =
      "UPDATE webhook_events SET status = 'pending', attempts = 0, next_attempt_at = $1,"
      " lease_until = NULL, delivered_at = NULL WHERE tenant_id = $2 AND created_at >= $3";
  static const char ENABLE[] = "UPDATE tenants SET webhook_enabled = 1 WHERE id = $1";
  struct pg_conn *c;
  int changes = 0;
  *n = 0;
  int rc = pg_acquire(s, &c);
  if (rc != STORE_OK || (rc = pg_begin(c)) != STORE_OK)
    goto out;
  struct pg_params p = {0};
  pg_p_i64(&p, now);
  pg_p_i64(&p, tenant_id);
  pg_p_i64(&p, since);
  if ((rc = pg_exec_cmd(c, REQUEUE, &p, &changes)) != STORE_OK)
    goto fail;
  p = (struct pg_params){0};
  pg_p_i64(&p, tenant_id);
  if ((rc = pg_exec_cmd(c, ENABLE, &p, NULL)) != STORE_OK)
    goto fail;
  if ((rc = pg_commit(c)) != STORE_OK)
    goto fail;
  *n = changes;
  goto out;
fail:
  pg_rollback(c);
out:
  pg_release(s, c);
  return rc;
}
