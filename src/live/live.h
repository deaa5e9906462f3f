/*
 * live.h — the live roleplay transport: WebSocket connections upgraded
 * from libmicrohttpd, framed by wslay, all served by one epoll event loop
 * thread (no thread per call). Runs the protocol in DESIGN.md and drives
 * one persona_call per connection.
 */
#ifndef ATHOS_LIVE_H
#define ATHOS_LIVE_H

#include "app.h"
#include "http/request.h"

struct live_loop;

/* Starts the loop thread for app (borrowed for the loop's life). On
 * start-up the caller has already ended orphaned `live` calls
 * (store_calls_end_orphaned). */
struct live_loop *live_loop_start(struct app *app);
/* Ends every open call (reason "disconnect"), closes every socket and
 * joins the thread. Must run before MHD_stop_daemon. Accepts NULL. */
void live_loop_stop(struct live_loop *l);

/* The route handler for GET /api/external/v1/roleplay/live: validates
 * the WebSocket handshake and queues the 101 response whose upgrade
 * callback hands the socket to the loop. */
enum api_result api_roleplay_live(struct api_request *r);

#endif
