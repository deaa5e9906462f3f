/*
 * cutter.h — the VAD with the buffers a call needs around it: a short
 * history, so the back-dated START can reach audio that came before it,
 * and the utterance itself (at most max_utterance_ms). Feed it the rep's
 * 16 kHz audio as it arrives; it reports the start of speech (barge-in)
 * and hands over each finished utterance, ready for the recogniser. One
 * thread (the call's) owns a cutter.
 */
#ifndef ATHOS_VOICE_CUTTER_H
#define ATHOS_VOICE_CUTTER_H

#include <stddef.h>
#include <stdint.h>

#include "voice/vad.h"

enum voice_cut_event {
  VOICE_CUT_START,     /* speech began (pcm NULL): stop the persona's audio */
  VOICE_CUT_UTTERANCE, /* an utterance ended: pcm/n hold it */
};

struct voice_cut {
  enum voice_cut_event event;
  enum vad_end_reason reason; /* for VOICE_CUT_UTTERANCE */
  uint64_t start, end;        /* stream sample positions */
  const int16_t *pcm;         /* borrowed: valid during the callback only */
  size_t n;
};

typedef void (*voice_cut_fn)(void *arg, const struct voice_cut *cut);

struct voice_cutter;

/* Owned; free with voice_cutter_free(). Copies c. NULL on bad config or
 * allocation failure. Holds (max_utterance_ms + 2 s) of audio. */
struct voice_cutter *voice_cutter_new(const struct vad_config *c);
void voice_cutter_free(struct voice_cutter *k); /* accepts NULL */

/* Feeds n samples; calls fn, on this thread, for each event in order. */
void voice_cutter_feed(struct voice_cutter *k, const int16_t *pcm, size_t n, voice_cut_fn fn,
                       void *arg);

/* While an utterance is being captured: sets *pcm to its samples so far
 * (from the back-dated start; valid until the next feed) and returns how
 * many; else 0. For recognising it while the rep still talks. */
size_t voice_cutter_captured(const struct voice_cutter *k, const int16_t **pcm);

/* vad_set_trailing_silence() on the cutter's VAD. */
void voice_cutter_set_trailing_silence(struct voice_cutter *k, unsigned ms);
/* vad_silence_ms() of the cutter's VAD: the rep may be done talking. */
unsigned voice_cutter_silence_ms(const struct voice_cutter *k);

/* True while an utterance is being captured (the rep is talking). */
bool voice_cutter_in_speech(const struct voice_cutter *k);

#endif
