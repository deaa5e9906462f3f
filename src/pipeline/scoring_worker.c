/*
 * scoring_worker.c — the `ended → scoring → scored` step. Each thread
 * claims one call under a lease, reads its transcript, runs the pure
 * scorer and commits the score with its call.scored outbox event in one
 * transaction, then kicks the deliverer so the webhook leaves at once.
 *
 * Crash safety comes from the store, not from this file: a claim is a
 * lease, so a call whose worker died is claimed again when the lease runs
 * out, and the commit only succeeds for the claim still in force, so a
 * call is scored (and announced) exactly once. The scorer is
 * deterministic, so a re-score after a crash gives the same score.
 */
#include "pipeline/scoring_worker.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/ids.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "webhooks/deliverer.h"
#include "webhooks/payload.h"

#define SCORING_LEASE_MS \
  60000 /* scoring takes milliseconds; a dead worker's call waits this long */
#define SCORING_POLL_MS      1000 /* other nodes' and the CLI's calls are found by polling */
#define REAP_EVERY_MS        5000 /* the sweep of calls redeemed but never started */
#define REAP_GRACE_MS        5000 /* past the ticket's life, so a start in flight wins */
#define TRANSCRIPT_MAX_TURNS 4096
#define TRANSCRIPT_MAX_BYTES (4u << 20)

struct scoring_worker {
  const struct athos_config *cfg;
  struct store *store;
  const struct drill_catalog *cat;
  struct webhook_deliverer *deliverer;
  pthread_mutex_t mu;
  pthread_cond_t cv; /* signalled by kicks and by stop */
  uint64_t kicks;    /* bumped by every kick: a wait never misses one */
  int64_t next_reap; /* when an idle thread next reaps (unix ms) */
  bool stopping;
  pthread_t *threads;
  size_t nthreads;
};

/* ------------------------------------------------------------ transcript */

struct transcript {
  struct score_turn *turns;
  size_t n, cap;
  size_t bytes;
};

static void transcript_free(struct transcript *t)
{
  for (size_t i = 0; i < t->n; i++) {
    free((char *)t->turns[i].role);
    free((char *)t->turns[i].content);
  }
  free(t->turns);
  memset(t, 0, sizeof *t);
}

static int transcript_add(const struct call_turn *ct, void *arg)
{
  struct transcript *t = arg;
  size_t len = strlen(ct->content);
  if (t->n >= TRANSCRIPT_MAX_TURNS || t->bytes + len > TRANSCRIPT_MAX_BYTES) {
    log_warn("transcript over its ceiling; the rest is not scored");
    return 0; /* keep what fits: a long call is still scored */
  }
  if (t->n == t->cap) {
    size_t cap = t->cap != 0 ? t->cap * 2 : 64;
    struct score_turn *nt = realloc(t->turns, cap * sizeof *nt);
    if (nt == NULL)
      return -1;
    t->turns = nt;
    t->cap = cap;
  }
  char *role = strdup(ct->role);
  char *content = strdup(ct->content);
  if (role == NULL || content == NULL) {
    free(role);
    free(content);
    return -1;
  }
  t->turns[t->n++] = (struct score_turn){.role = role, .content = content, .at_ms = ct->at_ms};
  t->bytes += len;
  return 0;
}

/* ------------------------------------------------------------- one call */

/* Returns 1 if a call was claimed (whatever became of it), 0 if none was
 * waiting, -1 if the store could not be asked. */
static int score_one(struct scoring_worker *w)
{
  struct call_row call;
  struct transcript tr = {0};
  json_t *score = NULL;
  char *score_json = NULL, *payload = NULL;
  char err[256] = "";
  int64_t now = time_now_ms();
  int64_t lease = now + SCORING_LEASE_MS;
  int rc = store_scoring_claim(w->store, now, lease, &call);
  if (rc == STORE_NOT_FOUND)
    return 0;
  if (rc != STORE_OK)
    return -1;

  int result = 1;
  const struct drill_entry *drill = drill_catalog_find(w->cat, call.drill_key);
  if (drill == NULL || drill->rubric == NULL) {
    /* Left `scoring`: the lease runs out and a node that knows the drill
     * (or this one, after a deploy) scores it then. */
    log_error("call %s: no rubric for drill %s", call.public_id, call.drill_key);
    goto out;
  }
  if (store_call_turns(w->store, call.id, transcript_add, &tr) != STORE_OK) {
    log_error("call %s: cannot read its transcript", call.public_id);
    goto out;
  }
  struct score_input in = {
      .turns = tr.turns,
      .n_turns = tr.n,
      .started_at_ms = call.started_at != 0 ? call.started_at : call.created_at,
      .duration_sec = (int)call.duration_sec,
      .persona_name = call.persona_name[0] != '\0' ? call.persona_name : NULL,
      .difficulty = call.difficulty[0] != '\0' ? call.difficulty : NULL,
      .end_reason = call.end_reason[0] != '\0' ? call.end_reason : NULL,
  };
  score = scorer_score(drill->rubric, &in, err, sizeof err);
  if (score == NULL) {
    log_error("call %s: scorer failed: %s", call.public_id, err);
    goto out;
  }
  score_json = json_dumps(score, JSON_COMPACT | JSON_REAL_PRECISION(15));
  int64_t scored_at = time_now_ms();
  payload = webhook_payload_call_scored(&call, scored_at);
  if (score_json == NULL || payload == NULL) {
    log_error("call %s: out of memory", call.public_id);
    goto out;
  }
  struct webhook_event_new ev = {.payload = payload, .next_attempt_at = scored_at};
  if (w->cfg->retry_count > 0)
    ev.next_attempt_at += w->cfg->retry_schedule[0] * 1000;
  id_new("msg_", 24, ev.msg_id, sizeof ev.msg_id);

  rc = store_scoring_complete_leased(w->store, call.id, lease, score_json, scored_at, &ev);
  if (rc == STORE_OK) {
    log_info("call %s scored (%zu turns)", call.public_id, tr.n);
    if (w->deliverer != NULL)
      webhook_deliverer_kick(w->deliverer);
  } else if (rc == STORE_CONFLICT) {
    log_info("call %s was scored by another worker", call.public_id);
  } else {
    log_error("call %s: cannot commit its score", call.public_id);
  }
out:
  json_decref(score);
  free(score_json);
  free(payload);
  transcript_free(&tr);
  return result;
}

/* ---------------------------------------------------------------- thread */

static void wait_for_work(struct scoring_worker *w, uint64_t seen)
{
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += SCORING_POLL_MS / 1000;
  until.tv_nsec += (long)(SCORING_POLL_MS % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&w->mu);
  while (!w->stopping && w->kicks == seen) {
    if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT)
      break;
  }
  pthread_mutex_unlock(&w->mu);
}

/* The periodic sweep (docs/internals/store.md): a call redeemed but
 * never started stays `created` and would count against the tenant's
 * quota forever; once its ticket is past, one idle thread ends it. */
static void reap_unstarted(struct scoring_worker *w)
{
  int64_t now = time_now_ms();
  pthread_mutex_lock(&w->mu);
  bool due = now >= w->next_reap;
  if (due)
    w->next_reap = now + REAP_EVERY_MS;
  pthread_mutex_unlock(&w->mu);
  if (!due)
    return;
  int64_t n = 0;
  int rc = store_calls_reap_unstarted(w->store, now, now - REAP_GRACE_MS, &n);
  if (rc != STORE_OK)
    log_warn("reap: store rc %d", rc);
  else if (n > 0)
    log_info("reap: %lld call(s) redeemed but never started ended as expired", (long long)n);
}

static void *worker_main(void *arg)
{
  struct scoring_worker *w = arg;
  for (;;) {
    pthread_mutex_lock(&w->mu);
    bool stop = w->stopping;
    uint64_t seen = w->kicks; /* read before the claim: a kick after it wakes us */
    pthread_mutex_unlock(&w->mu);
    if (stop)
      break;
    if (score_one(w) > 0)
      continue; /* there may be more */
    reap_unstarted(w);
    wait_for_work(w, seen);
  }
  return NULL;
}

struct scoring_worker *scoring_worker_start(const struct athos_config *cfg, struct store *s,
                                            const struct drill_catalog *cat,
                                            struct webhook_deliverer *deliverer)
{
  struct scoring_worker *w = calloc(1, sizeof *w);
  if (w == NULL)
    return NULL;
  w->cfg = cfg;
  w->store = s;
  w->cat = cat;
  w->deliverer = deliverer;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  size_t n = cfg->scoring_workers > 0 ? cfg->scoring_workers : 1;
  w->threads = calloc(n, sizeof *w->threads);
  if (w->threads == NULL)
    goto fail;
  for (size_t i = 0; i < n; i++) {
    if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0) {
      log_error("cannot start scoring worker %zu", i);
      goto fail;
    }
    w->nthreads++;
  }
  log_info("scoring: %zu worker(s)", w->nthreads);
  return w;
fail:
  scoring_worker_stop(w);
  return NULL;
}

void scoring_worker_kick(struct scoring_worker *w)
{
  if (w == NULL)
    return;
  pthread_mutex_lock(&w->mu);
  w->kicks++;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

void scoring_worker_stop(struct scoring_worker *w)
{
  if (w == NULL)
    return;
  pthread_mutex_lock(&w->mu);
  w->stopping = true;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  for (size_t i = 0; i < w->nthreads; i++)
    pthread_join(w->threads[i], NULL);
  free(w->threads);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  free(w);
}
