/*
 * handshake.c — GET /api/external/v1/roleplay/live: checks the WebSocket
 * handshake (RFC 6455 §4.2.1), answers 101 with Sec-WebSocket-Accept, and
 * from MHD's upgrade callback hands the socket to the live loop. The
 * ticket is not checked here: it arrives in the first frame (browsers
 * cannot set headers on a WebSocket), see call.c.
 */
#include <string.h>

#include "http/server.h"
#include "live/live.h"
#include "live/live_internal.h"
#include "ws/ws_util.h"

/* Runs on MHD's thread once the 101 is out; must not block. cls is the
 * loop, which may already be stopping: live_loop_adopt() checks. */
static void upgrade_cb(void *cls, struct MHD_Connection *conn, void *con_cls,
                       const char *extra_in, size_t extra_in_size, MHD_socket sock,
                       struct MHD_UpgradeResponseHandle *urh)
{
  live_loop_adopt(cls, sock, urh, extra_in, extra_in_size);
}

enum api_result api_roleplay_live(struct api_request *r)
{
  struct server *srv = r->server;
  const char *key = http_header(r, MHD_HTTP_HEADER_SEC_WEBSOCKET_KEY);
  const char *version = http_header(r, MHD_HTTP_HEADER_SEC_WEBSOCKET_VERSION);
  char accept[WS_ACCEPT_LEN];
  enum api_result rc = API_FAIL;
  struct MHD_Response *resp = NULL;

  if (!ws_header_has_token(http_header(r, MHD_HTTP_HEADER_UPGRADE), "websocket"))
    return http_reply_error(r, ERR_INVALID_REQUEST,
                            "This endpoint is a WebSocket: send \"Upgrade: websocket\".");
  if (!ws_header_has_token(http_header(r, MHD_HTTP_HEADER_CONNECTION), "upgrade"))
    return http_reply_error(r, ERR_INVALID_REQUEST,
                            "A WebSocket handshake needs \"Connection: Upgrade\".");
  if (!ws_key_valid(key))
    return http_reply_error(r, ERR_INVALID_REQUEST,
                            "Sec-WebSocket-Key must be the base64 of 16 bytes.");
  if (version == NULL || strcmp(version, "13") != 0)
    return http_reply_error(r, ERR_INVALID_REQUEST, "Only WebSocket version 13 is supported.");
  if (srv->live == NULL)
    return http_reply_error(r, ERR_SERVICE_UNAVAILABLE, "Live calls are not available.");
  if (ws_accept_key(key, accept, sizeof accept) != 0)
    goto out;

  resp = MHD_create_response_for_upgrade(upgrade_cb, srv->live);
  if (resp == NULL)
    goto out;
  /* MHD 0.9.75 adds "Connection: Upgrade" itself for a response with an
   * upgrade handler; adding it here too would send it twice. */
  if (MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket") != MHD_YES ||
      MHD_add_response_header(resp, MHD_HTTP_HEADER_SEC_WEBSOCKET_ACCEPT, accept) != MHD_YES ||
      MHD_add_response_header(resp, "X-Athos-Request-Id", r->request_id) != MHD_YES)
    goto out;
  if (MHD_queue_response(r->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp) != MHD_YES)
    goto out;
  r->status = MHD_HTTP_SWITCHING_PROTOCOLS;
  r->replied = true;
  rc = API_OK;
out:
  if (resp != NULL)
    MHD_destroy_response(resp);
  return rc;
}
