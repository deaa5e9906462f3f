/*
 * asr.h — speech recognition behind a small interface: one utterance of
 * 16 kHz mono pcm_s16le in (the VAD cut it out), its words out. The
 * offline backend is PocketSphinx with the Debian en-us model
 * (asr_pocketsphinx.c), its general language model interpolated with a
 * domain model built from the drills (tools/voice_lm.py), so that
 * "Medigap", "formulary", "TPMO", drug and doctor names are in the
 * vocabulary. An OpenAI-compatible HTTP provider (ATHOS_ASR_URL,
 * asr_http.c) implements the same functions: asr_open_from_config().
 *
 * Threading: a struct asr is a decoder; it is not thread-safe and costs
 * tens of MB, so each pool worker builds its own (worker_init).
 */
#ifndef ATHOS_VOICE_ASR_H
#define ATHOS_VOICE_ASR_H

#include <stddef.h>
#include <stdint.h>

#define ASR_RATE 16000

struct asr_config {
  const char *hmm;          /* acoustic model directory */
  const char *dict;         /* pronunciation dictionary */
  const char *lm;           /* general language model */
  const char *domain_lm;    /* ARPA domain model, or NULL for none */
  const char *domain_vocab; /* its words, one a line (pronounced by rule if
                               not in dict); NULL = none */
  double domain_weight;     /* interpolation weight of the domain model, 0..1 */
  const char *tuning;       /* extra decoder arguments, "-name value ...", or
                             NULL (ATHOS_ASR_TUNING sets it by default) */
};

/* The Debian model paths, and the domain model installed by the build
 * (ATHOS_VOICE_LM_DIR, read once, overrides where it is looked for; a
 * missing file means no domain model). Strings are static. Thread-safe. */
void asr_config_default(struct asr_config *c);

struct asr;

/* Owned; free with asr_free(). NULL if the models cannot be loaded. */
struct asr *asr_new(const struct asr_config *c);

/* The recogniser the settings ask for — what the server and tools open:
 * with ATHOS_ASR_URL set, the OpenAI-compatible provider (asr_http.c:
 * POST {ATHOS_ASR_URL}/v1/audio/transcriptions; ATHOS_ASR_API_KEY,
 * ATHOS_ASR_MODEL, ATHOS_ASR_TIMEOUT_MS), else PocketSphinx with
 * asr_config_default(). Every function below works the same on both (the
 * provider's asr_feed() only collects; asr_end() makes the request, and
 * blocks for it: call it on a pool worker). Owned; asr_free(). NULL when
 * the models or the settings are unusable (logged). */
struct asr *asr_open_from_config(void);
void asr_free(struct asr *a); /* accepts NULL */

/* Streaming form, for decoding while the rep still talks (the first pass
 * runs as audio comes; asr_end() does the rest): asr_begin(), asr_feed()
 * any number of times, asr_end() writes the words as asr_decode() does.
 * The decoder is busy in between (bind it to the call for the utterance).
 * Each returns 0 or -1. */
int asr_begin(struct asr *a);
int asr_feed(struct asr *a, const int16_t *pcm, size_t n);
int asr_end(struct asr *a, char *text, size_t cap);
/* Between asr_feed() and asr_end(): the words recognised so far, written
 * as asr_end() writes them (the first pass's best guess; the end may still
 * change them). A provider answers only at the end: "" for it. Returns 0
 * or -1. */
int asr_partial(struct asr *a, char *text, size_t cap);

/* Recognises one utterance (begin, feed, end). Writes the words (lower case, single spaces,
 * no fillers; "" when nothing was recognised) to text. Returns 0, or -1
 * on a decoder failure. */
int asr_decode(struct asr *a, const int16_t *pcm, size_t n, char *text, size_t cap);

#endif
