/*
 * reply.c — how every response leaves the server: JSON success bodies,
 * the error envelope, and the headers every response carries
 * (X-Athos-Request-Id; CORS only where the route allows it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/request.h"
#include "http/routes.h"
#include "util/log.h"

static void add_common_headers(struct api_request *r, struct MHD_Response *resp)
{
  MHD_add_response_header(resp, "X-Athos-Request-Id", r->request_id);
  if (r->route != NULL && r->route->cors) {
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", "X-Athos-Request-Id");
    MHD_add_response_header(resp, "Vary", "Origin");
  }
}

/* Queues resp (destroyed here) with status and its Content-Type. */
static enum api_result queue_response(struct api_request *r, unsigned status,
                                      struct MHD_Response *resp, const char *content_type,
                                      const char *allow)
{
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  if (allow != NULL)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
  add_common_headers(r, resp);
  enum MHD_Result ok = MHD_queue_response(r->conn, status, resp);
  MHD_destroy_response(resp);
  r->replied = true;
  r->status = status;
  return ok == MHD_YES ? API_OK : API_FAIL;
}

/* Queues body (malloc'd, taken) with status, as JSON. */
static enum api_result queue_body(struct api_request *r, unsigned status, char *body, size_t len,
                                  const char *allow)
{
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if (resp == NULL) {
    free(body);
    return API_FAIL;
  }
  return queue_response(r, status, resp, "application/json", allow);
}

enum api_result http_reply_static(struct api_request *r, unsigned status,
                                  const char *content_type, const void *body, size_t len)
{
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
  if (resp == NULL)
    return API_FAIL;
  return queue_response(r, status, resp, content_type, NULL);
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
  json_t *j = json_pack("{s:{s:s, s:s, s:s}}", "error", "code", athos_error_code(e), "message",
                        msg, "requestId", r->request_id);
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

enum api_result http_reply_error_status(struct api_request *r, unsigned status, const char *msg,
                                        const char *allow)
{
  return reply_error_with(r, ERR_INVALID_REQUEST, status, msg, allow);
}

enum api_result http_reply_store_error(struct api_request *r, int store_rc)
{
  if (store_rc == STORE_UNAVAILABLE)
    return http_reply_error(r, ERR_SERVICE_UNAVAILABLE,
                            "The service is temporarily unavailable; retry shortly");
  log_error("request %s: store error %d", r->request_id, store_rc);
  return http_reply_error(r, ERR_INTERNAL_ERROR, "Internal error");
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
