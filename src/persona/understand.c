/*
 * understand.c — what a rep's utterance asks the persona: whether it is a
 * question, which of the drill's fact topics it is about, and whether it
 * reads back a recap. The reading itself is the language layer's
 * (src/nlu/: normalisation with text-speak and spelling correction,
 * question forms, and the "persona_topics" classifier trained from
 * drills/nlu/persona_topics.tsv); this file only maps its labels onto the
 * drill's topics. engine.c decides what to answer.
 */
#include "persona/persona_internal.h"

#include <string.h>

/* Whether sentence [b, e) of doc speaks to the persona ("you", "your"). */
static bool addresses_you(const struct nlu_doc *doc, size_t b, size_t e)
{
  for (size_t i = b; i < e; i++)
    if (nlu_tok_is(doc, i, "you") || nlu_tok_is(doc, i, "your") || nlu_tok_is(doc, i, "yourself"))
      return true;
  return false;
}

/* A question none of whose labels reaches its threshold still goes to its
 * most likely label when that is a topic this likely: a prospect answers
 * the question it heard, not only the ones it is sure of. */
#define BEST_GUESS_FLOOR 0.25f
/* No label counts below this, whatever its calibrated threshold (chosen
 * on a development list of questions, not on tests/eval). */
#define SURE_FLOOR 0.15f

/* The most likely label of p when it is a topic, recap or check-in at or
 * above the floor (not "none"), as a one-bit mask; else 0. */
static uint64_t best_guess(const struct drill *d, const float *p)
{
  size_t n = nlu_model_nlabels(d->topic_model), best = 0;
  for (size_t l = 1; l < n; l++)
    if (p[l] > p[best])
      best = l;
  if (n == 0 || best >= sizeof d->label_topic || p[best] < BEST_GUESS_FLOOR ||
      d->label_topic[best] == -1)
    return 0;
  return 1ull << best;
}

/* Adds the topics (and recap) of one span's labels to out. */
static void take_labels(const struct drill *d, uint64_t labels, struct persona_heard *out)
{
  for (size_t l = 0; labels != 0 && l < sizeof d->label_topic; l++, labels >>= 1) {
    if (!(labels & 1u))
      continue;
    int t = d->label_topic[l];
    if (t == TOPIC_LABEL_RECAP)
      out->recap = true;
    else if (t == TOPIC_LABEL_CHECK_IN)
      out->check_in = true;
    else if (t >= 0 && !(out->topics & (1u << t))) {
      out->topics |= 1u << t;
      if (out->n_order < sizeof out->order)
        out->order[out->n_order++] = (uint8_t)t;
    }
  }
}

/* Utterances up to this many tokens are classified as one span: short
 * turns are often one question cut by a stray period ("see Dr. Reyes,
 * correct?"). Longer ones are read question by question. */
#define ONE_SPAN_TOKENS 48
/* A clause read apart is three tokens or more ("And what coverage ..." is
 * one clause, not "and" + the rest). */
#define MIN_CLAUSE_TOKENS 3

/* Whether token i opens a new question inside a turn: a wh-word or an
 * auxiliary right after "and", "or" or a comma ("what's your zip AND which
 * hospital do you use", "do you travel, AND do you need dental"). */
static bool clause_start(const struct nlu_doc *doc, size_t i)
{
  static const char *const openers[] = {"what", "which", "where", "when", "who", "how",
                                        "do",   "does",  "did",   "are",  "is",  "have",
                                        "can",  "would", "will",  "any"};
  if (i == 0 || !(nlu_tok_is(doc, i - 1, "and") || nlu_tok_is(doc, i - 1, "or") ||
                  nlu_tok_is(doc, i - 1, ",")))
    return false;
  for (size_t k = 0; k < sizeof openers / sizeof openers[0]; k++)
    if (nlu_tok_is(doc, i, openers[k]))
      return true;
  return false;
}

/* The labels of tokens [b, e) at or above their threshold and the floor:
 * the trainer's calibrated threshold can sit very low for a label with
 * few confusions ("the name of your neighbor's dog" is not about doctors
 * at p = 0.05). p gets every label's probability. */
static uint64_t sure_labels(const struct drill *d, const struct nlu_doc *doc, size_t b, size_t e,
                            float *p)
{
  uint64_t labels = nlu_classify_span(d->topic_model, doc, b, e, p);
  size_t n = nlu_model_nlabels(d->topic_model);
  for (size_t l = 0; l < n && l < 64; l++)
    if (p[l] < SURE_FLOOR)
      labels &= ~(1ull << l);
  return labels;
}

/* Reads tokens [b, e) as one question or statement: the span as a whole,
 * and each of its clauses when it asks several things at once (each label
 * is one-vs-rest, so two topics in one span can both fall short). A
 * question with nothing sure goes to the span's best guess. */
static void read_span(const struct drill *d, const struct nlu_doc *doc, size_t b, size_t e,
                      bool question, struct persona_heard *out)
{
  float p[NLU_MAX_LABELS], pc[NLU_MAX_LABELS];
  uint64_t any = 0;
  size_t from = b;
  /* The clauses first, in the order they were asked, then the span. */
  for (size_t i = b + 1; i <= e; i++) {
    if (i < e && (i - from < MIN_CLAUSE_TOKENS || !clause_start(doc, i)))
      continue;
    if (from == b && i == e)
      break; /* one clause: the span itself */
    uint64_t clause = sure_labels(d, doc, from, i, pc);
    take_labels(d, clause, out);
    any |= clause;
    from = i;
  }
  uint64_t labels = sure_labels(d, doc, b, e, p);
  take_labels(d, labels, out);
  if (question && (labels | any) == 0)
    take_labels(d, best_guess(d, p), out);
}

void persona_hear(const struct drill *d, const char *rep_text, struct persona_heard *out)
{
  /* About 20 KiB: on the stack, so a call holds nothing between turns. */
  struct nlu_doc doc;
  memset(out, 0, sizeof *out);
  if (rep_text == NULL || rep_text[0] == '\0')
    return;
  nlu_doc_parse(&doc, rep_text, strlen(rep_text), nlu_lexicon_default());
  enum nlu_question q = nlu_doc_question(&doc);
  out->question = q != NLU_Q_NONE;
  out->wh = q == NLU_Q_WH;
  out->about_persona = addresses_you(&doc, 0, doc.n);
  if (d->topic_model == NULL)
    return;
  if (doc.n <= ONE_SPAN_TOKENS || !out->question) {
    read_span(d, &doc, 0, doc.n, out->question, out);
    return;
  }
  /* A long turn: the topics of its questions only ("Our plan has dental.
   * ... And do you travel?" asks about travel, not teeth). */
  for (size_t s = 0; s < doc.nsent; s++) {
    if (nlu_sentence_question(&doc, s) == NLU_Q_NONE)
      continue;
    size_t b, e;
    nlu_sentence_range(&doc, s, &b, &e);
    read_span(d, &doc, b, e, true, out);
  }
}
