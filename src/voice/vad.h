/*
 * vad.h — voice activity detection with an end-pointer, for 16 kHz mono
 * pcm_s16le (any rate works; durations are in ms). Short-time energy
 * against an adaptive noise floor, helped by the zero-crossing rate so
 * that quiet fricatives ("s", "f") count as speech. The end-pointer turns
 * frames into utterances: START once speech has lasted min_speech_ms
 * (back-dated by preroll_ms, so the recogniser hears the onset), END after
 * trailing_silence_ms of silence or at max_utterance_ms. Positions are
 * absolute sample indexes in the stream fed so far, so the caller can cut
 * the utterance out of its own buffer. Pure; one thread per struct vad.
 */
#ifndef ATHOS_VOICE_VAD_H
#define ATHOS_VOICE_VAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vad_config {
  unsigned rate;                /* samples per second (16000) */
  unsigned trailing_silence_ms; /* silence that ends an utterance (700) */
  unsigned min_speech_ms;       /* speech needed to start one (150) */
  unsigned max_utterance_ms;    /* forced end (30000) */
  unsigned preroll_ms;          /* START is back-dated this much (200) */
  unsigned end_pad_ms;          /* END lies this far past the last speech (200) */
  double margin_db;             /* speech = this much above the noise floor (12) */
  double floor_dbfs;            /* ... and above this absolute level (-50) */
};

/* Fills c with the defaults above. */
void vad_config_default(struct vad_config *c);

enum vad_event_type { VAD_START, VAD_END };
enum vad_end_reason { VAD_END_NONE, VAD_END_SILENCE, VAD_END_MAX_LENGTH };

struct vad_event {
  enum vad_event_type type;
  enum vad_end_reason reason; /* VAD_END_NONE for VAD_START */
  uint64_t sample;            /* START: first sample of the utterance;
                                 END: one past its last sample */
};

typedef void (*vad_event_fn)(void *arg, const struct vad_event *ev);

struct vad;

/* Owned; free with vad_free(). Copies c. NULL on a zero rate or on
 * allocation failure. */
struct vad *vad_new(const struct vad_config *c);
void vad_free(struct vad *v); /* accepts NULL */

/* Feeds n samples; calls fn (on this thread, before returning) for each
 * event, in order. An END always follows its START. */
void vad_feed(struct vad *v, const int16_t *pcm, size_t n, vad_event_fn fn, void *arg);
/* The trailing silence that ends the utterance in progress (a shorter one
 * once its words read as a finished turn); the next START goes back to
 * cfg.trailing_silence_ms. No effect between utterances. If the silence
 * so far already reaches it, the next frame ends the utterance. */
void vad_set_trailing_silence(struct vad *v, unsigned ms);
/* Inside an utterance: the silence since its last speech frame (ms); else 0. */
unsigned vad_silence_ms(const struct vad *v);

/* True between a START and its END (the rep is talking: barge-in). */
bool vad_in_speech(const struct vad *v);

/* Samples fed so far. */
uint64_t vad_position(const struct vad *v);

#endif
