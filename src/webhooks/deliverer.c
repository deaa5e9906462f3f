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
 * Fairness: a tenant has at most TENANT_INFLIGHT_MAX transfers in flight
 * and a receiver host at most HOST_INFLIGHT_MAX (curl's own per-host
 * connection cap), so no transfer ever waits inside curl holding a slot.
 * A claimed event over a cap is parked in memory (FIFO) until its tenant
 * and host have room. A tenant or host that sits at its cap without
 * starting anything for STALL_MS (a receiver that hangs) is stalled: its
 * parked and newly claimed events are let go unsent; they stay leased, so
 * the next claims skip past them to other tenants' events, and they are
 * claimed again when the lease runs out (see docs/internals/outbox.md).
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
#include "webhooks/fair.h"
#include "webhooks/retry.h"
#include "webhooks/signer.h"
#include "webhooks/target.h"

#define MAX_INFLIGHT        256 /* transfers in flight at once, all receivers */
#define TENANT_INFLIGHT_MAX 32  /* one tenant's share: a hanging receiver holds no more */
#define HOST_INFLIGHT_MAX \
  64                            /* = curl's per-host connection cap: nothing queues in curl;
                                   twice a tenant's share, so tenants sharing a receiver
                                   host (a webhook gateway) are not all held by one */
#define PARK_MAX          1024  /* claimed events waiting for their tenant or host */
#define PARK_MS           5000  /* how long one may wait: half the lease margin */
#define STALL_MS          2000  /* at its cap with no new start this long: stalled */
#define CLAIM_BATCH       64    /* events claimed per query */
#define POLL_MS           1000  /* finds events committed by other processes */
#define PARKED_POLL_MS    100   /* re-checks parked events this often */
#define LEASE_MARGIN_MS   10000 /* lease = timeout + margin */
#define DROP_LOG_MS       10000 /* "let go" summary at most this often */
#define TARGET_CACHE      16    /* URLs whose check is remembered… */
#define TARGET_CACHE_MS   30000 /* …this long (bounds blocking DNS lookups) */
#define RESPONSE_BODY_CAP 4096  /* read and discard at most this much */
#define STOP_DRAIN_MS     5000  /* how long stop waits for transfers in flight */
#define SIGNATURE_MAX     (WEBHOOK_SECRETS_MAX * (WEBHOOK_SIG_ONE_MAX + 1))
_Static_assert(PARK_MAX <= 65536, "park indices are uint16_t");
_Static_assert(PARK_MS < LEASE_MARGIN_MS, "a parked event must finish inside its lease");
_Static_assert(TENANT_INFLIGHT_MAX < HOST_INFLIGHT_MAX && HOST_INFLIGHT_MAX < MAX_INFLIGHT,
               "one tenant must not take a whole host, nor one host every slot");
_Static_assert(MAX_INFLIGHT <= FAIR_GROUPS_MAX, "every transfer's groups are counted");

struct delivery {
  struct webhook_deliverer *d;
  CURL *easy; /* kept across deliveries: reset, not recreated */
  bool busy;
  struct webhook_event ev;
  char host[FAIR_HOST_KEY_MAX]; /* the target's "host:port", for the per-host cap */
  struct curl_slist *headers;
  struct curl_slist *resolve;
  int64_t attempted_at; /* unix ms */
  uint64_t started_us;  /* monotonic */
  size_t body_seen;
  bool body_capped;
  char retry_after[64];
  char errbuf[CURL_ERROR_SIZE];
  const char *guard_refused; /* set by on_open_socket: the class it refused */
};

struct target_cache_entry {
  char url[WEBHOOK_URL_MAX + 1];
  int64_t checked_at; /* 0 = empty */
  int rc;
  struct webhook_target target;
  char err[200];
};

/* A claimed event waiting for room under its tenant's and host's caps. */
struct parked_event {
  struct webhook_event ev;
  char host[FAIR_HOST_KEY_MAX];
  int64_t until; /* unix ms: started by then, or let go (the lease covers it) */
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
  struct parked_event park[PARK_MAX]; /* storage; never moved */
  uint16_t park_order[PARK_MAX];      /* indices of the parked events, in claim order */
  size_t nparked;
  uint16_t park_free[PARK_MAX]; /* indices not in use */
  size_t nfree;
  struct fair fair; /* in-flight counts, rebuilt at each pass */
  uint64_t dropped; /* events let go since the last summary */
  int64_t dropped_logged_at;
  struct pending_record records[MAX_INFLIGHT + CLAIM_BATCH]; /* flushed when full */
  size_t nrecords;
  struct webhook_attempt batch[MAX_INFLIGHT + CLAIM_BATCH];
  struct target_cache_entry targets[TARGET_CACHE];
};

/* ------------------------------------------------------------- recording */

static void flush_records(struct webhook_deliverer *d);

static void queue_record(struct webhook_deliverer *d, const struct webhook_event *ev,
                         int64_t attempted_at, int status, int64_t latency_ms, const char *error,
                         const char *retry_after)
{
  const struct athos_config *cfg = d->cfg;
  int64_t now = time_now_ms();
  if (d->nrecords == sizeof d->records / sizeof d->records[0])
    flush_records(d);
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
             ev->attempts + 1, error != NULL ? error : "no error text", r->a.next_attempt_at - now);
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

/* Starts one attempt to host (its grouping key); takes ownership of ev.
 * A refusal before any byte is sent (SSRF guard, no secret) is recorded as
 * a failed attempt. Returns true if a transfer is now in flight. */
static bool start_delivery(struct webhook_deliverer *d, struct webhook_event *ev, const char *host)
{
  char err[256] = "";
  struct delivery *x = free_slot(d);
  int64_t attempted_at = time_now_ms();
  uint64_t t0 = time_mono_us();
  if (x == NULL) { /* cannot happen: callers check for a free slot first */
    webhook_event_clear(ev);
    return false;
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
  snprintf(x->host, sizeof x->host, "%s", host);

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
  return true;

refused:
  queue_record(d, &x->ev, attempted_at, 0, (int64_t)((time_mono_us() - t0) / 1000), err, NULL);
  log_warn("webhook %s not sent: %s", x->ev.msg_id, err);
  slot_release(x);
  return false;
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

/* -------------------------------------------------------------- fairness */

/* Counts the transfers in flight per tenant and per host. */
static void fair_build(struct webhook_deliverer *d)
{
  fair_reset(&d->fair);
  for (size_t i = 0; i < MAX_INFLIGHT; i++) {
    const struct delivery *x = &d->slots[i];
    if (x->busy)
      fair_count(&d->fair, x->ev.tenant_id, x->host, x->attempted_at);
  }
}

/* Starts ev and counts it (the counts stay right within a pass). */
static void start_counted(struct webhook_deliverer *d, struct webhook_event *ev, const char *host,
                          int64_t now)
{
  int64_t tenant_id = ev->tenant_id;
  if (start_delivery(d, ev, host))
    fair_count(&d->fair, tenant_id, host, now);
}

/* Lets a claimed event go unsent. Its lease stays, so the next claims
 * skip it; it is claimed again (and sent) once the lease runs out. */
static void let_go(struct webhook_deliverer *d, struct webhook_event *ev, int64_t now)
{
  webhook_event_clear(ev);
  d->dropped++;
  if (now - d->dropped_logged_at >= DROP_LOG_MS) {
    log_info("webhooks: %" PRIu64 " event(s) of stalled or saturated receivers left for a later"
             " claim",
             d->dropped);
    d->dropped = 0;
    d->dropped_logged_at = now;
  }
}

/* Starts, keeps or lets go each parked event, in claim order; compacts
 * the order (small indices: the events themselves never move). */
static void run_parked(struct webhook_deliverer *d, int64_t now)
{
  if (d->nparked == 0)
    return;
  fair_build(d);
  size_t kept = 0;
  for (size_t i = 0; i < d->nparked; i++) {
    uint16_t idx = d->park_order[i];
    struct parked_event *p = &d->park[idx];
    enum fair_verdict a =
        now >= p->until ? FAIR_STALLED : fair_admit(&d->fair, p->ev.tenant_id, p->host, now);
    if (a == FAIR_WAIT) {
      d->park_order[kept++] = idx;
      continue;
    }
    if (a == FAIR_GO)
      start_counted(d, &p->ev, p->host, now);
    else
      let_go(d, &p->ev, now);
    d->park_free[d->nfree++] = idx;
  }
  d->nparked = kept;
}

/* Starts a just-claimed event, parks it, or lets it go. */
static void place_claimed(struct webhook_deliverer *d, struct webhook_event *ev, int64_t now)
{
  char host[FAIR_HOST_KEY_MAX];
  webhook_host_key(ev->url, host, sizeof host);
  enum fair_verdict a = fair_admit(&d->fair, ev->tenant_id, host, now);
  if (a == FAIR_GO) {
    start_counted(d, ev, host, now);
  } else if (a == FAIR_WAIT && d->nfree > 0) {
    uint16_t idx = d->park_free[--d->nfree];
    d->park_order[d->nparked++] = idx;
    struct parked_event *p = &d->park[idx];
    p->ev = *ev;
    memset(ev, 0, sizeof *ev);
    snprintf(p->host, sizeof p->host, "%s", host);
    p->until = now + PARK_MS;
  } else {
    let_go(d, ev, now);
  }
}

/* Claims only with a free slot and room to park a whole batch, so an
 * event of a tenant that is merely busy is never let go. */
static size_t claim_room(const struct webhook_deliverer *d)
{
  if (d->inflight >= MAX_INFLIGHT || PARK_MAX - d->nparked < CLAIM_BATCH)
    return 0;
  return CLAIM_BATCH;
}

/* ----------------------------------------------------------------- loop */

static void claim_and_start(struct webhook_deliverer *d, bool *more)
{
  struct webhook_event evs[CLAIM_BATCH];
  size_t want = claim_room(d);
  size_t n = 0;
  if (want == 0) {
    *more = true; /* saturated: claim again once a slot or the park has room */
    return;
  }
  *more = false;
  int64_t now = time_now_ms();
  int64_t timeout = d->cfg->webhook_timeout_ms > 0 ? d->cfg->webhook_timeout_ms : 15000;
  /* A parked event starts within PARK_MS of its claim, so even its
   * transfer ends LEASE_MARGIN_MS - PARK_MS inside this lease. */
  int64_t lease_until = now + timeout + LEASE_MARGIN_MS;
  if (store_outbox_claim(d->store, now, lease_until, evs, want, &n) != STORE_OK)
    return;
  fair_build(d);
  for (size_t i = 0; i < n; i++)
    place_claimed(d, &evs[i], now);
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
    } else {
      run_parked(d, now); /* parked events go before newer claims */
      if (atomic_exchange(&d->kicked, false) || more || now >= next_poll) {
        claim_and_start(d, &more);
        next_poll = now + POLL_MS;
      }
    }
    int running = 0;
    curl_multi_perform(d->multi, &running);
    drain_finished(d);
    if (!stopping)
      run_parked(d, time_now_ms()); /* slots just freed go to waiting events */
    flush_records(d);
    /* A backlog and room to claim: go round at once. Otherwise sleep until
     * a socket is ready (curl_multi_poll also wakes for curl's timers),
     * waking often enough to start or let go parked events on time. */
    int wait_ms =
        more && claim_room(d) > 0 && !stopping ? 0 : (int)(next_poll > now ? next_poll - now : 0);
    if (wait_ms > POLL_MS)
      wait_ms = POLL_MS;
    if ((stopping || d->nparked > 0) && wait_ms > PARKED_POLL_MS)
      wait_ms = PARKED_POLL_MS;
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
  for (size_t i = 0; i < d->nparked; i++)
    webhook_event_clear(&d->park[d->park_order[i]].ev);
  d->nparked = 0;
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
  for (size_t i = 0; i < PARK_MAX; i++)
    d->park_free[d->nfree++] = (uint16_t)(PARK_MAX - 1 - i);
  d->fair.lim = (struct fair_limits){.per_tenant = TENANT_INFLIGHT_MAX,
                                     .per_host = HOST_INFLIGHT_MAX,
                                     .total = MAX_INFLIGHT,
                                     .stall_ms = STALL_MS};
  atomic_init(&d->stopping, false);
  atomic_init(&d->kicked, true); /* look at the outbox at once: a restart has a backlog */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    goto fail;
  if ((d->multi = curl_multi_init()) == NULL) {
    curl_global_cleanup();
    goto fail;
  }
  curl_multi_setopt(d->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)HOST_INFLIGHT_MAX);
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
