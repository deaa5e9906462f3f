/*
 * outbox.c — the scoring pipeline's and the webhook deliverer's tables:
 * claiming calls to score under a lease, committing a score together with
 * its call.scored event (the transactional outbox), claiming due events
 * under a lease, recording attempts and replaying.
 *
 * Leases, not locks: a claim writes lease_until; a worker or a node that
 * dies simply lets it run out and another one claims the row again. The
 * guards in the UPDATEs (status, lease) make every transition happen once.
 * A claim is one statement; on PostgreSQL its candidate rows are picked
 * FOR UPDATE SKIP LOCKED, so nodes claiming at the same moment each get
 * different rows and never wait on one another (SQLite has one writer at
 * a time and no row locks: the statement alone is atomic).
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

/* --------------------------------------------------------------- scoring */

/* Oldest ended call first; a `scoring` call whose lease ran out is a dead
 * worker's (of any node) and is taken over. */
#define SCORING_CLAIM(LOCK)                                                  \
  "UPDATE calls SET status = 'scoring', lease_until = $2, updated_at = $1"   \
  " WHERE id = (SELECT id FROM calls WHERE status = 'ended'"                 \
  "   OR (status = 'scoring' AND (lease_until IS NULL OR lease_until < $1))" \
  "   ORDER BY ended_at, id LIMIT 1" LOCK ")"                                \
  " RETURNING " CALL_COLUMNS_OF("")

int store_scoring_claim(struct store *s, int64_t now, int64_t lease_until, struct call_row *out)
{
  static const char SQLITE[] = SCORING_CLAIM("");
  static const char POSTGRES[] = SCORING_CLAIM(" FOR UPDATE SKIP LOCKED");
  struct db_params p = {0};
  db_p_i64(&p, now);
  db_p_i64(&p, lease_until);
  /* STORE_NOT_FOUND: nothing to score */
  return db_get(s->db, db_sql(s->db, SQLITE, POSTGRES), &p, call_row_fn, out);
}

struct scoring_complete {
  int64_t call_id, lease_until, scored_at;
  const char *score_json;
  const struct webhook_event_new *ev;
};

static int scoring_complete_tx(struct db_tx *tx, void *arg)
{
  static const char SCORE[] =
      "UPDATE calls SET status = 'scored', score_json = $1, scored_at = $2, updated_at = $2,"
      " lease_until = NULL WHERE id = $3 AND status = 'scoring'"
      " AND (CAST($4 AS BIGINT) = 0 OR lease_until = CAST($4 AS BIGINT))";
  /* The event exists only when the tenant has somewhere to send it; a
   * tenant whose endpoint is disabled (410) still gets it queued. */
  static const char EVENT[] =
      "INSERT INTO webhook_events(msg_id, tenant_id, call_id, payload, status, attempts,"
      " next_attempt_at, created_at)"
      " SELECT CAST($1 AS TEXT), t.id, c.id, CAST($2 AS TEXT), 'pending', 0,"
      " CAST($3 AS BIGINT), CAST($4 AS BIGINT) FROM calls c"
      " JOIN tenants t ON t.id = c.tenant_id"
      " WHERE c.id = $5 AND coalesce(t.webhook_url, '') <> ''";
  struct scoring_complete *a = arg;
  int64_t changes = 0;
  struct db_params p = {0};
  db_p_text(&p, a->score_json);
  db_p_i64(&p, a->scored_at);
  db_p_i64(&p, a->call_id);
  db_p_i64(&p, a->lease_until);
  int rc = db_exec(tx, SCORE, &p, &changes);
  if (rc != STORE_OK)
    return rc;
  if (changes == 0)
    return STORE_CONFLICT; /* scored already, or our lease was taken over */
  if (a->ev == NULL)
    return STORE_OK;
  p = (struct db_params){0};
  db_p_text(&p, a->ev->msg_id);
  db_p_text(&p, a->ev->payload);
  db_p_i64(&p, a->ev->next_attempt_at);
  db_p_i64(&p, a->scored_at);
  db_p_i64(&p, a->call_id);
  rc = db_exec(tx, EVENT, &p, NULL);
  return rc == STORE_CONFLICT ? STORE_ERROR : rc; /* a random msg id collided: ours */
}

/* lease_until 0: any claim in force; otherwise only the claim that wrote it. */
static int scoring_complete(struct store *s, int64_t call_id, int64_t lease_until,
                            const char *score_json, int64_t scored_at,
                            const struct webhook_event_new *ev)
{
  struct scoring_complete a = {.call_id = call_id,
                               .lease_until = lease_until,
                               .scored_at = scored_at,
                               .score_json = score_json,
                               .ev = ev};
  return db_run(s->db, DB_TRANSACTION, scoring_complete_tx, &a);
}

int store_scoring_complete(struct store *s, int64_t call_id, const char *score_json,
                           int64_t scored_at, const struct webhook_event_new *ev)
{
  return scoring_complete(s, call_id, 0, score_json, scored_at, ev);
}

int store_scoring_complete_leased(struct store *s, int64_t call_id, int64_t lease_until,
                                  const char *score_json, int64_t scored_at,
                                  const struct webhook_event_new *ev)
{
  return scoring_complete(s, call_id, lease_until, score_json, scored_at, ev);
}

/* ---------------------------------------------------------------- outbox */

void webhook_event_clear(struct webhook_event *e)
{
  if (e == NULL)
    return;
  free(e->payload);
  e->payload = NULL;
}

/* The URL is read now, not when the event was made: an endpoint the
 * tenant moved receives its backlog at the new address. */
#define OUTBOX_CLAIM(LOCK)                                                   \
  "UPDATE webhook_events SET lease_until = $2 WHERE id IN ("                 \
  "  SELECT e.id FROM webhook_events e JOIN tenants t ON t.id = e.tenant_id" \
  "  WHERE e.status = 'pending' AND e.next_attempt_at <= $1"                 \
  "  AND (e.lease_until IS NULL OR e.lease_until < $1)"                      \
  "  AND t.webhook_enabled = 1 AND coalesce(t.webhook_url, '') <> ''"        \
  "  ORDER BY e.next_attempt_at, e.id LIMIT $3" LOCK ")"                     \
  " RETURNING id, tenant_id, msg_id, payload, attempts,"                     \
  " (SELECT t.webhook_url FROM tenants t WHERE t.id = webhook_events.tenant_id)"

struct outbox_claim {
  struct webhook_event *out;
  size_t max, got; /* out[0..got) are filled, and owned by the caller on success */
};

static int row_event(const struct db_row *r, void *arg)
{
  struct outbox_claim *a = arg;
  if (a->got >= a->max)
    return DB_STOP;
  struct webhook_event *e = &a->out[a->got++];
  memset(e, 0, sizeof *e);
  e->id = db_col_i64(r, 0);
  e->tenant_id = db_col_i64(r, 1);
  db_col_copy(r, 2, e->msg_id, sizeof e->msg_id);
  const char *payload = db_col_text(r, 3);
  e->payload = strdup(payload != NULL ? payload : "");
  e->attempts = (int)db_col_i64(r, 4);
  db_col_copy(r, 5, e->url, sizeof e->url);
  return e->payload != NULL ? STORE_OK : STORE_ERROR;
}

int store_outbox_claim(struct store *s, int64_t now, int64_t lease_until, struct webhook_event *out,
                       size_t max, size_t *n)
{
  static const char SQLITE[] = OUTBOX_CLAIM("");
  static const char POSTGRES[] = OUTBOX_CLAIM(" FOR UPDATE OF e SKIP LOCKED");
  *n = 0;
  if (max == 0)
    return STORE_OK;
  struct outbox_claim a = {.out = out, .max = max};
  struct db_params p = {0};
  db_p_i64(&p, now);
  db_p_i64(&p, lease_until);
  db_p_i64(&p, (int64_t)max);
  int rc = db_each(s->db, db_sql(s->db, SQLITE, POSTGRES), &p, row_event, &a);
  if (rc != STORE_OK) {
    /* The leases written run out and another claim sends those events. */
    for (size_t i = 0; i < a.got; i++)
      webhook_event_clear(&out[i]);
    return rc;
  }
  *n = a.got;
  return STORE_OK;
}

static int record_one(struct db_tx *tx, const struct webhook_attempt *a)
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
  static const char GONE[] = "UPDATE tenants SET webhook_enabled = 0"
                             " WHERE id = (SELECT tenant_id FROM webhook_events WHERE id = $1)";
  struct db_params p = {0};
  db_p_i64(&p, a->event_id);
  db_p_i64(&p, a->attempted_at);
  if (a->http_status > 0)
    db_p_i64(&p, a->http_status);
  else
    db_p_null(&p);
  db_p_i64(&p, a->latency_ms);
  db_p_text_or_null(&p, a->error);
  int rc = db_exec(tx, ATTEMPT, &p, NULL);
  if (rc != STORE_OK)
    return rc;

  p = (struct db_params){0};
  switch (a->outcome) {
  case WEBHOOK_DELIVERED:
    db_p_i64(&p, a->attempted_at + a->latency_ms);
    db_p_i64(&p, a->event_id);
    rc = db_exec(tx, DELIVERED, &p, NULL);
    break;
  case WEBHOOK_RETRY:
    db_p_i64(&p, a->next_attempt_at);
    db_p_i64(&p, a->event_id);
    rc = db_exec(tx, RETRY, &p, NULL);
    break;
  case WEBHOOK_FAILED:
  case WEBHOOK_ENDPOINT_GONE: /* this event is failed (replayable) */
    db_p_i64(&p, a->event_id);
    rc = db_exec(tx, FAILED, &p, NULL);
    break;
  default: rc = STORE_ERROR;
  }
  if (rc == STORE_OK && a->outcome == WEBHOOK_ENDPOINT_GONE) {
    p = (struct db_params){0};
    db_p_i64(&p, a->event_id);
    rc = db_exec(tx, GONE, &p, NULL);
  }
  return rc;
}

struct attempts {
  const struct webhook_attempt *a;
  size_t n;
};

static int record_many_tx(struct db_tx *tx, void *arg)
{
  const struct attempts *r = arg;
  for (size_t i = 0; i < r->n; i++) {
    int rc = record_one(tx, &r->a[i]);
    if (rc != STORE_OK)
      return rc;
  }
  return STORE_OK;
}

int store_outbox_record(struct store *s, const struct webhook_attempt *a)
{
  return store_outbox_record_many(s, a, 1);
}

int store_outbox_record_many(struct store *s, const struct webhook_attempt *a, size_t n)
{
  struct attempts r = {.a = a, .n = n};
  return db_run(s->db, DB_TRANSACTION, record_many_tx, &r);
}

struct replay {
  int64_t tenant_id, since, now;
  int64_t changes;
};

static int replay_tx(struct db_tx *tx, void *arg)
{
  /* The same msg id goes out again: to the receiver a replay is a
   * redelivery it can deduplicate. attempts restarts so the event gets a
   * whole schedule; the history stays in webhook_attempts. */
  static const char REQUEUE[] =
      "UPDATE webhook_events SET status = 'pending', attempts = 0, next_attempt_at = $1,"
      " lease_until = NULL, delivered_at = NULL WHERE tenant_id = $2 AND created_at >= $3";
  static const char ENABLE[] = "UPDATE tenants SET webhook_enabled = 1 WHERE id = $1";
  struct replay *a = arg;
  struct db_params p = {0};
  db_p_i64(&p, a->now);
  db_p_i64(&p, a->tenant_id);
  db_p_i64(&p, a->since);
  int rc = db_exec(tx, REQUEUE, &p, &a->changes);
  if (rc != STORE_OK)
    return rc;
  p = (struct db_params){0};
  db_p_i64(&p, a->tenant_id);
  return db_exec(tx, ENABLE, &p, NULL);
}

int store_outbox_replay(struct store *s, int64_t tenant_id, int64_t since, int64_t now, int64_t *n)
{
  struct replay a = {.tenant_id = tenant_id, .since = since, .now = now};
  *n = 0;
  int rc = db_run(s->db, DB_TRANSACTION, replay_tx, &a);
  if (rc == STORE_OK)
    *n = a.changes;
  return rc;
}
