/*
 * voice_bench.c — the speech path under load, without the server: N
 * simulated voice calls on one loop thread (as the live loop will run
 * them) stream synthesised rep lines in real time, 20 ms a frame,
 * through their own VAD; each end of utterance becomes a recognition job
 * on the worker pool, its text a synthesis job for the persona's answer,
 * and the first chunk of that answer back on the loop is the "first
 * persona audio byte". Reports, per run:
 *   - end of rep speech -> first persona audio, p50 / p99 (this includes
 *     the end-pointer's trailing silence, which is the floor);
 *   - VAD end -> first persona audio (the processing part alone);
 *   - CPU per call (share of one core).
 *
 *   athos-voice-bench [--calls N] [--seconds S] [--workers W]
 *                     [--silence MS] LINES.txt
 */
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "voice/asr.h"
#include "voice/cutter.h"
#include "voice/pcm.h"
#include "voice/pool.h"
#include "voice/tts.h"

#define FRAME            320 /* 20 ms at 16 kHz */
#define MAX_LINES        128
#define GAP_SAMPLES      (TTS_RATE * 4) /* the rep waits 4 s for the answer */
#define MAX_SAMPLES_KEPT 100000

static const char *const REPLY = "Oh, that sounds all right. What would it cost me each month?";

struct stats {
  double *v;
  size_t n;
};

struct call;

struct job {
  struct voice_job job; /* first: the casts */
  struct call *call;
  bool is_tts;
  int16_t *pcm;
  size_t n;
  char text[512];
  atomic_bool first; /* the synthesis made its first chunk */
  bool first_reported;
};

struct call {
  unsigned index;
  struct voice_cutter *cutter;
  size_t line; /* which line it is saying */
  size_t pos;  /* sample position in line + gap */
  double speech_end_ms, vad_end_ms;
};

static struct pcm_buf g_lines[MAX_LINES];
static size_t g_n_lines;
static struct tts *g_tts;
static struct voice_pool *g_pool;
static struct stats g_total, g_processing;
static size_t g_dropped, g_utterances, g_empty;

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void stat_add(struct stats *s, double v)
{
  if (s->n < MAX_SAMPLES_KEPT)
    s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double percentile(struct stats *s, double p)
{
  if (s->n == 0)
    return 0;
  qsort(s->v, s->n, sizeof *s->v, cmp_double);
  size_t i = (size_t)(p * (double)(s->n - 1) + 0.5);
  return s->v[i];
}

static bool collect(void *arg, const int16_t *pcm, size_t n, bool last)
{
  (void)last;
  return pcm_buf_append(arg, pcm, n) == 0;
}

/* ---- jobs ----------------------------------------------------------------- */

static bool tts_chunk(void *arg, const int16_t *pcm, size_t n, bool last)
{
  struct job *j = arg;
  (void)pcm;
  (void)last;
  if (n > 0 && !atomic_exchange(&j->first, true))
    voice_pool_notify(g_pool, &j->job);
  return !voice_job_cancelled(&j->job);
}

static void job_run(struct voice_job *vj, void *worker_ctx)
{
  struct job *j = (struct job *)vj;
  if (j->is_tts) {
    struct tts_voice v;
    struct tts_traits t = {.sex = j->call->index % 2 ? TTS_SEX_MALE : TTS_SEX_FEMALE,
                           .age = 60 + (int)j->call->index};
    tts_voice_choose(&t, &v);
    tts_synth(g_tts, &v, REPLY, tts_chunk, j);
  } else if (asr_decode(worker_ctx, j->pcm, j->n, j->text, sizeof j->text) < 0) {
    j->text[0] = '\0';
  }
}

static void job_progress(struct voice_job *vj)
{
  struct job *j = (struct job *)vj;
  if (j->first_reported)
    return;
  j->first_reported = true;
  double t = now_ms();
  stat_add(&g_total, t - j->call->speech_end_ms);
  stat_add(&g_processing, t - j->call->vad_end_ms);
}

static void job_done(struct voice_job *vj);

static struct job *job_new(struct call *c, bool is_tts)
{
  struct job *j = calloc(1, sizeof *j);
  if (!j)
    return NULL;
  j->call = c;
  j->is_tts = is_tts;
  voice_job_init(&j->job, job_run, job_progress, job_done);
  return j;
}

static void job_done(struct voice_job *vj)
{
  struct job *j = (struct job *)vj;
  if (!j->is_tts) { /* recognised: the persona answers (its text unused here) */
    if (!j->text[0])
      g_empty++;
    struct job *t = job_new(j->call, true);
    if (t && voice_pool_submit(g_pool, &t->job) < 0) {
      g_dropped++;
      free(t);
    }
  }
  free(j->pcm);
  free(j);
}

/* ---- calls ---------------------------------------------------------------- */

static void on_cut(void *arg, const struct voice_cut *cut)
{
  struct call *c = arg;
  if (cut->event != VOICE_CUT_UTTERANCE)
    return;
  c->vad_end_ms = now_ms();
  g_utterances++;
  struct job *j = job_new(c, false);
  if (!j)
    return;
  j->pcm = malloc(cut->n * sizeof *j->pcm);
  if (j->pcm)
    memcpy(j->pcm, cut->pcm, cut->n * sizeof *j->pcm);
  j->n = cut->n;
  if (!j->pcm || voice_pool_submit(g_pool, &j->job) < 0) {
    g_dropped++;
    free(j->pcm);
    free(j);
  }
}

/* One 20 ms frame of call c: speech, then the gap, then the next line. */
static void call_tick(struct call *c)
{
  static const int16_t silence[FRAME];
  const struct pcm_buf *l = &g_lines[c->line];
  int16_t frame[FRAME];
  for (size_t i = 0; i < FRAME; i++)
    frame[i] = c->pos + i < l->n ? l->s[c->pos + i] : silence[i];
  if (c->pos < l->n && c->pos + FRAME >= l->n)
    c->speech_end_ms = now_ms() + (double)(l->n - c->pos) * 1000.0 / TTS_RATE;
  c->pos += FRAME;
  voice_cutter_feed(c->cutter, frame, FRAME, on_cut, c);
  if (c->pos >= l->n + GAP_SAMPLES) {
    c->pos = 0;
    c->line = (c->line + 1) % g_n_lines;
  }
}

static void *worker_init(void *arg, unsigned index)
{
  struct asr_config c;
  (void)index;
  asr_config_default(&c);
  if (arg)
    c.domain_lm = c.domain_vocab = NULL;
  return asr_new(&c);
}

static void worker_fini(void *ctx)
{
  asr_free(ctx);
}

static int load_lines(const char *path)
{
  FILE *f = fopen(path, "r");
  char text[1024];
  if (!f)
    return -1;
  while (g_n_lines < MAX_LINES && fgets(text, sizeof text, f)) {
    text[strcspn(text, "\n")] = '\0';
    if (!text[0])
      continue;
    struct tts_voice v;
    struct tts_traits t = {.sex = g_n_lines % 2 ? TTS_SEX_MALE : TTS_SEX_FEMALE, .age = 40};
    tts_voice_choose(&t, &v);
    pcm_buf_init(&g_lines[g_n_lines], (size_t)TTS_RATE * 60);
    if (tts_synth(g_tts, &v, text, collect, &g_lines[g_n_lines]) != 0)
      break;
    g_n_lines++;
  }
  fclose(f);
  return g_n_lines > 0 ? 0 : -1;
}

static double cpu_ms(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 +
         ru.ru_stime.tv_usec / 1e3;
}

int main(int argc, char **argv)
{
  unsigned calls = 10, seconds = 60, workers = 2, silence_ms = 700;
  bool no_domain = false;
  const char *lines = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--calls") == 0 && i + 1 < argc)
      calls = (unsigned)(int)strtol(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
      seconds = (unsigned)(int)strtol(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
      workers = (unsigned)(int)strtol(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--silence") == 0 && i + 1 < argc)
      silence_ms = (unsigned)(int)strtol(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--no-domain") == 0)
      no_domain = true;
    else
      lines = argv[i];
  }
  if (!lines || calls == 0 || workers == 0) {
    fprintf(stderr, "usage: athos-voice-bench [--calls N] [--seconds S] [--workers W] "
                    "[--silence MS] [--no-domain] LINES.txt\n");
    return 2;
  }
  g_tts = tts_new();
  if (!g_tts || load_lines(lines) < 0) {
    fprintf(stderr, "athos-voice-bench: cannot synthesise %s\n", lines);
    return 1;
  }
  struct voice_pool_config pc = {.workers = workers,
                                 .max_queued = 4 * calls,
                                 .worker_init = worker_init,
                                 .worker_fini = worker_fini,
                                 .arg = no_domain ? "" : NULL};
  g_pool = voice_pool_new(&pc);
  g_total.v = malloc(MAX_SAMPLES_KEPT * sizeof(double));
  g_processing.v = malloc(MAX_SAMPLES_KEPT * sizeof(double));
  struct call *cs = calloc(calls, sizeof *cs);
  if (!g_pool || !cs || !g_total.v || !g_processing.v)
    return 1;
  struct vad_config vc;
  vad_config_default(&vc);
  vc.trailing_silence_ms = silence_ms;
  for (unsigned i = 0; i < calls; i++) {
    cs[i].index = i;
    cs[i].cutter = voice_cutter_new(&vc);
    cs[i].line = i % g_n_lines;
    /* stagger the calls across one line's length */
    cs[i].pos = g_lines[cs[i].line].n + (size_t)(i * (GAP_SAMPLES / calls));
    if (!cs[i].cutter)
      return 1;
  }
  double cpu0 = cpu_ms(), start = now_ms(), next = start;
  size_t late = 0;
  while (now_ms() - start < seconds * 1000.0) {
    for (unsigned i = 0; i < calls; i++)
      call_tick(&cs[i]);
    next += 20.0;
    for (;;) { /* the loop: wait for the pool until the next frame is due */
      double wait = next - now_ms();
      if (wait <= 0) {
        if (wait < -20.0)
          late++;
        break;
      }
      struct pollfd pfd = {.fd = voice_pool_fd(g_pool), .events = POLLIN};
      if (poll(&pfd, 1, (int)wait + 1) > 0)
        voice_pool_drain(g_pool);
    }
  }
  double wall = now_ms() - start, cpu = cpu_ms() - cpu0;
  printf("calls %u workers %u silence %u ms domain %s: utterances %zu answered %zu "
         "dropped %zu empty %zu late-ticks %zu\n",
         calls, workers, silence_ms, no_domain ? "no" : "yes", g_utterances, g_total.n, g_dropped,
         g_empty, late);
  printf("speech end -> first persona audio: p50 %.0f ms p99 %.0f ms\n", percentile(&g_total, 0.5),
         percentile(&g_total, 0.99));
  printf("vad end -> first persona audio:    p50 %.0f ms p99 %.0f ms\n",
         percentile(&g_processing, 0.5), percentile(&g_processing, 0.99));
  printf("cpu per call: %.1f %% of a core\n", 100.0 * cpu / wall / calls);
  voice_pool_free(g_pool);
  for (unsigned i = 0; i < calls; i++)
    voice_cutter_free(cs[i].cutter);
  free(cs);
  for (size_t i = 0; i < g_n_lines; i++)
    pcm_buf_free(&g_lines[i]);
  free(g_total.v);
  free(g_processing.v);
  tts_free(g_tts);
  return 0;
}
