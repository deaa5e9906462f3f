/*
 * log.h — structured logging to stderr: one JSON object per line.
 *
 * Never pass a secret (API key, token, ticket, webhook secret) to these
 * functions; callers log ids and prefixes only.
 */
#ifndef ATHOS_LOG_H
#define ATHOS_LOG_H

#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

/* Minimum level written; from ATHOS_LOG_LEVEL (debug|info|warn|error). */
void log_init(void);
void log_set_level(enum log_level lvl);
int log_enabled(enum log_level lvl);

/* {"ts":…,"level":…,"msg":…} — msg is printf-formatted and JSON-escaped. */
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The per-request access line. */
void log_request(const char *request_id, const char *method, const char *route, unsigned status,
                 uint64_t micros);

#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
