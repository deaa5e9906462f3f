/*
 * api_client.c — `athos practice`'s calls to the public API (see
 * api_client.h): one libcurl easy handle per request, the response body
 * in a dynbuf whose ceiling aborts an oversized answer, the error
 * envelope printed with everything from the server sanitised.
 */
#include "cli/api_client.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/term.h"
#include "util/dynbuf.h"

/* An HTTP response body is read up to this much. */
#define HTTP_BODY_MAX           65536
#define HTTP_TIMEOUT_SEC        20L
#define HTTP_CONNECT_TIMEOUT_MS 10000L

/* ---------------------------------------------------------------- HTTP */

/* The response body as libcurl hands it over. */
struct body_buf {
  struct dynbuf data; /* ceiling: HTTP_BODY_MAX */
  bool too_big;
};

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
  struct body_buf *b = ud;
  size_t n = size * nmemb;
  enum dynbuf_rc rc = dynbuf_addn(&b->data, ptr, n);
  if (rc == DYNBUF_OK)
    return n;
  b->too_big = rc == DYNBUF_TOOBIG;
  return 0; /* aborts the transfer */
}

/* POSTs body (borrowed) as JSON to url with "Authorization: Bearer
 * credential". On an answer of any status returns 0 with the status in
 * *status and the parsed JSON body (owned, or NULL if not JSON) in *out;
 * returns -1 with a reason in err if no answer arrived. */
static int http_post_json(const char *url, const char *credential, const json_t *body, long *status,
                          json_t **out, char *err, size_t errlen)
{
  int rc = -1;
  CURL *curl = NULL;
  struct curl_slist *headers = NULL;
  struct curl_slist *more = NULL;
  char *payload = NULL;
  char auth[1024];
  char curl_err[CURL_ERROR_SIZE] = "";
  struct body_buf resp = {.too_big = false};
  dynbuf_init(&resp.data, HTTP_BODY_MAX);
  *out = NULL;
  *status = 0;

  int n = snprintf(auth, sizeof auth, "Authorization: Bearer %s", credential);
  if (n < 0 || (size_t)n >= sizeof auth) {
    snprintf(err, errlen, "the credential is too long");
    goto out;
  }
  payload = json_dumps(body, JSON_COMPACT);
  curl = curl_easy_init();
  if (payload == NULL || curl == NULL) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  headers = curl_slist_append(NULL, "Content-Type: application/json");
  if (headers != NULL && (more = curl_slist_append(headers, "Accept: application/json")) != NULL)
    headers = more;
  if (headers != NULL && (more = curl_slist_append(headers, auth)) != NULL)
    headers = more;
  if (more == NULL) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, HTTP_TIMEOUT_SEC);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, HTTP_CONNECT_TIMEOUT_MS);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "athos-practice");
  CURLcode cc = curl_easy_perform(curl);
  if (cc != CURLE_OK) {
    if (resp.too_big)
      snprintf(err, errlen, "the response from %.300s is larger than %d bytes", url, HTTP_BODY_MAX);
    else
      snprintf(err, errlen, "cannot reach %.300s: %s", url,
               curl_err[0] != '\0' ? curl_err : curl_easy_strerror(cc));
    goto out;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
  *out = json_loadb(dynbuf_ptr(&resp.data), dynbuf_len(&resp.data), 0, NULL);
  rc = 0;
out:
  OPENSSL_cleanse(auth, sizeof auth);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  free(payload);
  dynbuf_free(&resp.data);
  return rc;
}

/* Prints a failed request's status and, when the body is the contract's
 * error envelope, its code, message and request id. */
static void report_http_error(const char *what, long status, const json_t *body)
{
  const json_t *e = json_object_get(body, "error");
  const char *code = json_string_value(json_object_get(e, "code"));
  const char *msg = json_string_value(json_object_get(e, "message"));
  const char *rid = json_string_value(json_object_get(e, "requestId"));
  fprintf(stderr, "athos practice: %s failed: HTTP %ld", what, status);
  if (code != NULL) {
    fputc(' ', stderr);
    term_put_clean(stderr, code);
  }
  if (msg != NULL) {
    fputs(": ", stderr);
    term_put_clean(stderr, msg);
  }
  if (rid != NULL) {
    fputs(" (request ", stderr);
    term_put_clean(stderr, rid);
    fputc(')', stderr);
  }
  fputc('\n', stderr);
}

json_t *api_client_post(const char *base, const char *path, const char *credential, json_t *body,
                        const char *what)
{
  char url[2048];
  char err[1024];
  long status = 0;
  json_t *resp = NULL;
  int n = snprintf(url, sizeof url, "%s%s", base, path);
  if (n < 0 || (size_t)n >= sizeof url) {
    fprintf(stderr, "athos practice: the server URL is too long\n");
    goto fail;
  }
  if (http_post_json(url, credential, body, &status, &resp, err, sizeof err) != 0) {
    fprintf(stderr, "athos practice: %s failed: %s\n", what, err);
    goto fail;
  }
  if (status != 200 || !json_is_object(resp)) {
    report_http_error(what, status, resp);
    goto fail;
  }
  json_decref(body);
  return resp;
fail:
  json_decref(resp);
  json_decref(body);
  return NULL;
}

/* ------------------------------------------------------ connection URL */

int api_client_parse_ws_url(const char *url, struct ws_target *t)
{
  const char *auth;
  if (strncasecmp(url, "wss://", 6) == 0) {
    fprintf(stderr,
            "athos practice: the server's connection URL is wss:// (TLS), which the CLI does not "
            "support; run it against a server whose ATHOS_PUBLIC_URL is http:// (for example on "
            "loopback or a private network), or use the browser SDK\n");
    return -1;
  }
  if (strncasecmp(url, "ws://", 5) != 0)
    goto bad;
  auth = url + 5;
  size_t alen = strcspn(auth, "/?#");
  const char *rest = auth + alen;
  if (alen == 0 || alen >= sizeof t->host_header || memchr(auth, '@', alen) != NULL)
    goto bad;
  memcpy(t->host_header, auth, alen);
  t->host_header[alen] = '\0';

  const char *host = t->host_header;
  const char *host_end;
  const char *port = NULL;
  if (host[0] == '[') {
    host++;
    host_end = strchr(host, ']');
    if (host_end == NULL)
      goto bad;
    if (host_end[1] == ':')
      port = host_end + 2;
    else if (host_end[1] != '\0')
      goto bad;
  } else {
    host_end = strchr(host, ':');
    if (host_end != NULL)
      port = host_end + 1;
    else
      host_end = host + strlen(host);
  }
  if (host_end == host || (size_t)(host_end - host) >= sizeof t->host)
    goto bad;
  memcpy(t->host, host, (size_t)(host_end - host));
  t->host[host_end - host] = '\0';
  if (port == NULL)
    port = "80";
  if (*port == '\0' || strlen(port) >= sizeof t->port || strspn(port, "0123456789") != strlen(port))
    goto bad;
  snprintf(t->port, sizeof t->port, "%s", port);

  /* The request target: the path and query, never the fragment. */
  if (*rest == '#' || *rest == '\0') {
    snprintf(t->path, sizeof t->path, "/");
  } else {
    size_t plen = strcspn(rest, "#");
    int n = snprintf(t->path, sizeof t->path, "%s%.*s", *rest == '?' ? "/" : "", (int)plen, rest);
    if (n < 0 || (size_t)n >= sizeof t->path)
      goto bad;
  }
  return 0;
bad:
  fprintf(stderr, "athos practice: the server returned a connection URL the CLI cannot use: ");
  term_put_clean(stderr, url);
  fputc('\n', stderr);
  return -1;
}
