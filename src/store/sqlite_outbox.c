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

struct scoring_claim {
  int64_t now, lease_until;
  struct call_row *out;
};

static int row_id(sqlite3_stmt *st, void *id)
{
  *(int64_t *)id = sqlite3_column_int64(st, 0);
  return STORE_OK;
}

static int scoring_claim_tx(struct sq_conn *c, void *arg)
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
  struct scoring_claim *a = arg;
  int64_t id = 0;
  struct sq_params p = {0};
  sq_p_i64(&p, a->now);
  int rc = sq_query_one(c, PICK, &p, row_id, &id);
  if (rc != STORE_OK)
    return rc; /* STORE_NOT_FOUND: nothing to score */
  p = (struct sq_params){0};
  sq_p_i64(&p, a->lease_until);
  sq_p_i64(&p, a->now);
  sq_p_i64(&p, id);
  if ((rc = sq_exec(c, LEASE, &p, NULL)) != STORE_OK)
    return rc;
  p = (struct sq_params){0};
  sq_p_i64(&p, id);
  rc = sq_query_one(c, READ, &p, sq_row_call, a->out);
  return rc == STORE_NOT_FOUND ? STORE_ERROR : rc; /* we just leased it: it is there */
}

int sqlite_scoring_claim(struct store *s, int64_t now, int64_t lease_until, struct call_row *out)
{
  struct scoring_claim a = {.now = now, .lease_until = lease_until, .out = out};
  return sq_tx(s, scoring_claim_tx, &a);
}

struct scoring_complete {
  int64_t call_id, lease_until, scored_at;
  const char *score_json;
  const struct webhook_event_new *ev;
};

static int scoring_complete_tx(struct sq_conn *c, void *arg)
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
  struct scoring_complete *a = arg;
  int changes = 0;
  struct sq_params p = {0};
  sq_p_text(&p, a->score_json);
  sq_p_i64(&p, a->scored_at);
  sq_p_i64(&p, a->call_id);
  sq_p_i64(&p, a->lease_until);
  int rc = sq_exec(c, SCORE, &p, &changes);
  if (rc != STORE_OK)
    return rc;
  if (changes == 0)
    return STORE_CONFLICT; /* scored already, or our lease was taken over */
  if (a->ev == NULL)
    return STORE_OK;
  p = (struct sq_params){0};
  sq_p_text(&p, a->ev->msg_id);
  sq_p_text(&p, a->ev->payload);
  sq_p_i64(&p, a->ev->next_attempt_at);
  sq_p_i64(&p, a->scored_at);
  sq_p_i64(&p, a->call_id);
  rc = sq_exec(c, EVENT, &p, NULL);
  return rc == STORE_CONFLICT ? STORE_ERROR : rc; /* a random msg id collided: ours */
}

/* lease_until 0: any claim in force; otherwise only the claim that wrote it. */
int sqlite_scoring_complete(struct store *s, int64_t call_id, int64_t lease_until,
                            const char *score_json, int64_t scored_at,
                            const struct webhook_event_new *ev)
{
  struct scoring_complete a = {.call_id = call_id,
                               .lease_until = lease_until,
                               .scored_at = scored_at,
                               .score_json = score_json,
                               .ev = ev};
  return sq_tx(s, scoring_complete_tx, &a);
}

/* ---------------------------------------------------------------- outbox */

struct outbox_claim {
  int64_t now, lease_until;
  struct webhook_event *out;
  size_t max, got; /* out[0..got) are filled, and owned by the caller on success */
};

static int row_event(sqlite3_stmt *st, void *arg)
{
  struct outbox_claim *a = arg;
  if (a->got >= a->max)
    return SQ_STOP;
  struct webhook_event *e = &a->out[a->got++];
  memset(e, 0, sizeof *e);
  e->id = sqlite3_column_int64(st, 0);
  e->tenant_id = sqlite3_column_int64(st, 1);
  sq_col_text(st, 2, e->msg_id, sizeof e->msg_id);
  const unsigned char *p = sqlite3_column_text(st, 3);
  e->payload = strdup(p != NULL ? (const char *)p : "");
  e->attempts = sqlite3_column_int(st, 4);
  sq_col_text(st, 5, e->url, sizeof e->url);
  return e->payload != NULL ? STORE_OK : STORE_ERROR;
}

static int outbox_claim_tx(struct sq_conn *c, void *arg)
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
  struct outbox_claim *a = arg;
  struct sq_params p = {0};
  sq_p_i64(&p, a->now);
  sq_p_i64(&p, (int64_t)a->max);
  int rc = sq_query(c, PICK, &p, row_event, a);
  for (size_t i = 0; rc == STORE_OK && i < a->got; i++) {
    p = (struct sq_params){0};
    sq_p_i64(&p, a->lease_until);
    sq_p_i64(&p, a->out[i].id);
    rc = sq_exec(c, LEASE, &p, NULL);
  }
  return rc;
}

int sqlite_outbox_claim(struct store *s, int64_t now, int64_t lease_until,
                        struct webhook_event *out, size_t max, size_t *n)
{
  *n = 0;
  if (max == 0)
    return STORE_OK;
  struct outbox_claim a = {.now = now, .lease_until = lease_until, .out = out, .max = max};
  int rc = sq_tx(s, outbox_claim_tx, &a);
  if (rc != STORE_OK) {
    /* Rolled back: no lease was written, the events stay pending. */
    for (size_t i = 0; i < a.got; i++)
      webhook_event_clear(&out[i]);
    return rc;
  }
  *n = a.got;
  return STORE_OK;
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
  struct sq_params p = {0};
  sq_p_i64(&p, a->event_id);
  sq_p_i64(&p, a->attempted_at);
  if (a->http_status > 0)
    sq_p_i64(&p, a->http_status);
  else
    sq_p_null(&p);
  sq_p_i64(&p, a->latency_ms);
  sq_p_text_or_null(&p, a->error);
  int rc = sq_exec(c, ATTEMPT, &p, NULL);
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
  if (sql == NULL)
    return STORE_ERROR;
  p = (struct sq_params){0};
  sq_p_i64(&p, v);
  sq_p_i64(&p, a->event_id);
  if ((rc = sq_exec(c, sql, &p, NULL)) != STORE_OK)
    return rc;
  if (a->outcome == WEBHOOK_ENDPOINT_GONE) {
    p = (struct sq_params){0};
    sq_p_i64(&p, a->event_id);
    rc = sq_exec(c, GONE, &p, NULL);
  }
  return rc;
}

struct attempts {
  const struct webhook_attempt *a;
  size_t n;
};

static int record_many_tx(struct sq_conn *c, void *arg)
{
  const struct attempts *r = arg;
  for (size_t i = 0; i < r->n; i++) {
    int rc = record_one(c, &r->a[i]);
    if (rc != STORE_OK)
      return rc;
  }
  return STORE_OK;
}

int sqlite_outbox_record_many(struct store *s, const struct webhook_attempt *a, size_t n)
{
  struct attempts r = {.a = a, .n = n};
  return sq_tx(s, record_many_tx, &r);
}

struct replay {
  int64_t tenant_id, since, now;
  int changes;
};

static int replay_tx(struct sq_conn *c, void *arg)
{
  /* The same msg id goes out again: to the receiver a replay is a
   * redelivery it can deduplicate. attempts restarts so the event gets a
   * whole schedule; the history stays in webhook_attempts. */
  static const char REQUEUE[] =
      "UPDATE webhook_events SET status = 'pending', attempts = 0, next_attempt_at = ?1,"
      " lease_until = NULL, delivered_at = NULL WHERE tenant_id = ?2 AND created_at >= ?3";
  static const char ENABLE[] = "UPDATE tenants SET webhook_enabled = 1 WHERE id = ?";
  struct replay *a = arg;
  struct sq_params p = {0};
  sq_p_i64(&p, a->now);
  sq_p_i64(&p, a->tenant_id);
  sq_p_i64(&p, a->since);
  int rc = sq_exec(c, REQUEUE, &p, &a->changes);
  if (rc != STORE_OK)
    return rc;
  p = (struct sq_params){0};
  sq_p_i64(&p, a->tenant_id);
  return sq_exec(c, ENABLE, &p, NULL);
}

int sqlite_outbox_replay(struct store *s, int64_t tenant_id, int64_t since, int64_t now, int64_t *n)
{
  struct replay a = {.tenant_id = tenant_id, .since = since, .now = now};
  *n = 0;
  int rc = sq_tx(s, replay_tx, &a);
  if (rc == STORE_OK)
    *n = a.changes;
  return rc;
}
