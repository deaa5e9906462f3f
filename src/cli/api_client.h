/*
 * api_client.h — the HTTP half of `athos practice`: POSTs to the public
 * API with libcurl (a bounded response body), the contract's error
 * envelope turned into one line on stderr, and the redeem's
 * connectionUrl split for the WebSocket client. Every failure is printed
 * here, prefixed "athos practice:", so the caller only checks for NULL/-1.
 * Credentials travel only in the Authorization header and are never
 * printed. curl_global_init() is the caller's.
 */
#ifndef ATHOS_CLI_API_CLIENT_H
#define ATHOS_CLI_API_CLIENT_H

#include <jansson.h>

/* POSTs body (stolen) as JSON to base + path with "Authorization: Bearer
 * credential". Returns the 200 response's JSON object (owned), or NULL
 * after printing why: "<what> failed: HTTP <status> <code>: <message>
 * (request <id>)" for an answer, the transport's reason otherwise. */
json_t *api_client_post(const char *base, const char *path, const char *credential, json_t *body,
                        const char *what);

/* A ws:// connection URL, split. */
struct ws_target {
  char host[256]; /* a name or an address; an IPv6 address without brackets */
  char port[8];
  char host_header[300]; /* the Host header: the URL's authority */
  char path[1024];       /* the request target: path and query */
};

/* Splits a ws:// URL. Returns 0, or -1 after printing why (wss:// is
 * refused: the CLI has no TLS). */
int api_client_parse_ws_url(const char *url, struct ws_target *t);

#endif
