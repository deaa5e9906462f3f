/*
 * reply.c — how every response leaves the server: JSON success bodies,
 * the error envelope, empty replies, CORS preflights and protocol
 * upgrades, with the headers every response carries (X-Athos-Request-Id;
 * CORS only where the dispatcher allowed it). The only code besides
 * server.c that calls libmicrohttpd.
 */
#include <assert.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/request.h"

void http_reply_header(struct api_request *r, const char *name, long long value)
{
  if (r->nheaders >= HTTP_REPLY_HEADERS_MAX)
    return;
  r->headers[r->nheaders].name = name;
  r->headers[r->nheaders].value = value;
  r->nheaders++;
}

static void add_common_headers(struct api_request *r, struct MHD_Response *resp)
{
  MHD_add_response_header(resp, "X-Athos-Request-Id", r->request_id);
  for (int i = 0; i < r->nheaders; i++) {
    char v[24];
    snprintf(v, sizeof v, "%lld", r->headers[i].value);
    MHD_add_response_header(resp, r->headers[i].name, v);
  }
  if (r->close_after) /* libmicrohttpd closes the connection after this reply */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
  if (r->cors) {
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", "X-Athos-Request-Id");
    MHD_add_response_header(resp, "Vary", "Origin");
  }
}

/* Queues resp (destroyed here) with status, marks r answered. */
static enum api_result queue(struct api_request *r, unsigned status, struct MHD_Response *resp)
{
  assert(!r->replied); /* a request is answered once */
  enum MHD_Result ok = MHD_queue_response(r->conn, status, resp);
  MHD_destroy_response(resp);
  r->replied = true;
  r->status = status;
  return ok == MHD_YES ? API_OK : API_FAIL;
}

/* Queues resp (destroyed here) with status, its Content-Type and the
 * common headers. */
static enum api_result queue_typed(struct api_request *r, unsigned status,
                                   struct MHD_Response *resp, const char *content_type,
                                   const char *allow)
{
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  if (allow != NULL)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
  add_common_headers(r, resp);
  return queue(r, status, resp);
}

/* Queues body (malloc'd, taken) with status and content_type. */
static enum api_result queue_owned(struct api_request *r, unsigned status, char *body, size_t len,
                                   const char *content_type, const char *allow)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if (resp == NULL) {
    free(body);
    return API_FAIL;
  }
  return queue_typed(r, status, resp, content_type, allow);
}

/* Queues body (malloc'd, taken) with status, as JSON. */
static enum api_result queue_body(struct api_request *r, unsigned status, char *body, size_t len,
                                  const char *allow)
{
  return queue_owned(r, status, body, len, "application/json", allow);
}

enum api_result http_reply_text(struct api_request *r, unsigned status, const char *content_type,
                                char *body, size_t len)
{
  return queue_owned(r, status, body, len, content_type, NULL);
}

enum api_result http_reply_static(struct api_request *r, unsigned status, const char *content_type,
                                  const void *body, size_t len)
{
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
  if (resp == NULL)
    return API_FAIL;
  return queue_typed(r, status, resp, content_type, NULL);
}

enum api_result http_reply_fd(struct api_request *r, unsigned status, const char *content_type,
                              int fd, uint64_t offset, uint64_t len, const char *content_range)
{
  struct MHD_Response *resp = status == 416
                                  ? MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)
                                  : MHD_create_response_from_fd_at_offset64(len, fd, offset);
  if (status == 416 || resp == NULL)
    close(fd); /* MHD owns it only once the response exists */
  if (resp == NULL)
    return API_FAIL;
  MHD_add_response_header(resp, "Accept-Ranges", "bytes");
  if (content_range != NULL)
    MHD_add_response_header(resp, "Content-Range", content_range);
  return queue_typed(r, status, resp, content_type, NULL);
}

enum api_result http_reply_json_bytes(struct api_request *r, unsigned status, char *body,
                                      size_t len)
{
  return queue_body(r, status, body, len, NULL);
}

enum api_result http_reply_json(struct api_request *r, unsigned status, json_t *json)
{
  char *body = json != NULL ? json_dumps(json, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
  json_decref(json);
  if (body == NULL)
    return API_FAIL;
  return queue_body(r, status, body, strlen(body), NULL);
}

static enum api_result reply_error_with(struct api_request *r, enum athos_error e, unsigned status,
                                        const char *msg, const char *allow)
{
  assert(msg != NULL && status >= 400);
  json_t *j = json_pack("{s:{s:s, s:s, s:s}}", "error", "code", athos_error_code(e), "message", msg,
                        "requestId", r->request_id);
  char *body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (body == NULL)
    return API_FAIL;
  queue_body(r, status, body, strlen(body), allow);
  return status >= 500 ? API_FAIL : API_REPLIED;
}

enum api_result http_reply_error(struct api_request *r, enum athos_error e, const char *msg)
{
  return reply_error_with(r, e, athos_error_status(e), msg, NULL);
}

enum api_result http_reply_decision(struct api_request *r, enum athos_error e)
{
  return http_reply_error(r, e, athos_error_message(e));
}

enum api_result http_reply_error_status(struct api_request *r, unsigned status, const char *msg,
                                        const char *allow)
{
  return reply_error_with(r, ERR_INVALID_REQUEST, status, msg, allow);
}

enum api_result http_reply_empty(struct api_request *r, unsigned status)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  if (resp == NULL)
    return API_FAIL;
  add_common_headers(r, resp);
  return queue(r, status, resp);
}

enum api_result http_reply_preflight(struct api_request *r, const char *methods)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  if (resp == NULL)
    return API_FAIL;
  MHD_add_response_header(resp, "X-Athos-Request-Id", r->request_id);
  MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
  MHD_add_response_header(resp, "Access-Control-Allow-Methods", methods);
  MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Authorization, Content-Type");
  MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
  MHD_add_response_header(resp, "Vary", "Origin");
  return queue(r, 204, resp);
}

/* MHD's upgrade callback, on MHD's thread once the 101 is out: req_cls
 * is our request (still alive: it is freed by the completion callback). */
static void on_upgraded(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
                        size_t extra_in_size, MHD_socket sock,
                        struct MHD_UpgradeResponseHandle *urh)
{
  struct api_request *r = req_cls;
  assert(r != NULL && r->upgrade_fn != NULL);
  r->upgrade_fn(r->upgrade_cls, sock, urh, extra_in, extra_in_size);
}

enum api_result http_reply_upgrade(struct api_request *r, const char *protocol, const char *header,
                                   const char *value, http_upgrade_fn fn, void *cls)
{
  assert(fn != NULL && protocol != NULL);
  r->upgrade_fn = fn;
  r->upgrade_cls = cls;
  struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgraded, NULL);
  if (resp == NULL)
    return API_FAIL;
  /* MHD 0.9.75 adds "Connection: Upgrade" itself for a response with an
   * upgrade handler; adding it here too would send it twice. */
  if (MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, protocol) != MHD_YES ||
      (header != NULL && MHD_add_response_header(resp, header, value) != MHD_YES) ||
      MHD_add_response_header(resp, "X-Athos-Request-Id", r->request_id) != MHD_YES) {
    MHD_destroy_response(resp);
    return API_FAIL;
  }
  return queue(r, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
}

const char *http_header(struct api_request *r, const char *name)
{
  return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_query(struct api_request *r, const char *name)
{
  return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const struct sockaddr *http_peer(struct api_request *r)
{
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  return ci != NULL ? ci->client_addr : NULL;
}

const char *http_bearer(struct api_request *r)
{
  const char *h = http_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
  if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
    return NULL;
  h += 7;
  while (*h == ' ')
    h++;
  return *h != '\0' ? h : NULL;
}
