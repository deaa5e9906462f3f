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

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "voice/asr.h"
#include "voice/cutter.h"
#include "voice/pcm.h"
#include "voice/pool.h"
#include "voice/range.h"
#include "voice/recorder.h"
#include "voice/tts.h"
#include "voice/wav.h"
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
      {48000, 16000}, {44100, 16000}, {22050, 16000},
      {16000, 22050}, {16000, 48000}, {16000, 16000},
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

static void test_pcm_buf(void **state)
{
  struct pcm_buf b;
  int16_t x[5000];
  for (int i = 0; i < 5000; i++)
    x[i] = (int16_t)i;
  pcm_buf_init(&b, 9000);
  assert_int_equal(pcm_buf_append(&b, NULL, 0), 0);
  assert_int_equal(pcm_buf_append(&b, x, 5000), 0);
  assert_int_equal(pcm_buf_append(&b, x, 4000), 0);
  assert_int_equal(b.n, 9000);
  assert_int_equal(pcm_buf_append(&b, x, 1), -1); /* the ceiling */
  assert_int_equal(b.n, 9000);
  assert_memory_equal(b.s + 5000, x, 4000 * sizeof *x);
  pcm_buf_free(&b);
  assert_null(b.s);
  assert_int_equal(b.n, 0);
  assert_int_equal(pcm_buf_append(&b, x, 10), 0); /* re-usable */
  pcm_buf_free(&b);
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

#define MS(x) ((uint64_t)(x)*16)

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

/* The end-pointer's silence can be shortened inside an utterance (its
 * words read as finished): the next END comes after the shorter silence,
 * already-elapsed silence counting; the utterance after it gets the
 * configured one again. vad_silence_ms() tracks the gap. */
static void test_vad_shorter_silence_mid_utterance(void **state)
{
  struct vad_config c;
  vad_config_default(&c); /* 700 ms */
  size_t n = 16000 * 8;
  int16_t *s = calloc(n, sizeof *s);
  put_voice(s, MS(1000), MS(1500), 0.3); /* speech 1.0-2.5 s */
  put_voice(s, MS(4000), MS(1000), 0.3); /* speech 4.0-5.0 s */
  struct ev_log l;
  memset(&l, 0, sizeof l);
  l.v = vad_new(&c);
  assert_non_null(l.v);
  assert_int_equal(vad_silence_ms(l.v), 0);
  vad_set_trailing_silence(l.v, 300); /* between utterances: no effect */
  bool shortened = false;
  unsigned gap_seen = 0;
  for (size_t off = 0; off < n; off += 320) {
    vad_feed(l.v, s + off, 320, log_event, &l);
    if (off >= MS(2700) && off < MS(2800))
      gap_seen = vad_silence_ms(l.v);
    if (!shortened && off >= MS(2900)) { /* 400 ms into the silence */
      vad_set_trailing_silence(l.v, 300);
      shortened = true;
    }
  }
  vad_free(l.v);
  assert_int_equal(l.n, 4);
  assert_in_range(gap_seen, 180, 320);
  /* the first END fires at the next frame: 400 ms of silence >= 300 */
  assert_int_equal(l.ev[1].type, VAD_END);
  assert_in_range(l.fed_at[1], MS(2500 + 400), MS(2500 + 400 + 40));
  /* the second utterance ends after the configured 700 ms again */
  assert_int_equal(l.ev[3].type, VAD_END);
  assert_in_range(l.fed_at[3], MS(5000 + 700), MS(5000 + 700 + 40));
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

/* ---- cutter -------------------------------------------------------------- */

struct cuts {
  size_t starts, utts;
  uint64_t start_at[4], utt_start[4], utt_end[4];
  int16_t *pcm[4];
  size_t n[4];
  enum vad_end_reason reason[4];
  bool started_before_end;
};

static void on_cut_log(void *arg, const struct voice_cut *cut)
{
  struct cuts *c = arg;
  if (cut->event == VOICE_CUT_START) {
    assert_true(c->starts < 4);
    assert_null(cut->pcm);
    c->start_at[c->starts++] = cut->start;
    return;
  }
  assert_true(c->utts < 4);
  c->started_before_end = c->starts == c->utts + 1;
  c->utt_start[c->utts] = cut->start;
  c->utt_end[c->utts] = cut->end;
  c->reason[c->utts] = cut->reason;
  c->n[c->utts] = cut->n;
  c->pcm[c->utts] = malloc(cut->n * sizeof *cut->pcm + 1);
  memcpy(c->pcm[c->utts], cut->pcm, cut->n * sizeof *cut->pcm);
  c->utts++;
}

static void test_cutter_utterances(void **state)
{
  struct vad_config vc;
  vad_config_default(&vc);
  vc.max_utterance_ms = 3000;
  size_t n = MS(9000);
  int16_t *s = calloc(n, sizeof *s);
  put_voice(s, MS(1000), MS(1500), 0.3); /* one utterance */
  put_voice(s, MS(4000), MS(4000), 0.3); /* one longer than the cap */
  struct voice_cutter *k = voice_cutter_new(&vc);
  assert_non_null(k);
  struct cuts c = {0};
  bool talking = false;
  for (size_t off = 0; off < n; off += 333) { /* odd chunks, unaligned with frames */
    voice_cutter_feed(k, s + off, n - off < 333 ? n - off : 333, on_cut_log, &c);
    if (off >= MS(1500) && off < MS(1500) + 333)
      talking = voice_cutter_in_speech(k);
  }
  assert_true(talking);
  assert_false(voice_cutter_in_speech(k));
  assert_true(c.utts >= 2);
  assert_true(c.started_before_end);
  /* the first utterance: from the back-dated start, exactly the audio */
  assert_int_equal(c.start_at[0], c.utt_start[0]);
  assert_in_range(c.utt_start[0], MS(780), MS(820));
  assert_int_equal(c.n[0], c.utt_end[0] - c.utt_start[0]);
  assert_memory_equal(c.pcm[0], s + c.utt_start[0], c.n[0] * sizeof *s);
  assert_int_equal(c.reason[0], VAD_END_SILENCE);
  /* the long one is cut at the cap, and carries on */
  assert_int_equal(c.reason[1], VAD_END_MAX_LENGTH);
  assert_int_equal(c.n[1], MS(3000));
  assert_memory_equal(c.pcm[1], s + c.utt_start[1], c.n[1] * sizeof *s);
  assert_true(c.utts == 3 && c.utt_start[2] == c.utt_end[1]);
  for (size_t i = 0; i < c.utts; i++)
    free(c.pcm[i]);
  voice_cutter_free(k);
  free(s);
}

/* ---- wav, recorder ------------------------------------------------------- */

static char *tmp_path(const char *name)
{
  static char buf[256];
  const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(buf, sizeof buf, "%s/athos-test-voice-%d-%s", dir, (int)getpid(), name);
  return buf;
}

/* Opens path and reads its WAV header; returns the fd. */
static int open_info(const char *path, struct wav_info *info)
{
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  struct stat st;
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(wav_read_info(fd, (uint64_t)st.st_size, info), 0);
  return fd;
}

static void read_frames(int fd, const struct wav_info *info, int16_t *out, size_t values)
{
  uint8_t *b = malloc(values * 2);
  assert_int_equal(pread(fd, b, values * 2, (off_t)info->data_offset), (ssize_t)(values * 2));
  pcm_from_le(b, values, out);
  free(b);
}

static void test_wav_round_trip(void **state)
{
  const char *path = tmp_path("rt.wav");
  int16_t frames[2 * 1000], back[2 * 1000];
  for (int i = 0; i < 2000; i++)
    frames[i] = (int16_t)(i * 37 - 30000);
  struct wav_writer *w = wav_writer_open(path, 16000, 2);
  assert_non_null(w);
  assert_int_equal(wav_writer_write(w, frames, 600), 0);
  assert_int_equal(wav_writer_write(w, frames + 1200, 400), 0);
  assert_int_equal(wav_writer_frames(w), 1000);
  assert_int_equal(wav_writer_close(w), 0);
  struct wav_info info;
  int fd = open_info(path, &info);
  assert_int_equal(info.rate, 16000);
  assert_int_equal(info.channels, 2);
  assert_int_equal(info.bits, 16);
  assert_int_equal(info.data_offset, WAV_HEADER_BYTES);
  assert_int_equal(info.data_bytes, 4000);
  read_frames(fd, &info, back, 2000);
  assert_memory_equal(frames, back, sizeof frames);
  /* the header's sizes were patched */
  uint8_t h[44];
  assert_int_equal(pread(fd, h, 44, 0), 44);
  assert_int_equal(h[40] | h[41] << 8 | h[42] << 16 | h[43] << 24, 4000);
  assert_int_equal(h[4] | h[5] << 8 | h[6] << 16 | h[7] << 24, 4036);
  close(fd);
  unlink(path);
}

static void test_wav_crash_safe(void **state)
{
  const char *path = tmp_path("crash.wav");
  int16_t frames[300];
  for (int i = 0; i < 300; i++)
    frames[i] = (int16_t)(i - 150);
  /* a writer that never closes: the "killed server" */
  struct wav_writer *w = wav_writer_open(path, 8000, 1);
  assert_int_equal(wav_writer_write(w, frames, 100), 0);
  struct wav_info info;
  int fd = open_info(path, &info);
  assert_int_equal(info.data_bytes, 200); /* unpatched: to the end of the file */
  close(fd);
  /* synced, then more written: the stale size is not believed */
  assert_int_equal(wav_writer_sync(w), 0);
  assert_int_equal(wav_writer_write(w, frames + 100, 200), 0);
  fd = open_info(path, &info);
  assert_int_equal(info.data_bytes, 600);
  int16_t back[300];
  read_frames(fd, &info, back, 300);
  assert_memory_equal(frames, back, sizeof frames);
  close(fd);
  /* a torn last frame (odd byte) is not served */
  fd = open(path, O_WRONLY | O_APPEND);
  assert_int_equal(write(fd, "x", 1), 1);
  close(fd);
  fd = open_info(path, &info);
  assert_int_equal(info.data_bytes, 600);
  close(fd);
  assert_int_equal(wav_writer_close(w), 0);
  /* not a WAV */
  fd = open(path, O_WRONLY | O_TRUNC);
  assert_int_equal(write(fd, "RIFF\0\0\0\0AVI LIST\0\0\0\0xxxxxxxxxxxxxxxxxxxxxxxxxxxx", 48), 48);
  close(fd);
  fd = open(path, O_RDONLY);
  assert_int_equal(wav_read_info(fd, 48, &info), -1);
  close(fd);
  unlink(path);
  assert_null(wav_writer_open("/nonexistent-dir/x.wav", 16000, 1));
}

static void test_recorder_alignment(void **state)
{
  const char *path = tmp_path("rec.wav");
  /* 1 kHz keeps the numbers small; the 4 s window holds the longest line
   * sent ahead of its playing */
  struct voice_rec *r = voice_rec_open(path, VOICE_REC_WAV, 1000, 4000, 60);
  assert_non_null(r);
  int16_t rep[500], persona[3000];
  for (int i = 0; i < 500; i++)
    rep[i] = 1000;
  for (int i = 0; i < 3000; i++)
    persona[i] = -2000;
  /* the rep talks at 100..600 ms, in two pieces */
  assert_int_equal(voice_rec_put(r, VOICE_REC_REP, 100, rep, 250), 0);
  assert_int_equal(voice_rec_put(r, VOICE_REC_REP, 350, rep, 250), 0);
  /* the persona's 3 s answer is sent at once at 1.5 s */
  assert_int_equal(voice_rec_put(r, VOICE_REC_PERSONA, 1500, persona, 3000), 0);
  /* the rep barges in at 3.0 s: the rest of the answer is cut */
  assert_int_equal(voice_rec_put(r, VOICE_REC_REP, 3000, rep, 200), 0);
  voice_rec_cut(r, VOICE_REC_PERSONA, 3200);
  /* the loop flushes what is old; audio that arrives after its place was
   * written is dropped */
  assert_int_equal(voice_rec_flush(r, 1000), 0);
  assert_int_equal(voice_rec_frames(r), 1000);
  assert_int_equal(voice_rec_put(r, VOICE_REC_REP, 50, rep, 10), 0);
  /* a put past the window writes the oldest part out first */
  int16_t far[10] = {0};
  assert_int_equal(voice_rec_put(r, VOICE_REC_REP, 6000, far, 10), 0);
  assert_int_equal(voice_rec_frames(r), 6010 - 4000);
  assert_int_equal(voice_rec_close(r), 0);

  struct wav_info info;
  int fd = open_info(path, &info);
  assert_int_equal(info.channels, 2);
  assert_int_equal(info.rate, 1000);
  size_t frames = (size_t)(info.data_bytes / 4);
  assert_int_equal(frames, 6010); /* to the end of what was placed */
  int16_t *f = malloc(frames * 2 * sizeof *f);
  read_frames(fd, &info, f, frames * 2);
  for (size_t p = 0; p < frames; p++) {
    int want_rep = (p >= 100 && p < 600) || (p >= 3000 && p < 3200) ? 1000 : 0;
    int want_persona = p >= 1500 && p < 3200 ? -2000 : 0;
    if (f[2 * p] != want_rep || f[2 * p + 1] != want_persona)
      fail_msg("frame %zu: %d/%d, want %d/%d", p, f[2 * p], f[2 * p + 1], want_rep, want_persona);
  }
  free(f);
  close(fd);
  unlink(path);
}

static void test_recorder_waveform(void **state)
{
  const char *path = tmp_path("wave.wav");
  struct voice_rec *r = voice_rec_open(path, VOICE_REC_WAV, 16000, 2000, 60);
  int16_t *loud = sine(16000, 200.0, 1.0, 16000);
  assert_int_equal(voice_rec_put(r, VOICE_REC_PERSONA, 16000, loud, 16000), 0);
  voice_rec_flush(r, 32000);
  assert_int_equal(voice_rec_frames(r), 32000);
  json_t *wf = voice_rec_waveform(r);
  json_t *peaks = json_object_get(wf, "peaks");
  assert_int_equal(json_integer_value(json_object_get(wf, "peaksPerSecond")), 10);
  assert_int_equal(json_array_size(peaks), 20);
  assert_int_equal(json_integer_value(json_array_get(peaks, 5)), 0);
  assert_true(json_integer_value(json_array_get(peaks, 15)) >= 254);
  json_decref(wf);
  assert_int_equal(voice_rec_close(r), 0);
  free(loud);
  unlink(path);
}

/* ---- range --------------------------------------------------------------- */

struct range_case {
  const char *header;
  uint64_t size;
  enum range_result res;
  uint64_t first, last;
};

static void test_range_parse(void **state)
{
  static const struct range_case cases[] = {
      {NULL, 1000, RANGE_NONE, 0, 0},
      {"bytes=0-99", 1000, RANGE_PARTIAL, 0, 99},
      {"bytes=0-0", 1000, RANGE_PARTIAL, 0, 0},
      {"bytes=500-", 1000, RANGE_PARTIAL, 500, 999},
      {"bytes=500-5000", 1000, RANGE_PARTIAL, 500, 999}, /* last clamped */
      {"bytes=-100", 1000, RANGE_PARTIAL, 900, 999},     /* suffix */
      {"bytes=-5000", 1000, RANGE_PARTIAL, 0, 999},      /* suffix > size */
      {"Bytes = 10-20 ", 1000, RANGE_PARTIAL, 10, 20},   /* case, spaces */
      {"bytes=999-", 1000, RANGE_PARTIAL, 999, 999},
      {"bytes=1000-", 1000, RANGE_UNSATISFIABLE, 0, 0},
      {"bytes=1000-2000", 1000, RANGE_UNSATISFIABLE, 0, 0},
      {"bytes=-0", 1000, RANGE_UNSATISFIABLE, 0, 0},
      {"bytes=0-", 0, RANGE_UNSATISFIABLE, 0, 0}, /* empty file */
      {"bytes=-1", 0, RANGE_UNSATISFIABLE, 0, 0},
      {"bytes=20-10", 1000, RANGE_NONE, 0, 0},   /* invalid: ignored */
      {"bytes=0-1,5-6", 1000, RANGE_NONE, 0, 0}, /* several: whole file */
      {"items=0-1", 1000, RANGE_NONE, 0, 0},
      {"bytes=", 1000, RANGE_NONE, 0, 0},
      {"bytes=-", 1000, RANGE_NONE, 0, 0},
      {"bytes 0-1", 1000, RANGE_NONE, 0, 0},
      {"bytes=+1-2", 1000, RANGE_NONE, 0, 0},
      {"bytes=1-2x", 1000, RANGE_NONE, 0, 0},
      {"bytes=0x10-", 1000, RANGE_NONE, 0, 0},
      {"bytes=99999999999999999999-", 1000, RANGE_NONE, 0, 0}, /* overflow */
      {"bytes=9999999999999999999-", 1000, RANGE_UNSATISFIABLE, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    struct byte_range r = {7, 7};
    enum range_result got = range_parse(cases[i].header, cases[i].size, &r);
    if (got != cases[i].res)
      fail_msg("\"%s\": result %d, want %d", cases[i].header ? cases[i].header : "(null)", (int)got,
               (int)cases[i].res);
    if (got == RANGE_PARTIAL && (r.first != cases[i].first || r.last != cases[i].last))
      fail_msg("\"%s\": %llu-%llu", cases[i].header, (unsigned long long)r.first,
               (unsigned long long)r.last);
  }
  char buf[64];
  struct byte_range r = {0, 99};
  assert_int_equal(range_content_range(RANGE_PARTIAL, &r, 1000, buf, sizeof buf), 15);
  assert_string_equal(buf, "bytes 0-99/1000");
  assert_true(range_content_range(RANGE_UNSATISFIABLE, NULL, 1000, buf, sizeof buf) > 0);
  assert_string_equal(buf, "bytes */1000");
  assert_int_equal(range_content_range(RANGE_PARTIAL, &r, 1000, buf, 8), -1);
  assert_int_equal(range_content_range(RANGE_NONE, &r, 1000, buf, sizeof buf), -1);
}

/* ---- pool ---------------------------------------------------------------- */

struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool open;
  atomic_int started;
};

static struct gate g_gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0};

struct test_job {
  struct voice_job job; /* first: the casts below */
  void *ran_on;         /* the worker context run() saw */
  bool wait_gate;
  int notifies;        /* how many notify() run() makes */
  atomic_int produced; /* run()'s output, read by progress() */
  int progressed, done_calls;
  int seen_at_done; /* produced, as progress() last saw it */
  pthread_t done_thread;
  int order; /* 1 + how many jobs started before this one */
};

static struct voice_pool *g_pool; /* for run() to notify on */

static void tj_run(struct voice_job *job, void *ctx)
{
  struct test_job *t = (struct test_job *)job;
  t->ran_on = ctx;
  t->order = atomic_fetch_add(&g_gate.started, 1) + 1;
  if (t->wait_gate) {
    pthread_mutex_lock(&g_gate.mu);
    while (!g_gate.open)
      pthread_cond_wait(&g_gate.cv, &g_gate.mu);
    pthread_mutex_unlock(&g_gate.mu);
  }
  for (int i = 0; i < t->notifies; i++) {
    atomic_fetch_add(&t->produced, 1);
    voice_pool_notify(g_pool, job);
  }
}

static void tj_progress(struct voice_job *job)
{
  struct test_job *t = (struct test_job *)job;
  assert_int_equal(t->done_calls, 0); /* never after done */
  t->progressed++;
  t->seen_at_done = atomic_load(&t->produced);
}

static void tj_done(struct voice_job *job)
{
  struct test_job *t = (struct test_job *)job;
  t->done_calls++;
  t->done_thread = pthread_self();
}

static int g_ctx_tokens[8];

static void *tj_worker_init(void *arg, unsigned index)
{
  int *fail_index = arg;
  if (fail_index && (int)index == *fail_index)
    return NULL;
  return &g_ctx_tokens[index];
}

static void gate_set(bool open)
{
  pthread_mutex_lock(&g_gate.mu);
  g_gate.open = open;
  pthread_cond_broadcast(&g_gate.cv);
  pthread_mutex_unlock(&g_gate.mu);
}

/* Polls the pool's fd and drains until `done_calls` of every job is 1. */
static void drain_until_done(struct voice_pool *p, struct test_job *jobs, size_t n)
{
  for (int rounds = 0; rounds < 500; rounds++) {
    size_t all = 0;
    for (size_t i = 0; i < n; i++)
      all += jobs[i].done_calls == 1;
    if (all == n)
      return;
    struct pollfd pfd = {.fd = voice_pool_fd(p), .events = POLLIN};
    assert_true(poll(&pfd, 1, 5000) == 1); /* the eventfd wakes the loop */
    voice_pool_drain(p);
  }
  fail_msg("jobs did not finish");
}

static void test_pool_bounded(void **state)
{
  struct voice_pool_config c = {.workers = 2, .max_queued = 3, .worker_init = tj_worker_init};
  struct voice_pool *p = voice_pool_new(&c);
  assert_non_null(p);
  g_pool = p;
  struct test_job jobs[6];
  memset(jobs, 0, sizeof jobs);
  atomic_store(&g_gate.started, 0);
  gate_set(false);
  /* two jobs occupy both workers ... */
  for (int i = 0; i < 2; i++) {
    jobs[i].wait_gate = true;
    voice_job_init(&jobs[i].job, tj_run, tj_progress, tj_done);
    assert_int_equal(voice_pool_submit(p, &jobs[i].job), 0);
  }
  while (atomic_load(&g_gate.started) < 2)
    usleep(1000);
  /* ... three wait, the fourth is refused at once */
  for (int i = 2; i < 6; i++) {
    jobs[i].notifies = 3;
    voice_job_init(&jobs[i].job, tj_run, tj_progress, tj_done);
  }
  for (int i = 2; i < 5; i++)
    assert_int_equal(voice_pool_submit(p, &jobs[i].job), 0);
  assert_int_equal(voice_pool_queued(p), 3);
  assert_int_equal(voice_pool_submit(p, &jobs[5].job), -1);
  /* one waiting job is cancelled: it will not run, but still completes */
  voice_job_cancel(&jobs[4].job);
  gate_set(true);
  drain_until_done(p, jobs, 5);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(jobs[i].done_calls, 1);
    assert_true(pthread_equal(jobs[i].done_thread, pthread_self()));
  }
  for (int i = 0; i < 4; i++) /* each ran with a worker's own context */
    assert_true(jobs[i].ran_on == &g_ctx_tokens[0] || jobs[i].ran_on == &g_ctx_tokens[1]);
  assert_null(jobs[4].ran_on);
  assert_int_equal(jobs[5].done_calls, 0);
  /* progress saw the partial results, the last one before done */
  for (int i = 2; i < 4; i++) {
    assert_in_range(jobs[i].progressed, 1, 3);
    assert_int_equal(jobs[i].seen_at_done, 3);
  }
  voice_pool_free(p);
  g_pool = NULL;
}

static void test_pool_free_completes_jobs(void **state)
{
  struct voice_pool_config c = {.workers = 1, .max_queued = 4};
  struct voice_pool *p = voice_pool_new(&c);
  g_pool = p;
  struct test_job jobs[3];
  memset(jobs, 0, sizeof jobs);
  atomic_store(&g_gate.started, 0);
  gate_set(false);
  for (int i = 0; i < 3; i++) {
    jobs[i].wait_gate = i == 0;
    voice_job_init(&jobs[i].job, tj_run, NULL, tj_done);
    assert_int_equal(voice_pool_submit(p, &jobs[i].job), 0);
  }
  while (atomic_load(&g_gate.started) < 1)
    usleep(1000);
  gate_set(true);
  /* freed without a drain: every job is completed, the queued ones cancelled */
  voice_pool_free(p);
  g_pool = NULL;
  for (int i = 0; i < 3; i++)
    assert_int_equal(jobs[i].done_calls, 1);
  assert_false(voice_job_cancelled(&jobs[0].job));

  /* a worker that cannot initialise fails the pool */
  int fail_index = 1;
  struct voice_pool_config bad = {
      .workers = 2, .max_queued = 1, .worker_init = tj_worker_init, .arg = &fail_index};
  assert_null(voice_pool_new(&bad));
  struct voice_pool_config zero = {.workers = 0, .max_queued = 1};
  assert_null(voice_pool_new(&zero));
}

/* A pool from c whose one ordinary worker is held at the gate by jobs[0];
 * jobs[0..n) are prepared. */
static struct voice_pool *pool_held(const struct voice_pool_config *c, struct test_job *jobs, int n)
{
  struct voice_pool *p = voice_pool_new(c);
  assert_non_null(p);
  g_pool = p;
  memset(jobs, 0, (size_t)n * sizeof *jobs);
  atomic_store(&g_gate.started, 0);
  gate_set(false);
  for (int i = 0; i < n; i++)
    voice_job_init(&jobs[i].job, tj_run, NULL, tj_done);
  jobs[0].wait_gate = true;
  assert_int_equal(voice_pool_submit(p, &jobs[0].job), 0);
  while (atomic_load(&g_gate.started) < 1)
    usleep(1000);
  return p;
}

/* Urgent jobs overtake ordinary ones that wait (first come, first served
 * among themselves); both lanes share the bound. */
static void test_pool_urgent_lane(void **state)
{
  struct voice_pool_config c = {.workers = 1, .max_queued = 4};
  struct test_job jobs[6];
  struct voice_pool *p = pool_held(&c, jobs, 6);
  assert_int_equal(voice_pool_submit(p, &jobs[1].job), 0);
  assert_int_equal(voice_pool_submit(p, &jobs[2].job), 0);
  assert_int_equal(voice_pool_submit_urgent(p, &jobs[3].job), 0);
  assert_int_equal(voice_pool_submit_urgent(p, &jobs[4].job), 0);
  assert_int_equal(voice_pool_queued(p), 4);
  assert_int_equal(voice_pool_submit_urgent(p, &jobs[5].job), -1); /* the shared bound */
  gate_set(true);
  drain_until_done(p, jobs, 5);
  assert_int_equal(jobs[0].order, 1);
  assert_int_equal(jobs[3].order, 2);
  assert_int_equal(jobs[4].order, 3);
  assert_int_equal(jobs[1].order, 4);
  assert_int_equal(jobs[2].order, 5);
  voice_pool_free(p);
  g_pool = NULL;
}

/* An urgent-only worker runs urgent work while the ordinary worker is
 * busy, never ordinary work; a waiting ordinary job can be promoted to it. */
static void test_pool_urgent_workers(void **state)
{
  struct voice_pool_config c = {.workers = 1, .urgent_workers = 1, .max_queued = 4};
  struct test_job jobs[4];
  struct voice_pool *p = pool_held(&c, jobs, 4);
  assert_int_equal(voice_pool_submit(p, &jobs[1].job), 0);
  assert_int_equal(voice_pool_submit(p, &jobs[2].job), 0);
  assert_int_equal(voice_pool_submit_urgent(p, &jobs[3].job), 0);
  drain_until_done(p, &jobs[3], 1); /* done while the gate is still shut */
  usleep(20000);
  assert_int_equal(voice_pool_queued(p), 2); /* the urgent-only worker left them */
  voice_pool_promote(p, &jobs[2].job);
  drain_until_done(p, &jobs[2], 1);
  assert_int_equal(jobs[1].done_calls, 0);
  gate_set(true);
  drain_until_done(p, jobs, 4);
  assert_int_equal(jobs[1].order, 4);
  voice_pool_free(p);
  g_pool = NULL;
}

/* ---- tts, asr ------------------------------------------------------------ */

static void test_tts_voice_choice(void **state)
{
  struct tts_voice young_f, old_f, male, fast;
  struct tts_traits t = {.sex = TTS_SEX_FEMALE, .age = 35};
  tts_voice_choose(&t, &young_f);
  t.age = 78;
  tts_voice_choose(&t, &old_f);
  struct tts_traits m = {.sex = TTS_SEX_MALE, .age = 67};
  tts_voice_choose(&m, &male);
  struct tts_traits f = {.sex = TTS_SEX_MALE, .age = 30, .pace = 9.0};
  tts_voice_choose(&f, &fast);
  assert_string_equal(young_f.name, "slt");
  assert_string_equal(male.name, "rms");
  assert_true(old_f.f0_mean < young_f.f0_mean); /* older: lower ... */
  assert_true(old_f.stretch > young_f.stretch); /* ... and slower */
  assert_true(male.f0_mean < old_f.f0_mean);
  assert_true(fast.stretch >= 1.0 / 1.6 - 1e-9); /* pace clamped */
  assert_true(fast.stretch < 1.0);
}

#define CHUNKS_INIT           \
  {                           \
    .all = {.max = SIZE_MAX } \
  }

struct chunks {
  struct pcm_buf all; /* no ceiling: the tests' texts are short */
  size_t calls, first, lasts;
  size_t stop_after; /* 0 = never */
};

static bool on_chunk(void *arg, const int16_t *pcm, size_t n, bool last)
{
  struct chunks *c = arg;
  assert_int_equal(c->lasts, 0); /* nothing after the last call */
  if (last) {
    c->lasts++;
    return true;
  }
  c->calls++;
  if (c->calls == 1)
    c->first = n;
  assert_int_equal(pcm_buf_append(&c->all, pcm, n), 0);
  return c->stop_after == 0 || c->calls < c->stop_after;
}

static struct tts *g_tts;

static int tts_setup(void **state)
{
  g_tts = tts_new();
  return g_tts ? 0 : -1;
}

static int tts_teardown(void **state)
{
  tts_free(g_tts);
  return 0;
}

static void test_tts_streams(void **state)
{
  struct tts_voice v;
  struct tts_traits t = {.sex = TTS_SEX_FEMALE, .age = 70};
  tts_voice_choose(&t, &v);
  struct chunks c = CHUNKS_INIT;
  const char *text = "Hello, this is Dorothy. I was just doing my crossword. Who is this?";
  assert_int_equal(tts_synth(g_tts, &v, text, on_chunk, &c), 0);
  assert_int_equal(c.lasts, 1);
  /* speech of a plausible length (3 to 8 s), in several chunks, the first a
   * small part of it: audio can leave before the line is synthesised */
  assert_in_range(c.all.n, 3 * TTS_RATE, 8 * TTS_RATE);
  assert_true(c.calls >= 3);
  assert_true(c.first < c.all.n / 3);
  assert_true(rms(c.all.s, c.all.n) > 0.01);
  /* a slower voice makes longer audio */
  struct chunks slow = CHUNKS_INIT;
  v.stretch *= 1.5;
  assert_int_equal(tts_synth(g_tts, &v, text, on_chunk, &slow), 0);
  assert_true(slow.all.n > c.all.n * 5 / 4);
  /* the callback stops it (barge-in): no more chunks, not even the last */
  struct chunks stop = CHUNKS_INIT;
  stop.stop_after = 1;
  assert_int_equal(tts_synth(g_tts, &v, text, on_chunk, &stop), 1);
  assert_int_equal(stop.calls, 1);
  assert_int_equal(stop.lasts, 0);
  pcm_buf_free(&c.all);
  pcm_buf_free(&slow.all);
  pcm_buf_free(&stop.all);
}

/* Synthesises text, cuts it with the VAD (after 0.5 s of silence, with 1 s
 * after), and recognises the one utterance with a. */
static void say_and_hear(struct asr *a, const char *text, char *heard, size_t cap)
{
  struct tts_voice v;
  struct tts_traits t = {.sex = TTS_SEX_MALE, .age = 40};
  tts_voice_choose(&t, &v);
  struct chunks c = CHUNKS_INIT;
  assert_int_equal(tts_synth(g_tts, &v, text, on_chunk, &c), 0);
  size_t lead = TTS_RATE / 2, n = lead + c.all.n + TTS_RATE;
  int16_t *s = calloc(n, sizeof *s);
  memcpy(s + lead, c.all.s, c.all.n * sizeof *s);
  struct vad_config vc;
  vad_config_default(&vc);
  struct voice_cutter *k = voice_cutter_new(&vc);
  struct cuts cuts = {0};
  for (size_t off = 0; off < n; off += 320)
    voice_cutter_feed(k, s + off, n - off < 320 ? n - off : 320, on_cut_log, &cuts);
  voice_cutter_free(k);
  assert_int_equal(cuts.utts, 1); /* one utterance, around the speech */
  assert_true(cuts.utt_start[0] <= lead + TTS_RATE / 10);
  assert_true(cuts.utt_end[0] >= lead + c.all.n - TTS_RATE / 2);
  size_t from = (size_t)cuts.utt_start[0], len = cuts.n[0];
  assert_int_equal(asr_decode(a, cuts.pcm[0], len, heard, cap), 0);
  /* streamed in 20 ms frames, as the audio would come: the same words */
  char streamed[512];
  assert_int_equal(asr_begin(a), 0);
  for (size_t off = 0; off < len; off += 320)
    assert_int_equal(asr_feed(a, s + from + off, len - off < 320 ? len - off : 320), 0);
  assert_int_equal(asr_end(a, streamed, sizeof streamed), 0);
  assert_string_equal(streamed, heard);
  free(cuts.pcm[0]);
  free(s);
  pcm_buf_free(&c.all);
}

static void test_asr_hears_tts(void **state)
{
  struct asr_config cfg;
  asr_config_default(&cfg);
  assert_non_null(cfg.domain_lm); /* the build made it */
  struct asr *a = asr_new(&cfg);
  assert_non_null(a);
  char heard[512];
  say_and_hear(a, "Have you looked at a Medigap plan? Let me check the formulary for Eliquis.",
               heard, sizeof heard);
  assert_non_null(strstr(heard, "medigap"));
  assert_non_null(strstr(heard, "formulary"));
  assert_non_null(strstr(heard, "eliquis"));
  say_and_hear(a, "Do I have your permission to discuss Medicare Advantage plans?", heard,
               sizeof heard);
  assert_non_null(strstr(heard, "permission"));
  assert_non_null(strstr(heard, "medicare advantage"));
  /* a title's period does not end the sentence ("Dr." alone is "drive") */
  say_and_hear(a, "Is Dr. Natarajan your cardiologist?", heard, sizeof heard);
  assert_non_null(strstr(heard, "doctor natarajan"));
  /* silence is no words */
  int16_t *quiet = calloc(TTS_RATE, sizeof *quiet);
  assert_int_equal(asr_decode(a, quiet, TTS_RATE, heard, sizeof heard), 0);
  assert_string_equal(heard, "");
  free(quiet);
  asr_free(a);
  /* a model that is not there: no recogniser */
  cfg.hmm = "/nonexistent";
  assert_null(asr_new(&cfg));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pcm_le),
      cmocka_unit_test(test_resampler_passband),
      cmocka_unit_test(test_resampler_stopband),
      cmocka_unit_test(test_resampler_bad_rates),
      cmocka_unit_test(test_pcm_buf),
      cmocka_unit_test(test_peaks),
      cmocka_unit_test(test_vad_endpoint),
      cmocka_unit_test(test_vad_pauses_and_blips),
      cmocka_unit_test(test_vad_shorter_silence_mid_utterance),
      cmocka_unit_test(test_vad_noise_floor),
      cmocka_unit_test(test_vad_max_utterance),
      cmocka_unit_test(test_cutter_utterances),
      cmocka_unit_test(test_wav_round_trip),
      cmocka_unit_test(test_wav_crash_safe),
      cmocka_unit_test(test_recorder_alignment),
      cmocka_unit_test(test_recorder_waveform),
      cmocka_unit_test(test_range_parse),
      cmocka_unit_test(test_pool_bounded),
      cmocka_unit_test(test_pool_free_completes_jobs),
      cmocka_unit_test(test_pool_urgent_lane),
      cmocka_unit_test(test_pool_urgent_workers),
      cmocka_unit_test(test_tts_voice_choice),
  };
  const struct CMUnitTest engines[] = {
      cmocka_unit_test(test_tts_streams),
      cmocka_unit_test(test_asr_hears_tts),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  return failed + cmocka_run_group_tests(engines, tts_setup, tts_teardown);
}
