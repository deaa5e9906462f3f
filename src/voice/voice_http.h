/*
 * voice_http.h — what the OpenAI-compatible speech providers share: their
 * settings from the environment, one libcurl request with a bearer key,
 * timeouts and a ceiling on what is read back, and one-line errors. The
 * backends behind asr.h (asr_http.c) and tts.h (tts_http.c) use it; the
 * factories asr_open_from_config() / tts_open_from_config() choose them
 * when ATHOS_ASR_URL / ATHOS_TTS_URL are set.
 *
 * The key is sent as "Authorization: Bearer ..." and never logged; the URL
 * is logged without its query and user info.
 *
 * Retries: a 429, 500, 502, 503 or 504, or a connection that failed, is
 * tried again (ATHOS_VOICE_HTTP_RETRIES times, default 2) after a bounded
 * exponential backoff with jitter, or after the provider's Retry-After
 * (capped), never past the call's overall timeout; one log line each. An
 * answer whose body had begun is not retried (audio may be playing), nor
 * is any other 4xx, nor a request the caller stopped.
 */
#ifndef ATHOS_VOICE_HTTP_H
#define ATHOS_VOICE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VOICE_HTTP_URL_MAX  1024
#define VOICE_HTTP_KEY_MAX  512
#define VOICE_HTTP_NAME_MAX 64

/* One provider's settings, read once by voice_http_config_env(). */
struct voice_http_config {
  char url[VOICE_HTTP_URL_MAX]; /* base URL plus the endpoint path */
  char key[VOICE_HTTP_KEY_MAX]; /* "" = no Authorization header */
  char model[VOICE_HTTP_NAME_MAX];
  long connect_timeout_ms;
  long timeout_ms; /* the whole exchange, retries and their waits included */
  int retries;     /* attempts after the first: ATHOS_VOICE_HTTP_RETRIES */
};

#define VOICE_HTTP_RETRIES_DEFAULT 2
#define VOICE_HTTP_RETRIES_MAX     10

/* Reads <prefix>_URL (required; trailing slashes dropped, then path is
 * appended), <prefix>_API_KEY, <prefix>_MODEL (default model),
 * <prefix>_TIMEOUT_MS (default timeout_ms) and ATHOS_VOICE_HTTP_RETRIES
 * (0..VOICE_HTTP_RETRIES_MAX). Returns 0, or -1 when the URL is missing,
 * not http(s) or too long (logged). */
int voice_http_config_env(struct voice_http_config *c, const char *prefix, const char *path,
                          const char *model, long timeout_ms);

/* Called with each piece of the response body; return false to abort. */
typedef bool (*voice_http_body_fn)(void *arg, const void *data, size_t n);

/* Asked while a retry is pending (before it, and every 100 ms of its
 * wait) with fn's arg: false gives the request up as stopped (a cancelled
 * job does not hold its worker for a backoff). */
typedef bool (*voice_http_wanted_fn)(void *arg);

/* A request to send: exactly one of mime_file (multipart/form-data with
 * a "file" part, plus "model" and "response_format=json") or json_body. */
struct voice_http_request {
  const char *what; /* "asr" or "tts", for the log */
  const void *file;
  size_t file_len;
  const char *file_name, *file_type;
  const char *json_body;
  voice_http_wanted_fn wanted; /* NULL: always wanted */
};

/* POSTs the request, with the retries above. A 2xx body goes to fn
 * (streamed as it arrives); each retry, and the final failure (another
 * status, a timeout, a transfer error), is logged in one line with the
 * provider's error message when it sent one. Returns 0 (2xx, body
 * delivered), 1 (fn or wanted stopped it), or -1. */
int voice_http_post(const struct voice_http_config *c, const struct voice_http_request *r,
                    voice_http_body_fn fn, void *arg);

/* ---- the backends (asr.h and tts.h forward to them) ---------------------- */

struct tts_voice;
typedef bool (*tts_chunk_fn)(void *arg, const int16_t *pcm, size_t n, bool last);

/* asr_http.c: ATHOS_ASR_URL + /v1/audio/transcriptions. The audio of an
 * utterance is collected by feed() (at most ASR_HTTP_MAX_SECONDS) and sent
 * as a WAV by end(). Same contracts as asr_begin/feed/end in asr.h. */
#define ASR_HTTP_MAX_SECONDS 60
struct asr_http;
struct asr_http *asr_http_new(void); /* NULL when the settings are wrong (logged) */
void asr_http_free(struct asr_http *h);
int asr_http_begin(struct asr_http *h);
int asr_http_feed(struct asr_http *h, const int16_t *pcm, size_t n);
int asr_http_end(struct asr_http *h, char *text, size_t cap);

/* tts_http.c: ATHOS_TTS_URL + /v1/audio/speech. Same contract as
 * tts_synth() in tts.h. */
struct tts_http;
struct tts_http *tts_http_new(void); /* NULL when the settings are wrong (logged) */
void tts_http_free(struct tts_http *h);
int tts_http_synth(struct tts_http *h, const struct tts_voice *v, const char *text, tts_chunk_fn fn,
                   void *arg);

#endif
