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
  struct pg_params p = {0};
  pg_p_i64(&p, now);
  pg_p_i64(&p, lease_until);
  return pg_get(s, SQL, &p, pg_row_call, out); /* STORE_NOT_FOUND: nothing to score */
}

struct scoring_complete {
  int64_t call_id, lease_until, scored_at;
  const char *score_json;
  const struct webhook_event_new *ev;
};

static int scoring_complete_tx(struct pg_conn *c, void *arg)
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
  struct scoring_complete *a = arg;
  int changes = 0;
  struct pg_params p = {0};
  pg_p_text(&p, a->score_json);
  pg_p_i64(&p, a->scored_at);
  pg_p_i64(&p, a->call_id);
  pg_p_i64(&p, a->lease_until);
  int rc = pg_exec_cmd(c, SCORE, &p, &changes);
  if (rc != STORE_OK)
    return rc;
  if (changes == 0)
    return STORE_CONFLICT; /* scored already, or our lease was taken over */
  if (a->ev == NULL)
    return STORE_OK;
  p = (struct pg_params){0};
  pg_p_text(&p, a->ev->msg_id);
  pg_p_text(&p, a->ev->payload);
  pg_p_i64(&p, a->ev->next_attempt_at);
  pg_p_i64(&p, a->scored_at);
  pg_p_i64(&p, a->call_id);
  rc = pg_exec_cmd(c, EVENT, &p, NULL);
  return rc == STORE_CONFLICT ? STORE_ERROR : rc; /* a random msg id collided: ours */
}

/* lease_until 0: any claim in force; otherwise only the claim that wrote it. */
int pg_scoring_complete(struct store *s, int64_t call_id, int64_t lease_until,
                        const char *score_json, int64_t scored_at,
                        const struct webhook_event_new *ev)
{
  struct scoring_complete a = {.call_id = call_id,
                               .lease_until = lease_until,
                               .scored_at = scored_at,
                               .score_json = score_json,
                               .ev = ev};
  return pg_tx(s, scoring_complete_tx, &a);
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
  struct pg_params p = {0};
  pg_p_i64(&p, now);
  pg_p_i64(&p, lease_until);
  pg_p_i64(&p, (int64_t)max);
  PGresult *r = NULL;
  size_t got = 0;
  int rc = pg_fetch(s, SQL, &p, &r);
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

struct attempts {
  const struct webhook_attempt *a;
  size_t n;
};

static int record_many_tx(struct pg_conn *c, void *arg)
{
  const struct attempts *r = arg;
  for (size_t i = 0; i < r->n; i++) {
    int rc = record_one(c, &r->a[i]);
    if (rc != STORE_OK)
      return rc;
  }
  return STORE_OK;
}

int pg_outbox_record_many(struct store *s, const struct webhook_attempt *a, size_t n)
{
  struct attempts r = {.a = a, .n = n};
  return pg_tx(s, record_many_tx, &r);
}

struct replay {
  int64_t tenant_id, since, now;
  int changes;
};

static int replay_tx(struct pg_conn *c, void *arg)
{
  /* The same msg id goes out again: to the receiver a replay is a
   * redelivery it can deduplicate. */
  static const char REQUEUE[] =
      "UPDATE webhook_events SET status = 'pending', attempts = 0, next_attempt_at = $1,"
      " lease_until = NULL, delivered_at = NULL WHERE tenant_id = $2 AND created_at >= $3";
  static const char ENABLE[] = "UPDATE tenants SET webhook_enabled = 1 WHERE id = $1";
  struct replay *a = arg;
  struct pg_params p = {0};
  pg_p_i64(&p, a->now);
  pg_p_i64(&p, a->tenant_id);
  pg_p_i64(&p, a->since);
  int rc = pg_exec_cmd(c, REQUEUE, &p, &a->changes);
  if (rc != STORE_OK)
    return rc;
  p = (struct pg_params){0};
  pg_p_i64(&p, a->tenant_id);
  return pg_exec_cmd(c, ENABLE, &p, NULL);
}

int pg_outbox_replay(struct store *s, int64_t tenant_id, int64_t since, int64_t now, int64_t *n)
{
  struct replay a = {.tenant_id = tenant_id, .since = since, .now = now};
  *n = 0;
  int rc = pg_tx(s, replay_tx, &a);
  if (rc == STORE_OK)
    *n = a.changes;
  return rc;
}
