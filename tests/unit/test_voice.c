/* test_voice.c — unit tests of src/voice/: the resampler's frequency
 * response, the peak envelope, the VAD end-pointer on synthetic signals,
 * the WAV writer round trip, Range parsing, the worker pool, and (when the
 * engines are installed) TTS -> VAD -> ASR on a synthesised sentence. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "voice/pcm.h"
#include "voice/vad.h"

/* ---- signal helpers ----------------------------------------------------- */

static int16_t *sine(unsigned rate, double freq, double amp, size_t n)
{
  int16_t *s = malloc(n * sizeof *s);
  assert_non_null(s);
  for (size_t i = 0; i < n; i++)
    s[i] = (int16_t)lrint(amp * 32767.0 * sin(2.0 * M_PI * freq * (double)i / rate));
  return s;
}

/* Amplitude of the freq component of s (Goertzel over whole periods),
 * relative to full scale. */
static double tone_amplitude(const int16_t *s, size_t n, unsigned rate, double freq)
{
  double re = 0, im = 0;
  for (size_t i = 0; i < n; i++) {
    double ph = 2.0 * M_PI * freq * (double)i / rate;
    re += s[i] * cos(ph);
    im += s[i] * sin(ph);
  }
  return 2.0 * sqrt(re * re + im * im) / (double)n / 32767.0;
}

static double rms(const int16_t *s, size_t n)
{
  double acc = 0;
  for (size_t i = 0; i < n; i++)
    acc += (double)s[i] * s[i];
  return sqrt(acc / (double)n) / 32767.0;
}

/* Resamples n samples of a tone through a fresh resampler, in uneven
 * chunks, and returns the output (flushed); *out_n gets its length. */
static int16_t *resample_all(unsigned in_rate, unsigned out_rate, const int16_t *in, size_t n,
                             size_t *out_n)
{
  struct pcm_resampler *r = pcm_resampler_new(in_rate, out_rate);
  assert_non_null(r);
  size_t cap = pcm_resampler_max_out(r, n) + pcm_resampler_max_out(r, 0);
  int16_t *out = malloc(cap * sizeof *out);
  assert_non_null(out);
  size_t w = 0, off = 0, step = 1;
  while (off < n) { /* chunk sizes 1, 8, 64, 512, 4096, 1, ... */
    size_t take = n - off < step ? n - off : step;
    w += pcm_resampler_process(r, in + off, take, out + w, cap - w);
    off += take;
    step = step >= 4096 ? 1 : step * 8;
  }
  w += pcm_resampler_flush(r, out + w, cap - w);
  pcm_resampler_free(r);
  *out_n = w;
  return out;
}

/* ---- pcm ---------------------------------------------------------------- */

static void test_pcm_le(void **state)
{
  int16_t in[3] = {1, -2, 0x1234}, back[3];
  uint8_t b[7];
  pcm_to_le(in, 3, b + 1); /* unaligned on purpose */
  assert_int_equal(b[1], 1);
  assert_int_equal(b[2], 0);
  assert_int_equal(b[3], 0xfe);
  assert_int_equal(b[4], 0xff);
  assert_int_equal(b[5], 0x34);
  assert_int_equal(b[6], 0x12);
  pcm_from_le(b + 1, 3, back);
  assert_memory_equal(in, back, sizeof in);
}

struct rs_case {
  unsigned in, out;
};

static void test_resampler_passband(void **state)
{
  static const struct rs_case cases[] = {
    {48000, 16000}, {44100, 16000}, {22050, 16000}, {16000, 22050}, {16000, 48000}, {16000, 16000},
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    unsigned in = cases[c].in, out = cases[c].out;
    size_t n = in; /* one second */
    static const double freqs[] = {300.0, 1000.0, 3000.0, 6000.0};
    for (size_t f = 0; f < 4; f++) {
      int16_t *s = sine(in, freqs[f], 0.5, n);
      size_t m;
      int16_t *o = resample_all(in, out, s, n, &m);
      /* the length follows the rate ratio exactly */
      assert_int_equal(m, ((uint64_t)n * out + in / 2) / in);
      /* amplitude within 0.1 dB in the middle (skip the edges), and in phase:
       * the tone measured at the output rate is the one at the input */
      double a = tone_amplitude(o + m / 4, m / 2, out, freqs[f]);
      assert_true(fabs(a - 0.5) < 0.5 * 0.012);
      /* aligned: output k sits at time k/out (filter delay compensated) */
      size_t k = m / 2;
      double expect = 0.5 * 32767.0 * sin(2.0 * M_PI * freqs[f] * (double)k / out);
      assert_true(fabs(o[k] - expect) < 0.02 * 32767.0);
      free(s);
      free(o);
    }
  }
}

static void test_resampler_stopband(void **state)
{
  /* tones above the output's Nyquist must not fold back */
  static const struct rs_case cases[] = {{48000, 16000}, {44100, 16000}, {22050, 16000}};
  static const double freqs[] = {8500.0, 10000.0, 15000.0};
  for (size_t c = 0; c < 3; c++) {
    for (size_t f = 0; f < 3; f++) {
      if (freqs[f] >= cases[c].in / 2.0)
        continue;
      size_t n = cases[c].in, m;
      int16_t *s = sine(cases[c].in, freqs[f], 0.9, n);
      int16_t *o = resample_all(cases[c].in, cases[c].out, s, n, &m);
      double level = rms(o + m / 4, m / 2); /* 0.9 amplitude = 0.64 rms */
      assert_true(level < 0.64 * 1e-3);     /* >= 60 dB down */
      free(s);
      free(o);
    }
  }
  /* up-sampling creates no images: 16k -> 48k of a 5 kHz tone has nothing
   * at 11 kHz (16k - 5k) or 21 kHz (16k + 5k) */
  size_t m;
  int16_t *s = sine(16000, 5000.0, 0.9, 16000);
  int16_t *o = resample_all(16000, 48000, s, 16000, &m);
  assert_true(tone_amplitude(o + m / 4, m / 2, 48000, 11000.0) < 1e-3);
  assert_true(tone_amplitude(o + m / 4, m / 2, 48000, 21000.0) < 1e-3);
  assert_true(fabs(tone_amplitude(o + m / 4, m / 2, 48000, 5000.0) - 0.9) < 0.01);
  free(s);
  free(o);
}

static void test_resampler_bad_rates(void **state)
{
  assert_null(pcm_resampler_new(0, 16000));
  assert_null(pcm_resampler_new(16000, 1000));
  assert_null(pcm_resampler_new(16000, PCM_RATE_MAX + 1));
  /* restarting after a flush gives the same output again */
  struct pcm_resampler *r = pcm_resampler_new(44100, 16000);
  int16_t *s = sine(44100, 440.0, 0.3, 4410);
  int16_t a[2000], b[2000];
  size_t na = pcm_resampler_process(r, s, 4410, a, 2000);
  na += pcm_resampler_flush(r, a + na, 2000 - na);
  size_t nb = pcm_resampler_process(r, s, 4410, b, 2000);
  nb += pcm_resampler_flush(r, b + nb, 2000 - nb);
  assert_int_equal(na, 1600);
  assert_int_equal(na, nb);
  assert_memory_equal(a, b, na * sizeof *a);
  pcm_resampler_free(r);
  free(s);
}

static void test_peaks(void **state)
{
  assert_int_equal(pcm_peak_byte(0), 0);
  assert_int_equal(pcm_peak_byte(32767), 255);
  assert_int_equal(pcm_peak_byte(-32768), 255);
  assert_int_equal(pcm_peak_byte(16384), 128);
  /* 0.25 s silence, 0.5 s at half scale, 0.3 s at full: 11 peaks at 10/s */
  struct pcm_peaks *p = pcm_peaks_new(16000, 10, 2);
  int16_t *quiet = calloc(4000, sizeof *quiet);
  int16_t *half = sine(16000, 100.0, 0.5, 8000);
  int16_t *full = sine(16000, 100.0, 1.0, 4800);
  pcm_peaks_add(p, quiet, 4000);
  pcm_peaks_add(p, half, 8000);
  pcm_peaks_add(p, full, 4800);
  size_t n;
  const uint8_t *d = pcm_peaks_data(p, &n);
  assert_int_equal(n, 11);
  assert_int_equal(d[0], 0);
  assert_int_equal(d[1], 0);
  assert_in_range(d[2], 126, 128); /* half the bucket is tone */
  assert_in_range(d[5], 126, 128);
  assert_in_range(d[8], 254, 255);
  assert_in_range(d[10], 254, 255); /* the partial bucket */
  json_t *j = pcm_peaks_json(p);
  assert_int_equal(json_integer_value(json_object_get(j, "peaksPerSecond")), 10);
  assert_int_equal(json_array_size(json_object_get(j, "peaks")), 11);
  json_decref(j);
  /* the ceiling: 2 s = 20 peaks, however long the audio */
  for (int i = 0; i < 10; i++)
    pcm_peaks_add(p, full, 4800);
  d = pcm_peaks_data(p, &n);
  assert_int_equal(n, 20);
  pcm_peaks_free(p);
  free(quiet);
  free(half);
  free(full);
}

/* ---- vad ---------------------------------------------------------------- */

/* A voiced-speech stand-in: a 150 Hz buzz with harmonics, its level swept
 * by a 4 Hz syllable rhythm, at about amp of full scale. */
static void put_voice(int16_t *s, size_t from, size_t n, double amp)
{
  for (size_t i = 0; i < n; i++) {
    double t = (double)(from + i) / 16000.0;
    double env = 0.6 + 0.4 * sin(2.0 * M_PI * 4.0 * t);
    double v = sin(2.0 * M_PI * 150.0 * t) + 0.5 * sin(2.0 * M_PI * 450.0 * t) +
               0.3 * sin(2.0 * M_PI * 1200.0 * t);
    s[from + i] = (int16_t)lrint(amp * 32767.0 * env * v / 1.8);
  }
}

/* Adds white noise at about amp of full scale (fixed seed). */
static void add_noise(int16_t *s, size_t n, double amp)
{
  uint32_t x = 12345;
  for (size_t i = 0; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    double r = ((double)(x >> 8) / 16777216.0 - 0.5) * 2.0 * 1.732; /* unit rms */
    double v = s[i] + amp * 32767.0 * r;
    s[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
  }
}

#define MAX_EVENTS 16

struct ev_log {
  size_t n;
  struct vad_event ev[MAX_EVENTS];
  uint64_t fed_at[MAX_EVENTS]; /* the stream position when it fired */
  struct vad *v;
};

static void log_event(void *arg, const struct vad_event *ev)
{
  struct ev_log *l = arg;
  assert_true(l->n < MAX_EVENTS);
  l->fed_at[l->n] = vad_position(l->v);
  l->ev[l->n++] = *ev;
}

/* Runs the signal through a VAD with config c in 20 ms chunks. */
static void run_vad(const struct vad_config *c, const int16_t *s, size_t n, struct ev_log *l)
{
  memset(l, 0, sizeof *l);
  l->v = vad_new(c);
  assert_non_null(l->v);
  for (size_t off = 0; off < n; off += 320)
    vad_feed(l->v, s + off, n - off < 320 ? n - off : 320, log_event, l);
  vad_free(l->v);
  l->v = NULL;
}

#define MS(x) ((uint64_t)(x) * 16)

static void test_vad_endpoint(void **state)
{
  struct vad_config c;
  vad_config_default(&c);
  /* 1 s silence, 1.5 s speech, 2 s silence */
  size_t n = 16000 * 9 / 2;
  int16_t *s = calloc(n, sizeof *s);
  put_voice(s, 16000, 24000, 0.3);
  struct ev_log l;
  run_vad(&c, s, n, &l);
  assert_int_equal(l.n, 2);
  assert_int_equal(l.ev[0].type, VAD_START);
  /* onset at 1.0 s, back-dated by the 200 ms pre-roll */
  assert_in_range(l.ev[0].sample, MS(1000 - 200 - 20), MS(1000 - 200 + 20));
  /* START only after min_speech_ms of speech */
  assert_in_range(l.fed_at[0], MS(1000 + 150), MS(1000 + 150 + 30));
  assert_int_equal(l.ev[1].type, VAD_END);
  assert_int_equal(l.ev[1].reason, VAD_END_SILENCE);
  /* speech ends at 2.5 s; END 200 ms past it, reported 700 ms after */
  assert_in_range(l.ev[1].sample, MS(2500 + 200 - 30), MS(2500 + 200 + 30));
  assert_in_range(l.fed_at[1], MS(2500 + 700), MS(2500 + 700 + 40));

  /* a shorter trailing silence answers sooner */
  c.trailing_silence_ms = 300;
  run_vad(&c, s, n, &l);
  assert_int_equal(l.n, 2);
  assert_in_range(l.fed_at[1], MS(2500 + 300), MS(2500 + 300 + 40));
  free(s);
}

static void test_vad_pauses_and_blips(void **state)
{
  struct vad_config c;
  vad_config_default(&c);
  size_t n = 16000 * 6;
  int16_t *s = calloc(n, sizeof *s);
  /* a 50 ms click (shorter than min_speech_ms): nothing */
  put_voice(s, MS(300), MS(50), 0.5);
  /* speech, a 400 ms pause, speech: one utterance */
  put_voice(s, MS(1000), MS(600), 0.3);
  put_voice(s, MS(2000), MS(500), 0.3);
  /* a 900 ms pause, then speech again: a second one */
  put_voice(s, MS(3400), MS(800), 0.3);
  struct ev_log l;
  run_vad(&c, s, n, &l);
  assert_int_equal(l.n, 4);
  assert_int_equal(l.ev[0].type, VAD_START);
  assert_in_range(l.ev[0].sample, MS(800 - 20), MS(800 + 20));
  assert_int_equal(l.ev[1].type, VAD_END);
  assert_in_range(l.ev[1].sample, MS(2500 + 200 - 30), MS(2500 + 200 + 30));
  assert_int_equal(l.ev[2].type, VAD_START);
  /* the pre-roll never reaches back into the previous utterance */
  assert_true(l.ev[2].sample >= l.ev[1].sample);
  assert_in_range(l.ev[2].sample, MS(3200 - 20), MS(3200 + 20));
  assert_int_equal(l.ev[3].type, VAD_END);
  free(s);
}

static void test_vad_noise_floor(void **state)
{
  struct vad_config c;
  vad_config_default(&c);
  size_t n = 16000 * 5;
  int16_t *s = calloc(n, sizeof *s);
  /* steady background noise at about -35 dBFS is not speech ... */
  add_noise(s, n, 0.018);
  struct ev_log l;
  run_vad(&c, s, n, &l);
  assert_int_equal(l.n, 0);
  /* ... speech over it is */
  memset(s, 0, n * sizeof *s);
  put_voice(s, MS(2000), MS(1000), 0.5);
  add_noise(s, n, 0.018);
  run_vad(&c, s, n, &l);
  assert_int_equal(l.n, 2);
  assert_in_range(l.ev[0].sample, MS(1800 - 30), MS(1800 + 30));
  assert_in_range(l.ev[1].sample, MS(3200 - 40), MS(3200 + 40));
  free(s);
}

static void test_vad_max_utterance(void **state)
{
  struct vad_config c;
  vad_config_default(&c);
  c.max_utterance_ms = 3000;
  size_t n = 16000 * 5;
  int16_t *s = calloc(n, sizeof *s);
  put_voice(s, MS(300), n - MS(300), 0.3); /* then talks without a pause */
  struct ev_log l;
  memset(&l, 0, sizeof l);
  l.v = vad_new(&c);
  bool talking_mid = false;
  for (size_t off = 0; off < n; off += 320) {
    vad_feed(l.v, s + off, 320, log_event, &l);
    if (off == MS(1000))
      talking_mid = vad_in_speech(l.v);
  }
  assert_true(talking_mid);
  assert_true(l.n >= 3);
  assert_int_equal(l.ev[0].type, VAD_START);
  assert_in_range(l.ev[0].sample, MS(100 - 10), MS(100 + 10));
  assert_int_equal(l.ev[1].type, VAD_END);
  assert_int_equal(l.ev[1].reason, VAD_END_MAX_LENGTH);
  assert_int_equal(l.ev[1].sample - l.ev[0].sample, MS(3000));
  assert_int_equal(l.ev[2].type, VAD_START); /* and carries on */
  assert_int_equal(l.ev[2].sample, l.ev[1].sample);
  vad_free(l.v);
  free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_pcm_le),
    cmocka_unit_test(test_resampler_passband),
    cmocka_unit_test(test_resampler_stopband),
    cmocka_unit_test(test_resampler_bad_rates),
    cmocka_unit_test(test_peaks),
    cmocka_unit_test(test_vad_endpoint),
    cmocka_unit_test(test_vad_pauses_and_blips),
    cmocka_unit_test(test_vad_noise_floor),
    cmocka_unit_test(test_vad_max_utterance),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
