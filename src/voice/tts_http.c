/*
 * tts_http.c — synthesis by an OpenAI-compatible provider (tts.h's
 * tts_synth(), chosen by tts_open_from_config() when ATHOS_TTS_URL is
 * set): POST {ATHOS_TTS_URL}/v1/audio/speech with JSON {model, input,
 * voice, response_format, speed}; the answer is read chunk by chunk as it
 * arrives, converted to 16 kHz (OpenAI's "pcm" is 24 kHz s16le; a "wav"
 * answer says its rate in its header) and handed to the callback at once,
 * so the first audio plays long before the line is done.
 *
 * Settings: ATHOS_TTS_MODEL (tts-1), ATHOS_TTS_FORMAT (pcm | wav),
 * ATHOS_TTS_SAMPLE_RATE (the rate of "pcm", 24000), ATHOS_TTS_VOICE_FEMALE
 * / ATHOS_TTS_VOICE_MALE (the provider's voice for tts_voice_choose()'s
 * female and male voices: nova, onyx), ATHOS_TTS_TIMEOUT_MS (60000).
 */
#include "voice/voice_http.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/log.h"
#include "voice/pcm.h"
#include "voice/tts.h"

#define TTS_HTTP_TIMEOUT_MS  60000L
#define TTS_HTTP_MAX_SECONDS 300  /* of audio per request */
#define TTS_HTTP_HEADER_MAX  4096 /* a WAV header longer than this is refused */
#define TTS_HTTP_BLOCK       2048 /* samples converted at a time */

struct tts_http {
  struct voice_http_config cfg;
  bool wav;      /* response_format "wav" (else "pcm") */
  unsigned rate; /* of "pcm" */
  char female[VOICE_HTTP_NAME_MAX], male[VOICE_HTTP_NAME_MAX];
};

static void env_name(char *out, size_t cap, const char *name, const char *dflt)
{
  const char *v = getenv(name);
  snprintf(out, cap, "%s", v && *v ? v : dflt);
}

struct tts_http *tts_http_new(void)
{
  struct tts_http *h = calloc(1, sizeof *h);
  char fmt[16], rate[16];
  if (!h)
    return NULL;
  if (voice_http_config_env(&h->cfg, "ATHOS_TTS", "/v1/audio/speech", "tts-1",
                            TTS_HTTP_TIMEOUT_MS) < 0)
    goto fail;
  env_name(fmt, sizeof fmt, "ATHOS_TTS_FORMAT", "pcm");
  env_name(rate, sizeof rate, "ATHOS_TTS_SAMPLE_RATE", "24000");
  env_name(h->female, sizeof h->female, "ATHOS_TTS_VOICE_FEMALE", "nova");
  env_name(h->male, sizeof h->male, "ATHOS_TTS_VOICE_MALE", "onyx");
  char *end;
  long r = strtol(rate, &end, 10);
  if (strcmp(fmt, "pcm") != 0 && strcmp(fmt, "wav") != 0) {
    log_error("voice: ATHOS_TTS_FORMAT must be pcm or wav");
    goto fail;
  }
  if (*end || r < PCM_RATE_MIN || r > PCM_RATE_MAX) {
    log_error("voice: ATHOS_TTS_SAMPLE_RATE must be %d..%d", PCM_RATE_MIN, PCM_RATE_MAX);
    goto fail;
  }
  h->wav = strcmp(fmt, "wav") == 0;
  h->rate = (unsigned)r;
  return h;
fail:
  tts_http_free(h);
  return NULL;
}

void tts_http_free(struct tts_http *h)
{
  if (!h)
    return;
  memset(h->cfg.key, 0, sizeof h->cfg.key);
  free(h);
}

/* ---- the answer, as it arrives ----------------------------------------- */

struct stream {
  tts_chunk_fn fn;
  void *arg;
  bool wav, header_done;
  bool error; /* stopped by a fault of the answer, not by fn */
  unsigned rate;
  uint8_t head[TTS_HTTP_HEADER_MAX]; /* the WAV header, then an odd byte */
  size_t head_n;
  uint64_t samples, max_samples;
  struct pcm_resampler *rs;
  int16_t *out;
  size_t out_cap;
};

static uint32_t le(const uint8_t *p, int bytes)
{
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

/* Reads the WAV header once it is all in s->head: 16-bit mono PCM, the
 * rate. Returns 1 when the data starts at *data_at, 0 when more bytes are
 * needed, -1 when it is not a WAV we take. */
static int wav_header(struct stream *s, size_t *data_at)
{
  const uint8_t *h = s->head;
  size_t n = s->head_n, at = 12;
  if (n < 12)
    return 0;
  if (memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0)
    return -1;
  bool fmt_ok = false;
  while (at + 8 <= n) {
    uint32_t size = le(h + at + 4, 4);
    if (memcmp(h + at, "data", 4) == 0) {
      *data_at = at + 8;
      return fmt_ok ? 1 : -1;
    }
    if (at + 8 + size > n)
      return size > TTS_HTTP_HEADER_MAX ? -1 : 0;
    if (memcmp(h + at, "fmt ", 4) == 0 && size >= 16) {
      if (le(h + at + 8, 2) != 1 || le(h + at + 10, 2) != 1 || le(h + at + 22, 2) != 16)
        return -1;
      s->rate = le(h + at + 12, 4);
      fmt_ok = true;
    }
    at += 8 + size + (size & 1);
  }
  return n >= TTS_HTTP_HEADER_MAX ? -1 : 0;
}

static bool start_stream(struct stream *s)
{
  s->header_done = true;
  s->max_samples = (uint64_t)s->rate * TTS_HTTP_MAX_SECONDS;
  s->rs = pcm_resampler_new(s->rate, TTS_RATE);
  if (s->rs) {
    s->out_cap = pcm_resampler_max_out(s->rs, TTS_HTTP_BLOCK) + pcm_resampler_max_out(s->rs, 0);
    s->out = malloc(s->out_cap * sizeof *s->out);
  }
  if (!s->out) {
    log_warn("tts: the provider's audio rate %u Hz is not usable", s->rate);
    s->error = true;
  }
  return s->out != NULL;
}

/* Converts whole samples from bytes, resamples, hands them out. */
static bool emit(struct stream *s, const uint8_t *bytes, size_t n)
{
  int16_t in[TTS_HTTP_BLOCK];
  while (n >= 2) {
    size_t k = n / 2 < TTS_HTTP_BLOCK ? n / 2 : TTS_HTTP_BLOCK;
    if ((s->samples += k) > s->max_samples) {
      log_warn("tts: the provider's audio is over %d s", TTS_HTTP_MAX_SECONDS);
      return !(s->error = true);
    }
    pcm_from_le(bytes, k, in);
    size_t m = pcm_resampler_process(s->rs, in, k, s->out, s->out_cap);
    if (m > 0 && !s->fn(s->arg, s->out, m, false))
      return false;
    bytes += 2 * k;
    n -= 2 * k;
  }
  return true;
}

static bool on_audio(void *arg, const void *data, size_t n)
{
  struct stream *s = arg;
  const uint8_t *p = data;
  if (!s->header_done) {
    size_t take = n < sizeof s->head - s->head_n ? n : sizeof s->head - s->head_n, at = 0;
    memcpy(s->head + s->head_n, p, take);
    s->head_n += take;
    int got = s->wav ? wav_header(s, &at) : 1;
    if (got == 0 && take < n)
      got = -1;
    if (got < 0) {
      log_warn("tts: the provider's answer is not 16-bit mono PCM WAV");
      return !(s->error = true);
    }
    if (got == 0)
      return true;
    if (!start_stream(s))
      return false;
    /* the header is read: what followed it in head, then the rest of p */
    size_t rest = s->head_n - at;
    memmove(s->head, s->head + at, rest);
    s->head_n = 0;
    if (!on_audio(s, s->head, rest))
      return false;
    return on_audio(s, p + take, n - take);
  }
  if (s->head_n == 1 && n > 0) { /* an odd byte left by the last piece */
    uint8_t pair[2] = {s->head[0], p[0]};
    s->head_n = 0;
    if (!emit(s, pair, 2))
      return false;
    p++;
    n--;
  }
  if (!emit(s, p, n & ~(size_t)1))
    return false;
  if (n & 1) {
    s->head[0] = p[n - 1];
    s->head_n = 1;
  }
  return true;
}

/* While a retry waits: the caller's callback with no samples says whether
 * the line is still wanted (tts.h). */
static bool still_wanted(void *arg)
{
  struct stream *s = arg;
  return s->fn(s->arg, NULL, 0, false);
}

/* ---- the request -------------------------------------------------------- */

static char *request_body(const struct tts_http *h, const struct tts_voice *v, const char *text)
{
  const char *voice = strcmp(v->name, "slt") == 0 ? h->female : h->male;
  double speed = v->stretch > 0 ? 1.0 / v->stretch : 1.0;
  json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:f}", "model", h->cfg.model, "input", text, "voice",
                        voice, "response_format", h->wav ? "wav" : "pcm", "speed",
                        speed < 0.25  ? 0.25
                        : speed > 4.0 ? 4.0
                                      : speed);
  char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  return body;
}

int tts_http_synth(struct tts_http *h, const struct tts_voice *v, const char *text, tts_chunk_fn fn,
                   void *arg)
{
  struct stream s = {.fn = fn, .arg = arg, .wav = h->wav, .rate = h->rate};
  char *body = request_body(h, v, text);
  int rc = -1;
  if (!body)
    goto out;
  struct voice_http_request r = {.what = "tts", .json_body = body, .wanted = still_wanted};
  rc = voice_http_post(&h->cfg, &r, on_audio, &s);
  if (rc == 1 && s.error)
    rc = -1;
  if (rc == 0 && !s.header_done && s.wav) {
    log_warn("tts: the provider's WAV answer ended inside its header");
    rc = -1;
  } else if (rc == 0 && !s.header_done) {
    rc = start_stream(&s) ? 0 : -1; /* an empty answer: no audio */
  }
  if (rc == 0) {
    size_t m = pcm_resampler_flush(s.rs, s.out, s.out_cap);
    rc = fn(arg, s.out, m, true) ? 0 : 1;
  }
out:
  pcm_resampler_free(s.rs);
  free(s.out);
  free(body);
  return rc;
}
