/*
 * api_key.h — reseller API keys ("ath_live_" + 32 random URL-safe
 * characters). Only a SHA-256 of the key and a short prefix are stored;
 * the key itself is shown once, at creation.
 */
#ifndef ATHOS_API_KEY_H
#define ATHOS_API_KEY_H

#include "http/request.h"
#include "store/store.h"
#include "util/lru.h"

#define API_KEY_PREFIX "ath_live_"
#define API_KEY_RANDOM_CHARS 32
#define API_KEY_MAX 64

/* A fresh key in key_out and its stored form in rec. */
void api_key_generate(char key_out[API_KEY_MAX], struct api_key_new *rec);

/* The cache server_start() gives struct server.auth_cache. */
struct lru *api_key_cache_new(void);

/* Authenticates r's Bearer API key: on success fills r->tenant and
 * returns API_OK; otherwise answers (INVALID_API_KEY, API_KEY_REVOKED,
 * TENANT_INACTIVE, IP_NOT_ALLOWED, or a store error) and returns
 * API_REPLIED/API_FAIL. */
enum api_result api_key_authenticate(struct api_request *r);

#endif
