/* handlers.h — the REST handlers, one file per resource in src/api/.
 * Each is called after routing and authentication (routes.c), with the
 * application context in r->app. */
#ifndef ATHOS_HANDLERS_H
#define ATHOS_HANDLERS_H

#include "api/api.h"
#include "util/lru.h"

/* health.c */
enum api_result api_healthz(struct api_request *r);
enum api_result api_readyz(struct api_request *r);
/* session.c: POST /session */
enum api_result api_session_mint(struct api_request *r);
/* roleplay.c: POST /roleplay/session (its CORS preflight is the route's flag) */
enum api_result api_roleplay_redeem(struct api_request *r);
/* calls.c: GET /calls, GET /calls/{callId} */
enum api_result api_calls_list(struct api_request *r);
enum api_result api_calls_get(struct api_request *r);
/* GET /calls/{callId}/recording: the scored call's WAV, with Range. */
enum api_result api_calls_recording(struct api_request *r);
/* openapi.c: GET /openapi.json, GET /openapi.yaml (the embedded contract) */
enum api_result api_openapi_json(struct api_request *r);
enum api_result api_openapi_yaml(struct api_request *r);
/* metrics.c: GET /metrics (Prometheus text; loopback or ATHOS_METRICS_TOKEN) */
enum api_result api_metrics(struct api_request *r);
/* The cache app_start() gives struct app.call_cache. */
struct lru *calls_cache_new(void);

#endif
