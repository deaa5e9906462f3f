/* meaning.h — the scorer's bridge to the language layer (meaning.c): hits
 * of rubric sets found by the classifiers rather than by phrases. Internal
 * to src/scoring. */
#ifndef ATHOS_SCORING_MEANING_H
#define ATHOS_SCORING_MEANING_H

#include "scoring/scoring_internal.h"

/* Per-analysis scratch (holds one parsed chunk). NULL when the rubric
 * names no classifier; sc_meaning_scan() accepts NULL and does nothing. */
struct sc_meaning;
struct sc_meaning *sc_meaning_new(const struct rubric *r);
void sc_meaning_free(struct sc_meaning *m);

/* Whether turns of role are read by meaning at all. */
bool sc_meaning_needed(const struct rubric *r, int role);

/* Where hits go: push(ctx, set, turn, word pos, in a question, source byte
 * offset and length of the sentence in the turn's text); 0 or -1 (OOM).
 * question_flag (may be NULL): for the word pos where a sentence of a rep
 * turn starts, the scorer's question flag of the sentence holding that word
 * (or NULL); a sentence the language layer reads as a question even without
 * a '?' ("wat meds r u on", "tell me a bit about your plan") gets it set.
 * Sentences already flagged are not read again. */
struct sc_meaning_sink {
  void *ctx;
  int (*push)(void *ctx, uint32_t set, uint32_t turn, uint32_t pos, bool inq, uint32_t src_off,
              uint32_t src_len);
  uint8_t *(*question_flag)(void *ctx, uint32_t pos);
};

/* Classifies turn t (text, of role) and pushes a hit for every set whose
 * label a sentence carries; marks ti->off_topic / ti->substantive. */
int sc_meaning_scan(const struct rubric *r, struct sc_meaning *m, uint32_t t, const char *text,
                    int role, struct sc_turn_info *ti, const struct sc_meaning_sink *sink);

#endif
