/*
 * config.h — the server's settings: environment variables (DESIGN.md's
 * table) overridden by `athos serve` flags, both checked by one parser per
 * setting (config.c). Durations are configurable so
 * tests can shorten them.
 */
#ifndef ATHOS_CONFIG_H
#define ATHOS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RETRY_SCHEDULE_MAX 32

struct athos_config {
  char database_url[1024];
  char master_key_file[1024]; /* the key sealing secrets at rest ("" = none) */
  char listen_host[256];
  uint16_t listen_port;
  char public_url[512]; /* http(s)://host[:port], no trailing slash */
  char drills_dir[1024];
  unsigned threads;            /* MHD internal thread pool; 0/1 = one epoll thread */
  int64_t session_ttl_sec;     /* session token lifetime (300) */
  int64_t ticket_ttl_sec;      /* connection ticket lifetime (60) */
  int64_t max_call_sec;        /* live call cap (1800) */
  int64_t idle_sec;            /* no rep utterance (120) */
  int64_t ws_ping_sec;         /* WebSocket keepalive ping interval (20) */
  int64_t max_turns;           /* turns stored per live call (LIVE_MAX_TURNS) */
  size_t max_transcript_bytes; /* transcript bytes per live call (LIVE_TRANSCRIPT_MAX) */
  int64_t retry_schedule[RETRY_SCHEDULE_MAX]; /* seconds before each webhook attempt */
  size_t retry_count;
  bool allow_private_webhooks;
  int64_t webhook_timeout_ms;      /* 15000 */
  unsigned scoring_workers;        /* 1 */
  size_t max_connections;          /* MHD connection limit */
  int64_t auth_cache_ms;           /* how long an API key lookup is reused (1000; 0 = off) */
  unsigned max_connections_per_ip; /* open connections per client address (256; 0 = no cap) */
  int64_t header_timeout_sec;      /* total time for a request's headers (15; 0 = none) */
  int64_t body_timeout_sec;        /* total time for its body, from the headers (30; 0 = none) */
  char metrics_token[256];         /* Bearer token for GET /metrics from off-loopback ("" = none) */
  int64_t rate_limit;              /* per tenant, requests a second (1000; 0 = none) */
  int64_t rate_limit_per_key;      /* per API key, requests a second (0 = the tenant's only) */
  int64_t rate_limit_per_ip;       /* per IP, redeems and live connects a second (100; 0 = none) */
  char media_dir[1024];            /* voice call recordings ("" = "media" beside the SQLite file) */
  int64_t recording_retention_days; /* delete recordings older than this (0 = keep) */
  char recording_format[4];         /* "wav" (default) or "ogg": the file's extension too */
  unsigned voice_workers;           /* speech threads, each with a recogniser (one per core) */
  unsigned voice_queue;             /* speech jobs waiting for a worker (64) */
  unsigned voice_decoders;       /* recognisers in memory at most (~70 MB each; 0 = 4 per worker) */
  int64_t voice_silence_ms;      /* silence that ends a rep utterance (700) */
  int64_t voice_silence_done_ms; /* ... once its words read as a finished turn (450) */
};

/* Defaults, then the environment. Returns 0, or -1 with err set. */
int config_from_env(struct athos_config *c, char *err, size_t errlen);
/* Applies one `serve` flag ("--threads", "8") with the parser of its
 * environment variable. Returns 0, or -1 with err set (an unknown flag,
 * or a value its variable would refuse). */
int config_set_flag(struct athos_config *c, const char *flag, const char *value, char *err,
                    size_t errlen);
/* Derives public_url from listen when ATHOS_PUBLIC_URL is unset. */
void config_finish(struct athos_config *c);

#endif
