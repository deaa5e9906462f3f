/*
 * voice_serve.c — `athos-voice serve`: the OpenAI-compatible speech
 * endpoints with the built-in engines, so that the HTTP providers
 * (src/voice/asr_http.c, tts_http.c) are tested against real speech, and a
 * self-hosted box can run its speech on another machine:
 *
 *   POST /v1/audio/transcriptions  multipart/form-data, a WAV in "file"
 *                                  -> {"text": "..."} (VAD + PocketSphinx)
 *   POST /v1/audio/speech          {"input", "voice", "response_format":
 *                                  "pcm" | "wav", "speed"} -> 24 kHz s16le
 *                                  mono, raw or WAV (Flite), streamed
 *   GET  /stats                    {"requests": n, "streaming": n}: the
 *                                  requests to the two endpoints so far,
 *                                  the speech answers being sent now
 *
 * Errors are OpenAI's envelope {"error": {"message": ...}}. With --key,
 * "Authorization: Bearer KEY" is required.
 *
 * Speech goes out as it is made: a thread per answer runs Flite, its
 * chunks are resampled to 24 kHz into the answer's buffer, and MHD's
 * content reader (on the connection's own thread: thread per connection)
 * sends them, chunked, waiting on a condition variable for more. A WAV
 * answer starts with a header whose sizes are the streaming convention's
 * 0xFFFFFFFF. A client that goes away ends the answer, which stops the
 * synthesis at its next chunk; so does the server's shutdown.
 *
 * Test knobs, for clients that must cope with a slow GPU box or a busy
 * hosted API: --realtime X sends speech at X times real time (0.5: half
 * speed, as a synthesis slower than real time would), --stall-ms N pauses
 * N ms after a line's first chunk, and --fail K [--fail-status S]
 * [--retry-after SEC] answers the first K requests with S (503) instead.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "athos_voice.h"
#include "util/dynbuf.h"
#include "util/timefmt.h"
#include "voice/wav.h"

#define SERVE_UPLOAD_MAX (16u << 20) /* a 60 s 48 kHz stereo WAV fits */
#define SERVE_JSON_MAX   (64u << 10)
#define SERVE_INPUT_MAX  4096  /* characters of "input", OpenAI's limit */
#define SERVE_RATE       24000 /* what OpenAI's "pcm" is */
#define SERVE_BYTES_MS   (SERVE_RATE * 2 / 1000)
#define SERVE_PIECE      (20 * SERVE_BYTES_MS) /* paced speech goes out 20 ms at a time */
#define SERVE_WAIT_MS    100                   /* waits re-check a hang-up and the shutdown */
#define SERVE_BLOCK      2048                  /* samples resampled at a time */
#define SERVE_SPEECH_MAX ((size_t)WAV_HEADER_BYTES + (size_t)SERVE_RATE * 2 * MAX_SECONDS)

struct server {
  struct tts *tts;
  struct asr *asr;
  pthread_mutex_t asr_mu; /* a decoder serves one request at a time */
  const struct serve_opts *o;
  atomic_bool stopping;
  atomic_long requests, streaming;
};

struct req {
  struct MHD_PostProcessor *pp;
  struct dynbuf body; /* the JSON body, or the uploaded file */
  bool too_big, have_file;
  bool fail; /* --fail: answer with the failure once the body is in */
};

/* ---- replies ------------------------------------------------------------ */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             void *data, size_t n, long retry_after)
{
  char ra[24];
  struct MHD_Response *r = MHD_create_response_from_buffer(n, data, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(data);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  if (retry_after >= 0) {
    snprintf(ra, sizeof ra, "%ld", retry_after);
    MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
  }
  enum MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, json_t *j,
                                  long retry_after)
{
  char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  return s ? reply(c, status, "application/json", s, strlen(s), retry_after) : MHD_NO;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
  return reply_json(c, status, json_pack("{s:{s:s}}", "error", "message", msg), -1);
}

/* ---- transcriptions ----------------------------------------------------- */

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
  return reply_json(c, MHD_HTTP_OK, json_pack("{s:s}", "text", text), -1);
}

/* ---- speech, streamed ----------------------------------------------------- */

/* One answer being made and sent. The synthesis thread appends to bytes;
 * the connection's thread reads from it; mu guards both, cv says "more". */
struct speech {
  struct server *sv;
  int fd; /* the client's socket, to notice a hang-up while waiting */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t th;
  struct dynbuf bytes; /* the answer so far: a WAV header, then 24 kHz s16le */
  size_t head;         /* header bytes, sent at once */
  size_t first_end;    /* where the first chunk of audio ends; 0: none yet */
  bool done, failed, cancelled;
  /* pacing (connection thread only): audio byte k may go out at
   * t0 + k / (realtime * SERVE_BYTES_MS) ms; the stall holds everything
   * until hold_until and moves t0 by its length */
  int64_t t0, hold_until;
  bool stalled;
  /* synthesis (its thread only) */
  struct tts_voice voice;
  char *text;
  struct pcm_resampler *rs;
  int16_t *up;
  uint8_t *le;
  size_t up_cap;
};

/* Appends 24 kHz samples as bytes. False stops the synthesis: over the
 * ceiling, the answer ended (client gone) or the server stopping. */
static bool speech_put(struct speech *sp, const int16_t *s, size_t n)
{
  pcm_to_le(s, n, sp->le);
  pthread_mutex_lock(&sp->mu);
  bool ok = !sp->failed && (n == 0 || dynbuf_addn(&sp->bytes, sp->le, 2 * n) == DYNBUF_OK);
  if (!ok)
    sp->failed = true;
  else if (sp->first_end == 0 && dynbuf_len(&sp->bytes) > sp->head)
    sp->first_end = dynbuf_len(&sp->bytes);
  pthread_cond_broadcast(&sp->cv);
  bool go_on = ok && !sp->cancelled && !atomic_load(&sp->sv->stopping);
  pthread_mutex_unlock(&sp->mu);
  return go_on;
}

/* Flite's chunk (16 kHz), resampled to 24 kHz block by block. */
static bool speech_chunk(void *arg, const int16_t *pcm, size_t n, bool last)
{
  struct speech *sp = arg;
  while (n > 0) {
    size_t k = n < SERVE_BLOCK ? n : SERVE_BLOCK;
    size_t m = pcm_resampler_process(sp->rs, pcm, k, sp->up, sp->up_cap);
    if (!speech_put(sp, sp->up, m))
      return false;
    pcm += k;
    n -= k;
  }
  if (last)
    return speech_put(sp, sp->up, pcm_resampler_flush(sp->rs, sp->up, sp->up_cap));
  pthread_mutex_lock(&sp->mu);
  bool go_on = !sp->cancelled && !atomic_load(&sp->sv->stopping);
  pthread_mutex_unlock(&sp->mu);
  return go_on;
}

static void *speech_run(void *arg)
{
  struct speech *sp = arg;
  int rc = tts_synth(sp->sv->tts, &sp->voice, sp->text, speech_chunk, sp);
  pthread_mutex_lock(&sp->mu);
  sp->done = true;
  sp->failed |= rc != 0;
  pthread_cond_broadcast(&sp->cv);
  pthread_mutex_unlock(&sp->mu);
  return NULL;
}

/* The streaming convention's header: sizes unknown (0xFFFFFFFF). */
static const uint8_t wav_head[WAV_HEADER_BYTES] = {
    'R',  'I',  'F', 'F', 0xFF, 0xFF, 0xFF, 0xFF, 'W',  'A',  'V', 'E', 'f',  'm',  't',  ' ',
    16,   0,    0,   0,   1,    0,    1,    0,    0xC0, 0x5D, 0,   0, /* 24000 Hz mono */
    0x80, 0xBB, 0,   0,   2,    0,    16,   0,    'd',  'a',  't', 'a', 0xFF, 0xFF, 0xFF, 0xFF};

static void speech_free_memory(struct speech *sp)
{
  dynbuf_free(&sp->bytes);
  pcm_resampler_free(sp->rs);
  free(sp->up);
  free(sp->le);
  free(sp->text);
  free(sp);
}

/* MHD is done with the answer (sent, client gone, or shutdown): stop the
 * synthesis, wait for its thread, free. Accepts NULL. */
static void speech_free(void *cls)
{
  struct speech *sp = cls;
  if (!sp)
    return;
  pthread_mutex_lock(&sp->mu);
  sp->cancelled = true;
  pthread_cond_broadcast(&sp->cv);
  pthread_mutex_unlock(&sp->mu);
  pthread_join(sp->th, NULL); /* Flite stops at its next chunk */
  atomic_fetch_sub(&sp->sv->streaming, 1);
  pthread_cond_destroy(&sp->cv);
  pthread_mutex_destroy(&sp->mu);
  speech_free_memory(sp);
}

/* Starts the synthesis of text. NULL when it cannot (out of memory). */
static struct speech *speech_start(struct server *sv, struct MHD_Connection *c,
                                   const struct tts_traits *traits, const char *text, bool wav)
{
  struct speech *sp = calloc(1, sizeof *sp);
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (!sp)
    return NULL;
  sp->sv = sv;
  sp->fd = ci ? ci->connect_fd : -1;
  sp->t0 = time_mono_ms();
  tts_voice_choose(traits, &sp->voice);
  dynbuf_init(&sp->bytes, SERVE_SPEECH_MAX);
  sp->rs = pcm_resampler_new(TTS_RATE, SERVE_RATE);
  sp->up_cap =
      sp->rs ? pcm_resampler_max_out(sp->rs, SERVE_BLOCK) + pcm_resampler_max_out(sp->rs, 0) : 0;
  sp->up = malloc((sp->up_cap + 1) * sizeof *sp->up);
  sp->le = malloc(2 * sp->up_cap + 2);
  sp->text = strdup(text);
  if (!sp->rs || !sp->up || !sp->le || !sp->text ||
      (wav && dynbuf_addn(&sp->bytes, wav_head, sizeof wav_head) != DYNBUF_OK))
    goto fail;
  sp->head = dynbuf_len(&sp->bytes);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_mutex_init(&sp->mu, NULL);
  pthread_cond_init(&sp->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&sp->th, NULL, speech_run, sp) != 0) {
    pthread_cond_destroy(&sp->cv);
    pthread_mutex_destroy(&sp->mu);
    goto fail;
  }
  atomic_fetch_add(&sv->streaming, 1);
  return sp;
fail:
  speech_free_memory(sp);
  return NULL;
}

/* The client closed its side (it stopped reading the answer). */
static bool hung_up(const struct speech *sp)
{
  struct pollfd p = {.fd = sp->fd, .events = POLLRDHUP};
  return sp->fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Waits on cv until `until` (mono ms) or SERVE_WAIT_MS, whichever is
 * first. Called with mu held. */
static void speech_wait(struct speech *sp, int64_t until)
{
  int64_t now = time_mono_ms(), ms = until - now;
  struct timespec ts;
  ms = ms < 1 ? 1 : ms > SERVE_WAIT_MS ? SERVE_WAIT_MS : ms;
  clock_gettime(CLOCK_MONOTONIC, &ts); /* cv runs on this clock */
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
  ts.tv_nsec %= 1000000000L;
  pthread_cond_timedwait(&sp->cv, &sp->mu, &ts);
}

/* How far the answer may have gone out by now: all that was made, less
 * what the pacing holds back. Sets *next to when more may go. Called with
 * mu held. */
static size_t speech_allowed(struct speech *sp, uint64_t pos, int64_t now, int64_t *next)
{
  const struct serve_opts *o = sp->sv->o;
  size_t have = dynbuf_len(&sp->bytes);
  *next = now + SERVE_WAIT_MS;
  if (o->stall_ms > 0 && !sp->stalled && sp->first_end > 0 && pos >= sp->first_end) {
    sp->stalled = true; /* the pause after the first chunk, once; the pace resumes after it */
    sp->hold_until = now + o->stall_ms;
    sp->t0 += o->stall_ms;
  }
  if (now < sp->hold_until) {
    *next = sp->hold_until;
    return (size_t)pos;
  }
  if (o->realtime <= 0)
    return have;
  double rate = o->realtime * SERVE_BYTES_MS; /* bytes per ms */
  double audio = (double)(now - sp->t0) * rate;
  size_t paced = sp->head + (audio > 0 ? (size_t)audio & ~(size_t)1 : 0);
  *next = sp->t0 + (int64_t)((double)(pos + SERVE_PIECE - sp->head) / rate);
  return paced < have ? paced : have;
}

/* MHD's content reader: blocks (this is the connection's own thread)
 * until some of the answer may go out, or it ended. */
static ssize_t speech_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct speech *sp = cls;
  ssize_t rc;
  pthread_mutex_lock(&sp->mu);
  for (;;) {
    if (sp->failed || atomic_load(&sp->sv->stopping) || hung_up(sp)) {
      rc = MHD_CONTENT_READER_END_WITH_ERROR;
      break;
    }
    int64_t now = time_mono_ms(), next;
    size_t have = dynbuf_len(&sp->bytes);
    size_t until = speech_allowed(sp, pos, now, &next);
    size_t n = until > pos ? until - (size_t)pos : 0;
    if (n > 0 && (n >= SERVE_PIECE || until == have)) {
      n = n < max ? n : max;
      memcpy(buf, dynbuf_ptr(&sp->bytes) + pos, n);
      rc = (ssize_t)n;
      break;
    }
    if (sp->done && pos >= have) {
      rc = MHD_CONTENT_READER_END_OF_STREAM;
      break;
    }
    speech_wait(sp, next);
  }
  pthread_mutex_unlock(&sp->mu);
  return rc;
}

static bool is_male_voice(const char *v)
{
  static const char *const male[] = {"rms", "awb", "onyx", "echo", "fable", "ash", NULL};
  for (int i = 0; male[i]; i++)
    if (strcmp(v, male[i]) == 0)
      return true;
  return false;
}

/* Waits for the first audio (or the end): a synthesis that fails before
 * any is a 500, not an empty 200. */
static bool speech_began(struct speech *sp)
{
  pthread_mutex_lock(&sp->mu);
  while (sp->first_end == 0 && !sp->done && !atomic_load(&sp->sv->stopping))
    speech_wait(sp, time_mono_ms() + SERVE_WAIT_MS);
  bool ok = !sp->failed && !atomic_load(&sp->sv->stopping);
  pthread_mutex_unlock(&sp->mu);
  return ok;
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
  struct tts_traits traits = {.sex = voice && is_male_voice(voice) ? TTS_SEX_MALE : TTS_SEX_FEMALE,
                              .pace = speed ? json_number_value(speed) : 1.0};
  bool wav = fmt && strcmp(fmt, "wav") == 0;
  struct speech *sp = speech_start(sv, c, &traits, input, wav);
  json_decref(j); /* input, voice and fmt are gone with it */
  if (!sp || !speech_began(sp)) {
    speech_free(sp);
    return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "synthesis failed");
  }
  struct MHD_Response *r =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, speech_read, sp, speech_free);
  if (!r) {
    speech_free(sp);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, wav ? "audio/wav" : "audio/pcm");
  enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r); /* speech_free() runs once MHD is done with it */
  return ok;
}

/* ---- the request -------------------------------------------------------- */

static bool authorised(const struct server *sv, struct MHD_Connection *c)
{
  char want[512];
  const char *got = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (!sv->o->key)
    return true;
  snprintf(want, sizeof want, "Bearer %s", sv->o->key);
  return got && strcmp(got, want) == 0;
}

static enum MHD_Result stats(struct server *sv, struct MHD_Connection *c)
{
  return reply_json(c, MHD_HTTP_OK,
                    json_pack("{s:I, s:I}", "requests", (json_int_t)atomic_load(&sv->requests),
                              "streaming", (json_int_t)atomic_load(&sv->streaming)),
                    -1);
}

/* --fail: the first K requests (counted from 1) get the failure. */
static bool injected_failure(struct server *sv, long request_no)
{
  return request_no <= sv->o->fail;
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
    if (strcmp(url, "/stats") == 0 && strcmp(method, "GET") == 0)
      return stats(sv, c);
    if (!asr && strcmp(url, "/v1/audio/speech") != 0)
      return reply_error(c, MHD_HTTP_NOT_FOUND, "no such endpoint");
    long no = atomic_fetch_add(&sv->requests, 1) + 1;
    if (strcmp(method, "POST") != 0)
      return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only");
    if (!authorised(sv, c))
      return reply_error(c, MHD_HTTP_UNAUTHORIZED, "invalid API key");
    if (!(q = calloc(1, sizeof *q)))
      return MHD_NO;
    dynbuf_init(&q->body, asr ? SERVE_UPLOAD_MAX : SERVE_JSON_MAX);
    *con_cls = q;
    q->fail = injected_failure(sv, no);
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
  if (q->fail) /* answered once the body is in: a client still sending would see a reset */
    return reply_json(c, sv->o->fail_status,
                      json_pack("{s:{s:s}}", "error", "message", "injected failure (--fail)"),
                      sv->o->retry_after);
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

int cmd_serve(struct tts *t, struct asr *a, const struct serve_opts *o)
{
  struct server sv = {.tts = t, .asr = a, .o = o};
  struct sockaddr_in sin = {.sin_family = AF_INET};
  char host[64];
  const char *colon = strrchr(o->listen, ':');
  char *end;
  long port = colon ? strtol(colon + 1, &end, 10) : -1;
  if (!colon || *end || port < 0 || port > 65535 || (size_t)(colon - o->listen) >= sizeof host) {
    fprintf(stderr, "athos-voice: --listen HOST:PORT\n");
    return -1;
  }
  snprintf(host, sizeof host, "%.*s", (int)(colon - o->listen), o->listen);
  sin.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
    fprintf(stderr, "athos-voice: %s is not an IPv4 address\n", host);
    return -1;
  }
  pthread_mutex_init(&sv.asr_mu, NULL);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN); /* a client gone mid-answer is an error return, not a death */
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0, NULL,
      NULL, on_request, &sv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
      MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
      MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "athos-voice: cannot listen on %s\n", o->listen);
    pthread_mutex_destroy(&sv.asr_mu);
    return -1;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  printf("listening on %s:%u\n", host, info ? info->port : (unsigned)port);
  fflush(stdout);
  while (!g_stop)
    pause();
  atomic_store(&sv.stopping, true); /* answers being sent end within SERVE_WAIT_MS */
  MHD_stop_daemon(d);
  pthread_mutex_destroy(&sv.asr_mu);
  return 0;
}
