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
 *   athos-voice serve --listen HOST:PORT [--key KEY]
 *                                         the OpenAI-compatible speech
 *                                         endpoints with these engines
 * Options: --sex female|male, --age N, --pace X (voice choice);
 *          --no-domain (the general language model only).
 * say, hear and loop use the HTTP providers when ATHOS_TTS_URL /
 * ATHOS_ASR_URL are set (asr_open_from_config, tts_open_from_config).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "util/dynbuf.h"
#include "util/log.h"
#include "voice/asr.h"
#include "voice/cutter.h"
#include "voice/pcm.h"
#include "voice/tts.h"
#include "voice/wav.h"

#define MAX_SECONDS 120
#define MAX_SAMPLES ((size_t)TTS_RATE * MAX_SECONDS)

struct opts {
  struct tts_traits traits;
  bool no_domain;
  const char *listen, *key; /* serve */
};

/* Synthesised audio, and when its first chunk came. */
struct pcmbuf {
  struct pcm_buf b;
  size_t chunks;
  double first_ms; /* now_ms clock */
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

/* Recognises the utterances in pcm (16 kHz) into text (space-joined), as
 * a call would: an open microphone before and after the speech. */
static int recognise(struct asr *a, const int16_t *pcm, size_t n, char *text, size_t cap,
                     double *end_ms)
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

/* Reads a WAV's first channel, resampled to 16 kHz. */
static int read_wav_fd(int fd, struct pcmbuf *out)
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

static struct asr *open_asr(const struct opts *o)
{
  struct asr_config c;
  asr_config_default(&c);
  if (o->no_domain)
    c.domain_lm = c.domain_vocab = NULL;
  struct asr *a = o->no_domain || o->listen ? asr_new(&c) : asr_open_from_config();
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

/* ---- serve: the OpenAI speech endpoints with the built-in engines ------- */

/* `athos-voice serve --listen HOST:PORT [--key KEY]` answers
 *   POST /v1/audio/transcriptions  multipart/form-data, a WAV in "file"
 *                                  -> {"text": "..."} (VAD + PocketSphinx)
 *   POST /v1/audio/speech          {"input", "voice", "response_format":
 *                                  "pcm" | "wav", "speed"} -> 24 kHz s16le
 *                                  mono, raw or WAV (Flite)
 * the protocol the HTTP providers (src/voice/asr_http.c, tts_http.c)
 * speak, so they are tested against real speech, and a self-hosted box can
 * run its speech on another machine. Errors are OpenAI's envelope
 * {"error": {"message": ...}}. With --key, "Authorization: Bearer KEY" is
 * required. The speech is synthesised whole before it is sent. */

#define SERVE_UPLOAD_MAX (16u << 20) /* a 60 s 48 kHz stereo WAV fits */
#define SERVE_JSON_MAX   (64u << 10)
#define SERVE_INPUT_MAX  4096  /* characters of "input", OpenAI's limit */
#define SERVE_RATE       24000 /* what OpenAI's "pcm" is */

struct server {
  struct tts *tts;
  struct asr *asr;
  pthread_mutex_t asr_mu; /* a decoder serves one request at a time */
  const char *key;
};

struct req {
  struct MHD_PostProcessor *pp;
  struct dynbuf body; /* the JSON body, or the uploaded file */
  bool too_big, have_file;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             void *data, size_t n)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(n, data, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(data);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  enum MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
  char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  return s ? reply(c, status, "application/json", s, strlen(s)) : MHD_NO;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
  return reply_json(c, status, json_pack("{s:{s:s}}", "error", "message", msg));
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *type, const char *enc,
                               const char *data, uint64_t off, size_t size)
{
  struct req *q = cls;
  (void)kind, (void)filename, (void)type, (void)enc, (void)off;
  if (strcmp(key, "file") != 0)
    return MHD_YES;
  q->have_file = true;
  if (size && dynbuf_addn(&q->body, data, size) != DYNBUF_OK)
    q->too_big = true;
  return MHD_YES;
}

/* The uploaded WAV, resampled to 16 kHz, through the VAD and the decoder. */
static enum MHD_Result transcribe(struct server *sv, struct MHD_Connection *c, struct req *q)
{
  struct pcmbuf b = {0};
  char text[8192];
  FILE *f = tmpfile();
  int rc = -1;
  pcm_buf_init(&b.b, MAX_SAMPLES);
  if (f && fwrite(dynbuf_ptr(&q->body), 1, dynbuf_len(&q->body), f) == dynbuf_len(&q->body) &&
      fflush(f) == 0 && read_wav_fd(fileno(f), &b) == 0) {
    pthread_mutex_lock(&sv->asr_mu);
    rc = recognise(sv->asr, b.b.s, b.b.n, text, sizeof text, NULL);
    pthread_mutex_unlock(&sv->asr_mu);
    rc = rc < 0 ? -2 : 0;
  }
  if (f)
    fclose(f);
  pcm_buf_free(&b.b);
  if (rc == -1)
    return reply_error(c, MHD_HTTP_BAD_REQUEST, "file must be a 16-bit PCM WAV");
  if (rc == -2)
    return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "recognition failed");
  return reply_json(c, MHD_HTTP_OK, json_pack("{s:s}", "text", text));
}

/* 16 kHz samples to 24 kHz little-endian bytes, after a WAV header if wav. */
static uint8_t *speech_bytes(const struct pcmbuf *b, bool wav, size_t *len)
{
  struct pcm_resampler *rs = pcm_resampler_new(TTS_RATE, SERVE_RATE);
  size_t cap = rs ? pcm_resampler_max_out(rs, b->b.n) + pcm_resampler_max_out(rs, 0) : 0;
  int16_t *up = rs ? malloc((cap + 1) * sizeof *up) : NULL;
  uint8_t *out = NULL;
  if (up) {
    size_t m = pcm_resampler_process(rs, b->b.s, b->b.n, up, cap);
    m += pcm_resampler_flush(rs, up + m, cap - m);
    size_t head = wav ? WAV_HEADER_BYTES : 0;
    if ((out = malloc(head + 2 * m + 1))) {
      if (wav) {
        static const uint8_t tmpl
            [WAV_HEADER_BYTES] = {'R',  'I',  'F', 'F', 0,    0,    0, 0, 'W', 'A', 'V', 'E',
                                  'f',  'm',  't', ' ', 16,   0,    0, 0, 1,   0,   1,   0,
                                  0xC0, 0x5D, 0,   0,   0x80, 0xBB, 0, 0, 2,   0,   16,  0,
                                  'd',  'a',  't', 'a', 0,    0,    0, 0}; /* 24000 Hz mono 16-bit */
        uint32_t data = (uint32_t)(2 * m), riff = data + 36;
        memcpy(out, tmpl, sizeof tmpl);
        for (int i = 0; i < 4; i++) {
          out[4 + i] = (uint8_t)(riff >> (8 * i));
          out[40 + i] = (uint8_t)(data >> (8 * i));
        }
      }
      pcm_to_le(up, m, out + head);
      *len = head + 2 * m;
    }
  }
  free(up);
  pcm_resampler_free(rs);
  return out;
}

static bool is_male_voice(const char *v)
{
  static const char *const male[] = {"rms", "awb", "onyx", "echo", "fable", "ash", NULL};
  for (int i = 0; male[i]; i++)
    if (strcmp(v, male[i]) == 0)
      return true;
  return false;
}

static enum MHD_Result speak(struct server *sv, struct MHD_Connection *c, struct req *q)
{
  json_t *j = json_loadb(dynbuf_ptr(&q->body), dynbuf_len(&q->body), 0, NULL);
  const char *input = json_string_value(json_object_get(j, "input"));
  const char *voice = json_string_value(json_object_get(j, "voice"));
  const char *fmt = json_string_value(json_object_get(j, "response_format"));
  json_t *speed = json_object_get(j, "speed");
  const char *bad = !json_is_object(j)                ? "body must be JSON"
                    : !input || !*input               ? "input is required"
                    : strlen(input) > SERVE_INPUT_MAX ? "input is too long"
                    : fmt && strcmp(fmt, "pcm") && strcmp(fmt, "wav")
                        ? "response_format: pcm or wav"
                    : speed && (!json_is_number(speed) || json_number_value(speed) < 0.25 ||
                                json_number_value(speed) > 4.0)
                        ? "speed must be 0.25..4"
                        : NULL;
  if (bad) {
    json_decref(j);
    return reply_error(c, MHD_HTTP_BAD_REQUEST, bad);
  }
  struct opts o = {.traits = {.sex = voice && is_male_voice(voice) ? TTS_SEX_MALE : TTS_SEX_FEMALE,
                              .pace = speed ? json_number_value(speed) : 1.0}};
  struct pcmbuf b = {0};
  size_t len = 0;
  uint8_t *bytes = NULL;
  bool wav = fmt && strcmp(fmt, "wav") == 0;
  pcm_buf_init(&b.b, MAX_SAMPLES);
  if (synth(sv->tts, &o, input, &b) == 0)
    bytes = speech_bytes(&b, wav, &len);
  pcm_buf_free(&b.b);
  json_decref(j); /* input, voice and fmt are gone with it */
  if (!bytes)
    return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "synthesis failed");
  return reply(c, MHD_HTTP_OK, wav ? "audio/wav" : "audio/pcm", bytes, len);
}

static bool authorised(const struct server *sv, struct MHD_Connection *c)
{
  char want[512];
  const char *got = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (!sv->key)
    return true;
  snprintf(want, sizeof want, "Bearer %s", sv->key);
  return got && strcmp(got, want) == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
  struct server *sv = cls;
  struct req *q = *con_cls;
  bool asr = strcmp(url, "/v1/audio/transcriptions") == 0;
  (void)version;
  if (!q) { /* headers only: check, then set up for the body */
    if (!asr && strcmp(url, "/v1/audio/speech") != 0)
      return reply_error(c, MHD_HTTP_NOT_FOUND, "no such endpoint");
    if (strcmp(method, "POST") != 0)
      return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only");
    if (!authorised(sv, c))
      return reply_error(c, MHD_HTTP_UNAUTHORIZED, "invalid API key");
    if (!(q = calloc(1, sizeof *q)))
      return MHD_NO;
    dynbuf_init(&q->body, asr ? SERVE_UPLOAD_MAX : SERVE_JSON_MAX);
    *con_cls = q;
    if (asr && !(q->pp = MHD_create_post_processor(c, 64 * 1024, on_part, q)))
      return reply_error(c, MHD_HTTP_BAD_REQUEST, "multipart/form-data expected");
    return MHD_YES;
  }
  if (*size) {
    if (q->pp)
      MHD_post_process(q->pp, data, *size);
    else if (dynbuf_addn(&q->body, data, *size) != DYNBUF_OK)
      q->too_big = true;
    *size = 0;
    return MHD_YES;
  }
  if (q->too_big)
    return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request too large");
  if (asr && !q->have_file)
    return reply_error(c, MHD_HTTP_BAD_REQUEST, "file is required");
  return asr ? transcribe(sv, c, q) : speak(sv, c, q);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode why)
{
  struct req *q = *con_cls;
  (void)cls, (void)c, (void)why;
  if (!q)
    return;
  if (q->pp)
    MHD_destroy_post_processor(q->pp);
  dynbuf_free(&q->body);
  free(q);
  *con_cls = NULL;
}

static volatile sig_atomic_t g_stop;
static void on_signal(int sig)
{
  (void)sig;
  g_stop = 1;
}

/* Runs until SIGINT or SIGTERM. Prints "listening on HOST:PORT" once ready
 * (PORT 0 picks a free one, which the line names). */
static int cmd_serve(struct tts *t, struct asr *a, const char *listen, const char *key)
{
  struct server sv = {.tts = t, .asr = a, .key = key};
  struct sockaddr_in sin = {.sin_family = AF_INET};
  char host[64];
  const char *colon = strrchr(listen, ':');
  char *end;
  long port = colon ? strtol(colon + 1, &end, 10) : -1;
  if (!colon || *end || port < 0 || port > 65535 || (size_t)(colon - listen) >= sizeof host) {
    fprintf(stderr, "athos-voice: --listen HOST:PORT\n");
    return -1;
  }
  snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
  sin.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
    fprintf(stderr, "athos-voice: %s is not an IPv4 address\n", host);
    return -1;
  }
  pthread_mutex_init(&sv.asr_mu, NULL);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0, NULL,
      NULL, on_request, &sv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
      MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
      MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "athos-voice: cannot listen on %s\n", listen);
    pthread_mutex_destroy(&sv.asr_mu);
    return -1;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  printf("listening on %s:%u\n", host, info ? info->port : (unsigned)port);
  fflush(stdout);
  while (!g_stop)
    pause();
  MHD_stop_daemon(d);
  pthread_mutex_destroy(&sv.asr_mu);
  return 0;
}

static int parse_opts(int *argc, char **argv, struct opts *o)
{
  int w = 1;
  for (int i = 1; i < *argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--no-domain") == 0) {
      o->no_domain = true;
    } else if (strcmp(a, "--sex") == 0 && i + 1 < *argc) {
      const char *s = argv[++i];
      o->traits.sex = strcmp(s, "male") == 0 ? TTS_SEX_MALE : TTS_SEX_FEMALE;
    } else if (strcmp(a, "--listen") == 0 && i + 1 < *argc) {
      o->listen = argv[++i];
    } else if (strcmp(a, "--key") == 0 && i + 1 < *argc) {
      o->key = argv[++i];
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
    fprintf(stderr, "usage: athos-voice say|hear|loop [--sex S] [--age N] [--pace X] "
                    "[--no-domain] ARGS\n"
                    "       athos-voice serve --listen HOST:PORT [--key KEY]\n");
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
  } else if (strcmp(cmd, "serve") == 0 && argc == 2 && o.listen) {
    t = tts_new(); /* the built-in engines, whatever ATHOS_*_URL say */
    a = open_asr(&o);
    rc = t && a && cmd_serve(t, a, o.listen, o.key) == 0 ? 0 : 1;
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
