/*
 * turn.c — does an utterance read as a finished turn? (nlu.h, "end of
 * turn"). A voice call's end-pointer asks it about the words recognised
 * so far: from the last word, how often the training utterances of
 * drills/nlu/ end there, in the table tools/nlu_train.c generates.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/nlu.h"

static int cmp_hash(const void *key, const void *elem)
{
  uint32_t h = *(const uint32_t *)key;
  uint32_t e = ((const struct nlu_turn_word *)elem)->hash;
  return h < e ? -1 : h > e ? 1 : 0;
}

/* Words that never end a turn, whatever the data says: hesitations, and
 * the subject and auxiliary a wh-question stops on ("what do you ..."). */
static const char *const never_last[] = {"um", "uh",   "er",  "erm",   "hmm",   "mm",   "ah",
                                         "i",  "you",  "we",  "they",  "he",    "she",  "it",
                                         "do", "does", "did", "is",    "are",   "was",  "were",
                                         "am", "be",   "can", "could", "would", "will", "should"};

static bool is_never_last(const struct nlu_doc *d, size_t i)
{
  for (size_t k = 0; k < sizeof never_last / sizeof *never_last; k++)
    if (nlu_tok_is(d, i, never_last[k]))
      return true;
  return false;
}

/* The word's end rate, smoothed towards the rare words' one. */
static double word_end_prob(const struct nlu_doc *d, size_t i)
{
  size_t n;
  float unseen;
  const struct nlu_turn_word *table = nlu_turn_words(&n, &unseen);
  uint32_t h = nlu_hash(d->text + d->tok[i].off, d->tok[i].len, NLU_WORD_SEED);
  if (h == 0)
    h = 1; /* as the trainer stores it */
  const struct nlu_turn_word *w =
      table != NULL ? bsearch(&h, table, n, sizeof *table, cmp_hash) : NULL;
  if (w == NULL)
    return unseen;
  return ((double)w->ends + NLU_TURN_PRIOR_WEIGHT * unseen) /
         ((double)w->ends + (double)w->mids + NLU_TURN_PRIOR_WEIGHT);
}

double nlu_turn_end_prob(const struct nlu_doc *d)
{
  size_t last = d->n;
  for (size_t i = 0; i < d->n; i++)
    if (d->tok[i].flags & NLU_TF_WORD)
      last = i;
  if (last == d->n || is_never_last(d, last))
    return 0.0;
  double p = word_end_prob(d, last);
  /* A wh-question fronts its object, so it may stop on a verb that
   * elsewhere goes on ("which doctors do you see", "what are you taking"):
   * past the wh-word, subject and verb, any content word may end it. */
  size_t b, e;
  nlu_sentence_range(d, d->tok[last].sent, &b, &e);
  if (last >= b + 3 && p >= NLU_TURN_WH_MIN &&
      nlu_sentence_question(d, d->tok[last].sent) == NLU_Q_WH)
    return p > NLU_TURN_END_THRESHOLD ? p : NLU_TURN_END_THRESHOLD;
  return p;
}
bool nlu_turn_complete(const char *text)
{
  struct nlu_doc *d = malloc(sizeof *d);
  if (d == NULL)
    return false;
  nlu_doc_parse(d, text, strlen(text), nlu_lexicon_default());
  bool done = nlu_turn_end_prob(d) >= NLU_TURN_END_THRESHOLD;
  free(d);
  return done;
}
