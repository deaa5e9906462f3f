/*
 * asr_http.c — recognition by an OpenAI-compatible provider (asr.h's
 * functions, chosen by asr_open_from_config() when ATHOS_ASR_URL is set):
 * the utterance is collected as it is fed, then sent as a 16 kHz mono WAV
 * in a multipart/form-data POST to {ATHOS_ASR_URL}/v1/audio/transcriptions
 * (fields file, model = ATHOS_ASR_MODEL, response_format = json); the
 * answer's "text" is normalised like the offline decoder's output (lower
 * case, words and apostrophes, single spaces).
 */
#include "voice/voice_http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/dynbuf.h"
#include "util/log.h"
#include "voice/asr.h"
#include "voice/pcm.h"
#include "voice/wav.h"

#define ASR_HTTP_REPLY_MAX  (64 * 1024)
#define ASR_HTTP_TIMEOUT_MS 30000L

struct asr_http {
  struct voice_http_config cfg;
  struct pcm_buf pcm; /* the utterance being fed */
  bool open;
};

struct asr_http *asr_http_new(void)
{
  struct asr_http *h = calloc(1, sizeof *h);
  if (!h)
    return NULL;
  if (voice_http_config_env(&h->cfg, "ATHOS_ASR", "/v1/audio/transcriptions", "whisper-1",
                            ASR_HTTP_TIMEOUT_MS) < 0) {
    free(h);
    return NULL;
  }
  pcm_buf_init(&h->pcm, (size_t)ASR_RATE * ASR_HTTP_MAX_SECONDS);
  return h;
}

void asr_http_free(struct asr_http *h)
{
  if (!h)
    return;
  pcm_buf_free(&h->pcm);
  memset(h->cfg.key, 0, sizeof h->cfg.key);
  free(h);
}

int asr_http_begin(struct asr_http *h)
{
  h->pcm.n = 0;
  h->open = true;
  return 0;
}

int asr_http_feed(struct asr_http *h, const int16_t *pcm, size_t n)
{
  if (!h->open)
    return -1;
  if (pcm_buf_append(&h->pcm, pcm, n) < 0) {
    log_warn("asr: utterance longer than %d s, not sent", ASR_HTTP_MAX_SECONDS);
    return -1;
  }
  return 0;
}

static void put_le(uint8_t *p, uint32_t v, int bytes)
{
  for (int i = 0; i < bytes; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* The utterance as a WAV file in memory. Owned: free(). */
static uint8_t *wav_bytes(const struct pcm_buf *b, size_t *len)
{
  size_t data = b->n * 2;
  uint8_t *w = malloc(WAV_HEADER_BYTES + data + 1);
  if (!w)
    return NULL;
  memcpy(w, "RIFF", 4);
  put_le(w + 4, (uint32_t)(36 + data), 4);
  memcpy(w + 8, "WAVEfmt ", 8);
  put_le(w + 16, 16, 4);
  put_le(w + 20, 1, 2); /* PCM */
  put_le(w + 22, 1, 2); /* mono */
  put_le(w + 24, ASR_RATE, 4);
  put_le(w + 28, ASR_RATE * 2, 4);
  put_le(w + 32, 2, 2);
  put_le(w + 34, 16, 2);
  memcpy(w + 36, "data", 4);
  put_le(w + 40, (uint32_t)data, 4);
  if (b->n)
    pcm_to_le(b->s, b->n, w + WAV_HEADER_BYTES);
  *len = WAV_HEADER_BYTES + data;
  return w;
}

static bool collect(void *arg, const void *data, size_t n)
{
  return dynbuf_addn(arg, data, n) == DYNBUF_OK;
}

/* Lower case, letters, digits and inner apostrophes; everything else
 * separates words. */
static void normalise(const char *in, char *out, size_t cap)
{
  size_t n = 0;
  bool gap = false;
  for (const unsigned char *p = (const unsigned char *)in; *p && n + 2 < cap; p++) {
    bool word = isalnum(*p) || *p >= 0x80 || (*p == '\'' && n > 0 && isalnum(p[1]));
    if (!word) {
      gap = n > 0;
      continue;
    }
    if (gap)
      out[n++] = ' ';
    gap = false;
    out[n++] = (char)tolower(*p);
  }
  out[n] = '\0';
}

int asr_http_end(struct asr_http *h, char *text, size_t cap)
{
  struct dynbuf reply;
  size_t wav_len = 0;
  uint8_t *wav = NULL;
  json_t *j = NULL;
  int rc = -1;
  dynbuf_init(&reply, ASR_HTTP_REPLY_MAX);
  if (cap == 0 || !h->open)
    goto out;
  text[0] = '\0';
  if (!(wav = wav_bytes(&h->pcm, &wav_len)))
    goto out;
  struct voice_http_request r = {.what = "asr",
                                 .file = wav,
                                 .file_len = wav_len,
                                 .file_name = "utterance.wav",
                                 .file_type = "audio/wav"};
  int sent = voice_http_post(&h->cfg, &r, collect, &reply);
  if (sent == 1)
    log_warn("asr: the provider's answer is over %d bytes", ASR_HTTP_REPLY_MAX);
  if (sent != 0)
    goto out;
  j = json_loadb(dynbuf_ptr(&reply), dynbuf_len(&reply), 0, NULL);
  const char *said = json_string_value(json_object_get(j, "text"));
  if (!said) {
    log_warn("asr: the provider's answer has no \"text\" (%zu bytes)", dynbuf_len(&reply));
    goto out;
  }
  normalise(said, text, cap);
  rc = 0;
out:
  h->open = false;
  h->pcm.n = 0;
  json_decref(j);
  free(wav);
  dynbuf_free(&reply);
  return rc;
}
