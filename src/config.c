/*
 * config.c — defaults, environment and `serve` flags for struct
 * athos_config. Every setting is one row of SETTINGS: its variable, its
 * flag (if any), and the one parser both go through, so a flag is checked
 * exactly as its variable is (range, syntax, length: a value that does
 * not fit is refused, never truncated).
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live/protocol.h"

enum kind {
  K_STRING, /* char[size], refused when it does not fit */
  K_I64,    /* int64_t in [min, max] */
  K_UINT,   /* unsigned in [min, max] */
  K_SIZE,   /* size_t in [min, max] */
  K_BOOL,   /* 1/true/yes/on; anything else is false */
  K_LISTEN, /* HOST:PORT into listen_host and listen_port */
  K_RETRY,  /* "0,5,300,…" into retry_schedule and retry_count */
  K_CHOICE, /* one word of `choices` into char[size] */
};

struct setting {
  const char *env;
  const char *flag; /* NULL: environment only */
  enum kind kind;
  size_t offset;
  size_t size; /* K_STRING, K_CHOICE: the buffer */
  int64_t min, max;
  const char *choices; /* K_CHOICE: the words allowed, space-separated */
};

#define AT(field)                offsetof(struct athos_config, field)
#define SIZE(field)              sizeof(((struct athos_config *)0)->field)
#define STR(field)               K_STRING, AT(field), SIZE(field), 0, 0, NULL
#define NUM(kind, field, lo, hi) kind, AT(field), 0, lo, hi, NULL
#define OTHER(kind)              kind, 0, 0, 0, 0, NULL
#define CHOICE(field, words)     K_CHOICE, AT(field), SIZE(field), 0, 0, words

static const struct setting SETTINGS[] = {
    {"ATHOS_DATABASE_URL", "--database-url", STR(database_url)},
    {"ATHOS_MASTER_KEY_FILE", NULL, STR(master_key_file)},
    {"ATHOS_DRILLS_DIR", "--drills-dir", STR(drills_dir)},
    {"ATHOS_LISTEN", "--listen", OTHER(K_LISTEN)},
    {"ATHOS_PUBLIC_URL", "--public-url", STR(public_url)},
    {"ATHOS_WEBHOOK_RETRY_SCHEDULE", NULL, OTHER(K_RETRY)},
    {"ATHOS_ALLOW_PRIVATE_WEBHOOKS", NULL, NUM(K_BOOL, allow_private_webhooks, 0, 1)},
    {"ATHOS_THREADS", "--threads", NUM(K_UINT, threads, 0, 64)},
    {"ATHOS_SESSION_TTL_SEC", NULL, NUM(K_I64, session_ttl_sec, 1, 86400)},
    {"ATHOS_TICKET_TTL_SEC", NULL, NUM(K_I64, ticket_ttl_sec, 1, 3600)},
    {"ATHOS_MAX_CALL_SEC", NULL, NUM(K_I64, max_call_sec, 1, 86400)},
    {"ATHOS_IDLE_SEC", NULL, NUM(K_I64, idle_sec, 1, 86400)},
    {"ATHOS_WS_PING_SEC", NULL, NUM(K_I64, ws_ping_sec, 1, 3600)},
    {"ATHOS_MAX_TURNS", NULL, NUM(K_I64, max_turns, 3, 100000)},
    {"ATHOS_MAX_TRANSCRIPT_BYTES", NULL, NUM(K_SIZE, max_transcript_bytes, 16384, 1 << 30)},
    {"ATHOS_WEBHOOK_TIMEOUT_MS", NULL, NUM(K_I64, webhook_timeout_ms, 100, 120000)},
    {"ATHOS_SCORING_WORKERS", NULL, NUM(K_UINT, scoring_workers, 1, 64)},
    {"ATHOS_MAX_CONNECTIONS", NULL, NUM(K_SIZE, max_connections, 16, 1000000)},
    {"ATHOS_AUTH_CACHE_MS", NULL, NUM(K_I64, auth_cache_ms, 0, 60000)},
    {"ATHOS_MAX_CONNECTIONS_PER_IP", NULL, NUM(K_UINT, max_connections_per_ip, 0, 1000000)},
    {"ATHOS_HEADER_TIMEOUT_SEC", NULL, NUM(K_I64, header_timeout_sec, 0, 3600)},
    {"ATHOS_BODY_TIMEOUT_SEC", NULL, NUM(K_I64, body_timeout_sec, 0, 3600)},
    {"ATHOS_METRICS_TOKEN", NULL, STR(metrics_token)},
    {"ATHOS_RATE_LIMIT", NULL, NUM(K_I64, rate_limit, 0, 100000000)},
    {"ATHOS_RATE_LIMIT_PER_KEY", NULL, NUM(K_I64, rate_limit_per_key, 0, 100000000)},
    {"ATHOS_RATE_LIMIT_PER_IP", NULL, NUM(K_I64, rate_limit_per_ip, 0, 100000000)},
    {"ATHOS_MEDIA_DIR", NULL, STR(media_dir)},
    {"ATHOS_RECORDING_FORMAT", NULL, CHOICE(recording_format, "wav ogg")},
    {"ATHOS_RECORDING_RETENTION_DAYS", NULL, NUM(K_I64, recording_retention_days, 0, 36500)},
    {"ATHOS_VOICE_WORKERS", NULL, NUM(K_UINT, voice_workers, 1, 64)},
    {"ATHOS_VOICE_QUEUE", NULL, NUM(K_UINT, voice_queue, 1, 100000)},
    {"ATHOS_VOICE_DECODERS", NULL, NUM(K_UINT, voice_decoders, 1, 4096)},
    {"ATHOS_VOICE_SILENCE_MS", NULL, NUM(K_I64, voice_silence_ms, 200, 5000)},
    {"ATHOS_VOICE_SILENCE_DONE_MS", NULL, NUM(K_I64, voice_silence_done_ms, 200, 5000)},
};

#define NSETTINGS (sizeof SETTINGS / sizeof SETTINGS[0])

static int set_listen(struct athos_config *c, const char *name, const char *listen, char *err,
                      size_t errlen)
{
  const char *colon = strrchr(listen, ':');
  if (colon == NULL || colon == listen || (size_t)(colon - listen) >= sizeof c->listen_host) {
    snprintf(err, errlen, "%s: listen address must be HOST:PORT", name);
    return -1;
  }
  char *end = NULL;
  errno = 0;
  long port = strtol(colon + 1, &end, 10);
  if (end == colon + 1 || *end != '\0' || errno != 0 || port < 0 || port > 65535) {
    snprintf(err, errlen, "%s: listen port must be 0..65535", name);
    return -1;
  }
  size_t hl = (size_t)(colon - listen);
  if (listen[0] == '[' && hl >= 2 && listen[hl - 1] == ']') /* [::1]:8080 */
    snprintf(c->listen_host, sizeof c->listen_host, "%.*s", (int)(hl - 2), listen + 1);
  else
    snprintf(c->listen_host, sizeof c->listen_host, "%.*s", (int)hl, listen);
  c->listen_port = (uint16_t)port;
  return 0;
}

static int set_retry_schedule(struct athos_config *c, const char *name, const char *list, char *err,
                              size_t errlen)
{
  size_t n = 0;
  const char *p = list;
  while (*p != '\0') {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (end == p || errno != 0 || v < 0 || v > 7 * 86400 || n >= RETRY_SCHEDULE_MAX ||
        (*end != ',' && *end != '\0')) {
      snprintf(err, errlen, "%s must be up to %d comma-separated second counts (0..604800)", name,
               RETRY_SCHEDULE_MAX);
      return -1;
    }
    c->retry_schedule[n++] = v;
    p = *end == ',' ? end + 1 : end;
  }
  if (n == 0) {
    snprintf(err, errlen, "%s is empty", name);
    return -1;
  }
  c->retry_count = n;
  return 0;
}

/* v must be one of the space-separated words of s->choices. */
static int set_choice(const struct setting *s, char *field, const char *name, const char *v,
                      char *err, size_t errlen)
{
  size_t len = strlen(v);
  for (const char *w = s->choices; *w != '\0';) {
    size_t wl = strcspn(w, " ");
    if (wl == len && wl < s->size && memcmp(w, v, len) == 0) {
      memcpy(field, v, len + 1);
      return 0;
    }
    w += wl + (w[wl] == ' ');
  }
  snprintf(err, errlen, "%s must be one of: %s", name, s->choices);
  return -1;
}

static int parse_int(const char *name, const char *v, int64_t min, int64_t max, int64_t *out,
                     char *err, size_t errlen)
{
  char *end = NULL;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (end == v || errno != 0 || *end != '\0' || n < min || n > max) {
    snprintf(err, errlen, "%s must be an integer from %lld to %lld", name, (long long)min,
             (long long)max);
    return -1;
  }
  *out = n;
  return 0;
}

/* Applies value v to setting s, named `name` in messages (the variable or
 * the flag the value came from). */
static int apply(struct athos_config *c, const struct setting *s, const char *name, const char *v,
                 char *err, size_t errlen)
{
  assert((s->kind != K_STRING && s->kind != K_CHOICE) || s->size > 0);
  char *field = (char *)c + s->offset;
  int64_t n = 0;
  switch (s->kind) {
  case K_STRING: {
    size_t len = strlen(v);
    if (len >= s->size) {
      snprintf(err, errlen, "%s is too long (at most %zu bytes)", name, s->size - 1);
      return -1;
    }
    memcpy(field, v, len + 1);
    return 0;
  }
  case K_BOOL:
    *(bool *)field = strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
                     strcmp(v, "on") == 0;
    return 0;
  case K_LISTEN: return set_listen(c, name, v, err, errlen);
  case K_RETRY: return set_retry_schedule(c, name, v, err, errlen);
  case K_CHOICE: return set_choice(s, field, name, v, err, errlen);
  case K_I64:
  case K_UINT:
  case K_SIZE: break;
  }
  if (parse_int(name, v, s->min, s->max, &n, err, errlen) != 0)
    return -1;
  if (s->kind == K_I64)
    *(int64_t *)field = n;
  else if (s->kind == K_UINT)
    *(unsigned *)field = (unsigned)n;
  else
    *(size_t *)field = (size_t)n;
  return 0;
}

static void set_defaults(struct athos_config *c)
{
  memset(c, 0, sizeof *c);
  snprintf(c->database_url, sizeof c->database_url, "sqlite:athos.db");
  snprintf(c->drills_dir, sizeof c->drills_dir, "drills");
  snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
  c->listen_port = 8080;
  /* One HTTP thread per core. Measured on 2 cores with wrk on the same
   * machine (bench/api.sh): GET /calls/{id} ~70-78k req/s with 2 threads
   * vs ~78-82k with 1, POST /session ~57-60k vs ~34-36k; the pool wins
   * once handlers do real work, and a load generator elsewhere frees the
   * core wrk takes here. */
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  c->threads = cores > 0 && cores <= 64 ? (unsigned)cores : 1;
  c->session_ttl_sec = 300;
  c->ticket_ttl_sec = 60;
  c->max_call_sec = 1800;
  c->idle_sec = 120;
  c->ws_ping_sec = 20;
  c->max_turns = LIVE_MAX_TURNS;
  c->max_transcript_bytes = LIVE_TRANSCRIPT_MAX;
  c->webhook_timeout_ms = 15000;
  c->scoring_workers = 1;
  c->max_connections = 16384;
  c->auth_cache_ms = 1000;
  c->max_connections_per_ip = 256;
  c->header_timeout_sec = 15;
  c->body_timeout_sec = 30;
  c->rate_limit = 1000;
  c->rate_limit_per_ip = 100;
  c->voice_workers = c->threads > 0 ? c->threads : 1;
  c->voice_queue = 64;
  c->voice_decoders = 0; /* 4 per worker */
  c->voice_silence_ms = 700;
  c->voice_silence_done_ms = 450;
  snprintf(c->recording_format, sizeof c->recording_format, "wav");
  char err[8];
  int rc = set_retry_schedule(c, "default", "0,5,300,1800,7200,18000,36000,36000", err, sizeof err);
  assert(rc == 0);
  (void)rc;
}

int config_from_env(struct athos_config *c, char *err, size_t errlen)
{
  set_defaults(c);
  for (size_t i = 0; i < NSETTINGS; i++) {
    const struct setting *s = &SETTINGS[i];
    const char *v = getenv(s->env);
    /* An empty variable is unset, except for the boolean (kept as it was:
     * set but empty means false). */
    if (v == NULL || (v[0] == '\0' && s->kind != K_BOOL))
      continue;
    if (apply(c, s, s->env, v, err, errlen) != 0)
      return -1;
  }
  return 0;
}

int config_set_flag(struct athos_config *c, const char *flag, const char *value, char *err,
                    size_t errlen)
{
  assert(flag != NULL && value != NULL);
  for (size_t i = 0; i < NSETTINGS; i++)
    if (SETTINGS[i].flag != NULL && strcmp(SETTINGS[i].flag, flag) == 0)
      return apply(c, &SETTINGS[i], flag, value, err, errlen);
  snprintf(err, errlen, "unknown flag %s", flag);
  return -1;
}

/* ATHOS_MEDIA_DIR's default: "media" beside the SQLite file (its
 * directory), or "media" in the working directory for PostgreSQL. */
static void finish_media_dir(struct athos_config *c)
{
  if (c->media_dir[0] != '\0')
    return;
  const char *db = c->database_url;
  if (strncmp(db, "sqlite:", 7) == 0)
    db += 7;
  else if (strstr(db, "://") != NULL)
    db = "";
  const char *slash = strrchr(db, '/');
  if (slash == NULL)
    snprintf(c->media_dir, sizeof c->media_dir, "media");
  else
    snprintf(c->media_dir, sizeof c->media_dir, "%.*s/media", (int)(slash - db), db);
}

void config_finish(struct athos_config *c)
{
  size_t n = strlen(c->public_url);
  while (n > 0 && c->public_url[n - 1] == '/')
    c->public_url[--n] = '\0';
  if (n == 0) {
    const char *host = c->listen_host;
    if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0')
      host = "127.0.0.1";
    if (strchr(host, ':') != NULL)
      snprintf(c->public_url, sizeof c->public_url, "http://[%s]:%u", host, c->listen_port);
    else
      snprintf(c->public_url, sizeof c->public_url, "http://%s:%u", host, c->listen_port);
  }
  finish_media_dir(c);
}
