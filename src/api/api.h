/*
 * api.h — what every REST handler includes: the request and its replies
 * (http/request.h), the application context (app.h), and the two answers
 * that turn a decision of a lower layer into HTTP: a store failure and an
 * auth/ refusal.
 */
#ifndef ATHOS_API_H
#define ATHOS_API_H

#include "app.h"
#include "errors.h"
#include "http/request.h"

/* Answers a failed store call (store_rc != STORE_OK): 503
 * SERVICE_UNAVAILABLE when the database is unreachable or busy, else 500
 * logged with the request id. */
enum api_result api_reply_store_error(struct api_request *r, int store_rc);
/* Answers a refusal (e != ERR_NONE) from auth/ with the code's default
 * sentence; an internal error is logged with the request id. */
enum api_result api_reply_decision(struct api_request *r, enum athos_error e);

#endif
