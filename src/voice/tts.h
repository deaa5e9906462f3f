/*
 * tts.h — speech synthesis behind a small interface: a voice chosen from
 * a persona's traits, and streamed synthesis (a callback per chunk of
 * 16 kHz mono pcm_s16le, the first one long before the line is done).
 * The offline backend is Flite (tts_flite.c); an OpenAI-compatible HTTP
 * provider (ATHOS_TTS_URL, tts_http.c) implements the same functions:
 * tts_open_from_config().
 *
 * Threading: one struct tts serves every pool worker; tts_synth() may be
 * called from several threads (the backend serialises what it must).
 * The callback runs on the synthesising thread.
 */
#ifndef ATHOS_VOICE_TTS_H
#define ATHOS_VOICE_TTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TTS_RATE 16000 /* every chunk is at this rate */

enum tts_sex { TTS_SEX_UNKNOWN, TTS_SEX_FEMALE, TTS_SEX_MALE };

/* What the drill data says about a persona. */
struct tts_traits {
  enum tts_sex sex;
  int age;     /* years; 0 = unknown */
  double pace; /* 1.0 = ordinary, 0.8 = slow, 1.2 = brisk; 0 = ordinary */
};

/* The voice chosen for a persona: an engine voice name plus prosody. */
struct tts_voice {
  char name[16];  /* "slt" (female), "rms" (male), "awb" (male) */
  double stretch; /* duration factor: > 1 is slower */
  double f0_mean; /* Hz, the pitch the intonation centres on */
};

/* Deterministic: same traits, same voice. Older speakers get a lower
 * pitch and a slower pace; pace is clamped to [0.6, 1.6]. */
void tts_voice_choose(const struct tts_traits *t, struct tts_voice *out);

/* Receives n samples at TTS_RATE; last is true on the final call (n may be
 * 0 then). Return false to stop synthesis (barge-in, cancelled job). The
 * HTTP provider also calls it with n == 0 and last false while it waits to
 * retry a request, to learn whether the line is still wanted. */
typedef bool (*tts_chunk_fn)(void *arg, const int16_t *pcm, size_t n, bool last);

struct tts;

/* Loads the engine and its voices. Owned; free with tts_free(). NULL if
 * the engine cannot start. Not thread-safe itself: call before the pool. */
struct tts *tts_new(void);

/* The synthesiser the settings ask for — what the server and tools open:
 * with ATHOS_TTS_URL set, the OpenAI-compatible provider (tts_http.c:
 * POST {ATHOS_TTS_URL}/v1/audio/speech, its audio streamed and resampled
 * to TTS_RATE; ATHOS_TTS_API_KEY, ATHOS_TTS_MODEL, ATHOS_TTS_FORMAT,
 * ATHOS_TTS_SAMPLE_RATE, ATHOS_TTS_VOICE_FEMALE / _MALE,
 * ATHOS_TTS_TIMEOUT_MS), else Flite (tts_new()). tts_synth() works the same
 * on both. Owned; tts_free(). NULL when the engine or the settings are
 * unusable (logged). Call before the pool, like tts_new(). */
struct tts *tts_open_from_config(void);
void tts_free(struct tts *t); /* accepts NULL */

/* Synthesises text (UTF-8, one or more sentences) with voice v, sentence
 * by sentence, streaming each one's audio as it is made. Returns 0 when
 * the whole text was spoken, 1 when fn stopped it, -1 on failure. */
int tts_synth(struct tts *t, const struct tts_voice *v, const char *text, tts_chunk_fn fn,
              void *arg);

#endif
