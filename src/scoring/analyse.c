/* analyse.c — one pass over a transcript: each turn is tokenised once, every
 * rubric phrase that starts at each word is tried through the first-word
 * index, and the hits are kept per phrase set (first hit per turn), along
 * with the per-turn facts the scorer needs (role, words, questions, time). */
#include "scoring/scoring_internal.h"
#include "scoring/meaning.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tok {
  uint32_t id;
  uint32_t sent;
  uint8_t num;
};

struct sent {
  uint32_t start, ntok;
  uint8_t question, open;
  uint8_t closed; /* ended by '.' or '!': a statement as the rep wrote it */
};

struct raw {
  uint32_t set, start, end, phrase;
};

struct scratch {
  struct tok *toks;
  size_t tok_cap;
  struct sent *sents;
  struct raw *raw;
  size_t raw_cap;
  uint32_t *stamp;   /* per set: last turn + 1 that hit it */
  uint32_t *occ_idx; /* per set: index of that turn's occurrence */
  struct sc_occ *occ;
  uint32_t *occ_set;
  size_t nocc, occ_cap;
  char name[SC_MAX_TOKEN_BYTES];
  size_t name_len;
  struct sc_meaning *meaning; /* NULL when the rubric reads nothing by meaning */
  size_t cur_ntok;            /* tokens of the turn being scanned */
};

/* Doubles the raw-hit buffer, up to SC_MAX_TURN_MATCHES; -1 at the ceiling
 * (later hits of that turn are dropped) or on OOM. */
static int raw_grow(struct scratch *s)
{
  if (s->raw_cap >= SC_MAX_TURN_MATCHES)
    return -1;
  size_t ncap = s->raw_cap ? s->raw_cap * 2 : 64;
  if (ncap > SC_MAX_TURN_MATCHES)
    ncap = SC_MAX_TURN_MATCHES;
  struct raw *nr = realloc(s->raw, ncap * sizeof *nr);
  if (!nr)
    return -1;
  s->raw = nr;
  s->raw_cap = ncap;
  return 0;
}

static int role_of(const char *role)
{
  if (!role)
    return 0;
  if (strcmp(role, "user") == 0)
    return SC_ROLE_REP;
  if (strcmp(role, "assistant") == 0)
    return SC_ROLE_PERSONA;
  return 0;
}

/* Lowercased first word of the persona's name, for "uses the prospect's name". */
static void set_name(struct scratch *s, const char *persona)
{
  s->name_len = 0;
  if (!persona)
    return;
  struct sc_cursor c = {(const unsigned char *)persona,
                        (const unsigned char *)persona + strlen(persona)};
  size_t len;
  enum sc_mark m;
  if (sc_next_word(&c, s->name, &len, &m) && len <= SC_MAX_TOKEN_BYTES)
    s->name_len = len;
}

/* Does phrase ph match at word i of the turn? Its first token is known to
 * match: the phrase was picked by it (the first-word index, or a "#" / "*"
 * phrase tried where it may start). */
static bool phrase_at(const struct rubric *r, const struct sc_phrase *ph, const struct tok *toks,
                      size_t ntok, size_t i)
{
  if (i + ph->ntok > ntok)
    return false;
  const uint32_t *pt = r->ptoks + ph->tok_off;
  for (size_t j = 1; j < ph->ntok; j++) {
    const struct tok *t = &toks[i + j];
    if (pt[j] == SC_PT_ANY)
      continue;
    if (pt[j] == SC_PT_NUM) {
      if (!t->num)
        return false;
      continue;
    }
    if (pt[j] != t->id)
      return false;
  }
  return true;
}

static int push_occ(struct scratch *s, uint32_t set, uint32_t turn, uint32_t pos, uint32_t phrase,
                    bool inq, uint32_t src_off, uint32_t src_len)
{
  if (s->stamp[set] == turn + 1) {
    struct sc_occ *o = &s->occ[s->occ_idx[set]];
    if (inq)
      o->in_question = 1;
    else if (o->stmt_pos == UINT32_MAX)
      o->stmt_pos = pos;
    return 0;
  }
  if (s->nocc == s->occ_cap) {
    size_t ncap = s->occ_cap ? s->occ_cap * 2 : 256;
    struct sc_occ *no = realloc(s->occ, ncap * sizeof *no);
    if (!no)
      return -1;
    s->occ = no;
    uint32_t *ns = realloc(s->occ_set, ncap * sizeof *ns);
    if (!ns)
      return -1;
    s->occ_set = ns;
    s->occ_cap = ncap;
  }
  s->stamp[set] = turn + 1;
  s->occ_idx[set] = (uint32_t)s->nocc;
  s->occ[s->nocc] =
      (struct sc_occ){turn, pos, phrase, src_off, src_len, inq ? UINT32_MAX : pos, (uint8_t)inq};
  s->occ_set[s->nocc] = set;
  s->nocc++;
  return 0;
}

static int push_meaning(void *ctx, uint32_t set, uint32_t turn, uint32_t pos, bool inq,
                        uint32_t src_off, uint32_t src_len)
{
  return push_occ(ctx, set, turn, pos, SC_PHRASE_NLU, inq, src_off, src_len);
}

/* The question flag of the sentence holding word pos, for the language
 * layer to set when it reads the sentence as a question: text-speak and
 * spoken questions often come with no punctuation at all. A sentence closed
 * by '.' or '!' is left as the rep wrote it (and not read again: speed). */
static uint8_t *question_flag(void *ctx, uint32_t pos)
{
  struct scratch *s = ctx;
  if (pos >= s->cur_ntok)
    return NULL;
  struct sent *se = &s->sents[s->toks[pos].sent];
  return se->closed ? NULL : &se->question;
}

/* Tokenises and scans one turn. */
static int scan_turn(const struct rubric *r, struct sc_analysis *a, struct scratch *s, uint32_t t,
                     const char *text, int role)
{
  struct sc_turn_info *ti = &a->ti[t];
  struct sc_cursor c = {(const unsigned char *)text, (const unsigned char *)text + strlen(text)};
  char w[SC_MAX_TOKEN_BYTES];
  size_t len, ntok = 0, nsent = 0;
  enum sc_mark m;
  uint32_t words = 0;

  s->sents[0] = (struct sent){0, 0, 0, 0, 0};
  nsent = 1;
  for (;;) {
    int more = sc_next_word(&c, w, &len, &m);
    if (m != SC_MARK_NONE && ntok < s->tok_cap) {
      struct sent *cur = &s->sents[nsent - 1];
      if (m == SC_MARK_QUESTION && cur->ntok > 0)
        cur->question = 1;
      else if (cur->ntok > 0)
        cur->closed = 1;
      if (cur->ntok > 0 && more)
        s->sents[nsent++] = (struct sent){(uint32_t)ntok, 0, 0, 0, 0};
    }
    if (!more)
      break;
    words++;
    if (ntok >= s->tok_cap)
      continue; /* past the ceiling: count, don't scan */
    struct tok *tk = &s->toks[ntok];
    tk->id = SC_TOK_UNKNOWN;
    tk->num = 0;
    tk->sent = (uint32_t)(nsent - 1);
    if (len <= SC_MAX_TOKEN_BYTES) {
      tk->id = sc_vocab_find(r, w, len, sc_hash(w, len));
      tk->num = sc_is_digits(w, len) ||
                (tk->id != SC_TOK_UNKNOWN && (r->vflags_by_id[tk->id] & SC_VF_NUMBER));
      if (role == SC_ROLE_REP && s->name_len == len && memcmp(w, s->name, len) == 0)
        ti->says_name = true;
    }
    s->sents[nsent - 1].ntok++;
    ntok++;
  }
  ti->words = words;
  if (!role)
    return 0;

  /* hits by meaning: sentences the classifiers label; first, so that the
   * phrase hits below see the questions it finds */
  s->cur_ntok = ntok;
  bool open_sent = false; /* a sentence with no closing mark: read its form */
  for (size_t k = 0; k < nsent && !open_sent; k++)
    open_sent = s->sents[k].ntok > 0 && !s->sents[k].closed && !s->sents[k].question;
  struct sc_meaning_sink sink = {s, push_meaning, open_sent ? question_flag : NULL};
  if (sc_meaning_scan(r, s->meaning, t, text, role, ti, &sink) != 0)
    return -1;

  /* every phrase of the role's index starting at every word */
  const struct sc_phrase_index *x = &r->index[role - 1];
  size_t nraw = 0;
  for (size_t i = 0; i < ntok && nraw < SC_MAX_TURN_MATCHES; i++) { /* ceiling: see raw_grow */
    uint32_t id = s->toks[i].id;
    if (id < r->vcount) {
      for (uint32_t k = x->first_start[id]; k < x->first_start[id + 1]; k++) {
        const struct sc_phrase *ph = &r->phrases[x->by_first[k]];
        if (!phrase_at(r, ph, s->toks, ntok, i))
          continue;
        if (nraw == s->raw_cap && raw_grow(s) != 0)
          break;
        s->raw[nraw++] =
            (struct raw){ph->set, (uint32_t)i, (uint32_t)(i + ph->ntok), x->by_first[k]};
      }
    }
    /* phrases opening with "#" only start at a number; "*" anywhere */
    size_t wk = s->toks[i].num ? 0 : x->nwild_num_first;
    for (size_t k = wk; k < x->nwild_first; k++) {
      const struct sc_phrase *ph = &r->phrases[x->wild_first[k]];
      if (!phrase_at(r, ph, s->toks, ntok, i))
        continue;
      if (nraw == s->raw_cap && raw_grow(s) != 0)
        break;
      s->raw[nraw++] =
          (struct raw){ph->set, (uint32_t)i, (uint32_t)(i + ph->ntok), x->wild_first[k]};
    }
  }

  for (size_t k = 0; k < nraw; k++) {
    const struct raw *h = &s->raw[k];
    uint32_t es = r->sets[h->set].except_set;
    if (es != SC_NO_SET) {
      bool covered = false;
      for (size_t q = 0; q < nraw && !covered; q++)
        covered = s->raw[q].set == es && s->raw[q].start < h->end && h->start < s->raw[q].end;
      if (covered)
        continue;
    }
    struct sent *se = &s->sents[s->toks[h->start].sent];
    if (h->set == r->set_open_starters && h->start - se->start < SC_PREFIX_WINDOW)
      se->open = 1;
    if (push_occ(s, h->set, t, h->start, h->phrase, se->question, 0, 0) != 0)
      return -1;
  }

  if (role == SC_ROLE_REP) {
    for (size_t k = 0; k < nsent; k++) {
      if (!s->sents[k].question || s->sents[k].ntok == 0)
        continue;
      ti->questions++;
      if (s->sents[k].open)
        ti->open_questions++;
    }
  }
  return 0;
}

static void scratch_release(struct scratch *s)
{
  free(s->toks);
  free(s->sents);
  free(s->raw);
  free(s->stamp);
  free(s->occ_idx);
  free(s->occ);
  free(s->occ_set);
  sc_meaning_free(s->meaning);
}

int sc_analyse(const struct rubric *r, const struct score_input *in, struct sc_analysis *a,
               char *err, size_t errlen)
{
  int rc = -1;
  struct scratch s;
  memset(&s, 0, sizeof s);
  memset(a, 0, sizeof *a);
  size_t n = in->n_turns < SC_MAX_TURNS ? in->n_turns : SC_MAX_TURNS;
  if (n && !in->turns) {
    snprintf(err, errlen, "turns is NULL");
    return -1;
  }
  a->n_turns = n;

  /* A turn of L bytes holds at most (L + 1) / 2 words. */
  size_t maxlen = 0;
  for (size_t t = 0; t < n; t++) {
    size_t l = in->turns[t].content ? strlen(in->turns[t].content) : 0;
    if (l > maxlen)
      maxlen = l;
  }
  s.tok_cap = (maxlen + 1) / 2 + 1;
  if (s.tok_cap > SC_MAX_TURN_TOKENS)
    s.tok_cap = SC_MAX_TURN_TOKENS;

  a->ti = calloc(n ? n : 1, sizeof *a->ti);
  a->set_start = calloc(r->nsets + 1, sizeof *a->set_start);
  s.toks = malloc(s.tok_cap * sizeof *s.toks);
  s.sents = malloc((s.tok_cap + 1) * sizeof *s.sents);
  s.stamp = calloc(r->nsets ? r->nsets : 1, sizeof *s.stamp);
  s.occ_idx = calloc(r->nsets ? r->nsets : 1, sizeof *s.occ_idx);
  if (!a->ti || !a->set_start || !s.toks || !s.sents || !s.stamp || !s.occ_idx) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  set_name(&s, in->persona_name);
  s.meaning = sc_meaning_new(r);
  if (r->n_nlu_models > 0 && !s.meaning) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }

  uint32_t rep_ord = 0, run_words = 0, run_start = 0;
  bool clock_ok = true, clock_any = false;
  int64_t prev_at = 0;
  for (size_t t = 0; t < n; t++) {
    const struct score_turn *st = &in->turns[t];
    int role = role_of(st->role);
    a->ti[t].role = (uint8_t)role;
    if (scan_turn(r, a, &s, (uint32_t)t, st->content ? st->content : "", role) != 0) {
      snprintf(err, errlen, "out of memory");
      goto out;
    }
    if (st->at_ms < prev_at || st->at_ms < 0)
      clock_ok = false;
    if (st->at_ms > 0)
      clock_any = true;
    prev_at = st->at_ms;
    uint32_t w = a->ti[t].words;
    if (role == SC_ROLE_REP) {
      a->ti[t].rep_ord = rep_ord++;
      a->rep_words += w;
      a->rep_turns++;
      a->substantive_turns += a->ti[t].substantive;
      if (!a->ti[t].off_topic) { /* chatter's questions are not discovery skill */
        a->questions += a->ti[t].questions;
        a->open_questions += a->ti[t].open_questions;
      }
      if (run_words == 0)
        run_start = (uint32_t)t;
      run_words += w;
      if (run_words > a->longest_run_words) {
        a->longest_run_words = run_words;
        a->longest_run_turn = run_start;
      }
    } else if (role == SC_ROLE_PERSONA) {
      a->persona_words += w;
      a->persona_turns++;
      run_words = 0;
    }
  }

  /* Times: the turns' own clock when it is usable, else an estimate from the
   * words spoken before each turn. */
  a->timing_from_clock = clock_ok && clock_any;
  double acc = 0;
  for (size_t t = 0; t < n; t++) {
    a->ti[t].time_ms = a->timing_from_clock ? in->turns[t].at_ms : (int64_t)acc;
    acc += a->ti[t].words * r->ms_per_word;
  }

  /* group occurrences by set (stable counting sort keeps turn order) */
  a->occ = malloc((s.nocc ? s.nocc : 1) * sizeof *a->occ);
  if (!a->occ) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  for (size_t k = 0; k < s.nocc; k++)
    a->set_start[s.occ_set[k] + 1]++;
  for (size_t k = 0; k < r->nsets; k++)
    a->set_start[k + 1] += a->set_start[k];
  memset(s.stamp, 0, r->nsets * sizeof *s.stamp); /* reused as fill counters */
  for (size_t k = 0; k < s.nocc; k++) {
    uint32_t set = s.occ_set[k];
    a->occ[a->set_start[set] + s.stamp[set]++] = s.occ[k];
  }
  rc = 0;
out:
  scratch_release(&s);
  if (rc != 0)
    sc_analysis_release(a);
  return rc;
}

void sc_analysis_release(struct sc_analysis *a)
{
  if (!a)
    return;
  free(a->ti);
  free(a->occ);
  free(a->set_start);
  memset(a, 0, sizeof *a);
}

const struct sc_occ *sc_occ_of(const struct sc_analysis *a, uint32_t s, size_t *n)
{
  *n = a->set_start[s + 1] - a->set_start[s];
  return a->occ + a->set_start[s];
}

int64_t sc_time_at(const struct rubric *r, const struct sc_analysis *a, uint32_t t, uint32_t pos)
{
  return a->ti[t].time_ms + (int64_t)(pos * r->ms_per_word);
}
