/*
 * api_key.h — reseller API keys ("ath_live_" + 32 random URL-safe
 * characters). Only a SHA-256 of the key and a short prefix are stored;
 * the key itself is shown once, at creation.
 */
#ifndef ATHOS_API_KEY_H
#define ATHOS_API_KEY_H

#include <stdint.h>
#include <sys/socket.h>

#include "errors.h"
#include "store/store.h"
#include "util/lru.h"

#define API_KEY_PREFIX       "ath_live_"
#define API_KEY_RANDOM_CHARS 32
#define API_KEY_MAX          64

/* A fresh key in key_out and its stored form in rec. */
void api_key_generate(char key_out[API_KEY_MAX], struct api_key_new *rec);

/* The cache app_start() gives struct app.auth_cache. */
struct lru *api_key_cache_new(void);

/* Decides on a presented API key from peer (key → tenant → active → IP
 * allow-list): ERR_NONE with *out and key_id (the key's public id)
 * filled, or ERR_INVALID_API_KEY, ERR_API_KEY_REVOKED, ERR_TENANT_INACTIVE,
 * ERR_IP_NOT_ALLOWED, or a store failure (ERR_SERVICE_UNAVAILABLE /
 * ERR_INTERNAL_ERROR, logged). A successful lookup is kept in cache (may
 * be NULL) for cache_ms, and used only while the store's auth generation
 * is the one it was made at. Answering the client is the caller's
 * business (src/api/routes.c). */
enum athos_error api_key_authenticate(struct store *s, struct lru *cache, int64_t cache_ms,
                                      const char *key, const struct sockaddr *peer,
                                      struct tenant *out, char key_id[ID_MAX]);

#endif
