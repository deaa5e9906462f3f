/*
 * negation.c — NegEx-style negation scope over a parsed utterance, so
 * that "I'll never ask for your card number" is read as the opposite of
 * "I'll ask for your card number". The classifier hashes negated words
 * apart (classify.c), and callers can test a span with nlu_span_negated().
 *
 * Rules (Chapman et al.'s NegEx, reduced to what sales talk needs):
 * a pre-negation trigger negates the words after it up to a scope
 * terminator, punctuation or NLU_NEG_SCOPE words; a post-negation trigger
 * negates the words before it within the clause; pseudo-triggers look like
 * negation but negate nothing.
 */
#include "nlu/nlu_internal.h"

#include <string.h>

static const char *const pre_triggers[] = {"not",    "never",   "no",      "without",
                                           "nobody", "nothing", "neither", "nor",
                                           "none",   "nowhere", "nope"};

/* Two-word pseudo-triggers: the first word is not a trigger here. */
static const char *const pseudo[][2] = {{"not", "only"},  {"no", "doubt"},   {"no", "matter"},
                                        {"not", "just"},  {"no", "problem"}, {"not", "sure"},
                                        {"no", "worries"}};

static const char *const terminators[] = {"but",     "however", "although", "though", "except",
                                          "yet",     "because", "unless",   "while",  "whereas",
                                          "instead", "rather",  "so"};

static bool in_list(const struct nlu_doc *d, size_t i, const char *const *list, size_t n)
{
  for (size_t k = 0; k < n; k++)
    if (nlu_tok_eq(d, i, list[k]))
      return true;
  return false;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool is_pseudo(const struct nlu_doc *d, size_t i)
{
  for (size_t k = 0; k < COUNT(pseudo); k++)
    if (nlu_tok_eq(d, i, pseudo[k][0]) && nlu_tok_eq(d, i + 1, pseudo[k][1]))
      return true;
  return false;
}

/* Subject pronouns start a new clause ("if you don't act now you'll lose
 * it": the negation stops before "you'll"). */
static const char *const subjects[] = {"i", "you", "we", "they", "he", "she"};

static bool ends_scope(const struct nlu_doc *d, size_t i, size_t scope_words)
{
  return !(d->tok[i].flags & NLU_TF_WORD) || in_list(d, i, terminators, COUNT(terminators)) ||
         (scope_words > 0 && in_list(d, i, subjects, COUNT(subjects)));
}

/* Length of a post-negation trigger starting at token i, or 0:
 * "is not true", "not true", "is false", "not the case", "no way". */
static size_t post_trigger(const struct nlu_doc *d, size_t i)
{
  if (nlu_tok_eq(d, i, "not") && nlu_tok_eq(d, i + 1, "true"))
    return 2;
  if (nlu_tok_eq(d, i, "not") && nlu_tok_eq(d, i + 1, "the") && nlu_tok_eq(d, i + 2, "case"))
    return 3;
  if (nlu_tok_eq(d, i, "false") && i > 0 &&
      (nlu_tok_eq(d, i - 1, "is") || nlu_tok_eq(d, i - 1, "are")))
    return 1;
  return 0;
}

void nlu_negation_mark(struct nlu_doc *d)
{
  for (size_t i = 0; i < d->n; i++)
    d->tok[i].flags &= (uint16_t) ~(NLU_TF_NEG_TRIGGER | NLU_TF_NEGATED);
  for (size_t i = 0; i < d->n; i++) {
    /* every trigger starts with n, w or f ("not", "without", "false"): a
     * cheap reject for the other words */
    char c = d->text[d->tok[i].off];
    if (c != 'n' && c != 'w' && c != 'f')
      continue;
    size_t post = post_trigger(d, i);
    if (post > 0) {
      for (size_t k = 0; k < post; k++)
        d->tok[i + k].flags |= NLU_TF_NEG_TRIGGER;
      for (size_t k = i, w = 0; k > 0 && w < NLU_NEG_SCOPE; w++) {
        k--;
        if (ends_scope(d, k, 0))
          break;
        d->tok[k].flags |= NLU_TF_NEGATED;
      }
      i += post - 1;
      continue;
    }
    if (!in_list(d, i, pre_triggers, COUNT(pre_triggers)) || is_pseudo(d, i))
      continue;
    d->tok[i].flags |= NLU_TF_NEG_TRIGGER;
    for (size_t k = i + 1, w = 0; k < d->n && w < NLU_NEG_SCOPE; k++, w++) {
      if (ends_scope(d, k, w))
        break;
      d->tok[k].flags |= NLU_TF_NEGATED;
    }
  }
}

bool nlu_span_negated(const struct nlu_doc *d, size_t b, size_t e)
{
  for (size_t i = b; i < e && i < d->n; i++)
    if (d->tok[i].flags & NLU_TF_NEGATED)
      return true;
  return false;
}
