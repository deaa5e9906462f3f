/*
 * recorder.c — the ring covers clock positions [base, base + cap); frame
 * at position p lives at ring[(p % cap) * 2 + channel]. Flushing writes
 * the ring's oldest frames in at most two contiguous pieces, zeroes them
 * for reuse, and feeds the louder channel of each frame to the peaks.
 * The file is one of two writers, chosen at open; the rest of the
 * recorder does not know which.
 */
#include "voice/recorder.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "voice/ogg_opus.h"
#include "voice/pcm.h"
#include "voice/wav.h"

#define REC_PEAKS_PER_SECOND 10

struct voice_rec {
  enum voice_rec_format format;
  struct wav_writer *wav;      /* VOICE_REC_WAV */
  struct ogg_opus_writer *ogg; /* VOICE_REC_OGG */
  struct pcm_peaks *peaks;
  int16_t *ring;   /* cap frames of 2 samples */
  int16_t *louder; /* scratch: one sample per frame, for the peaks */
  size_t cap;
  uint64_t base; /* first position not yet written */
  uint64_t end;  /* one past the last position placed */
  bool failed;
};

/* ------------------------------------------------------------ the file */

static int file_open(struct voice_rec *r, const char *path, unsigned rate)
{
  if (r->format == VOICE_REC_OGG)
    r->ogg = ogg_opus_writer_open(path, rate, 2);
  else
    r->wav = wav_writer_open(path, rate, 2);
  return r->ogg != NULL || r->wav != NULL ? 0 : -1;
}

static int file_write(struct voice_rec *r, const int16_t *frames, size_t n)
{
  return r->format == VOICE_REC_OGG ? ogg_opus_writer_write(r->ogg, frames, n)
                                    : wav_writer_write(r->wav, frames, n);
}

static int file_close(struct voice_rec *r)
{
  return r->format == VOICE_REC_OGG ? ogg_opus_writer_close(r->ogg) : wav_writer_close(r->wav);
}

/* ------------------------------------------------------------ the ring */

struct voice_rec *voice_rec_open(const char *path, enum voice_rec_format format, unsigned rate,
                                 unsigned window_ms, unsigned max_seconds)
{
  struct voice_rec *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->format = format;
  r->cap = (size_t)rate * window_ms / 1000;
  if (r->cap == 0) {
    free(r);
    errno = EINVAL;
    return NULL;
  }
  r->ring = calloc(r->cap * 2, sizeof *r->ring);
  r->louder = malloc(r->cap * sizeof *r->louder);
  r->peaks = pcm_peaks_new(rate, REC_PEAKS_PER_SECOND, max_seconds);
  if (!r->ring || !r->louder || !r->peaks)
    goto fail;
  if (file_open(r, path, rate) < 0)
    goto fail;
  return r;
fail:;
  int saved = errno ? errno : ENOMEM;
  pcm_peaks_free(r->peaks);
  free(r->louder);
  free(r->ring);
  free(r);
  errno = saved;
  return NULL;
}

/* Writes frames [base, base + n) from the ring, n <= cap - (base % cap). */
static int write_piece(struct voice_rec *r, size_t n)
{
  int16_t *f = r->ring + (r->base % r->cap) * 2;
  for (size_t i = 0; i < n; i++) {
    int a = f[2 * i], b = f[2 * i + 1];
    int ma = a < 0 ? -a : a, mb = b < 0 ? -b : b;
    r->louder[i] = (int16_t)(ma >= mb ? a : b);
  }
  pcm_peaks_add(r->peaks, r->louder, n);
  int rc = r->failed ? -1 : file_write(r, f, n);
  memset(f, 0, n * 2 * sizeof *f);
  r->base += n;
  return rc;
}

int voice_rec_flush(struct voice_rec *r, uint64_t until)
{
  if (until > r->base + r->cap)
    until = r->base + r->cap;
  while (r->base < until) {
    size_t off = (size_t)(r->base % r->cap), n = r->cap - off;
    if (n > until - r->base)
      n = (size_t)(until - r->base);
    if (write_piece(r, n) < 0)
      r->failed = true;
  }
  return r->failed ? -1 : 0;
}

int voice_rec_put(struct voice_rec *r, enum voice_rec_channel ch, uint64_t at, const int16_t *pcm,
                  size_t n)
{
  if (at < r->base) { /* too late for the part already on disk */
    uint64_t skip = r->base - at;
    if (skip >= n)
      return r->failed ? -1 : 0;
    pcm += skip;
    n -= (size_t)skip;
    at = r->base;
  }
  while (n > 0) {
    if (at + n > r->base + r->cap) { /* make room, never past `at` */
      uint64_t to = at + n - r->cap;
      voice_rec_flush(r, to < at ? to : at);
    }
    size_t room = (size_t)(r->base + r->cap - at), take = n < room ? n : room;
    for (size_t i = 0; i < take; i++)
      r->ring[((at + i) % r->cap) * 2 + ch] = pcm[i];
    at += take;
    pcm += take;
    n -= take;
    if (at > r->end)
      r->end = at;
  }
  return r->failed ? -1 : 0;
}

void voice_rec_cut(struct voice_rec *r, enum voice_rec_channel ch, uint64_t at)
{
  if (at < r->base)
    at = r->base;
  for (uint64_t p = at; p < r->end && p < r->base + r->cap; p++)
    r->ring[(p % r->cap) * 2 + ch] = 0;
}

int voice_rec_close(struct voice_rec *r)
{
  if (!r)
    return 0;
  while (r->base < r->end)
    voice_rec_flush(r, r->end);
  int rc = r->failed ? -1 : 0;
  if (file_close(r) < 0)
    rc = -1;
  pcm_peaks_free(r->peaks);
  free(r->louder);
  free(r->ring);
  free(r);
  return rc;
}

uint64_t voice_rec_frames(const struct voice_rec *r)
{
  return r->base;
}

json_t *voice_rec_waveform(struct voice_rec *r)
{
  return pcm_peaks_json(r->peaks);
}
