/*
 * vad.c — 10 ms frames, classified by level and zero crossings, then the
 * end-pointer's three states: SILENCE -> PENDING (speech seen, not yet
 * min_speech_ms of it) -> SPEECH -> SILENCE.
 *
 * The noise floor follows quiet frames quickly down and slowly up (about
 * a second's time constant), and is frozen during speech so that a long
 * sentence does not raise it. It starts at the first frame's level: a
 * stream that opens mid-word loses that word until the first pause. If a
 * loud background is taken for speech, the max_utterance_ms cut resets
 * the floor to the quietest frame of that "utterance".
 */
#include "voice/vad.h"

#include <math.h>
#include <stdlib.h>

#define VAD_FRAME_MS       10
#define VAD_PENDING_GAP_MS 200  /* silence that abandons a pending onset */
#define VAD_NOISE_DOWN     0.5  /* per frame, towards a quieter level */
#define VAD_NOISE_UP       0.01 /* per frame, towards a louder one */
#define VAD_ZCR_FRICATIVE  0.3  /* crossings per sample of a hiss */
#define VAD_SILENT_DBFS    -100.0

enum vad_state { ST_SILENCE, ST_PENDING, ST_SPEECH };

struct vad {
  struct vad_config cfg;
  size_t frame_len;
  int16_t *frame; /* the partial frame */
  size_t in_frame;
  uint64_t pos;    /* samples fed */
  uint64_t frames; /* whole frames classified */
  double noise_db;
  enum vad_state state;
  uint64_t onset;       /* first sample of the pending / current speech */
  uint64_t last_speech; /* one past the last speech frame */
  uint64_t last_end;    /* the previous END: no START before it */
  uint64_t utt_start;   /* the START reported */
  unsigned speech_ms, gap_ms;
  unsigned trailing_ms; /* the silence that ends this utterance */
  double min_db;        /* quietest frame of the current utterance */
};

void vad_config_default(struct vad_config *c)
{
  c->rate = 16000;
  c->trailing_silence_ms = 700;
  c->min_speech_ms = 150;
  c->max_utterance_ms = 30000;
  c->preroll_ms = 200;
  c->end_pad_ms = 200;
  c->margin_db = 12.0;
  c->floor_dbfs = -50.0;
}

struct vad *vad_new(const struct vad_config *c)
{
  if (c->rate < 1000)
    return NULL;
  struct vad *v = calloc(1, sizeof *v);
  if (!v)
    return NULL;
  v->cfg = *c;
  v->frame_len = (size_t)c->rate * VAD_FRAME_MS / 1000;
  v->frame = malloc(v->frame_len * sizeof *v->frame);
  if (!v->frame) {
    free(v);
    return NULL;
  }
  return v;
}

void vad_free(struct vad *v)
{
  if (!v)
    return;
  free(v->frame);
  free(v);
}

bool vad_in_speech(const struct vad *v)
{
  return v->state == ST_SPEECH;
}

uint64_t vad_position(const struct vad *v)
{
  return v->pos;
}

static uint64_t ms_to_samples(const struct vad *v, unsigned ms)
{
  return (uint64_t)ms * v->cfg.rate / 1000;
}

/* Level in dBFS and zero crossings per sample of one frame. */
static void frame_measure(const int16_t *s, size_t n, double *db, double *zcr)
{
  double e = 0;
  size_t cross = 0;
  for (size_t i = 0; i < n; i++) {
    e += (double)s[i] * s[i];
    if (i > 0 && ((s[i] >= 0) != (s[i - 1] >= 0)))
      cross++;
  }
  e /= (double)n * 32768.0 * 32768.0;
  *db = e > 1e-10 ? 10.0 * log10(e) : VAD_SILENT_DBFS;
  *zcr = (double)cross / (double)n;
}

static bool frame_is_speech(struct vad *v, double db, double zcr)
{
  if (v->frames == 0)
    v->noise_db = db;
  double loud = v->noise_db + v->cfg.margin_db;
  double hiss = v->noise_db + v->cfg.margin_db / 2.0;
  bool speech = db > v->cfg.floor_dbfs && (db > loud || (db > hiss && zcr > VAD_ZCR_FRICATIVE));
  if (v->state == ST_SPEECH && db < v->min_db)
    v->min_db = db;
  if (db < v->noise_db)
    v->noise_db += VAD_NOISE_DOWN * (db - v->noise_db);
  else if (!speech && v->state != ST_SPEECH)
    v->noise_db += VAD_NOISE_UP * (db - v->noise_db);
  return speech;
}

static void emit(vad_event_fn fn, void *arg, enum vad_event_type t, enum vad_end_reason r,
                 uint64_t sample)
{
  struct vad_event ev = {.type = t, .reason = r, .sample = sample};
  fn(arg, &ev);
}

static void end_utterance(struct vad *v, enum vad_end_reason why, vad_event_fn fn, void *arg)
{
  uint64_t end = v->pos;
  if (why == VAD_END_SILENCE) {
    end = v->last_speech + ms_to_samples(v, v->cfg.end_pad_ms);
    if (end > v->pos)
      end = v->pos;
  }
  if (why == VAD_END_MAX_LENGTH)
    v->noise_db = v->min_db;
  emit(fn, arg, VAD_END, why, end);
  v->last_end = end;
  v->state = ST_SILENCE;
}

/* One frame just ended at v->pos. */
static void step(struct vad *v, bool speech, vad_event_fn fn, void *arg)
{
  uint64_t frame_start = v->pos - v->frame_len;
  switch (v->state) {
  case ST_SILENCE:
    if (!speech)
      return;
    v->state = ST_PENDING;
    v->onset = frame_start;
    v->speech_ms = v->gap_ms = 0;
    /* fall through - this frame counts */
  case ST_PENDING:
    if (!speech) {
      v->gap_ms += VAD_FRAME_MS;
      if (v->gap_ms > VAD_PENDING_GAP_MS)
        v->state = ST_SILENCE;
      return;
    }
    v->gap_ms = 0;
    v->speech_ms += VAD_FRAME_MS;
    v->last_speech = v->pos;
    if (v->speech_ms < v->cfg.min_speech_ms)
      return;
    uint64_t pre = ms_to_samples(v, v->cfg.preroll_ms);
    v->utt_start = v->onset > pre ? v->onset - pre : 0;
    if (v->utt_start < v->last_end)
      v->utt_start = v->last_end;
    v->state = ST_SPEECH;
    v->gap_ms = 0;
    v->trailing_ms = v->cfg.trailing_silence_ms;
    v->min_db = 0.0;
    emit(fn, arg, VAD_START, VAD_END_NONE, v->utt_start);
    break;
  case ST_SPEECH:
    if (speech) {
      v->last_speech = v->pos;
      v->gap_ms = 0;
    } else {
      v->gap_ms += VAD_FRAME_MS;
    }
    if (v->gap_ms >= v->trailing_ms)
      end_utterance(v, VAD_END_SILENCE, fn, arg);
    else if (v->pos - v->utt_start >= ms_to_samples(v, v->cfg.max_utterance_ms))
      end_utterance(v, VAD_END_MAX_LENGTH, fn, arg);
    break;
  }
}

unsigned vad_silence_ms(const struct vad *v)
{
  return v->state == ST_SPEECH ? v->gap_ms : 0;
}

void vad_set_trailing_silence(struct vad *v, unsigned ms)
{
  if (v->state == ST_SPEECH)
    v->trailing_ms = ms;
}

void vad_feed(struct vad *v, const int16_t *pcm, size_t n, vad_event_fn fn, void *arg)
{
  for (size_t i = 0; i < n; i++) {
    v->frame[v->in_frame++] = pcm[i];
    v->pos++;
    if (v->in_frame < v->frame_len)
      continue;
    double db, zcr;
    frame_measure(v->frame, v->frame_len, &db, &zcr);
    bool speech = frame_is_speech(v, db, zcr);
    v->frames++;
    v->in_frame = 0;
    step(v, speech, fn, arg);
  }
}
