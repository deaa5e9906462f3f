/*
 * request.h — one HTTP request as handlers see it, and the only ways a
 * handler answers: http_reply_json() for success bodies and
 * http_reply_error() for the contract's error envelope. Both add the
 * X-Athos-Request-Id header.
 *
 * Handlers return API_OK (answered with a success body), API_REPLIED (a
 * client error, already answered) or API_FAIL (our fault: the server
 * answers 500 INTERNAL_ERROR and logs the request id).
 */
#ifndef ATHOS_REQUEST_H
#define ATHOS_REQUEST_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http/errors.h"
#include "store/store.h"

enum api_result { API_OK, API_REPLIED, API_FAIL };

struct server;
struct route;

struct api_request {
  struct MHD_Connection *conn;
  struct server *server;
  const struct route *route;
  const char *method;
  const char *url;
  char request_id[48];
  uint64_t started_us;
  char *body; /* NUL-terminated; NULL when empty */
  size_t body_len;
  bool body_too_large;
  bool body_started;
  unsigned status;   /* the status sent, for the access log */
  bool replied;
  const char *path_param; /* e.g. the {callId}; borrowed from url */
  struct tenant tenant;   /* filled by API-key authentication */
  const char *cors_origin; /* set on CORS routes: echo this origin */
};

/* Queues a JSON success body (json is stolen). Returns API_OK, or
 * API_FAIL if it could not be queued. */
enum api_result http_reply_json(struct api_request *r, unsigned status, json_t *json);
/* Queues an already-rendered JSON body (body is malloc'd and taken). */
enum api_result http_reply_json_bytes(struct api_request *r, unsigned status, char *body,
                                      size_t len);
/* Queues a body that outlives the response (static data, borrowed) with
 * its Content-Type, e.g. a document embedded in the binary. */
enum api_result http_reply_static(struct api_request *r, unsigned status,
                                  const char *content_type, const void *body, size_t len);
/* Queues the error envelope; msg is a human-readable sentence. Returns
 * API_REPLIED for 4xx, API_FAIL for 5xx (already answered either way). */
enum api_result http_reply_error(struct api_request *r, enum athos_error e, const char *msg);
/* An error with a status outside the code table (404 for an unknown
 * route, 405 with Allow, 413): code INVALID_REQUEST. */
enum api_result http_reply_error_status(struct api_request *r, unsigned status, const char *msg,
                                        const char *allow);
/* Maps a store failure: STORE_UNAVAILABLE → 503, anything else → 500. */
enum api_result http_reply_store_error(struct api_request *r, int store_rc);
/* A request header (borrowed for the request's lifetime) or NULL. */
const char *http_header(struct api_request *r, const char *name);
/* A query-string argument (borrowed) or NULL. */
const char *http_query(struct api_request *r, const char *name);
/* The peer address. */
const struct sockaddr *http_peer(struct api_request *r);
/* The Bearer credential of the Authorization header, or NULL. */
const char *http_bearer(struct api_request *r);

#endif
