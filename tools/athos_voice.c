/*
 * athos_voice.c — the voice building blocks end to end, outside the
 * server: synthesise a sentence (TTS), cut it into utterances (VAD), and
 * recognise them (ASR). Used by hand, by tests/unit/test_voice.c's
 * expectations, and by bench/voice.sh to measure the word error rate.
 *
 *   athos-voice say [opts] TEXT OUT.wav   synthesise to a 16 kHz WAV
 *   athos-voice hear [opts] IN.wav        recognise a WAV (any rate, mono
 *                                         or the rep channel of a recording)
 *   athos-voice loop [opts] [TEXT]        synthesise then recognise TEXT, or
 *                                         each line of stdin: prints one
 *                                         line of recognised words per input
 *   athos-voice ogg IN.wav OUT.ogg        a recording (16-bit WAV, an Opus
 *                                         rate) as Ogg Opus, as the server
 *                                         writes it with
 *                                         ATHOS_RECORDING_FORMAT=ogg; prints
 *                                         the sizes and the encoding CPU
 *   athos-voice serve --listen HOST:PORT [--key KEY] [test knobs]
 *                                         the OpenAI-compatible speech
 *                                         endpoints with these engines
 *                                         (voice_serve.c)
 * Options: --sex female|male, --age N, --pace X (voice choice);
 *          --no-domain (the general language model only).
 * serve's test knobs (a slow or failing provider): --realtime X (speech
 * sent at X times real time), --stall-ms N (a pause after a line's first
 * chunk), --fail K [--fail-status S] [--retry-after SEC] (the first K
 * requests answered with S, 503 by default).
 * say, hear and loop use the HTTP providers when ATHOS_TTS_URL /
 * ATHOS_ASR_URL are set (asr_open_from_config, tts_open_from_config).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "athos_voice.h"
#include "util/log.h"
#include "voice/asr.h"
#include "voice/cutter.h"
#include "voice/ogg_opus.h"
#include "voice/pcm.h"
#include "voice/tts.h"
#include "voice/wav.h"

struct opts {
  struct tts_traits traits;
  bool no_domain;
  struct serve_opts serve;
};

static double now_ms(void);

static bool buf_append(void *arg, const int16_t *pcm, size_t n, bool last)
{
  struct pcmbuf *p = arg;
  (void)last;
  if (n > 0 && p->chunks++ == 0)
    p->first_ms = now_ms();
  return pcm_buf_append(&p->b, pcm, n) == 0;
}

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int synth(struct tts *t, const struct opts *o, const char *text, struct pcmbuf *out)
{
  struct tts_voice v;
  tts_voice_choose(&o->traits, &v);
  out->b.n = 0;
  out->chunks = 0;
  return tts_synth(t, &v, text, buf_append, out) == 0 ? 0 : -1;
}

/* ---- recognition: VAD cuts, ASR per utterance --------------------------- */

struct heard {
  struct asr *asr;
  char *text;
  size_t used, cap;
  int rc;
  double end_ms; /* time spent in asr_end(): what is left after the speech
                    when the audio is fed while the rep talks */
};

static void on_cut(void *arg, const struct voice_cut *cut)
{
  struct heard *h = arg;
  char words[1024];
  if (cut->event != VOICE_CUT_UTTERANCE || h->rc < 0)
    return;
  if (asr_begin(h->asr) < 0 || asr_feed(h->asr, cut->pcm, cut->n) < 0) {
    h->rc = -1;
    return;
  }
  double t0 = now_ms();
  if (asr_end(h->asr, words, sizeof words) < 0) {
    h->rc = -1;
    return;
  }
  h->end_ms += now_ms() - t0;
  if (words[0] && h->used + strlen(words) + 2 < h->cap)
    h->used +=
        (size_t)snprintf(h->text + h->used, h->cap - h->used, "%s%s", h->used ? " " : "", words);
}

int recognise(struct asr *a, const int16_t *pcm, size_t n, char *text, size_t cap, double *end_ms)
{
  static const int16_t silence[TTS_RATE];
  struct vad_config vc;
  vad_config_default(&vc);
  struct voice_cutter *k = voice_cutter_new(&vc);
  struct heard h = {.asr = a, .text = text, .cap = cap};
  if (!k)
    return -1;
  text[0] = '\0';
  voice_cutter_feed(k, silence, TTS_RATE / 2, on_cut, &h);
  voice_cutter_feed(k, pcm, n, on_cut, &h);
  voice_cutter_feed(k, silence, TTS_RATE, on_cut, &h);
  voice_cutter_feed(k, silence, TTS_RATE, on_cut, &h);
  voice_cutter_free(k);
  if (end_ms)
    *end_ms = h.end_ms;
  return h.rc;
}

/* ---- WAV files ---------------------------------------------------------- */

static int write_wav(const char *path, const struct pcmbuf *b)
{
  struct wav_writer *w = wav_writer_open(path, TTS_RATE, 1);
  if (!w)
    return -1;
  int rc = wav_writer_write(w, b->b.s, b->b.n);
  return wav_writer_close(w) < 0 ? -1 : rc;
}

int read_wav_fd(int fd, struct pcmbuf *out)
{
  int rc = -1;
  struct stat st;
  struct wav_info info;
  uint8_t *raw = NULL;
  int16_t *mono = NULL, *conv = NULL;
  struct pcm_resampler *rs = NULL;
  if (fd < 0 || fstat(fd, &st) < 0 || wav_read_info(fd, (uint64_t)st.st_size, &info) < 0)
    goto out;
  size_t frames = (size_t)(info.data_bytes / (2u * info.channels));
  if (frames > (size_t)info.rate * MAX_SECONDS)
    goto out;
  raw = malloc(info.data_bytes + 1);
  mono = malloc((frames + 1) * sizeof *mono);
  if (!raw || !mono ||
      pread(fd, raw, info.data_bytes, (off_t)info.data_offset) != (ssize_t)info.data_bytes)
    goto out;
  for (size_t i = 0; i < frames; i++)
    pcm_from_le(raw + i * 2u * info.channels, 1, &mono[i]);
  rs = pcm_resampler_new(info.rate, TTS_RATE);
  if (!rs)
    goto out;
  size_t cap = pcm_resampler_max_out(rs, frames) + pcm_resampler_max_out(rs, 0);
  conv = malloc(cap * sizeof *conv);
  if (!conv)
    goto out;
  size_t m = pcm_resampler_process(rs, mono, frames, conv, cap);
  m += pcm_resampler_flush(rs, conv + m, cap - m);
  out->b.n = 0;
  rc = pcm_buf_append(&out->b, conv, m);
out:
  pcm_resampler_free(rs);
  free(conv);
  free(mono);
  free(raw);
  return rc;
}

static int read_wav(const char *path, struct pcmbuf *out)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  int rc = read_wav_fd(fd, out);
  if (fd >= 0)
    close(fd);
  return rc;
}

/* ---- commands ----------------------------------------------------------- */

static double cpu_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* `ogg IN.wav OUT.ogg`: the WAV's samples through the recording's Ogg
 * Opus writer, a second at a time. */
static int cmd_ogg(const char *in, const char *out)
{
  int rc = -1;
  int fd = open(in, O_RDONLY | O_CLOEXEC);
  struct stat st;
  struct wav_info info;
  uint8_t *raw = NULL;
  int16_t *pcm = NULL;
  struct ogg_opus_writer *w = NULL;
  if (fd < 0 || fstat(fd, &st) < 0 || wav_read_info(fd, (uint64_t)st.st_size, &info) < 0) {
    fprintf(stderr, "athos-voice: %s is not a 16-bit WAV\n", in);
    goto out;
  }
  size_t step = info.rate; /* frames a second */
  raw = malloc(step * info.channels * 2);
  pcm = malloc(step * info.channels * sizeof *pcm);
  if (raw == NULL || pcm == NULL ||
      (w = ogg_opus_writer_open(out, info.rate, info.channels)) == NULL)
    goto out;
  uint64_t frames = info.data_bytes / (2u * info.channels);
  double cpu = 0;
  for (uint64_t done = 0; done < frames;) {
    size_t n = frames - done < step ? (size_t)(frames - done) : step;
    size_t bytes = n * info.channels * 2;
    if (pread(fd, raw, bytes, (off_t)(info.data_offset + done * info.channels * 2)) !=
        (ssize_t)bytes)
      goto out;
    pcm_from_le(raw, n * info.channels, pcm);
    double t0 = cpu_ms();
    if (ogg_opus_writer_write(w, pcm, n) < 0)
      goto out;
    cpu += cpu_ms() - t0;
    done += n;
  }
  double t0 = cpu_ms();
  int crc = ogg_opus_writer_close(w);
  w = NULL;
  cpu += cpu_ms() - t0;
  struct stat ost;
  if (crc < 0 || stat(out, &ost) < 0)
    goto out;
  double seconds = (double)frames / info.rate;
  printf("%s: %.1f s, %u channel(s) at %u Hz, %lld bytes; %s: %lld bytes (%.1fx smaller, "
         "%.0f kB a minute); encoding: %.2f ms CPU per second of audio\n",
         in, seconds, info.channels, info.rate, (long long)st.st_size, out, (long long)ost.st_size,
         (double)st.st_size / (double)ost.st_size,
         seconds > 0 ? (double)ost.st_size * 60 / seconds / 1000 : 0.0,
         seconds > 0 ? cpu / seconds : 0.0);
  rc = 0;
out:
  ogg_opus_writer_close(w);
  free(pcm);
  free(raw);
  if (fd >= 0)
    close(fd);
  return rc;
}

static struct asr *open_asr(const struct opts *o)
{
  struct asr_config c;
  asr_config_default(&c);
  if (o->no_domain)
    c.domain_lm = c.domain_vocab = NULL;
  struct asr *a = o->no_domain || o->serve.listen ? asr_new(&c) : asr_open_from_config();
  if (!a)
    fprintf(stderr, "athos-voice: cannot load the recogniser\n");
  return a;
}

static int cmd_loop(struct tts *t, struct asr *a, const struct opts *o, const char *text)
{
  struct pcmbuf b = {0};
  char line[2048], heard[4096];
  pcm_buf_init(&b.b, MAX_SAMPLES);
  int rc = 0;
  while (rc == 0) {
    if (text) {
      snprintf(line, sizeof line, "%s", text);
    } else if (!fgets(line, sizeof line, stdin)) {
      break;
    }
    line[strcspn(line, "\n")] = '\0';
    double t0 = now_ms();
    if (synth(t, o, line, &b) < 0) {
      rc = -1;
      break;
    }
    double t1 = now_ms();
    double end_ms = 0;
    if (recognise(a, b.b.s, b.b.n, heard, sizeof heard, &end_ms) < 0) {
      rc = -1;
      break;
    }
    double t2 = now_ms();
    printf("%s\n", heard);
    fflush(stdout);
    fprintf(stderr,
            "audio %.2f s, tts %.0f ms (first of %zu chunks at %.0f ms), asr %.0f ms "
            "(final pass %.0f ms)\n",
            (double)b.b.n / TTS_RATE, t1 - t0, b.chunks, b.first_ms - t0, t2 - t1, end_ms);
    if (text)
      break;
  }
  pcm_buf_free(&b.b);
  return rc;
}

/* A number in [lo, hi], or -1. */
static int num(const char *s, double lo, double hi, double *out)
{
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end || !(v >= lo && v <= hi))
    return -1;
  *out = v;
  return 0;
}

/* serve's test knobs; 1 when a is not one of them. */
static int serve_opt(const char *a, const char *v, struct serve_opts *so)
{
  double x;
  if (strcmp(a, "--realtime") == 0 && num(v, 0.01, 100, &x) == 0)
    so->realtime = x;
  else if (strcmp(a, "--stall-ms") == 0 && num(v, 0, 600000, &x) == 0)
    so->stall_ms = (long)x;
  else if (strcmp(a, "--fail") == 0 && num(v, 0, 1e9, &x) == 0)
    so->fail = (long)x;
  else if (strcmp(a, "--fail-status") == 0 && num(v, 400, 599, &x) == 0)
    so->fail_status = (unsigned)x;
  else if (strcmp(a, "--retry-after") == 0 && num(v, 0, 86400, &x) == 0)
    so->retry_after = (long)x;
  else if (strcmp(a, "--realtime") == 0 || strcmp(a, "--stall-ms") == 0 ||
           strcmp(a, "--fail") == 0 || strcmp(a, "--fail-status") == 0 ||
           strcmp(a, "--retry-after") == 0)
    return -1;
  else
    return 1;
  return 0;
}

static int parse_opts(int *argc, char **argv, struct opts *o)
{
  int w = 1, k;
  o->serve.fail_status = 503;
  o->serve.retry_after = -1;
  for (int i = 1; i < *argc; i++) {
    const char *a = argv[i];
    if (i + 1 < *argc && (k = serve_opt(a, argv[i + 1], &o->serve)) <= 0) {
      if (k < 0)
        return -1;
      i++;
    } else if (strcmp(a, "--no-domain") == 0) {
      o->no_domain = true;
    } else if (strcmp(a, "--sex") == 0 && i + 1 < *argc) {
      const char *s = argv[++i];
      o->traits.sex = strcmp(s, "male") == 0 ? TTS_SEX_MALE : TTS_SEX_FEMALE;
    } else if (strcmp(a, "--listen") == 0 && i + 1 < *argc) {
      o->serve.listen = argv[++i];
    } else if (strcmp(a, "--key") == 0 && i + 1 < *argc) {
      o->serve.key = argv[++i];
    } else if (strcmp(a, "--age") == 0 && i + 1 < *argc) {
      o->traits.age = (int)strtol(argv[++i], NULL, 10);
    } else if (strcmp(a, "--pace") == 0 && i + 1 < *argc) {
      o->traits.pace = strtod(argv[++i], NULL);
    } else if (strncmp(a, "--", 2) == 0) {
      return -1;
    } else {
      argv[w++] = argv[i];
    }
  }
  *argc = w;
  return 0;
}

int main(int argc, char **argv)
{
  struct opts o = {0};
  int rc = 2;
  log_init(); /* ATHOS_LOG_LEVEL */
  if (parse_opts(&argc, argv, &o) < 0 || argc < 2) {
    fprintf(stderr,
            "usage: athos-voice say|hear|loop [--sex S] [--age N] [--pace X] "
            "[--no-domain] ARGS\n"
            "       athos-voice ogg IN.wav OUT.ogg\n"
            "       athos-voice serve --listen HOST:PORT [--key KEY] [--realtime X]\n"
            "             [--stall-ms N] [--fail K [--fail-status S] [--retry-after SEC]]\n");
    return 2;
  }
  const char *cmd = argv[1];
  struct tts *t = NULL;
  struct asr *a = NULL;
  struct pcmbuf b = {0};
  pcm_buf_init(&b.b, MAX_SAMPLES);
  if (strcmp(cmd, "say") == 0 && argc == 4) {
    t = tts_open_from_config();
    rc = t && synth(t, &o, argv[2], &b) == 0 && write_wav(argv[3], &b) == 0 ? 0 : 1;
  } else if (strcmp(cmd, "hear") == 0 && argc == 3) {
    char heard[8192];
    a = open_asr(&o);
    rc = a && read_wav(argv[2], &b) == 0 &&
                 recognise(a, b.b.s, b.b.n, heard, sizeof heard, NULL) == 0
             ? (printf("%s\n", heard), 0)
             : 1;
  } else if (strcmp(cmd, "ogg") == 0 && argc == 4) {
    rc = cmd_ogg(argv[2], argv[3]) == 0 ? 0 : 1;
  } else if (strcmp(cmd, "serve") == 0 && argc == 2 && o.serve.listen) {
    t = tts_new(); /* the built-in engines, whatever ATHOS_*_URL say */
    a = open_asr(&o);
    rc = t && a && cmd_serve(t, a, &o.serve) == 0 ? 0 : 1;
  } else if (strcmp(cmd, "loop") == 0 && argc <= 3) {
    t = tts_open_from_config();
    a = open_asr(&o);
    rc = t && a && cmd_loop(t, a, &o, argc == 3 ? argv[2] : NULL) == 0 ? 0 : 1;
  } else {
    fprintf(stderr, "athos-voice: bad command\n");
  }
  if (rc == 1)
    fprintf(stderr, "athos-voice: %s failed\n", cmd);
  pcm_buf_free(&b.b);
  asr_free(a);
  tts_free(t);
  return rc;
}
