/*
 * voice.c — the voice half of a live call (issue 10, DESIGN.md "Live
 * protocol"): the rep's binary PCM frames go through the rate limit into
 * the call's cutter; each utterance the cutter hands over is recognised
 * on the voice pool (never on the loop); the text comes back as `heard`
 * and is committed as the rep's turn exactly like a `say` (call.c); the
 * persona's reply is synthesised on the pool and streamed as binary
 * frames, paced to real time (at most LIVE_VOICE_AHEAD_MS ahead, so the
 * outbound cap is never reached), then `spoken`. Rep speech while the
 * persona speaks (barge-in) stops the rest of its audio.
 *
 * Memory: a text call holds no voice state (c->voice is NULL); a voice
 * call holds a cutter (~1 MB) and its jobs. The pool (workers with a
 * recogniser each) and the synthesiser are the loop's, made at the first
 * voice call (live_loop_voice()).
 *
 * Jobs outlive their call when it ends mid-job: live_voice_free() cancels
 * and detaches them (owner = NULL), and their done() frees them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "live/decoders.h"
#include "live/live_internal.h"
#include "nlu/nlu.h"
#include "persona/persona.h"
#include "util/log.h"
#include "voice/asr.h"
#include "voice/cutter.h"
#include "voice/pcm.h"
#include "voice/pool.h"
#include "voice/recorder.h"
#include "voice/tts.h"
#include "store/store.h"
#include "util/timefmt.h"

#define SAMPLES_PER_MS (LIVE_AUDIO_RATE / 1000)
/* persona audio per binary frame: 100 ms */
#define TTS_FRAME_SAMPLES (LIVE_AUDIO_RATE / 10)
/* how far the persona's audio may run ahead of real time on the wire */
#define LIVE_VOICE_AHEAD_MS 1000
/* slack of the inbound rate limit: a client may send this much early */
#define LIVE_AUDIO_SLACK_MS 1000
/* the recording's ring: the longest persona line sent ahead, and more */
#define LIVE_REC_WINDOW_MS 35000
/* recording written to disk this far behind the call's clock */
#define LIVE_REC_LAG_MS 1000
/* how far the rep's stream may lag the clock before it is moved up */
#define LIVE_REP_JITTER_MS 500
/* the rep's audio goes to the recogniser in chunks of at least this */
#define ASR_CHUNK_MS 200
/* silence after which the rep may be done: the next chunk is urgent */
#define ASR_URGENT_SILENCE_MS 150
/* the recognised text of one utterance */
#define HEARD_MAX 4096
/* utterances of one call waiting for their words; more are dropped */
#define LIVE_VOICE_PENDING_MAX 4

/* One utterance on its way through the recogniser, decoded while the rep
 * still talks: from the VAD's start the call holds a decoder (the loop's
 * spare ones, or a new one made on a worker) and feeds it the captured
 * audio as chunk jobs, one in flight at a time, so they run in order;
 * the end of the utterance submits the last chunk with asr_end(), a short
 * final pass. The same struct is resubmitted for each chunk. */
struct asr_job {
  struct voice_job job;    /* first: the pool hands back this pointer */
  struct live_conn *owner; /* NULL once the call is gone */
  struct live_loop *loop;
  struct asr_job *next;          /* the call's jobs, in utterance order */
  struct asr *asr;               /* the bound decoder; NULL until a worker makes one */
  bool reserved;                 /* counted in the loop's decoders: a worker makes it */
  bool waiting;                  /* all decoders are bound: queued for the next one */
  struct live_decoder_wait wait; /* while waiting */
  bool in_flight;                /* a chunk is on the pool */
  bool begun;                    /* asr_begin() ran (worker side) */
  bool ended;                    /* the cutter closed the utterance */
  bool final_sent;               /* the last chunk (with asr_end) is submitted */
  bool failed;                   /* a decoder call failed: the utterance is dropped */
  bool discard;                  /* the VAD dropped the utterance: no words */
  bool done;                     /* the words are in text */
  bool ask_done;                 /* after this chunk: do the words so far read as finished? */
  bool sounds_done;              /* the answer (worker side) */
  uint64_t start, end;           /* stream sample positions */
  size_t queued;                 /* utterance samples handed to chunks so far */
  size_t total;                  /* the utterance's length once ended */
  int16_t *pcm;                  /* the chunk being fed */
  size_t n;
  int16_t *kept; /* the utterance's rest, kept at its end */
  /* monotonic ms, for the reply's timing (debug log): the end-pointer
   * fired; the final pass was queued, started and finished on a worker */
  int64_t t_end, t_queued, t_ran, t_finished;
  char text[HEARD_MAX];
};

/* One persona line being synthesised. The worker appends samples under
 * mu; the loop reads them out. */
struct tts_job {
  struct voice_job job;
  struct live_conn *owner;
  struct voice_pool *pool;
  struct tts *tts;
  struct tts_voice voice;
  pthread_mutex_t mu;
  int16_t *pcm; /* guarded by mu */
  size_t n, cap;
  bool finished;           /* done() ran */
  int64_t t_queued;        /* monotonic ms: submitted */
  _Atomic int64_t t_ran;   /* a worker started it */
  _Atomic int64_t t_chunk; /* its first samples were ready */
  char *text;
};

/* Where the time between the end of the rep's speech and the persona's
 * first audio went, for one turn: logged at debug level when that audio
 * goes out (ATHOS_LOG_LEVEL=debug). */
struct reply_timing {
  int64_t end, queued, ran, finished, heard; /* the recognition */
  bool pending;
};

struct live_voice {
  struct voice_cutter *cutter;
  uint64_t received;        /* rep samples so far (the stream clock) */
  int64_t first_audio_mono; /* 0 = no audio yet */
  int64_t audio_mono;       /* the rate bucket's last refill */
  double audio_tokens;      /* samples the rep may still send now */
  uint64_t rep_skew; /* samples the rep's stream fell behind the clock (a pause in sending) */
  struct asr_job *asr_head, *asr_tail;
  struct asr_job *asr_cur; /* the utterance being spoken, fed as it comes */
  struct tts_job *tts;
  int speak_turn; /* the persona turn being spoken */
  size_t sent;    /* samples of that line sent */
  /* The client's playback, modelled on the call clock (samples): the
   * line's first sample plays at line_at, the next sample sent plays at
   * persona_at. Audio plays as it arrives and waits when it runs out, so
   * a synthesis slower than real time leaves a gap, not a debt. */
  uint64_t line_at, persona_at;
  struct reply_timing timing;
  /* the end-pointer's trailing silence, and the shorter one once the words
   * so far read as a finished turn (nlu_turn_complete) */
  unsigned silence_ms, silence_done_ms;
  bool rate_warned;
  /* the recording: both sides on one clock, samples since base_mono (the
   * call's start); NULL when recording is off or failed */
  struct voice_rec *rec;
  int64_t base_mono;
};

/* The call clock (samples since the call started) at monotonic ms t. */
static uint64_t clock_at(const struct live_voice *v, int64_t t)
{
  return t > v->base_mono ? (uint64_t)(t - v->base_mono) * SAMPLES_PER_MS : 0;
}

/* A recorder write failed: the recording is given up, the call goes on. */
static void rec_failed(struct live_conn *c)
{
  log_warn("live: call %s: writing its recording failed; the call goes on without it",
           c->call_public_id);
  voice_rec_close(c->voice->rec);
  c->voice->rec = NULL;
}

static void rec_put(struct live_conn *c, enum voice_rec_channel ch, uint64_t at, const int16_t *pcm,
                    size_t n)
{
  if (c->voice->rec != NULL && voice_rec_put(c->voice->rec, ch, at, pcm, n) != 0)
    rec_failed(c);
}

/* ------------------------------------------------------------ helpers */

static struct voice_pool *conn_pool(struct live_conn *c)
{
  return live_loop_voice(c->loop);
}

static void send_type_turn(struct live_conn *c, const char *type, int turn)
{
  live_conn_send_json(c, json_pack("{s:s, s:i}", "type", type, "turn", turn));
}

/* ------------------------------------------------------------ recognition */

/* A rep stream position as ms from the call's start. */
static int64_t rep_ms(const struct live_voice *v, uint64_t sample)
{
  return (v->first_audio_mono - v->base_mono) + (int64_t)((sample + v->rep_skew) / SAMPLES_PER_MS);
}

/* On a worker: feeds the chunk to the bound decoder (making one the
 * first time), and on the last chunk ends the utterance. */
static void asr_run(struct voice_job *job, void *worker_ctx)
{
  struct asr_job *j = (struct asr_job *)job;
  (void)worker_ctx;
  if (j->final_sent)
    j->t_ran = time_mono_ms();
  if (j->failed)
    return;
  if (j->asr == NULL && (j->asr = asr_open_from_config()) == NULL) {
    j->failed = true;
    return;
  }
  if (!j->begun) {
    j->begun = true;
    if (asr_begin(j->asr) != 0)
      j->failed = true;
  }
  if (!j->failed && j->n > 0 && asr_feed(j->asr, j->pcm, j->n) != 0)
    j->failed = true;
  if (!j->failed && !j->final_sent && j->ask_done) {
    char so_far[HEARD_MAX];
    j->sounds_done = asr_partial(j->asr, so_far, sizeof so_far) == 0 && so_far[0] != '\0' &&
                     nlu_turn_complete(so_far);
    log_debug("live: the words so far, \"%s\", %s", so_far,
              j->sounds_done ? "read as a finished turn" : "go on");
  }
  if (j->final_sent && (j->failed || asr_end(j->asr, j->text, sizeof j->text) != 0)) {
    j->failed = true;
    j->text[0] = '\0';
  }
  if (j->discard)
    j->text[0] = '\0';
  if (j->final_sent)
    j->t_finished = time_mono_ms();
}

/* Frees the job and gives up its place among the decoders: its decoder
 * is freed (one that did not end cleanly cannot serve again). */
static void asr_job_free(struct asr_job *j)
{
  struct live_decoders *d = live_loop_decoders(j->loop);
  if (j->waiting)
    live_decoders_unwait(d, &j->wait);
  else if (j->asr != NULL || j->reserved)
    live_decoders_drop(d, j->asr);
  free(j->kept);
  free(j->pcm);
  free(j);
}

/* Hands the finished utterances at the head of the queue to the call, in
 * order (several workers may finish them out of order). */
static void asr_deliver(struct live_conn *c)
{
  struct live_voice *v = c->voice;
  while (v != NULL && v->asr_head != NULL && v->asr_head->done) {
    struct asr_job *j = v->asr_head;
    v->asr_head = j->next;
    if (v->asr_head == NULL)
      v->asr_tail = NULL;
    if (j->text[0] != '\0' && c->state == LIVE_IN_CALL && c->call_open) {
      v->timing = (struct reply_timing){.end = j->t_end,
                                        .queued = j->t_queued,
                                        .ran = j->t_ran,
                                        .finished = j->t_finished,
                                        .heard = time_mono_ms(),
                                        .pending = true};
      live_call_heard(c, j->text, rep_ms(v, j->start), rep_ms(v, j->end));
    }
    /* a decoder that ended cleanly serves the next utterance */
    if (!j->failed && j->asr != NULL) {
      struct asr *a = j->asr;
      j->asr = NULL;
      j->reserved = false;
      live_decoders_give(live_loop_decoders(c->loop), a);
    }
    asr_job_free(j);
    v = c->voice; /* the call may have ended and released it */
  }
}

static void asr_pump(struct live_conn *c, struct asr_job *j);

static void asr_done(struct voice_job *job)
{
  struct asr_job *j = (struct asr_job *)job;
  if (j->owner == NULL) {
    asr_job_free(j);
    return;
  }
  struct live_conn *c = j->owner;
  j->in_flight = false;
  if (j->final_sent) {
    j->done = true;
    asr_deliver(c);
  } else {
    /* a finished-sounding turn ends after the shorter silence */
    if (j->ask_done && j == c->voice->asr_cur)
      voice_cutter_set_trailing_silence(c->voice->cutter, j->sounds_done ? c->voice->silence_done_ms
                                                                         : c->voice->silence_ms);
    asr_pump(c, j);
  }
  live_conn_kick(c);
}

/* Submits the next chunk of utterance j if none is in flight: the audio
 * captured since the last one once there is ASR_CHUNK_MS of it, or all
 * that is left once the utterance ended. */
static void asr_pump(struct live_conn *c, struct asr_job *j)
{
  struct live_voice *v = c->voice;
  if (j->waiting || j->in_flight || j->final_sent)
    return;
  const int16_t *pcm = j->kept;
  size_t have = j->ended ? j->total : voice_cutter_captured(v->cutter, &pcm);
  size_t n = have > j->queued ? have - j->queued : 0;
  if (!j->ended && n < (size_t)ASR_CHUNK_MS * SAMPLES_PER_MS)
    return;
  int16_t *chunk = malloc((n ? n : 1) * sizeof *chunk);
  if (chunk == NULL)
    return;
  if (n > 0)
    memcpy(chunk, pcm + j->queued, n * sizeof *chunk);
  free(j->pcm); /* the previous chunk, back from the pool */
  j->pcm = chunk;
  j->n = n;
  j->final_sent = j->ended;
  j->ask_done = !j->ended && v->silence_done_ms < v->silence_ms;
  voice_job_init(&j->job, asr_run, NULL,
                 asr_done); /* the last pass is what the rep waits for, and so is the chunk it will
   * wait for once the rep has gone quiet; the rest can lag */
  bool urgent = j->ended || voice_cutter_silence_ms(v->cutter) >= ASR_URGENT_SILENCE_MS;
  if ((urgent ? voice_pool_submit_urgent : voice_pool_submit)(conn_pool(c), &j->job) != 0) {
    j->final_sent = false;
    if (!j->ended)
      return; /* the next audio tries again */
    /* the last chunk cannot wait: the utterance is dropped */
    j->failed = true;
    j->done = true;
    j->text[0] = '\0';
    live_call_send_error(c, ERR_SERVICE_UNAVAILABLE,
                         "The speech recogniser is busy; that utterance was dropped.");
    asr_deliver(c);
    return;
  }
  j->queued += n;
  j->in_flight = true;
  if (j->final_sent)
    j->t_queued = time_mono_ms();
}

/* A waiting utterance got its decoder (or the room to make one): its
 * audio so far goes to the recogniser now. */
static void asr_granted(struct live_decoder_wait *w, struct asr *a)
{
  struct asr_job *j = (struct asr_job *)(void *)((char *)w - offsetof(struct asr_job, wait));
  j->waiting = false;
  j->asr = a;
  j->reserved = a == NULL;
  if (j->owner != NULL)
    asr_pump(j->owner, j);
}

/* The VAD heard speech start: a job for the utterance, with a spare
 * decoder bound to it, or the room to make one, or a place in the queue
 * for the next one freed. */
static void asr_open_utterance(struct live_conn *c, uint64_t start)
{
  struct live_voice *v = c->voice;
  size_t pending = 0;
  for (struct asr_job *it = v->asr_head; it != NULL; it = it->next)
    pending++;
  if (pending >= LIVE_VOICE_PENDING_MAX) {
    live_call_send_error(c, ERR_SERVICE_UNAVAILABLE,
                         "The speech recogniser is busy; that utterance was dropped.");
    return;
  }
  struct asr_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return;
  j->owner = c;
  j->loop = c->loop;
  j->start = start;
  struct live_decoders *d = live_loop_decoders(c->loop);
  j->asr = live_decoders_take(d);
  if (j->asr == NULL && live_decoders_reserve(d)) {
    j->reserved = true;
  } else if (j->asr == NULL) {
    j->waiting = true;
    j->wait.granted = asr_granted;
    live_decoders_wait(d, &j->wait);
  }
  if (v->asr_tail != NULL)
    v->asr_tail->next = j;
  else
    v->asr_head = j;
  v->asr_tail = j;
  v->asr_cur = j;
}

/* The utterance ended (or was dropped, n == 0): keep the part not yet
 * fed, and send it with the final pass. */
static void asr_close_utterance(struct live_conn *c, const struct voice_cut *cut)
{
  struct live_voice *v = c->voice;
  struct asr_job *j = v->asr_cur;
  v->asr_cur = NULL;
  if (j == NULL)
    return;
  /* the last pass waits for the chunk in flight: it is urgent now */
  if (j->in_flight)
    voice_pool_promote(conn_pool(c), &j->job);
  j->ended = true;
  j->t_end = time_mono_ms();
  j->start = cut->start;
  j->end = cut->end;
  j->total = j->queued;
  if (cut->n > j->queued && (j->kept = malloc(cut->n * sizeof *j->kept)) != NULL) {
    memcpy(j->kept, cut->pcm, cut->n * sizeof *j->kept);
    j->total = cut->n;
  }
  j->discard = cut->n == 0; /* nothing to recognise: end the decoder, drop the words */
  asr_pump(c, j);
}

/* ------------------------------------------------------------ synthesis */

static bool tts_chunk(void *arg, const int16_t *pcm, size_t n, bool last)
{
  struct tts_job *j = arg;
  (void)last;
  if (voice_job_cancelled(&j->job))
    return false;
  if (n == 0)
    return true;
  if (atomic_load(&j->t_chunk) == 0)
    atomic_store(&j->t_chunk, time_mono_ms());
  bool ok = true;
  pthread_mutex_lock(&j->mu);
  if (j->n + n > j->cap) {
    size_t cap = j->cap ? j->cap : TTS_RATE;
    while (cap < j->n + n)
      cap *= 2;
    int16_t *grown = realloc(j->pcm, cap * sizeof *grown);
    if (grown != NULL) {
      j->pcm = grown;
      j->cap = cap;
    }
    ok = grown != NULL;
  }
  if (ok) {
    memcpy(j->pcm + j->n, pcm, n * sizeof *pcm);
    j->n += n;
  }
  pthread_mutex_unlock(&j->mu);
  voice_pool_notify(j->pool, &j->job);
  return ok;
}

static void tts_run(struct voice_job *job, void *worker_ctx)
{
  struct tts_job *j = (struct tts_job *)job;
  (void)worker_ctx;
  atomic_store(&j->t_ran, time_mono_ms());
  if (tts_synth(j->tts, &j->voice, j->text, tts_chunk, j) < 0)
    log_warn("live: speech synthesis failed");
}

static void tts_job_free(struct tts_job *j)
{
  pthread_mutex_destroy(&j->mu);
  free(j->pcm);
  free(j->text);
  free(j);
}

/* Drops the call's current line: cancelled, and freed now or by its
 * done(). */
static void tts_detach(struct live_voice *v)
{
  struct tts_job *j = v->tts;
  if (j == NULL)
    return;
  v->tts = NULL;
  voice_job_cancel(&j->job);
  if (j->finished)
    tts_job_free(j);
  else
    j->owner = NULL;
}

/* Samples of the current line that have played by now: those sent,
 * less those still ahead of the client's playback. */
static size_t played_samples(const struct live_voice *v, int64_t now)
{
  uint64_t clock = clock_at(v, now);
  uint64_t ahead = v->sent > 0 && v->persona_at > clock ? v->persona_at - clock : 0;
  return ahead < v->sent ? v->sent - (size_t)ahead : 0;
}

/* Records where the persona's line `turn` played on the call clock: from
 * its first sample to where playback is now (or ended). Nothing when none
 * went out. */
static void persona_turn_played(struct live_conn *c, int turn, int64_t now)
{
  struct live_voice *v = c->voice;
  if (v->sent == 0 || !c->call_open)
    return;
  uint64_t clock = clock_at(v, now);
  uint64_t end = v->persona_at < clock ? v->persona_at : clock;
  int64_t start_ms = (int64_t)(v->line_at / SAMPLES_PER_MS);
  int64_t end_ms = (int64_t)(end / SAMPLES_PER_MS);
  int rc = store_call_set_turn_audio(live_loop_app(c->loop)->store, c->call_id, turn, start_ms,
                                     end_ms > start_ms ? end_ms : start_ms);
  if (rc != STORE_OK)
    log_warn("live: call %s: cannot record when turn %d played: store rc %d", c->call_public_id,
             turn, rc);
}

/* The debug line of struct reply_timing, at the reply's first audio. */
static void log_reply_timing(struct live_conn *c, struct tts_job *j)
{
  struct reply_timing *t = &c->voice->timing;
  if (!t->pending)
    return;
  t->pending = false;
  int64_t now = time_mono_ms();
  log_debug("live: call %s: reply %d timing (ms from the end-pointer): final pass queued %" PRId64
            ", ran %" PRId64 "-%" PRId64 ", heard %" PRId64 "; synthesis queued %" PRId64
            ", ran %" PRId64 ", first chunk %" PRId64 "; first audio out %" PRId64,
            c->call_public_id, c->voice->speak_turn, t->queued - t->end, t->ran - t->end,
            t->finished - t->end, t->heard - t->end, j->t_queued - t->end,
            atomic_load(&j->t_ran) - t->end, atomic_load(&j->t_chunk) - t->end, now - t->end);
}

/* Sends the persona's audio while the client holds less than
 * LIVE_VOICE_AHEAD_MS of it unplayed (so the outbound cap is never
 * reached, however the synthesis runs), and `spoken` once the whole line
 * has played. */
static void tts_pump(struct live_conn *c)
{
  struct live_voice *v = c->voice;
  if (v == NULL || v->tts == NULL || c->state != LIVE_IN_CALL)
    return;
  struct tts_job *j = v->tts;
  int64_t now = live_loop_now(c->loop);
  uint64_t clock = clock_at(v, now);
  uint64_t horizon = clock + (uint64_t)LIVE_VOICE_AHEAD_MS * SAMPLES_PER_MS;
  uint8_t bytes[TTS_FRAME_SAMPLES * 2];
  int16_t frame[TTS_FRAME_SAMPLES];
  for (;;) {
    /* playback ran dry: the next sample plays when it arrives */
    uint64_t at = v->persona_at > clock ? v->persona_at : clock;
    if (at >= horizon)
      break;
    pthread_mutex_lock(&j->mu);
    size_t n = j->n - v->sent;
    if (n > TTS_FRAME_SAMPLES)
      n = TTS_FRAME_SAMPLES;
    if (n > 0)
      memcpy(frame, j->pcm + v->sent, n * sizeof *frame);
    pthread_mutex_unlock(&j->mu);
    if (n == 0)
      break;
    pcm_to_le(frame, n, bytes);
    if (live_conn_send_binary(c, bytes, n * 2) != 0)
      return;
    if (v->sent == 0) {
      v->line_at = at;
      log_reply_timing(c, j);
    }
    rec_put(c, VOICE_REC_PERSONA, at, frame, n);
    v->sent += n;
    v->persona_at = at + n;
  }
  /* spoken once the line has played out (not merely been sent), so a
   * barge-in in its last second still counts */
  if (j->finished && v->sent == j->n && (j->n == 0 || v->persona_at <= clock)) {
    persona_turn_played(c, v->speak_turn, now);
    send_type_turn(c, LIVE_TYPE_SPOKEN, v->speak_turn);
    tts_detach(v);
  }
}

static void tts_progress(struct voice_job *job)
{
  struct tts_job *j = (struct tts_job *)job;
  if (j->owner == NULL)
    return;
  struct live_conn *c = j->owner;
  tts_pump(c);
  live_conn_kick(c);
}

static void tts_done(struct voice_job *job)
{
  struct tts_job *j = (struct tts_job *)job;
  j->finished = true;
  if (j->owner == NULL) {
    tts_job_free(j);
    return;
  }
  tts_progress(job);
}

/* The persona's voice, from its traits in the drill (sex, age, pace). */
static void persona_tts_voice(const struct live_conn *c, struct tts_voice *out)
{
  struct persona_voice pv = {.sex = PERSONA_SEX_UNKNOWN};
  if (c->pc != NULL)
    persona_call_voice(c->pc, &pv);
  struct tts_traits traits = {
      .sex = pv.sex == PERSONA_SEX_FEMALE ? TTS_SEX_FEMALE
             : pv.sex == PERSONA_SEX_MALE ? TTS_SEX_MALE
                                          : TTS_SEX_UNKNOWN,
      .age = pv.age,
      .pace = pv.pace,
  };
  tts_voice_choose(&traits, out);
}

void live_voice_speak(struct live_conn *c, int turn, const char *text)
{
  struct live_voice *v = c->voice;
  struct voice_pool *pool = conn_pool(c);
  if (v == NULL || pool == NULL)
    return;
  if (v->tts != NULL) { /* a text say answered while the persona still spoke */
    persona_turn_played(c, v->speak_turn, live_loop_now(c->loop));
    send_type_turn(c, LIVE_TYPE_SPOKEN, v->speak_turn);
    tts_detach(v);
  }
  struct tts_job *j = calloc(1, sizeof *j);
  if (j == NULL || (j->text = strdup(text)) == NULL) {
    free(j);
    return;
  }
  pthread_mutex_init(&j->mu, NULL);
  persona_tts_voice(c, &j->voice);
  j->tts = live_loop_tts(c->loop);
  j->pool = pool;
  j->t_queued = time_mono_ms();
  j->owner = c;
  voice_job_init(&j->job, tts_run, tts_progress, tts_done);
  if (voice_pool_submit_urgent(pool, &j->job) != 0) {
    tts_job_free(j);
    log_warn("live: call %s: the voice pool is full; a persona line goes unspoken",
             c->call_public_id);
    send_type_turn(c, LIVE_TYPE_SPOKEN, turn);
    return;
  }
  v->tts = j;
  c->due_mono = 0; /* the loop's ticks pace the line from now on */
  v->speak_turn = turn;
  v->sent = 0;
  v->persona_at = 0; /* the line plays from when its first audio goes out */
}

/* ------------------------------------------------------------ the rep's audio */

/* Barge-in: the rep started talking while the persona's audio plays. */
static void barge_in(struct live_conn *c)
{
  struct live_voice *v = c->voice;
  struct tts_job *j = v->tts;
  if (j == NULL)
    return;
  int64_t now = live_loop_now(c->loop);
  size_t played = played_samples(v, now);
  pthread_mutex_lock(&j->mu);
  size_t total = j->n;
  pthread_mutex_unlock(&j->mu);
  /* The share of the line heard; the rest never was. */
  double heard = j->finished && total > 0 ? (double)played / (double)total : -1.0;
  int turn = v->speak_turn;
  if (v->rec != NULL && v->sent > 0 && v->persona_at > clock_at(v, now))
    voice_rec_cut(v->rec, VOICE_REC_PERSONA, clock_at(v, now));
  persona_turn_played(c, turn, now);
  char *text = strdup(j->text);
  tts_detach(v);
  send_type_turn(c, LIVE_TYPE_SPOKEN, turn);
  if (text != NULL)
    live_call_barged_in(c, turn, text, heard);
  free(text);
}

static void on_cut(void *arg, const struct voice_cut *cut)
{
  struct live_conn *c = arg;
  if (cut->event == VOICE_CUT_START) {
    c->last_rep_mono = live_loop_now(c->loop);
    barge_in(c);
    asr_open_utterance(c, cut->start);
  } else {
    asr_close_utterance(c, cut);
  }
}

void live_voice_on_audio(struct live_conn *c, const uint8_t *bytes, size_t len)
{
  struct live_voice *v = c->voice;
  int64_t now = live_loop_now(c->loop);
  if (len % 2 != 0) {
    live_call_send_error(c, ERR_INVALID_REQUEST,
                         "Audio frames carry whole 16-bit samples (an even number of bytes).");
    return;
  }
  size_t n = len / 2;
  /* A bucket refilled at twice real time, holding LIVE_AUDIO_SLACK_MS of
   * that: a steady stream faster than x2 runs dry, and quiet stretches do
   * not save up for a burst. */
  const double per_ms = (double)SAMPLES_PER_MS * LIVE_AUDIO_RATE_FACTOR;
  const double cap = per_ms * LIVE_AUDIO_SLACK_MS;
  if (v->first_audio_mono == 0) {
    v->first_audio_mono = v->audio_mono = now;
    v->audio_tokens = cap;
  }
  v->audio_tokens += per_ms * (double)(now - v->audio_mono);
  if (v->audio_tokens > cap)
    v->audio_tokens = cap;
  v->audio_mono = now;
  if ((double)n > v->audio_tokens) {
    if (!v->rate_warned)
      live_call_send_error(c, ERR_RATE_LIMITED,
                           "Audio arrives faster than twice real time; it was dropped.");
    v->rate_warned = true;
    return;
  }
  v->rate_warned = false;
  v->audio_tokens -= (double)n;
  int16_t pcm[LIVE_FRAME_MAX / 2];
  pcm_from_le(bytes, n, pcm);
  /* A client that stopped sending for a while (muted) resumes at the
   * clock, not where its stream left off. */
  uint64_t at = clock_at(v, v->first_audio_mono) + v->received + v->rep_skew;
  uint64_t wall = clock_at(v, now);
  if (at + LIVE_REP_JITTER_MS * SAMPLES_PER_MS + n < wall) {
    v->rep_skew += wall - n - at;
    at = wall - n;
  }
  rec_put(c, VOICE_REC_REP, at, pcm, n);
  v->received += n;
  voice_cutter_feed(v->cutter, pcm, n, on_cut, c);
  if (c->voice != NULL && c->voice->asr_cur != NULL)
    asr_pump(c, c->voice->asr_cur);
}

/* ------------------------------------------------------------ lifetime */

/* A decoder made ahead, for the loop's spare list: a new voice call's
 * first utterance then does not wait for the models to load. */
struct decoder_job {
  struct voice_job job;
  struct live_loop *loop;
  struct asr *asr;
};

static void decoder_run(struct voice_job *job, void *worker_ctx)
{
  struct decoder_job *j = (struct decoder_job *)job;
  (void)worker_ctx;
  j->asr = asr_open_from_config();
}

static void decoder_done(struct voice_job *job)
{
  struct decoder_job *j = (struct decoder_job *)job;
  struct live_decoders *d = live_loop_decoders(j->loop);
  if (j->asr != NULL)
    live_decoders_give(d, j->asr);
  else
    live_decoders_drop(d, NULL); /* the reservation goes */
  free(j);
}

/* Makes a decoder on the pool while the opener plays, unless one is
 * spare or there is no room for one. */
static void warm_decoder(struct live_conn *c)
{
  struct live_decoders *d = live_loop_decoders(c->loop);
  if (d->n_spare > 0 || !live_decoders_reserve(d))
    return;
  struct decoder_job *j = calloc(1, sizeof *j);
  if (j == NULL) {
    live_decoders_drop(d, NULL);
    return;
  }
  j->loop = c->loop;
  voice_job_init(&j->job, decoder_run, NULL, decoder_done);
  if (voice_pool_submit(conn_pool(c), &j->job) != 0) {
    live_decoders_drop(d, NULL);
    free(j);
  }
}

int live_voice_new(struct live_conn *c)
{
  struct vad_config vc;
  if (live_loop_voice(c->loop) == NULL)
    return -1;
  struct live_voice *v = calloc(1, sizeof *v);
  if (v == NULL)
    return -1;
  vad_config_default(&vc);
  vc.rate = LIVE_AUDIO_RATE;
  vc.max_utterance_ms = LIVE_AUDIO_UTTERANCE_MAX_SEC * 1000;
  const struct athos_config *cfg = live_loop_app(c->loop)->cfg;
  if (cfg->voice_silence_ms > 0)
    vc.trailing_silence_ms = (unsigned)cfg->voice_silence_ms;
  v->cutter = voice_cutter_new(&vc);
  if (v->cutter == NULL) {
    free(v);
    return -1;
  }
  v->silence_ms = vc.trailing_silence_ms;
  v->silence_done_ms =
      cfg->voice_silence_done_ms > 0 ? (unsigned)cfg->voice_silence_done_ms : v->silence_ms;
  c->voice = v;
  warm_decoder(c);
  return 0;
}

bool live_voice_busy(const struct live_conn *c)
{
  return c->voice != NULL && c->voice->tts != NULL;
}

void live_voice_tick(struct live_conn *c)
{
  struct live_voice *v = c->voice;
  if (v == NULL)
    return;
  tts_pump(c);
  int64_t now = live_loop_now(c->loop);
  if (v->rec != NULL && now - v->base_mono > LIVE_REC_LAG_MS &&
      voice_rec_flush(v->rec, clock_at(v, now - LIVE_REC_LAG_MS)) != 0)
    rec_failed(c);
}

/* Creates the media directory (one level, like `mkdir`). */
static int media_dir(const char *dir)
{
  if (mkdir(dir, 0750) == 0 || errno == EEXIST)
    return 0;
  return -1;
}

void live_voice_record(struct live_conn *c)
{
  struct live_voice *v = c->voice;
  const struct athos_config *cfg = live_loop_app(c->loop)->cfg;
  char path[sizeof cfg->media_dir + 80];
  if (v == NULL)
    return;
  v->base_mono = c->started_mono;
  /* the format's name is the file's extension: <callId>.wav or .ogg */
  snprintf(path, sizeof path, "%s/%s.%s", cfg->media_dir, c->call_public_id, cfg->recording_format);
  enum voice_rec_format format =
      strcmp(cfg->recording_format, "ogg") == 0 ? VOICE_REC_OGG : VOICE_REC_WAV;
  unsigned max_sec = cfg->max_call_sec > 0 ? (unsigned)cfg->max_call_sec + 60 : 3600;
  if (media_dir(cfg->media_dir) != 0 ||
      (v->rec = voice_rec_open(path, format, LIVE_AUDIO_RATE, LIVE_REC_WINDOW_MS, max_sec)) ==
          NULL) {
    log_warn("live: call %s: cannot record into %s: %s", c->call_public_id, cfg->media_dir,
             strerror(errno));
    return;
  }
  int rc = store_recording_begin(live_loop_app(c->loop)->store, c->call_id, path, time_now_ms());
  if (rc != STORE_OK) {
    log_warn("live: call %s: cannot register its recording: store rc %d", c->call_public_id, rc);
    voice_rec_close(v->rec);
    v->rec = NULL;
    unlink(path);
  }
}

void live_voice_finish(struct live_conn *c)
{
  struct live_voice *v = c->voice;
  if (v == NULL || v->rec == NULL)
    return;
  int64_t now = live_loop_now(c->loop);
  struct voice_rec *rec = v->rec;
  v->rec = NULL;
  /* everything placed, the persona's audio sent ahead included */
  int frc = voice_rec_flush(rec, clock_at(v, now + LIVE_VOICE_AHEAD_MS));
  json_t *wave = voice_rec_waveform(rec);
  int64_t duration_ms = (int64_t)(voice_rec_frames(rec) / SAMPLES_PER_MS);
  if (voice_rec_close(rec) != 0 || frc != 0)
    log_warn("live: call %s: its recording is incomplete (a write failed)", c->call_public_id);
  char *wave_text = wave != NULL ? json_dumps(wave, JSON_COMPACT) : NULL;
  int rc =
      store_recording_finish(live_loop_app(c->loop)->store, c->call_id, duration_ms, wave_text);
  if (rc != STORE_OK)
    log_warn("live: call %s: cannot record its recording's length: store rc %d", c->call_public_id,
             rc);
  free(wave_text);
  json_decref(wave);
}

void live_voice_free(struct live_conn *c)
{
  struct live_voice *v = c->voice;
  if (v == NULL)
    return;
  c->voice = NULL;
  for (struct asr_job *j = v->asr_head, *next; j != NULL; j = next) {
    next = j->next;
    voice_job_cancel(&j->job);
    if (j->in_flight)
      j->owner = NULL; /* its done() frees it */
    else
      asr_job_free(j);
  }
  tts_detach(v);
  voice_rec_close(v->rec); /* the call did not end cleanly: the file is still playable */
  voice_cutter_free(v->cutter);
  free(v);
}
