/* meaning.c — the scorer's use of the language layer (src/nlu): each turn
 * of a role some rubric set reads by meaning is parsed once and classified
 * by every classifier the rubric names; a sentence that gets a set's label
 * counts as a hit of that set, with the sentence as evidence. It also marks
 * off-topic and substantive rep turns. Called by analyse.c per turn. */
#include "scoring/scoring_internal.h"
#include "scoring/meaning.h"

#include <stdlib.h>
#include <string.h>

#define SC_OFF_TOPIC_MIN_P 0.75f /* stricter than the label's own threshold: only clear chatter */

struct sc_meaning {
  struct nlu_doc doc;
  struct nlu_result res[SC_NLU_MAX_MODELS];
  int8_t question[NLU_TOKENS_MAX]; /* per sentence: enum nlu_question, -1 = not yet read */
};

/* Whether sentence s of the chunk is a question (computed once). */
static bool is_question(struct sc_meaning *m, uint16_t s)
{
  if (m->question[s] < 0)
    m->question[s] = (int8_t)nlu_sentence_question(&m->doc, s);
  return m->question[s] != NLU_Q_NONE;
}

struct sc_meaning *sc_meaning_new(const struct rubric *r)
{
  if (r->n_nlu_models == 0)
    return NULL;
  return malloc(sizeof(struct sc_meaning));
}

void sc_meaning_free(struct sc_meaning *m)
{
  free(m);
}

bool sc_meaning_needed(const struct rubric *r, int role)
{
  return r->n_nlu_models > 0 && (r->nlu_role_mask & (uint32_t)role) != 0;
}

/* Words before sentence s of d: the scorer's word position of its start. */
static uint32_t words_before(const struct nlu_doc *d, size_t s, uint32_t *sent_b, uint32_t *sent_e)
{
  uint32_t w = 0;
  size_t i = 0;
  for (; i < d->n && d->tok[i].sent < s; i++)
    w += (d->tok[i].flags & NLU_TF_WORD) != 0;
  *sent_b = i < d->n ? d->tok[i].src_off : 0;
  size_t e = i;
  while (e < d->n && d->tok[e].sent == s)
    e++;
  *sent_e = e > i ? (uint32_t)d->tok[e - 1].src_off + d->tok[e - 1].src_len : *sent_b;
  return w;
}

static uint32_t doc_words(const struct nlu_doc *d)
{
  uint32_t w = 0;
  for (size_t i = 0; i < d->n; i++)
    w += (d->tok[i].flags & NLU_TF_WORD) != 0;
  return w;
}

/* Flags the scorer's sentences that the chunk's question sentences start
 * in (one walk; see sc_meaning_sink). */
static void report_questions(struct sc_meaning *m, uint32_t wbase,
                             const struct sc_meaning_sink *sink)
{
  const struct nlu_doc *d = &m->doc;
  uint32_t w = 0;
  size_t cur = SIZE_MAX;
  for (size_t i = 0; i < d->n; i++) {
    size_t s = d->tok[i].sent;
    if (s != cur && (d->tok[i].flags & NLU_TF_WORD)) {
      cur = s;
      uint8_t *flag = sink->question_flag(sink->ctx, wbase + w);
      if (flag && !*flag && s < NLU_TOKENS_MAX && is_question(m, (uint16_t)s))
        *flag = 1;
    }
    w += (d->tok[i].flags & NLU_TF_WORD) != 0;
  }
}

/* Hits of one chunk of a turn: for every classifier, every set with one of
 * its labels. base/wbase: the chunk's byte and word offsets in the turn. */
static int scan_chunk(const struct rubric *r, struct sc_meaning *m, uint32_t t, int role,
                      uint32_t base, uint32_t wbase, struct sc_turn_info *ti,
                      const struct sc_meaning_sink *sink)
{
  const struct nlu_doc *d = &m->doc;
  memset(m->question, -1, d->nsent < NLU_TOKENS_MAX ? d->nsent : NLU_TOKENS_MAX);
  nlu_classify_doc_multi(r->nlu_models, r->n_nlu_models, d, m->res);
  for (size_t k = 0; k < r->n_nlu_models; k++) {
    uint64_t mask = m->res[k].mask;
    /* off-topic only when the classifier is sure: its questions stop counting */
    if (role == SC_ROLE_REP && k == r->off_topic_model &&
        m->res[k].p[r->off_topic_label] >= SC_OFF_TOPIC_MIN_P)
      ti->off_topic = true;
    if (role == SC_ROLE_REP && k == r->substantive_model && (mask & r->substantive_mask))
      ti->substantive = true;
    if (!mask)
      continue;
    for (uint32_t i = r->nlu_set_start[k]; i < r->nlu_set_start[k + 1]; i++) {
      uint32_t s = r->nlu_sets[i];
      const struct sc_set *set = &r->sets[s];
      if (!(set->role_mask & (uint32_t)role) || !((mask >> set->nlu_label) & 1))
        continue;
      uint16_t sent = m->res[k].sent_of[set->nlu_label];
      uint32_t sb, se;
      uint32_t pos = wbase + words_before(d, sent, &sb, &se);
      bool inq = is_question(m, sent);
      if (sink->push(sink->ctx, s, t, pos, inq, base + sb, se - sb) != 0)
        return -1;
    }
  }
  if (role == SC_ROLE_REP && sink->question_flag)
    report_questions(m, wbase, sink);
  return 0;
}

int sc_meaning_scan(const struct rubric *r, struct sc_meaning *m, uint32_t t, const char *text,
                    int role, struct sc_turn_info *ti, const struct sc_meaning_sink *sink)
{
  size_t len = strlen(text), at = 0;
  uint32_t wbase = 0;
  if (!m || !sc_meaning_needed(r, role))
    return 0;
  do {
    size_t n = nlu_chunk_end(text + at, len - at);
    nlu_doc_parse(&m->doc, text + at, n, nlu_lexicon_default());
    if (m->doc.truncated && m->doc.n > 0) {
      size_t used = (size_t)m->doc.tok[m->doc.n - 1].src_off + m->doc.tok[m->doc.n - 1].src_len;
      if (used > 0 && used < n)
        n = used;
    }
    if (scan_chunk(r, m, t, role, (uint32_t)at, wbase, ti, sink) != 0)
      return -1;
    wbase += doc_words(&m->doc);
    at += n;
  } while (at < len);
  return 0;
}
