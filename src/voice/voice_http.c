/*
 * voice_http.c — one POST to an OpenAI-compatible speech endpoint with
 * libcurl (see voice_http.h): bearer key, connect and total timeouts, the
 * response streamed to the caller, error bodies kept to a ceiling and
 * summarised in the log, and the retries of a provider that is busy or
 * briefly away. Runs on a pool worker: blocking (a backoff too) is fine.
 */
#include "voice/voice_http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "util/crypto.h"
#include "util/dynbuf.h"
#include "util/log.h"
#include "util/timefmt.h"

#define ERROR_BODY_MAX     4096
#define CONNECT_TIMEOUT_MS 5000L
/* The backoff before retry k (1, 2, ...) is BACKOFF_BASE_MS * 2^(k-1),
 * capped at BACKOFF_MAX_MS, of which a random half is waited ("equal
 * jitter": workers that failed together do not come back together). A
 * Retry-After is waited as given, up to RETRY_AFTER_MAX_MS. */
#define BACKOFF_BASE_MS    250L
#define BACKOFF_MAX_MS     4000L
#define RETRY_AFTER_MAX_MS 10000L
#define WANTED_POLL_MS     100L

static long env_ms(const char *name, long dflt)
{
  const char *v = getenv(name);
  char *end;
  if (!v || !*v)
    return dflt;
  long n = strtol(v, &end, 10);
  if (*end || n <= 0 || n > 3600L * 1000) {
    log_warn("voice: %s=%s is not a duration in ms, using %ld", name, v, dflt);
    return dflt;
  }
  return n;
}

int voice_http_config_env(struct voice_http_config *c, const char *prefix, const char *path,
                          const char *model, long timeout_ms)
{
  char name[64];
  memset(c, 0, sizeof *c);
  snprintf(name, sizeof name, "%s_URL", prefix);
  const char *url = getenv(name);
  if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
    log_error("voice: %s must be an http:// or https:// URL", name);
    return -1;
  }
  size_t n = strlen(url);
  while (n > 0 && url[n - 1] == '/')
    n--;
  int w = snprintf(c->url, sizeof c->url, "%.*s%s", (int)n, url, path);
  if (w < 0 || (size_t)w >= sizeof c->url) {
    log_error("voice: %s is too long", name);
    return -1;
  }
  snprintf(name, sizeof name, "%s_API_KEY", prefix);
  const char *key = getenv(name);
  if (key && strlen(key) >= sizeof c->key) {
    log_error("voice: %s is too long", name);
    return -1;
  }
  snprintf(c->key, sizeof c->key, "%s", key ? key : "");
  snprintf(name, sizeof name, "%s_MODEL", prefix);
  const char *m = getenv(name);
  snprintf(c->model, sizeof c->model, "%s", m && *m ? m : model);
  snprintf(name, sizeof name, "%s_TIMEOUT_MS", prefix);
  c->timeout_ms = env_ms(name, timeout_ms);
  c->connect_timeout_ms = CONNECT_TIMEOUT_MS < c->timeout_ms ? CONNECT_TIMEOUT_MS : c->timeout_ms;
  c->retries = VOICE_HTTP_RETRIES_DEFAULT;
  const char *r = getenv("ATHOS_VOICE_HTTP_RETRIES");
  if (r && *r) {
    char *end;
    long v = strtol(r, &end, 10);
    if (*end || v < 0 || v > VOICE_HTTP_RETRIES_MAX)
      log_warn("voice: ATHOS_VOICE_HTTP_RETRIES=%s is not 0..%d, using %d", r,
               VOICE_HTTP_RETRIES_MAX, c->retries);
    else
      c->retries = (int)v;
  }
  return 0;
}

/* ---- the exchange ------------------------------------------------------- */

struct exchange {
  CURL *curl;
  voice_http_body_fn fn;
  void *arg;
  bool stopped;
  bool delivered;      /* some of a 2xx body went to fn: not retried */
  struct dynbuf error; /* a non-2xx body, to a ceiling */
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
  struct exchange *x = userp;
  size_t n = size * nmemb;
  long status = 0;
  curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) {
    if (dynbuf_room(&x->error) > 0)
      dynbuf_addn(&x->error, data, n < dynbuf_room(&x->error) ? n : dynbuf_room(&x->error));
    return n;
  }
  x->delivered |= n > 0;
  if (!x->fn(x->arg, data, n)) {
    x->stopped = true;
    return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
  }
  return n;
}

/* The URL for the log: scheme, host and path, no user info or query. */
static void loggable_url(const char *url, char *out, size_t cap)
{
  const char *host = strstr(url, "://");
  host = host ? host + 3 : url;
  const char *at = strchr(host, '@'), *slash = strchr(host, '/');
  if (at && (!slash || at < slash))
    host = at + 1;
  size_t scheme = (size_t)(strstr(url, "://") ? strstr(url, "://") - url + 3 : 0);
  snprintf(out, cap, "%.*s%.*s", (int)scheme, url, (int)strcspn(host, "?#"), host);
}

/* The provider's own words: OpenAI's {"error": {"message": ...}}, or
 * {"error": "..."}, else the start of the body. */
static void error_summary(const char *body, size_t len, char *out, size_t cap)
{
  json_t *j = json_loadb(body, len, 0, NULL), *e = j ? json_object_get(j, "error") : NULL;
  const char *msg = json_is_string(e)   ? json_string_value(e)
                    : json_is_object(e) ? json_string_value(json_object_get(e, "message"))
                                        : NULL;
  if (msg)
    snprintf(out, cap, "%s", msg);
  else
    snprintf(out, cap, "%.*s", (int)(len < 200 ? len : 200), body);
  for (char *p = out; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  json_decref(j);
}

static struct curl_slist *headers(const struct voice_http_config *c,
                                  const struct voice_http_request *r)
{
  struct curl_slist *h = curl_slist_append(NULL, "Expect:"), *next;
  if (h && r->json_body && (next = curl_slist_append(h, "Content-Type: application/json")))
    h = next;
  if (h && c->key[0]) {
    char auth[VOICE_HTTP_KEY_MAX + 32];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->key);
    next = curl_slist_append(h, auth);
    memset(auth, 0, sizeof auth);
    if (!next) {
      curl_slist_free_all(h);
      return NULL;
    }
    h = next;
  }
  return h;
}

static curl_mime *multipart(CURL *curl, const struct voice_http_config *c,
                            const struct voice_http_request *r)
{
  curl_mime *m = curl_mime_init(curl);
  curl_mimepart *p;
  if (!m)
    return NULL;
  if (!(p = curl_mime_addpart(m)) || curl_mime_name(p, "file") != CURLE_OK ||
      curl_mime_data(p, r->file, r->file_len) != CURLE_OK ||
      curl_mime_filename(p, r->file_name) != CURLE_OK ||
      curl_mime_type(p, r->file_type) != CURLE_OK || !(p = curl_mime_addpart(m)) ||
      curl_mime_name(p, "model") != CURLE_OK ||
      curl_mime_data(p, c->model, CURL_ZERO_TERMINATED) != CURLE_OK ||
      !(p = curl_mime_addpart(m)) || curl_mime_name(p, "response_format") != CURLE_OK ||
      curl_mime_data(p, "json", CURL_ZERO_TERMINATED) != CURLE_OK) {
    curl_mime_free(m);
    return NULL;
  }
  return m;
}

/* One connection cache (and DNS, TLS sessions) for every request of the
 * process: a request opens its own easy handle (workers run in parallel)
 * but reuses a kept-alive connection to the provider, which spares a TCP
 * and TLS handshake per utterance and per line. */
static CURLSH *g_share;
static pthread_mutex_t g_share_mu[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
  (void)h, (void)access, (void)arg;
  pthread_mutex_lock(&g_share_mu[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
  (void)h, (void)arg;
  pthread_mutex_unlock(&g_share_mu[data]);
}

static void global_init(void)
{
  curl_global_init(CURL_GLOBAL_DEFAULT);
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_init(&g_share_mu[i], NULL);
  if ((g_share = curl_share_init()) &&
      (curl_share_setopt(g_share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
       curl_share_setopt(g_share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
       curl_share_setopt(g_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
       curl_share_setopt(g_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
       curl_share_setopt(g_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)) {
    curl_share_cleanup(g_share); /* requests then open their own connections */
    g_share = NULL;
  }
}

/* ---- retries ------------------------------------------------------------ */

/* A busy or failing provider (429, 5xx from a gateway or an overloaded
 * server) may answer the same request a moment later; any other 4xx will
 * not change. */
static bool status_retryable(long status)
{
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* The connection failed or dropped: the provider restarting, a load
 * balancer between instances, a connect timeout. */
static bool transfer_retryable(CURLcode res)
{
  switch (res) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE: return true;
  default: return false;
  }
}

/* How long to wait before retry k (1-based): the provider's Retry-After
 * (seconds; libcurl also reads an HTTP date) when it sent one, else the
 * jittered backoff. */
static long retry_wait_ms(int k, curl_off_t retry_after_s)
{
  if (retry_after_s > 0)
    return retry_after_s > RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS
                                                     : (long)retry_after_s * 1000;
  long b = BACKOFF_BASE_MS;
  for (int i = 1; i < k && b < BACKOFF_MAX_MS; i++)
    b *= 2;
  b = b < BACKOFF_MAX_MS ? b : BACKOFF_MAX_MS;
  return b / 2 + (long)(crypto_random_u64() % (uint64_t)(b / 2 + 1));
}

/* Sleeps ms, asking r->wanted every WANTED_POLL_MS. False: given up. */
static bool wait_wanted(const struct voice_http_request *r, void *arg, long ms)
{
  int64_t until = time_mono_ms() + ms;
  for (;;) {
    if (r->wanted && !r->wanted(arg))
      return false;
    int64_t left = until - time_mono_ms();
    if (left <= 0)
      return true;
    long step = left < WANTED_POLL_MS ? (long)left : WANTED_POLL_MS;
    struct timespec ts = {.tv_sec = step / 1000, .tv_nsec = (step % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
}

/* ---- the request ---------------------------------------------------------- */

/* Sets up the handle once; every attempt reuses it (and its connection). */
static int prepare(struct exchange *x, const struct voice_http_config *c,
                   const struct voice_http_request *r, struct curl_slist **h, curl_mime **mime)
{
  if (!(x->curl = curl_easy_init()) || !(*h = headers(c, r)))
    return -1;
  curl_easy_setopt(x->curl, CURLOPT_URL, c->url);
  curl_easy_setopt(x->curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(x->curl, CURLOPT_NOSIGNAL, 1L);
  if (g_share)
    curl_easy_setopt(x->curl, CURLOPT_SHARE, g_share);
  curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, *h);
  curl_easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, x);
  if (r->json_body) {
    curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS, r->json_body);
    return 0;
  }
  if (!(*mime = multipart(x->curl, c, r)))
    return -1;
  curl_easy_setopt(x->curl, CURLOPT_MIMEPOST, *mime);
  return 0;
}

/* One attempt with `left` ms (> 0) of the call's time. Returns 0 (2xx), 1
 * (stopped), -1 (failed: why says how; *again whether a retry may help;
 * *retry_after_s the provider's wish, 0 if none). */
static int attempt(struct exchange *x, const struct voice_http_config *c, long left, char *why,
                   size_t cap, bool *again, curl_off_t *retry_after_s)
{
  long status = 0;
  char msg[256];
  dynbuf_reset(&x->error);
  *again = false;
  *retry_after_s = 0;
  curl_easy_setopt(x->curl, CURLOPT_CONNECTTIMEOUT_MS,
                   c->connect_timeout_ms < left ? c->connect_timeout_ms : left);
  curl_easy_setopt(x->curl, CURLOPT_TIMEOUT_MS, left);
  CURLcode res = curl_easy_perform(x->curl);
  curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
  if (x->stopped)
    return 1;
  if (res != CURLE_OK) {
    snprintf(why, cap, "%s", curl_easy_strerror(res));
    *again = transfer_retryable(res) && !x->delivered;
    return -1;
  }
  if (status < 200 || status > 299) {
    error_summary(dynbuf_ptr(&x->error), dynbuf_len(&x->error), msg, sizeof msg);
    snprintf(why, cap, "HTTP %ld: %s", status, msg);
    *again = status_retryable(status);
    curl_easy_getinfo(x->curl, CURLINFO_RETRY_AFTER, retry_after_s);
    return -1;
  }
  return 0;
}

int voice_http_post(const struct voice_http_config *c, const struct voice_http_request *r,
                    voice_http_body_fn fn, void *arg)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, global_init);
  struct exchange x = {.fn = fn, .arg = arg};
  struct curl_slist *h = NULL;
  curl_mime *mime = NULL;
  char where[VOICE_HTTP_URL_MAX], why[320];
  int rc = -1, attempts = 1 + c->retries;
  int64_t deadline = time_mono_ms() + c->timeout_ms;
  dynbuf_init(&x.error, ERROR_BODY_MAX);
  loggable_url(c->url, where, sizeof where);
  if (prepare(&x, c, r, &h, &mime) < 0) {
    log_warn("%s: cannot start a request", r->what);
    goto out;
  }
  for (int n = 1;; n++) {
    bool again;
    curl_off_t retry_after_s;
    int64_t left = deadline - time_mono_ms();
    rc = attempt(&x, c, left > 0 ? (long)left : 1, why, sizeof why, &again, &retry_after_s);
    if (rc == 0) {
      long status = 0, connects = 0;
      curl_easy_getinfo(x.curl, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(x.curl, CURLINFO_NUM_CONNECTS, &connects);
      log_debug("%s: %s: HTTP %ld, %s connection", r->what, where, status,
                connects ? "new" : "reused");
    }
    if (rc >= 0)
      break;
    long wait = again && n < attempts ? retry_wait_ms(n, retry_after_s) : 0;
    if (!again || n >= attempts || wait >= deadline - time_mono_ms()) {
      if (n == 1 && !again)
        log_warn("%s: %s: %s", r->what, where, why);
      else
        log_warn("%s: %s: %s; attempt %d/%d, %s", r->what, where, why, n, attempts,
                 !again          ? "not retried"
                 : n >= attempts ? "no retry left"
                                 : "no time left to retry");
      break;
    }
    log_warn("%s: %s: %s; attempt %d/%d, retrying in %ld ms", r->what, where, why, n, attempts,
             wait);
    if (!wait_wanted(r, arg, wait)) {
      rc = 1;
      break;
    }
  }
out:
  curl_mime_free(mime);
  curl_slist_free_all(h);
  if (x.curl)
    curl_easy_cleanup(x.curl);
  dynbuf_free(&x.error);
  return rc;
}
