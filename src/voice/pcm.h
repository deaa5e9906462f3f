/*
 * pcm.h — mono pcm_s16le helpers for the voice path: byte order, a
 * streaming band-limited resampler (any rate pair, e.g. 48k/44.1k/22.05k
 * -> 16k for the recogniser, 16k <-> the synthesiser's rate), and the peak
 * envelope behind CallDetail.waveform ({"peaksPerSecond": 10, "peaks":
 * [0..255, ...]}). Pure: no I/O, no threads; every object is owned by one
 * thread at a time.
 */
#ifndef ATHOS_VOICE_PCM_H
#define ATHOS_VOICE_PCM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The wire and recogniser format of a voice call. */
#define PCM_RATE_ASR 16000
#define PCM_RATE_MIN 4000
#define PCM_RATE_MAX 192000

/* Little-endian bytes <-> native samples; n samples, 2n bytes. Safe on
 * unaligned buffers (the WebSocket payload is one). */
void pcm_from_le(const void *bytes, size_t n, int16_t *out);
void pcm_to_le(const int16_t *in, size_t n, void *bytes);
/* A file header's little-endian 32-bit field (WAV, Ogg Opus). */
void pcm_put_le32(uint8_t *p, uint32_t v);
uint32_t pcm_get_le32(const uint8_t *p);

/* ---- resampler ---------------------------------------------------------- */

/* A polyphase windowed-sinc (Kaiser, ~80 dB stop band) converter from
 * rate_in to rate_out. The pass band runs to 85 % of the lower Nyquist
 * frequency, the stop band starts at it, so nothing above the output's
 * Nyquist folds back. The output is aligned with the input (the filter
 * delay is compensated): output sample k is the signal at time k/rate_out. */
struct pcm_resampler;

/* Owned; free with pcm_resampler_free(). NULL if a rate is out of
 * [PCM_RATE_MIN, PCM_RATE_MAX] or memory runs out. Equal rates give a pass-through. */
struct pcm_resampler *pcm_resampler_new(unsigned rate_in, unsigned rate_out);
void pcm_resampler_free(struct pcm_resampler *r); /* accepts NULL */

/* The most output samples that pcm_resampler_process() can produce from n
 * input samples (size the output buffer with it). */
size_t pcm_resampler_max_out(const struct pcm_resampler *r, size_t n);

/* Consumes all n input samples and writes up to cap output samples;
 * returns how many were written. With cap >= pcm_resampler_max_out(r, n)
 * nothing is dropped. */
size_t pcm_resampler_process(struct pcm_resampler *r, const int16_t *in, size_t n, int16_t *out,
                             size_t cap);

/* Ends the stream: writes the samples still held back by the filter's
 * look-ahead, so that the total output is round(n_in * rate_out / rate_in).
 * At most pcm_resampler_max_out(r, 0) samples. The resampler can then
 * start a new stream. */
size_t pcm_resampler_flush(struct pcm_resampler *r, int16_t *out, size_t cap);

/* ---- a growable sample buffer ------------------------------------------ */

/* Born with a ceiling (max samples); owns s. Zero-initialised is not
 * enough: use pcm_buf_init(). */
struct pcm_buf {
  int16_t *s;
  size_t n, cap, max;
};

void pcm_buf_init(struct pcm_buf *b, size_t max);
/* Appends n samples (pcm may be NULL when n is 0). Returns 0, or -1 past
 * the ceiling or out of memory, with b unchanged. */
int pcm_buf_append(struct pcm_buf *b, const int16_t *pcm, size_t n);
void pcm_buf_free(struct pcm_buf *b); /* frees the samples; b can be re-used */

/* ---- peaks -------------------------------------------------------------- */

/* A streaming peak envelope: one byte per 1/per_second s of audio, the
 * largest |sample| in it scaled to 0..255. Bounded at creation by
 * max_seconds: audio past that is counted but adds no peaks. */
struct pcm_peaks;

struct pcm_peaks *pcm_peaks_new(unsigned rate, unsigned per_second, unsigned max_seconds);
void pcm_peaks_free(struct pcm_peaks *p); /* accepts NULL */
void pcm_peaks_add(struct pcm_peaks *p, const int16_t *pcm, size_t n);
/* Borrowed view of the completed buckets plus the partial one, valid until
 * the next call on p. */
const uint8_t *pcm_peaks_data(struct pcm_peaks *p, size_t *count);
/* {"peaksPerSecond": N, "peaks": [...]} as a new reference, or NULL. */
json_t *pcm_peaks_json(struct pcm_peaks *p);

/* One sample's |value| as a peak byte: 0 -> 0, full scale -> 255. */
uint8_t pcm_peak_byte(int magnitude);

#endif
