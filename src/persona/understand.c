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
    if (nlu_tok_is(doc, i, "you") || nlu_tok_is(doc, i, "your") ||
        nlu_tok_is(doc, i, "yourself"))
      return true;
  return false;
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
    else if (t >= 0)
      out->topics |= 1u << t;
  }
}

void persona_hear(const struct drill *d, const char *rep_text, struct persona_heard *out)
{
  /* About 20 KiB: on the stack, so a call holds nothing between turns. */
  struct nlu_doc doc;
  memset(out, 0, sizeof *out);
  if (rep_text == NULL || rep_text[0] == '\0')
    return;
  nlu_doc_parse(&doc, rep_text, strlen(rep_text), nlu_lexicon_default());
  float p[NLU_MAX_LABELS];
  /* The topics of the question sentences when there are any ("Great. And
   * do you travel?"), else of the whole utterance: a statement about the
   * plan's dental benefits is not a question about the persona's teeth,
   * but "Tell me about your doctors" is. */
  for (size_t s = 0; s < doc.nsent; s++) {
    if (nlu_sentence_question(&doc, s) == NLU_Q_NONE)
      continue;
    size_t b, e;
    nlu_sentence_range(&doc, s, &b, &e);
    out->question = true;
    if (addresses_you(&doc, b, e))
      out->about_persona = true;
    if (d->topic_model != NULL)
      take_labels(d, nlu_classify_span(d->topic_model, &doc, b, e, p), out);
  }
  if (!out->question && d->topic_model != NULL)
    take_labels(d, nlu_classify_doc(d->topic_model, &doc, p), out);
}
