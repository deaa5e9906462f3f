/*
 * deliverer.c — the webhook deliverer: one thread, one libcurl multi
 * handle, many transfers in flight (no thread per delivery).
 *
 * Each turn of the loop claims due events from the outbox (under a lease,
 * so two nodes never send the same event at the same time), checks each
 * target against the SSRF guard, signs it afresh (the timestamp is the
 * attempt's) and adds a transfer; finished transfers are judged by
 * retry.c and recorded in batches. The thread sleeps in curl_multi_poll
 * until a socket is ready, the poll interval passes, or a kick (an event
 * was just committed) wakes it with curl_multi_wakeup.
 *
 * Delivery is at-least-once: if the process dies mid-transfer the lease
 * runs out and the event is sent again with the same webhook-id, which is
 * the receiver's idempotency key.
 */
#include "webhooks/deliverer.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "metrics.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "webhooks/retry.h"
#include "webhooks/signer.h"
#include "webhooks/target.h"

#define MAX_INFLIGHT 128        /* transfers in flight at once */
#define CLAIM_BATCH 64          /* events claimed per query */
#define MAX_HOST_CONNECTIONS 32 /* per receiver; more transfers queue in curl */
#define POLL_MS 1000            /* finds events committed by other processes */
#define LEASE_MARGIN_MS 10000   /* lease = timeout + margin */
#define TARGET_CACHE 16         /* URLs whose check is remembered… */
#define TARGET_CACHE_MS 30000   /* …this long (bounds blocking DNS lookups) */
#define RESPONSE_BODY_CAP 4096  /* read and discard at most this much */
#define STOP_DRAIN_MS 5000      /* how long stop waits for transfers in flight */
#define SIGNATURE_MAX (WEBHOOK_SECRETS_MAX * (WEBHOOK_SIG_ONE_MAX + 1))

struct delivery {
  struct webhook_deliverer *d;
  CURL *easy;                  /* kept across deliveries: reset, not recreated */
  bool busy;
  struct webhook_event ev;
  struct curl_slist *headers;
  struct curl_slist *resolve;
  int64_t attempted_at;        /* unix ms */
  uint64_t started_us;         /* monotonic */
  size_t body_seen;
  bool body_capped;
  char retry_after[64];
  char errbuf[CURL_ERROR_SIZE];
  const char *guard_refused;   /* set by on_open_socket: the class it refused */
};

struct target_cache_entry {
  char url[WEBHOOK_URL_MAX + 1];
  int64_t checked_at;          /* 0 = empty */
  int rc;
  struct webhook_target target;
  char err[200];
};

struct pending_record {
  struct webhook_attempt a;
  char error[256];
};

struct webhook_deliverer {
  const struct athos_config *cfg;
  struct store *store;
  CURLM *multi;
  pthread_t thread;
  bool started;
  atomic_bool stopping;
  atomic_bool kicked;
  struct delivery slots[MAX_INFLIGHT];
  size_t inflight;
  struct pending_record records[MAX_INFLIGHT + CLAIM_BATCH];
  size_t nrecords;
  struct webhook_attempt batch[MAX_INFLIGHT + CLAIM_BATCH];
  struct target_cache_entry targets[TARGET_CACHE];
};

/* ------------------------------------------------------------- recording */

static void queue_record(struct webhook_deliverer *d, const struct webhook_event *ev,
                         int64_t attempted_at, int status, int64_t latency_ms, const char *error,
                         const char *retry_after)
{
  const struct athos_config *cfg = d->cfg;
  int64_t now = time_now_ms();
  struct pending_record *r = &d->records[d->nrecords++];
  memset(r, 0, sizeof *r);
  r->a.event_id = ev->id;
  r->a.attempted_at = attempted_at;
  r->a.http_status = status;
  r->a.latency_ms = latency_ms;
  if (error != NULL) {
    snprintf(r->error, sizeof r->error, "%s", error);
    r->a.error = r->error;
  }
  /* A schedule of length 0 still allows the first attempt. */
  static const int64_t once[1] = {0};
  const int64_t *schedule = cfg->retry_count > 0 ? cfg->retry_schedule : once;
  size_t n = cfg->retry_count > 0 ? cfg->retry_count : 1;
  int64_t ra = webhook_retry_after_parse(retry_after, now);
  r->a.outcome = webhook_decide(status, ra, (size_t)ev->attempts + 1, schedule, n, now,
                                crypto_random_u64(), &r->a.next_attempt_at);
  metrics_inc(r->a.outcome == WEBHOOK_DELIVERED ? M_WEBHOOK_DELIVERED
               : r->a.outcome == WEBHOOK_RETRY   ? M_WEBHOOK_RETRY
                                                 : M_WEBHOOK_FAILED);
  switch (r->a.outcome) {
  case WEBHOOK_DELIVERED:
    log_debug("webhook %s delivered (HTTP %d, %" PRId64 " ms)", ev->msg_id, status, latency_ms);
    break;
  case WEBHOOK_RETRY:
    log_info("webhook %s attempt %d failed (%s); retry in %" PRId64 " ms", ev->msg_id,
             ev->attempts + 1, error != NULL ? error : "no error text",
             r->a.next_attempt_at - now);
    break;
  case WEBHOOK_FAILED:
    log_warn("webhook %s failed after %d attempts (%s)", ev->msg_id, ev->attempts + 1,
             error != NULL ? error : "no error text");
    break;
  case WEBHOOK_ENDPOINT_GONE:
    log_warn("webhook %s: endpoint answered 410, disabling tenant endpoint", ev->msg_id);
    break;
  }
}

static void flush_records(struct webhook_deliverer *d)
{
  if (d->nrecords == 0)
    return;
  for (size_t i = 0; i < d->nrecords; i++)
    d->batch[i] = d->records[i].a;
  /* If this fails the leases run out and the events are sent again:
   * at-least-once, never lost. */
  if (store_outbox_record_many(d->store, d->batch, d->nrecords) != STORE_OK)
    log_error("cannot record %zu webhook attempt(s)", d->nrecords);
  d->nrecords = 0;
}

/* --------------------------------------------------------- curl callbacks */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
  struct delivery *x = arg;
  size_t n = size * nmemb;
  (void)ptr;
  x->body_seen += n;
  if (x->body_seen > RESPONSE_BODY_CAP) {
    x->body_capped = true;
    return 0; /* stop reading: the status is all we need */
  }
  return n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *arg)
{
  struct delivery *x = arg;
  size_t n = size * nitems;
  static const char name[] = "retry-after:";
  if (n > sizeof name - 1 && strncasecmp(buf, name, sizeof name - 1) == 0) {
    size_t vlen = n - (sizeof name - 1);
    if (vlen >= sizeof x->retry_after)
      vlen = sizeof x->retry_after - 1;
    memcpy(x->retry_after, buf + sizeof name - 1, vlen);
    x->retry_after[vlen] = '\0';
  }
  return n;
}

/* The second line of the SSRF guard: whatever address curl is about to
 * connect to (pinned or not, first or fallback) is classified again, so
 * no path around the first check reaches a private network. */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
  struct delivery *x = arg;
  (void)purpose;
  if (!x->d->cfg->allow_private_webhooks) {
    enum webhook_addr_class c = webhook_addr_classify(&a->addr);
    if (c != ADDR_PUBLIC) {
      x->guard_refused = webhook_addr_class_name(c);
      return CURL_SOCKET_BAD;
    }
  }
  return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* ---------------------------------------------------------- target cache */

/* webhook_target_check with a short memory: the lookup blocks this thread,
 * so a burst of events for one endpoint resolves it once. Remembering an
 * answer for seconds is safe: the address checked is the address pinned. */
static int check_target(struct webhook_deliverer *d, const char *url, int64_t now,
                        struct webhook_target *out, char *err, size_t errlen)
{
  struct target_cache_entry *slot = &d->targets[0];
  for (size_t i = 0; i < TARGET_CACHE; i++) {
    struct target_cache_entry *e = &d->targets[i];
    if (e->checked_at != 0 && now - e->checked_at < TARGET_CACHE_MS && strcmp(e->url, url) == 0) {
      *out = e->target;
      snprintf(err, errlen, "%s", e->err);
      return e->rc;
    }
    if (e->checked_at < slot->checked_at)
      slot = e; /* the oldest (or an empty) entry is replaced */
  }
  int rc = webhook_target_check(url, d->cfg->allow_private_webhooks, out, err, errlen);
  snprintf(slot->url, sizeof slot->url, "%s", url);
  slot->checked_at = now;
  slot->rc = rc;
  slot->target = *out;
  snprintf(slot->err, sizeof slot->err, "%s", err);
  return rc;
}

/* -------------------------------------------------------------- starting */

static struct delivery *free_slot(struct webhook_deliverer *d)
{
  for (size_t i = 0; i < MAX_INFLIGHT; i++)
    if (!d->slots[i].busy)
      return &d->slots[i];
  return NULL;
}

static void slot_release(struct delivery *x)
{
  curl_slist_free_all(x->headers);
  curl_slist_free_all(x->resolve);
  x->headers = NULL;
  x->resolve = NULL;
  webhook_event_clear(&x->ev);
  x->busy = false;
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
  char line[SIGNATURE_MAX + 64];
  int w = snprintf(line, sizeof line, "%s: %s", name, value);
  if (w < 0 || (size_t)w >= sizeof line)
    return -1;
  struct curl_slist *l = curl_slist_append(*list, line);
  if (l == NULL)
    return -1;
  *list = l;
  return 0;
}

/* Starts one attempt; takes ownership of ev. A refusal before any byte is
 * sent (SSRF guard, no secret) is recorded as a failed attempt. */
static void start_delivery(struct webhook_deliverer *d, struct webhook_event *ev)
{
  char err[256] = "";
  struct delivery *x = free_slot(d);
  int64_t attempted_at = time_now_ms();
  uint64_t t0 = time_mono_us();
  if (x == NULL) { /* cannot happen: we never claim more than the free slots */
    webhook_event_clear(ev);
    return;
  }
  memset(&x->ev, 0, sizeof x->ev);
  x->ev = *ev;
  memset(ev, 0, sizeof *ev);
  x->busy = true;
  x->d = d;
  x->attempted_at = attempted_at;
  x->started_us = t0;
  x->body_seen = 0;
  x->body_capped = false;
  x->retry_after[0] = '\0';
  x->errbuf[0] = '\0';
  x->guard_refused = NULL;

  struct webhook_target target;
  if (check_target(d, x->ev.url, attempted_at, &target, err, sizeof err) != 0)
    goto refused;

  char secrets[WEBHOOK_SECRETS_MAX][SECRET_MAX];
  const char *keys[WEBHOOK_SECRETS_MAX];
  size_t nsecrets = WEBHOOK_SECRETS_MAX;
  if (store_webhook_secrets(d->store, x->ev.tenant_id, attempted_at, secrets, &nsecrets) !=
          STORE_OK ||
      nsecrets == 0) {
    snprintf(err, sizeof err, "no valid signing secret");
    goto refused;
  }
  for (size_t i = 0; i < nsecrets; i++)
    keys[i] = secrets[i];
  char signature[SIGNATURE_MAX];
  char ts[24];
  snprintf(ts, sizeof ts, "%" PRId64, attempted_at / 1000);
  size_t body_len = strlen(x->ev.payload);
  int signed_ok = webhook_sign(keys, nsecrets, x->ev.msg_id, attempted_at / 1000, x->ev.payload,
                               body_len, signature, sizeof signature);
  memset(secrets, 0, sizeof secrets);
  if (signed_ok != 0) {
    snprintf(err, sizeof err, "a signing secret is malformed");
    goto refused;
  }

  if (add_header(&x->headers, "content-type", "application/json") != 0 ||
      add_header(&x->headers, "webhook-id", x->ev.msg_id) != 0 ||
      add_header(&x->headers, "webhook-timestamp", ts) != 0 ||
      add_header(&x->headers, "webhook-signature", signature) != 0 ||
      add_header(&x->headers, "user-agent", "Athos-Webhooks/1") != 0 ||
      (x->headers = curl_slist_append(x->headers, "Expect:")) == NULL) {
    snprintf(err, sizeof err, "out of memory");
    goto refused;
  }
  if (target.resolve[0] != '\0' && (x->resolve = curl_slist_append(NULL, target.resolve)) == NULL) {
    snprintf(err, sizeof err, "out of memory");
    goto refused;
  }

  if (x->easy == NULL && (x->easy = curl_easy_init()) == NULL) {
    snprintf(err, sizeof err, "out of memory");
    goto refused;
  }
  CURL *e = x->easy;
  curl_easy_reset(e);
  long timeout = d->cfg->webhook_timeout_ms > 0 ? (long)d->cfg->webhook_timeout_ms : 15000L;
  const char *protocols = d->cfg->allow_private_webhooks ? "http,https" : "https";
  if (curl_easy_setopt(e, CURLOPT_URL, x->ev.url) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, protocols) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout < 10000 ? timeout : 10000L) !=
          CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->ev.payload) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers) != CURLE_OK ||
      (x->resolve != NULL && curl_easy_setopt(e, CURLOPT_RESOLVE, x->resolve) != CURLE_OK) ||
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_HEADERDATA, x) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_PRIVATE, x) != CURLE_OK) {
    snprintf(err, sizeof err, "cannot configure the transfer");
    goto refused;
  }
  if (curl_multi_add_handle(d->multi, e) != CURLM_OK) {
    snprintf(err, sizeof err, "cannot start the transfer");
    goto refused;
  }
  d->inflight++;
  return;

refused:
  queue_record(d, &x->ev, attempted_at, 0, (int64_t)((time_mono_us() - t0) / 1000), err, NULL);
  log_warn("webhook %s not sent: %s", x->ev.msg_id, err);
  slot_release(x);
}

/* ------------------------------------------------------------- finishing */

static void finish_delivery(struct webhook_deliverer *d, CURL *e, CURLcode result)
{
  char *priv = NULL;
  curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
  struct delivery *x = (struct delivery *)(void *)priv;
  curl_multi_remove_handle(d->multi, e);
  d->inflight--;
  if (x == NULL)
    return;
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  int64_t latency = (int64_t)((time_mono_us() - x->started_us) / 1000);
  char err[256] = "";
  const char *error = NULL;
  /* A status line decides, even if the body was cut short (our cap, or a
   * receiver that answered then stalled); without one it is a transport
   * failure. */
  if (status == 0 && x->guard_refused != NULL) {
    snprintf(err, sizeof err, "refused to connect to a %s address", x->guard_refused);
    error = err;
  } else if (status == 0) {
    snprintf(err, sizeof err, "%s", x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(result));
    error = err;
  } else if (status >= 300 && status <= 399) {
    snprintf(err, sizeof err, "HTTP %ld: redirects are not followed", status);
    error = err;
  } else if (status < 200 || status > 299) {
    snprintf(err, sizeof err, "HTTP %ld", status);
    error = err;
  }
  queue_record(d, &x->ev, x->attempted_at, (int)status, latency, error, x->retry_after);
  slot_release(x);
}

/* ----------------------------------------------------------------- loop */

static void claim_and_start(struct webhook_deliverer *d, bool *more)
{
  struct webhook_event evs[CLAIM_BATCH];
  size_t room = MAX_INFLIGHT - d->inflight;
  size_t want = room < CLAIM_BATCH ? room : CLAIM_BATCH;
  size_t n = 0;
  if (want == 0) {
    *more = true; /* saturated: claim again as soon as a transfer ends */
    return;
  }
  *more = false;
  int64_t now = time_now_ms();
  int64_t timeout = d->cfg->webhook_timeout_ms > 0 ? d->cfg->webhook_timeout_ms : 15000;
  if (store_outbox_claim(d->store, now, now + timeout + LEASE_MARGIN_MS, evs, want, &n) != STORE_OK)
    return;
  for (size_t i = 0; i < n; i++)
    start_delivery(d, &evs[i]);
  *more = n == want; /* a full batch: look again without waiting */
}

static void drain_finished(struct webhook_deliverer *d)
{
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(d->multi, &left)) != NULL)
    if (msg->msg == CURLMSG_DONE)
      finish_delivery(d, msg->easy_handle, msg->data.result);
}

static void *deliverer_main(void *arg)
{
  struct webhook_deliverer *d = arg;
  int64_t next_poll = 0;
  int64_t drain_deadline = 0;
  bool more = false;
  for (;;) {
    int64_t now = time_now_ms();
    bool stopping = atomic_load(&d->stopping);
    if (stopping) {
      if (drain_deadline == 0)
        drain_deadline = now + STOP_DRAIN_MS;
      if (d->inflight == 0 || now >= drain_deadline)
        break;
    } else if (atomic_exchange(&d->kicked, false) || more || now >= next_poll) {
      claim_and_start(d, &more);
      next_poll = now + POLL_MS;
    }
    int running = 0;
    curl_multi_perform(d->multi, &running);
    drain_finished(d);
    flush_records(d);
    /* A backlog with free slots: go round at once. Saturated: sleep until
     * a socket is ready (curl_multi_poll also wakes for curl's timers). */
    bool room = d->inflight < MAX_INFLIGHT;
    int wait_ms = more && room && !stopping ? 0 : (int)(next_poll > now ? next_poll - now : 0);
    if (wait_ms > POLL_MS)
      wait_ms = POLL_MS;
    if (stopping && wait_ms > 100)
      wait_ms = 100;
    curl_multi_poll(d->multi, NULL, 0, wait_ms, NULL);
  }
  /* Anything still in flight is abandoned: its lease runs out and it is
   * sent again by the next process. */
  for (size_t i = 0; i < MAX_INFLIGHT; i++) {
    struct delivery *x = &d->slots[i];
    if (x->busy) {
      curl_multi_remove_handle(d->multi, x->easy);
      slot_release(x);
    }
  }
  d->inflight = 0;
  flush_records(d);
  return NULL;
}

/* ------------------------------------------------------------ lifecycle */

struct webhook_deliverer *webhook_deliverer_start(const struct athos_config *cfg, struct store *s)
{
  struct webhook_deliverer *d = calloc(1, sizeof *d);
  if (d == NULL)
    return NULL;
  d->cfg = cfg;
  d->store = s;
  atomic_init(&d->stopping, false);
  atomic_init(&d->kicked, true); /* look at the outbox at once: a restart has a backlog */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    goto fail;
  if ((d->multi = curl_multi_init()) == NULL) {
    curl_global_cleanup();
    goto fail;
  }
  curl_multi_setopt(d->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)MAX_HOST_CONNECTIONS);
  curl_multi_setopt(d->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)MAX_INFLIGHT);
  curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS, (long)MAX_INFLIGHT);
  if (pthread_create(&d->thread, NULL, deliverer_main, d) != 0)
    goto fail;
  d->started = true;
  log_info("webhook deliverer started (timeout %" PRId64 " ms, %zu-step retry schedule%s)",
           cfg->webhook_timeout_ms, cfg->retry_count,
           cfg->allow_private_webhooks ? ", private targets ALLOWED" : "");
  return d;
fail:
  log_error("cannot start the webhook deliverer");
  webhook_deliverer_stop(d);
  return NULL;
}

void webhook_deliverer_kick(struct webhook_deliverer *d)
{
  if (d == NULL)
    return;
  atomic_store(&d->kicked, true);
  if (d->multi != NULL)
    curl_multi_wakeup(d->multi);
}

void webhook_deliverer_stop(struct webhook_deliverer *d)
{
  if (d == NULL)
    return;
  atomic_store(&d->stopping, true);
  if (d->started) {
    curl_multi_wakeup(d->multi);
    pthread_join(d->thread, NULL);
  }
  for (size_t i = 0; i < MAX_INFLIGHT; i++)
    if (d->slots[i].easy != NULL)
      curl_easy_cleanup(d->slots[i].easy);
  if (d->multi != NULL) {
    curl_multi_cleanup(d->multi);
    curl_global_cleanup();
  }
  free(d);
}
