/*
 * tts_flite.c — the Flite backend of tts.h (Debian flite1-dev): the CMU
 * clustergen voices slt (US female), rms (US male) and awb (Scottish
 * male), all 16 kHz (= TTS_RATE, so no resampling). Prosody is set per utterance (duration_stretch,
 * int_f0_target_mean on the utterance's own features, which shadow the
 * shared voice's), and Flite's streaming hook hands out audio while the
 * vocoder runs. Flite keeps shared state in its voices and lexicon, so
 * one sentence is synthesised at a time; a sentence takes a few tens of
 * ms on this machine, so the pool's workers still interleave sentences.
 * The first sentence of a line goes first: someone is waiting for its
 * first audio, while the later sentences of other lines only need to keep
 * ahead of a playback that has seconds of audio queued.
 */
#include "voice/tts.h"
#include "voice/voice_http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <flite/flite.h>
#pragma GCC diagnostic pop

cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);

#define TTS_SENTENCE_MAX 600 /* bytes; longer runs are cut at a space */

struct tts {
  struct tts_http *http; /* set: the HTTP provider speaks, nothing else is used */
  /* the engine's turn: one sentence at a time, first sentences first */
  pthread_mutex_t mu;
  pthread_cond_t turn;
  bool busy;
  unsigned firsts_waiting;
  cst_voice *slt, *rms, *awb;
};

/* ---- the voice choice --------------------------------------------------- */

void tts_voice_choose(const struct tts_traits *t, struct tts_voice *out)
{
  bool female = t->sex == TTS_SEX_FEMALE;
  double pace = t->pace > 0 ? t->pace : 1.0;
  int age = t->age > 0 ? t->age : 45;
  memset(out, 0, sizeof *out);
  /* voices: the two US ones; an unknown sex gets the female one */
  snprintf(out->name, sizeof out->name, "%s", t->sex == TTS_SEX_MALE ? "rms" : "slt");
  /* pitch drops with age (and for men flattens); centred on each voice's
   * natural mean (slt ~ 170 Hz, rms ~ 105 Hz) */
  double base = female || t->sex == TTS_SEX_UNKNOWN ? 175.0 : 110.0;
  double older = age > 40 ? (age - 40) * (female ? 0.9 : 0.5) : 0.0;
  out->f0_mean = base - (older > 35 ? 35 : older);
  /* slower with age: +0.4 % per year past 60 */
  if (age > 60)
    pace /= 1.0 + 0.004 * (age - 60);
  if (pace < 0.6)
    pace = 0.6;
  if (pace > 1.6)
    pace = 1.6;
  out->stretch = 1.0 / pace;
}

/* ---- engine ------------------------------------------------------------- */

struct tts *tts_new(void)
{
  struct tts *t = calloc(1, sizeof *t);
  if (!t)
    return NULL;
  flite_init();
  t->slt = register_cmu_us_slt(NULL);
  t->rms = register_cmu_us_rms(NULL);
  t->awb = register_cmu_us_awb(NULL);
  if (!t->slt || !t->rms || !t->awb) {
    free(t);
    return NULL;
  }
  pthread_mutex_init(&t->mu, NULL);
  pthread_cond_init(&t->turn, NULL);
  return t;
}

struct tts *tts_open_from_config(void)
{
  const char *url = getenv("ATHOS_TTS_URL");
  if (!url || !*url)
    return tts_new();
  struct tts *t = calloc(1, sizeof *t);
  if (t && !(t->http = tts_http_new())) {
    free(t);
    t = NULL;
  }
  return t;
}

void tts_free(struct tts *t)
{
  if (!t)
    return;
  if (t->http) {
    tts_http_free(t->http);
    free(t);
    return;
  }
  /* the voices are Flite's process-wide singletons: left registered */
  pthread_cond_destroy(&t->turn);
  pthread_mutex_destroy(&t->mu);
  free(t);
}

/* Waits for the engine: a line's first sentence overtakes the others. */
static void engine_take(struct tts *t, bool first)
{
  pthread_mutex_lock(&t->mu);
  if (first)
    t->firsts_waiting++;
  while (t->busy || (!first && t->firsts_waiting > 0))
    pthread_cond_wait(&t->turn, &t->mu);
  if (first)
    t->firsts_waiting--;
  t->busy = true;
  pthread_mutex_unlock(&t->mu);
}

static void engine_give(struct tts *t)
{
  pthread_mutex_lock(&t->mu);
  t->busy = false;
  pthread_cond_broadcast(&t->turn);
  pthread_mutex_unlock(&t->mu);
}

static cst_voice *voice_of(struct tts *t, const char *name)
{
  if (strcmp(name, "rms") == 0)
    return t->rms;
  if (strcmp(name, "awb") == 0)
    return t->awb;
  return t->slt;
}

/* What the streaming hook needs: where to send, and whether to stop. */
struct stream {
  tts_chunk_fn fn;
  void *arg;
  bool stopped;
};

static int stream_chunk(const cst_wave *w, int start, int size, int last,
                        cst_audio_streaming_info *asi)
{
  struct stream *s = asi->userdata;
  (void)last;
  if (size > 0 && !s->stopped)
    s->stopped = !s->fn(s->arg, (const int16_t *)w->samples + start, (size_t)size, false);
  return s->stopped ? CST_AUDIO_STREAM_STOP : CST_AUDIO_STREAM_CONT;
}

/* Synthesises one sentence; t->mu held. */
static int synth_sentence(struct tts *t, cst_voice *vox, const struct tts_voice *v,
                          const char *text, struct stream *s)
{
  cst_audio_streaming_info *asi = new_audio_streaming_info();
  cst_utterance *u = new_utterance();
  int rc = -1;
  if (!asi || !u)
    goto out;
  asi->asc = stream_chunk;
  asi->userdata = s;
  asi->min_buffsize = 1600; /* 100 ms at 16 kHz */
  utt_set_input_text(u, text);
  utt_init(u, vox);
  feat_set_float(u->features, "duration_stretch", (float)v->stretch);
  feat_set_float(u->features, "int_f0_target_mean", (float)v->f0_mean);
  feat_set(u->features, "streaming_info", audio_streaming_info_val(asi));
  asi = NULL; /* the utterance's features own it now */
  if (!utt_synth(u) && !s->stopped)
    goto out;
  rc = s->stopped ? 1 : 0;
out:
  if (asi)
    delete_audio_streaming_info(asi);
  if (u)
    delete_utterance(u);
  return rc;
}

/* True if the '.' at s[n - 1] ends a title ("Dr.", "Mr.", "Mrs.", "Ms.",
 * "St."), which does not end the sentence: Flite reads "Dr." alone as
 * "drive". */
static bool ends_title(const char *s, size_t n)
{
  static const char *const titles[] = {"Dr", "Mr", "Mrs", "Ms", "St"};
  size_t start = n - 1;
  while (start > 0 && s[start - 1] != ' ')
    start--;
  for (size_t i = 0; i < sizeof titles / sizeof *titles; i++)
    if (n - 1 - start == strlen(titles[i]) && strncmp(s + start, titles[i], n - 1 - start) == 0)
      return true;
  return false;
}

/* Copies the next sentence of *p into buf (ends after . ! ? ; or a
 * newline, or at the last space before cap), advancing *p. False at the end. */
static bool next_sentence(const char **p, char *buf, size_t cap)
{
  const char *s = *p;
  while (*s == ' ' || *s == '\n' || *s == '\t')
    s++;
  if (!*s)
    return false;
  size_t n = 0, cut = 0;
  while (s[n] && n + 1 < cap) {
    char c = s[n++];
    if (c == ' ')
      cut = n;
    if ((c == '.' || c == '!' || c == '?' || c == ';') && (s[n] == ' ' || !s[n]) &&
        !(c == '.' && ends_title(s, n)))
      break;
    if (c == '\n')
      break;
  }
  if (s[n] && n + 1 >= cap && cut > 0)
    n = cut;
  memcpy(buf, s, n);
  buf[n] = '\0';
  *p = s + n;
  return true;
}

int tts_synth(struct tts *t, const struct tts_voice *v, const char *text, tts_chunk_fn fn,
              void *arg)
{
  if (t->http)
    return tts_http_synth(t->http, v, text, fn, arg);
  struct stream s = {.fn = fn, .arg = arg};
  cst_voice *vox = voice_of(t, v->name);
  char sentence[TTS_SENTENCE_MAX];
  int rc = 0;
  if (flite_get_param_int(vox->features, "sample_rate", TTS_RATE) != TTS_RATE)
    return -1; /* the three voices are 16 kHz builds */
  for (bool first = true; rc == 0 && next_sentence(&text, sentence, sizeof sentence);
       first = false) {
    engine_take(t, first);
    rc = synth_sentence(t, vox, v, sentence, &s);
    engine_give(t);
  }
  if (rc == 0 && !fn(arg, NULL, 0, true))
    rc = 1;
  return rc;
}
