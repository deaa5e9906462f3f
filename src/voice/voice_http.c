/*
 * voice_http.c — one POST to an OpenAI-compatible speech endpoint with
 * libcurl (see voice_http.h): bearer key, connect and total timeouts, the
 * response streamed to the caller, error bodies kept to a ceiling and
 * summarised in the log. Runs on a pool worker: blocking is fine here.
 */
#include "voice/voice_http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "util/dynbuf.h"
#include "util/log.h"

#define ERROR_BODY_MAX     4096
#define CONNECT_TIMEOUT_MS 5000L

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
  return 0;
}

/* ---- the exchange ------------------------------------------------------- */

struct exchange {
  CURL *curl;
  voice_http_body_fn fn;
  void *arg;
  bool stopped;
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

int voice_http_post(const struct voice_http_config *c, const struct voice_http_request *r,
                    voice_http_body_fn fn, void *arg)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, global_init);
  struct exchange x = {.fn = fn, .arg = arg};
  struct curl_slist *h = NULL;
  curl_mime *mime = NULL;
  char where[VOICE_HTTP_URL_MAX], msg[256];
  int rc = -1;
  long status = 0;
  dynbuf_init(&x.error, ERROR_BODY_MAX);
  loggable_url(c->url, where, sizeof where);
  if (!(x.curl = curl_easy_init()) || !(h = headers(c, r)))
    goto out;
  curl_easy_setopt(x.curl, CURLOPT_URL, c->url);
  curl_easy_setopt(x.curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(x.curl, CURLOPT_NOSIGNAL, 1L);
  if (g_share)
    curl_easy_setopt(x.curl, CURLOPT_SHARE, g_share);
  curl_easy_setopt(x.curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(x.curl, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
  curl_easy_setopt(x.curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
  curl_easy_setopt(x.curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(x.curl, CURLOPT_WRITEDATA, &x);
  if (r->json_body) {
    curl_easy_setopt(x.curl, CURLOPT_POSTFIELDS, r->json_body);
  } else {
    if (!(mime = multipart(x.curl, c, r)))
      goto out;
    curl_easy_setopt(x.curl, CURLOPT_MIMEPOST, mime);
  }
  CURLcode res = curl_easy_perform(x.curl);
  curl_easy_getinfo(x.curl, CURLINFO_RESPONSE_CODE, &status);
  if (x.stopped) {
    rc = 1;
  } else if (res != CURLE_OK) {
    log_warn("%s: %s: %s", r->what, where, curl_easy_strerror(res));
  } else if (status < 200 || status > 299) {
    error_summary(dynbuf_ptr(&x.error), dynbuf_len(&x.error), msg, sizeof msg);
    log_warn("%s: %s: HTTP %ld: %s", r->what, where, status, msg);
  } else {
    long connects = 0;
    curl_easy_getinfo(x.curl, CURLINFO_NUM_CONNECTS, &connects);
    log_debug("%s: %s: HTTP %ld, %s connection", r->what, where, status,
              connects ? "new" : "reused");
    rc = 0;
  }
out:
  if (rc < 0 && !x.curl)
    log_warn("%s: cannot start a request", r->what);
  curl_mime_free(mime);
  curl_slist_free_all(h);
  if (x.curl)
    curl_easy_cleanup(x.curl);
  dynbuf_free(&x.error);
  return rc;
}
