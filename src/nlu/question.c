/*
 * question.c — question detection over a parsed utterance: wh-questions,
 * yes/no questions, tag questions and indirect questions ("can you tell
 * me...", "I was wondering..."). A '?' always makes a question; speech
 * transcripts often have none, so the form of the sentence decides too.
 * Used by the scorer (question metrics, discovery) and the persona.
 */
#include "nlu/nlu_internal.h"

#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const wh_words[] = {"what",  "who",  "whom", "whose", "which",
                                       "where", "when", "why",  "how"};
static const char *const aux_words[] = {"do",  "does",  "did",   "are",   "is",     "was",  "were",
                                        "can", "could", "would", "will",  "should", "have", "has",
                                        "had", "may",   "might", "shall", "am"};
static const char *const subjects[] = {
    "you",      "i",    "we",   "they",   "he",      "she",   "it",        "your",
    "there",    "that", "this", "anyone", "anybody", "any",   "someone",   "somebody",
    "medicare", "my",   "the",  "these",  "those",   "yours", "everything"};
/* Words skipped at the start of a sentence before the form is read. */
static const char *const openers[] = {
    "so",   "and",     "ok",     "well",    "now",  "also",   "but",     "um",       "uh",
    "oh",   "alright", "great",  "then",    "hi",   "hey",    "just",    "quick",    "question",
    "next", "first",   "lastly", "finally", "sure", "thanks", "perfect", "wonderful"};
/* Indirect question openers, matched within the first words of a sentence. */
static const char *const indirect[][5] = {
    {"can", "you", "tell", "me", NULL},       {"could", "you", "tell", "me", NULL},
    {"would", "you", "tell", "me", NULL},     {"can", "you", "walk", "me", NULL},
    {"could", "you", "walk", "me", NULL},     {"tell", "me", "about", NULL, NULL},
    {"tell", "me", "a", "little", NULL},      {"tell", "me", "what", NULL, NULL},
    {"tell", "me", "a", "bit", NULL},         {"tell", "me", "how", NULL, NULL},
    {"tell", "me", "who", NULL, NULL},        {"tell", "me", "which", NULL, NULL},
    {"tell", "me", "if", NULL, NULL},         {"i", "was", "wondering", NULL, NULL},
    {"i", "am", "wondering", NULL, NULL},     {"i", "wonder", NULL, NULL, NULL},
    {"do", "you", "mind", NULL, NULL},        {"would", "you", "mind", NULL, NULL},
    {"i", "would", "like", "to", "know"},     {"i", "would", "love", "to", "hear"},
    {"help", "me", "understand", NULL, NULL}, {"walk", "me", "through", NULL, NULL},
    {"let", "me", "ask", NULL, NULL},         {"i", "am", "curious", NULL, NULL},
    {"i", "want", "to", "know", NULL},        {"i", "need", "to", "know", NULL},
    {"describe", NULL, NULL, NULL, NULL},     {"share", "with", "me", NULL, NULL},
    {"fill", "me", "in", NULL, NULL},         {"any", "idea", NULL, NULL, NULL},
    {"do", "you", "know", NULL, NULL},        {"do", "you", "happen", "to", NULL},
    {"is", "there", "any", NULL, NULL}};
/* Tag endings, read backwards from the end of the sentence. */
static const char *const tags[][3] = {
    {"right", NULL, NULL},  {"correct", NULL, NULL}, {"yeah", NULL, NULL},    {"ok", NULL, NULL},
    {"no", NULL, NULL},     {"is", "not", "it"},     {"do", "not", "you"},    {"are", "not", "you"},
    {"does", "not", "it"},  {"did", "not", "you"},   {"is", "that", "right"}, {"am", "i", "right"},
    {"is", "it", NULL},     {"yes", NULL, NULL},     {"have", "not", "you"},  {"was", "not", "it"},
    {"will", "not", "you"}, {"would", "not", "you"}};

/* First byte of token i, or -1 past the end: a cheap test before a word
 * comparison (most candidates differ there). */
static int first_byte(const struct nlu_doc *d, size_t i)
{
  return i < d->n && d->tok[i].len > 0 ? (unsigned char)d->text[d->tok[i].off] : -1;
}

static bool in_list(const struct nlu_doc *d, size_t i, const char *const *list, size_t n)
{
  int c = first_byte(d, i);
  if (c < 0)
    return false;
  for (size_t k = 0; k < n; k++)
    if ((unsigned char)list[k][0] == c && nlu_tok_eq(d, i, list[k]))
      return true;
  return false;
}

static bool has_indirect(const struct nlu_doc *d, size_t b, size_t e)
{
  for (size_t start = b; start < e && start < b + 2; start++) {
    int c = first_byte(d, start);
    for (size_t k = 0; k < COUNT(indirect); k++) {
      if ((unsigned char)indirect[k][0][0] != c)
        continue;
      size_t j = 0;
      while (j < 5 && indirect[k][j] != NULL && start + j < e &&
             nlu_tok_eq(d, start + j, indirect[k][j]))
        j++;
      if (j == 5 || indirect[k][j] == NULL)
        return true;
    }
  }
  return false;
}

/* Whether the words [b, e) end with a tag ("..., right"). With no '?', the
 * tag must follow a comma. */
static bool has_tag(const struct nlu_doc *d, size_t b, size_t e, bool qmark)
{
  for (size_t k = 0; k < COUNT(tags); k++) {
    size_t n = 0;
    while (n < 3 && tags[k][n] != NULL)
      n++;
    if (e < b + n + 1) /* a tag needs a statement before it */
      continue;
    size_t s = e - n;
    bool ok = true;
    for (size_t j = 0; j < n && ok; j++)
      ok = nlu_tok_eq(d, s + j, tags[k][j]);
    if (!ok)
      continue;
    bool comma = s > b && nlu_tok_eq(d, s - 1, ",");
    if (comma || (qmark && n > 1))
      return true;
  }
  return false;
}

enum nlu_question nlu_sentence_question(const struct nlu_doc *d, size_t s)
{
  size_t b, e;
  nlu_sentence_range(d, s, &b, &e);
  if (b >= e)
    return NLU_Q_NONE;
  bool qmark = false;
  size_t we = e; /* end of the words: trailing punctuation dropped */
  while (we > b && !(d->tok[we - 1].flags & NLU_TF_WORD)) {
    if (d->tok[we - 1].flags & NLU_TF_QMARK)
      qmark = true;
    we--;
  }
  size_t f = b; /* first word after openers and commas */
  for (int k = 0; k < 4 && f < we; k++) {
    if (nlu_tok_eq(d, f, ",") || in_list(d, f, openers, COUNT(openers)))
      f++;
    else
      break;
  }
  if (f >= we)
    return qmark ? NLU_Q_YESNO : NLU_Q_NONE;
  if (has_indirect(d, f, we))
    return NLU_Q_INDIRECT;
  if (in_list(d, f, wh_words, COUNT(wh_words))) {
    if (qmark)
      return NLU_Q_WH;
    /* Without '?': "what/which/whose" + not a first-person statement;
     * "how many/much/long/often/old/about"; any wh-word + an auxiliary. */
    bool next_aux = in_list(d, f + 1, aux_words, COUNT(aux_words));
    bool wh_np =
        (nlu_tok_eq(d, f, "what") || nlu_tok_eq(d, f, "which") || nlu_tok_eq(d, f, "whose")) &&
        !nlu_tok_eq(d, f + 1, "i") && !nlu_tok_eq(d, f + 1, "we");
    bool how_x =
        nlu_tok_eq(d, f, "how") && (nlu_tok_eq(d, f + 1, "many") || nlu_tok_eq(d, f + 1, "much") ||
                                    nlu_tok_eq(d, f + 1, "long") || nlu_tok_eq(d, f + 1, "often") ||
                                    nlu_tok_eq(d, f + 1, "old") || nlu_tok_eq(d, f + 1, "about"));
    if (f + 1 < we && (next_aux || wh_np || how_x))
      return NLU_Q_WH;
  }
  if (has_tag(d, f, we, qmark))
    return NLU_Q_TAG;
  if (in_list(d, f, aux_words, COUNT(aux_words)) &&
      (in_list(d, f + 1, subjects, COUNT(subjects)) ||
       (nlu_tok_eq(d, f + 1, "not") && in_list(d, f + 2, subjects, COUNT(subjects)))))
    return NLU_Q_YESNO;
  return qmark ? NLU_Q_YESNO : NLU_Q_NONE;
}

enum nlu_question nlu_doc_question(const struct nlu_doc *d)
{
  for (size_t s = 0; s < d->nsent; s++) {
    enum nlu_question q = nlu_sentence_question(d, s);
    if (q != NLU_Q_NONE)
      return q;
  }
  return NLU_Q_NONE;
}

size_t nlu_doc_count_questions(const struct nlu_doc *d, size_t *open_q)
{
  size_t n = 0, o = 0;
  for (size_t s = 0; s < d->nsent; s++) {
    enum nlu_question q = nlu_sentence_question(d, s);
    if (q == NLU_Q_NONE)
      continue;
    n++;
    if (q == NLU_Q_WH || q == NLU_Q_INDIRECT)
      o++;
  }
  if (open_q != NULL)
    *open_q = o;
  return n;
}
