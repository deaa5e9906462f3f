/* test_voice_ogg.c — unit tests of the Ogg Opus recording writer
 * (src/voice/ogg_opus.c) and of the recorder writing it, checked with a
 * real decoder (libopusfile): the length to the sample, which tone is on
 * which channel and when, a file torn mid-page by a "killed server",
 * the page written by a sync, a write failure, the header reader. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <opusfile.h>

#include "voice/ogg_opus.h"
#include "voice/recorder.h"

#define IN_RATE  16000
#define OUT_RATE 48000 /* what Opus decodes to */
#define SCALE    (OUT_RATE / IN_RATE)

/* ---- helpers -------------------------------------------------------------- */

static char *tmp_path(const char *name)
{
  static char buf[256];
  const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(buf, sizeof buf, "%s/athos-test-ogg-%d-%s", dir, (int)getpid(), name);
  return buf;
}

/* Stereo frames [from, to) of a tone on one channel (0 left, 1 right). */
static void put_tone(int16_t *frames, unsigned ch, size_t from, size_t to, double freq, double amp)
{
  for (size_t i = from; i < to; i++)
    frames[2 * i + ch] =
        (int16_t)lrint(amp * 32767.0 * sin(2.0 * M_PI * freq * (double)i / IN_RATE));
}

/* Amplitude (relative to full scale) of the freq component of one channel
 * of 48 kHz stereo frames [from, to), by Goertzel over the span. */
static double tone_at(const int16_t *pcm, unsigned ch, size_t from, size_t to, double freq)
{
  double re = 0, im = 0;
  for (size_t i = from; i < to; i++) {
    double ph = 2.0 * M_PI * freq * (double)i / OUT_RATE;
    re += pcm[2 * i + ch] * cos(ph);
    im += pcm[2 * i + ch] * sin(ph);
  }
  return 2.0 * sqrt(re * re + im * im) / (double)(to - from) / 32767.0;
}

/* RMS of one channel over 48 kHz frames [from, to), relative to full scale. */
static double level(const int16_t *pcm, unsigned ch, size_t from, size_t to)
{
  double acc = 0;
  for (size_t i = from; i < to; i++)
    acc += (double)pcm[2 * i + ch] * pcm[2 * i + ch];
  return sqrt(acc / (double)(to - from)) / 32767.0;
}

/* The first 48 kHz frame from which one channel stays loud for 5 ms. */
static size_t onset(const int16_t *pcm, unsigned ch, size_t n)
{
  for (size_t i = 0; i + 240 <= n; i++)
    if (level(pcm, ch, i, i + 240) > 0.1)
      return i;
  return n;
}

struct decoded {
  int16_t *pcm; /* 48 kHz stereo */
  size_t frames;
  int64_t total; /* op_pcm_total: what the granule positions say */
  unsigned pre_skip;
};

/* Decodes path with libopusfile to the end (a hole or a torn tail ends
 * it: what came before is kept). */
static struct decoded decode(const char *path)
{
  int err = 0;
  OggOpusFile *of = op_open_file(path, &err);
  if (of == NULL)
    fail_msg("op_open_file(%s): %d", path, err);
  assert_int_equal(op_channel_count(of, -1), 2);
  struct decoded d = {.total = op_pcm_total(of, -1), .pre_skip = op_head(of, -1)->pre_skip};
  assert_true(d.total >= 0);
  size_t cap = (size_t)d.total + OUT_RATE;
  d.pcm = calloc(cap * 2, sizeof *d.pcm);
  assert_non_null(d.pcm);
  for (;;) {
    int n = op_read(of, d.pcm + d.frames * 2, (int)((cap - d.frames) * 2), NULL);
    if (n == OP_HOLE)
      continue;
    if (n <= 0)
      break;
    d.frames += (size_t)n;
    assert_true(d.frames < cap);
  }
  op_free(of);
  return d;
}

static uint64_t file_size(const char *path)
{
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  return (uint64_t)st.st_size;
}

/* Offsets of the Ogg pages of a file written by us (capture patterns). */
static size_t page_offsets(const char *path, uint64_t *out, size_t max)
{
  uint64_t size = file_size(path);
  uint8_t *b = malloc(size);
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(read(fd, b, size), (ssize_t)size);
  close(fd);
  size_t n = 0;
  for (uint64_t at = 0; at + 27 <= size && n < max;) {
    assert_memory_equal(b + at, "OggS", 4);
    out[n++] = at;
    uint64_t body = 0;
    for (unsigned i = 0; i < b[at + 26]; i++)
      body += b[at + 27 + i];
    at += 27 + b[at + 26] + body;
  }
  free(b);
  return n;
}

/* ---- the writer ----------------------------------------------------------- */

/* 3.01 s: left 440 Hz from 1.0 s, right 1 kHz until 2.0 s. Written in
 * uneven pieces; decoded, every sample is there (not one more: the last
 * page's granule trims the padding) and each tone is on its channel at
 * its time (the pre-skip is right). */
static void test_ogg_round_trip(void **state)
{
  const char *path = tmp_path("rt.ogg");
  const size_t n = 48160; /* not a whole number of 20 ms packets */
  int16_t *in = calloc(n * 2, sizeof *in);
  put_tone(in, 0, IN_RATE, n, 440.0, 0.5);
  put_tone(in, 1, 0, 2 * IN_RATE, 1000.0, 0.3);
  struct ogg_opus_writer *w = ogg_opus_writer_open(path, IN_RATE, 2);
  assert_non_null(w);
  for (size_t off = 0, step = 1; off < n; step = step * 7 % 1999 + 1) {
    size_t take = n - off < step ? n - off : step;
    assert_int_equal(ogg_opus_writer_write(w, in + off * 2, take), 0);
    off += take;
  }
  assert_int_equal(ogg_opus_writer_frames(w), n);
  assert_int_equal(ogg_opus_writer_close(w), 0);

  struct ogg_opus_info info;
  int fd = open(path, O_RDONLY);
  assert_int_equal(ogg_opus_read_info(fd, file_size(path), &info), 0);
  close(fd);
  assert_int_equal(info.channels, 2);
  assert_int_equal(info.input_rate, IN_RATE);

  struct decoded d = decode(path);
  assert_int_equal(d.pre_skip, info.pre_skip);
  assert_true(d.pre_skip > 0);
  assert_int_equal(d.total, (int64_t)(n * SCALE));
  assert_int_equal(d.frames, n * SCALE);
  /* left: silent, then 440 Hz starting at 1.0 s (within 5 ms) */
  size_t on = onset(d.pcm, 0, d.frames);
  assert_true(on + 240 >= OUT_RATE && on <= OUT_RATE + 240);
  assert_true(level(d.pcm, 0, 0, OUT_RATE - 480) < 0.01);
  double l440 = tone_at(d.pcm, 0, OUT_RATE + 4800, 3 * OUT_RATE - 4800, 440.0);
  assert_true(l440 > 0.4 && l440 < 0.6);
  assert_true(tone_at(d.pcm, 0, OUT_RATE + 4800, 3 * OUT_RATE - 4800, 1000.0) < 0.03);
  /* right: 1 kHz from the start, silent after 2.0 s */
  double r1k = tone_at(d.pcm, 1, 4800, 2 * OUT_RATE - 4800, 1000.0);
  assert_true(r1k > 0.22 && r1k < 0.38);
  assert_true(tone_at(d.pcm, 1, 4800, 2 * OUT_RATE - 4800, 440.0) < 0.03);
  assert_true(level(d.pcm, 1, 2 * OUT_RATE + 480, d.frames) < 0.01);
  assert_true(level(d.pcm, 1, 2 * OUT_RATE - 720, 2 * OUT_RATE - 240) > 0.1);
  /* ~32 kbit/s: far below the 64 kB/s of the WAV */
  uint64_t size = file_size(path);
  assert_true(size > 3 * 2000 && size < 3 * 8000);
  free(d.pcm);
  free(in);
  unlink(path);
}

/* A writer that is never closed (the killed server): the pages written
 * decode; a file cut in the middle of its last page decodes up to the
 * page before, exactly; a sync writes the partial page. */
static void test_ogg_torn(void **state)
{
  const char *path = tmp_path("torn.ogg");
  char torn[300];
  snprintf(torn, sizeof torn, "%s.cut", path);
  const size_t n = 5 * IN_RATE + 100;
  int16_t *in = calloc(n * 2, sizeof *in);
  put_tone(in, 0, 0, n, 440.0, 0.5);
  put_tone(in, 1, 0, n, 700.0, 0.5);
  struct ogg_opus_writer *w = ogg_opus_writer_open(path, IN_RATE, 2);
  assert_non_null(w);
  assert_int_equal(ogg_opus_writer_write(w, in, n), 0);

  /* pages of at most OGG_OPUS_PAGE_MS: 4+ of 5 s are on disk */
  struct decoded d = decode(path);
  assert_true(d.total >= (int64_t)(n - IN_RATE * OGG_OPUS_PAGE_MS / 1000) * SCALE);
  assert_true(d.total < (int64_t)(n * SCALE));
  assert_int_equal(d.frames, (size_t)d.total);
  free(d.pcm);

  /* cut mid-way through the last page */
  uint64_t pages[64];
  size_t np = page_offsets(path, pages, 64);
  assert_true(np >= 5); /* head, tags, audio... */
  uint64_t cut = pages[np - 1] + (file_size(path) - pages[np - 1]) / 2;
  int src = open(path, O_RDONLY), dst = open(torn, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  uint8_t *b = malloc(cut);
  assert_int_equal(read(src, b, cut), (ssize_t)cut);
  assert_int_equal(write(dst, b, cut), (ssize_t)cut);
  close(src);
  close(dst);
  free(b);
  /* the granule of the page before the cut, read from its header */
  uint8_t h[27];
  int fd = open(path, O_RDONLY);
  assert_int_equal(pread(fd, h, 27, (off_t)pages[np - 2]), 27);
  close(fd);
  int64_t granule = 0;
  for (int i = 7; i >= 0; i--)
    granule = granule << 8 | h[6 + i];
  struct decoded t = decode(torn);
  assert_int_equal(t.total, granule - t.pre_skip);
  assert_int_equal(t.frames, (size_t)t.total);
  /* both channels busy at once: each tone stays on its own side (at
   * 32 kbit/s Opus codes a pure tone's level only roughly, 0.37..0.42 of
   * 0.5, and lets ~0.08 through to the other side while both talk) */
  assert_true(tone_at(t.pcm, 0, 4800, t.frames - 4800, 440.0) > 0.3);
  assert_true(tone_at(t.pcm, 1, 4800, t.frames - 4800, 700.0) > 0.3);
  assert_true(tone_at(t.pcm, 0, 4800, t.frames - 4800, 700.0) < 0.15);
  assert_true(tone_at(t.pcm, 1, 4800, t.frames - 4800, 440.0) < 0.15);
  free(t.pcm);
  unlink(torn);

  /* a sync writes every whole packet: 5 s + 100 frames is 250 packets */
  assert_int_equal(ogg_opus_writer_sync(w), 0);
  d = decode(path);
  assert_int_equal(d.total, 250 * 960 - (int64_t)d.pre_skip);
  free(d.pcm);
  assert_int_equal(ogg_opus_writer_close(w), 0);
  d = decode(path);
  assert_int_equal(d.total, (int64_t)(n * SCALE));
  free(d.pcm);
  free(in);
  unlink(path);
}

/* A write that fails (the file size limit here, a full disk in life) is
 * reported, and the writer refuses everything after it; close says so.
 * What was written before still decodes. */
static void test_ogg_write_failure(void **state)
{
  const char *path = tmp_path("fail.ogg");
  const size_t n = 10 * IN_RATE;
  int16_t *in = calloc(n * 2, sizeof *in);
  put_tone(in, 0, 0, n, 440.0, 0.5);
  struct ogg_opus_writer *w = ogg_opus_writer_open(path, IN_RATE, 2);
  assert_non_null(w);
  struct rlimit old, small;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  small = old;
  small.rlim_cur = 12000; /* ~3 s of audio */
  void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
  int rc = 0;
  for (size_t off = 0; off < n && rc == 0; off += IN_RATE / 10)
    rc = ogg_opus_writer_write(w, in + off * 2, IN_RATE / 10);
  assert_int_equal(rc, -1);
  assert_int_equal(ogg_opus_writer_write(w, in, 10), -1);
  assert_int_equal(ogg_opus_writer_sync(w), -1);
  assert_int_equal(ogg_opus_writer_close(w), -1);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, was);
  struct decoded d = decode(path);
  assert_true(d.total > IN_RATE * SCALE && d.total < 4 * IN_RATE * SCALE);
  free(d.pcm);
  free(in);
  unlink(path);
}

static void test_ogg_refusals(void **state)
{
  errno = 0;
  assert_null(ogg_opus_writer_open(tmp_path("x.ogg"), 44100, 2));
  assert_int_equal(errno, EINVAL);
  assert_null(ogg_opus_writer_open(tmp_path("x.ogg"), 16000, 3));
  assert_int_equal(errno, EINVAL);
  assert_null(ogg_opus_writer_open("/nonexistent-dir/x.ogg", 16000, 2));
  assert_int_equal(errno, ENOENT);
  assert_int_equal(ogg_opus_writer_close(NULL), 0);
  /* the recorder passes the writer's refusal on */
  errno = 0;
  assert_null(voice_rec_open(tmp_path("x.ogg"), VOICE_REC_OGG, 1000, 4000, 60));
  assert_int_equal(errno, EINVAL);
  /* the header reader: a WAV, an Ogg stream of another codec, too short */
  const char *path = tmp_path("notopus.ogg");
  static const struct {
    const char *bytes;
    size_t len;
  } cases[] = {
      {"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x02\0\x80\x3e\0\0\0\xfa\0\0\x04\0\x10\0data\0\0\0\0",
       44},
      {"OggS\0\x02\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\x01\x13OpusTagsvendor-name", 47},
      {"OggS\0\x02\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\x01\x13OpusHead", 36},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(write(fd, cases[i].bytes, cases[i].len), (ssize_t)cases[i].len);
    struct ogg_opus_info info;
    if (ogg_opus_read_info(fd, cases[i].len, &info) != -1)
      fail_msg("case %zu read as Ogg Opus", i);
    close(fd);
  }
  unlink(path);
}

/* ---- the recorder --------------------------------------------------------- */

/* The recorder with VOICE_REC_OGG: the rep on the left, the persona on
 * the right, each where the call's clock placed it; a barge-in cut. */
static void test_recorder_ogg(void **state)
{
  const char *path = tmp_path("rec.ogg");
  struct voice_rec *r = voice_rec_open(path, VOICE_REC_OGG, IN_RATE, 4000, 60);
  assert_non_null(r);
  int16_t *rep = calloc(IN_RATE, sizeof *rep), *persona = calloc(3 * IN_RATE, sizeof *persona);
  for (size_t i = 0; i < IN_RATE; i++)
    rep[i] = (int16_t)lrint(16000.0 * sin(2.0 * M_PI * 440.0 * (double)i / IN_RATE));
  for (size_t i = 0; i < 3 * IN_RATE; i++)
    persona[i] = (int16_t)lrint(16000.0 * sin(2.0 * M_PI * 1000.0 * (double)i / IN_RATE));
  /* the rep talks 0.5..1.5 s; the persona's 3 s line is sent at 2.0 s and
   * cut by a barge-in at 3.5 s */
  assert_int_equal(voice_rec_put(r, VOICE_REC_REP, IN_RATE / 2, rep, IN_RATE), 0);
  assert_int_equal(voice_rec_put(r, VOICE_REC_PERSONA, 2 * IN_RATE, persona, 3 * IN_RATE), 0);
  assert_int_equal(voice_rec_flush(r, 3 * IN_RATE), 0);
  voice_rec_cut(r, VOICE_REC_PERSONA, 3 * IN_RATE + IN_RATE / 2);
  assert_int_equal(voice_rec_close(r), 0);
  struct decoded d = decode(path);
  assert_int_equal(d.frames, 5 * OUT_RATE);
  size_t on = onset(d.pcm, 0, d.frames);
  assert_true(on + 240 >= OUT_RATE / 2 && on <= OUT_RATE / 2 + 240);
  assert_true(tone_at(d.pcm, 0, OUT_RATE / 2 + 4800, 3 * OUT_RATE / 2 - 4800, 440.0) > 0.4);
  assert_true(level(d.pcm, 0, 3 * OUT_RATE / 2 + 480, d.frames) < 0.01);
  on = onset(d.pcm, 1, d.frames);
  assert_true(on + 240 >= 2 * OUT_RATE && on <= 2 * OUT_RATE + 240);
  assert_true(tone_at(d.pcm, 1, 2 * OUT_RATE + 4800, 7 * OUT_RATE / 2 - 4800, 1000.0) > 0.4);
  assert_true(level(d.pcm, 1, 7 * OUT_RATE / 2 + 480, d.frames) < 0.01);
  assert_true(level(d.pcm, 1, 0, 2 * OUT_RATE - 480) < 0.01);
  free(d.pcm);
  free(rep);
  free(persona);
  unlink(path);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ogg_round_trip),    cmocka_unit_test(test_ogg_torn),
      cmocka_unit_test(test_ogg_write_failure), cmocka_unit_test(test_ogg_refusals),
      cmocka_unit_test(test_recorder_ogg),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
