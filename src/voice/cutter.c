/*
 * cutter.c — audio goes to the VAD in 10 ms pieces, each first appended
 * to a 2 s history ring (and to the utterance while one is open), so that
 * when the VAD says START at a back-dated position the samples from there
 * on are still in the ring, and when it says END the utterance buffer
 * holds everything up to that position.
 */
#include "voice/cutter.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CUT_HISTORY_MS 2000
#define CUT_PIECE_MS   10

struct voice_cutter {
  struct vad *vad;
  int16_t *hist; /* ring: position p at hist[p % hist_cap] */
  size_t hist_cap;
  int16_t *utt;
  size_t utt_n, utt_cap;
  uint64_t utt_start; /* stream position of utt[0] */
  bool open;
  uint64_t pos; /* samples fed */
  size_t piece;
  voice_cut_fn fn; /* the current feed's callback */
  void *arg;
};

struct voice_cutter *voice_cutter_new(const struct vad_config *c)
{
  struct voice_cutter *k = calloc(1, sizeof *k);
  if (!k)
    return NULL;
  k->vad = vad_new(c);
  k->hist_cap = (size_t)c->rate * CUT_HISTORY_MS / 1000;
  k->utt_cap = (size_t)c->rate / 1000 * c->max_utterance_ms;
  k->piece = (size_t)c->rate * CUT_PIECE_MS / 1000;
  k->hist = malloc(k->hist_cap * sizeof *k->hist);
  k->utt = malloc(k->utt_cap * sizeof *k->utt);
  if (!k->vad || !k->hist || !k->utt || k->piece == 0 || k->utt_cap == 0) {
    voice_cutter_free(k);
    return NULL;
  }
  return k;
}

void voice_cutter_set_trailing_silence(struct voice_cutter *k, unsigned ms)
{
  vad_set_trailing_silence(k->vad, ms);
}

unsigned voice_cutter_silence_ms(const struct voice_cutter *k)
{
  return vad_silence_ms(k->vad);
}

void voice_cutter_free(struct voice_cutter *k)
{
  if (!k)
    return;
  vad_free(k->vad);
  free(k->hist);
  free(k->utt);
  free(k);
}

bool voice_cutter_in_speech(const struct voice_cutter *k)
{
  return k->open;
}

size_t voice_cutter_captured(const struct voice_cutter *k, const int16_t **pcm)
{
  *pcm = k->utt;
  return k->open ? k->utt_n : 0;
}

static void utt_append(struct voice_cutter *k, const int16_t *pcm, size_t n)
{
  if (n > k->utt_cap - k->utt_n)
    n = k->utt_cap - k->utt_n; /* cannot happen: the VAD ends it first */
  memcpy(k->utt + k->utt_n, pcm, n * sizeof *pcm);
  k->utt_n += n;
}

static void on_vad(void *arg, const struct vad_event *ev)
{
  struct voice_cutter *k = arg;
  struct voice_cut cut = {.start = ev->sample};
  if (ev->type == VAD_START) {
    uint64_t from = ev->sample, oldest = k->pos > k->hist_cap ? k->pos - k->hist_cap : 0;
    if (from < oldest)
      from = oldest;
    k->utt_start = from;
    k->utt_n = 0;
    for (uint64_t p = from; p < k->pos && k->utt_n < k->utt_cap; p++)
      k->utt[k->utt_n++] = k->hist[p % k->hist_cap];
    k->open = true;
    cut.event = VOICE_CUT_START;
    cut.start = from;
    k->fn(k->arg, &cut);
    return;
  }
  k->open = false;
  size_t n = ev->sample > k->utt_start ? (size_t)(ev->sample - k->utt_start) : 0;
  cut.event = VOICE_CUT_UTTERANCE;
  cut.reason = ev->reason;
  cut.start = k->utt_start;
  cut.end = ev->sample;
  cut.pcm = k->utt;
  cut.n = n < k->utt_n ? n : k->utt_n;
  k->fn(k->arg, &cut);
}

void voice_cutter_feed(struct voice_cutter *k, const int16_t *pcm, size_t n, voice_cut_fn fn,
                       void *arg)
{
  k->fn = fn;
  k->arg = arg;
  while (n > 0) {
    size_t take = n < k->piece ? n : k->piece;
    for (size_t i = 0; i < take; i++)
      k->hist[(k->pos + i) % k->hist_cap] = pcm[i];
    if (k->open)
      utt_append(k, pcm, take);
    k->pos += take;
    vad_feed(k->vad, pcm, take, on_vad, k);
    pcm += take;
    n -= take;
  }
}
