/*
 * handshake.c — GET /api/external/v1/roleplay/live: checks the WebSocket
 * handshake (RFC 6455 §4.2.1), answers 101 with Sec-WebSocket-Accept, and
 * once it is out hands the socket to the live loop (live_loop_upgraded).
 * The ticket is not checked here: it arrives in the first frame (browsers
 * cannot set headers on a WebSocket), see call.c.
 */
#include <string.h>

#include "app.h"
#include "live/live.h"
#include "live/live_internal.h"
#include "ws/ws_util.h"

enum api_result api_roleplay_live(struct api_request *r)
{
  struct app *app = r->app;
  const char *key = http_header(r, "Sec-WebSocket-Key");
  const char *version = http_header(r, "Sec-WebSocket-Version");
  char accept[WS_ACCEPT_LEN];

  if (!ws_header_has_token(http_header(r, "Upgrade"), "websocket"))
    return http_reply_error(r, ERR_INVALID_REQUEST,
                            "This endpoint is a WebSocket: send \"Upgrade: websocket\".");
  if (!ws_header_has_token(http_header(r, "Connection"), "upgrade"))
    return http_reply_error(r, ERR_INVALID_REQUEST,
                            "A WebSocket handshake needs \"Connection: Upgrade\".");
  if (!ws_key_valid(key))
    return http_reply_error(r, ERR_INVALID_REQUEST,
                            "Sec-WebSocket-Key must be the base64 of 16 bytes.");
  if (version == NULL || strcmp(version, "13") != 0)
    return http_reply_error(r, ERR_INVALID_REQUEST, "Only WebSocket version 13 is supported.");
  if (app->live == NULL)
    return http_reply_error(r, ERR_SERVICE_UNAVAILABLE, "Live calls are not available.");
  if (ws_accept_key(key, accept, sizeof accept) != 0)
    return API_FAIL;
  /* The loop may already be stopping when the callback runs:
   * live_loop_adopt() checks. */
  return http_reply_upgrade(r, "websocket", "Sec-WebSocket-Accept", accept, live_loop_upgraded,
                            app->live);
}
