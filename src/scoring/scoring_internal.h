/*
 * scoring_internal.h — internals shared by the scorer's files: the compiled
 * rubric (vocabulary, phrase index, dimensions, compliance rules, text
 * templates), the tokeniser, and the per-call analysis of a transcript.
 *
 * Nothing here is part of the public interface (scorer.h).
 */
#ifndef ATHOS_SCORING_INTERNAL_H
#define ATHOS_SCORING_INTERNAL_H

#include "scoring/scorer.h"
#include "nlu/nlu.h"
#include "util/dynbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits (every buffer has a ceiling) ---- */
#define SC_MAX_TOKEN_BYTES   48 /* longer words never match a phrase */
#define SC_MAX_PHRASE_TOKENS 12
#define SC_MAX_GROUPS        4     /* allOf groups in one check */
#define SC_MAX_ELEMENTS      6     /* TPMO elements per rule version */
#define SC_MAX_TURN_TOKENS   20000 /* tokens of one turn scanned for phrases */
#define SC_MAX_TURN_MATCHES  4096  /* raw phrase hits kept for one turn */
#define SC_MAX_TURNS         10000 /* turns analysed; later turns are ignored */
#define SC_MAX_EVIDENCE      12    /* turn indexes listed per criterion */
#define SC_MAX_TEXT          4096  /* summary / feedback length ceiling */
#define SC_PREFIX_WINDOW \
  3 /* an open-question starter must begin within
                                       this many tokens of its sentence's start */

#define SC_ROLE_REP     1u
#define SC_ROLE_PERSONA 2u
#define SC_ROLES        2

/* The phrases one role's turns are scanned for (their set has the role and
 * is not nluOnly), by first word, in phrase order: what analyse.c tries at
 * each word of a turn of that role. */
struct sc_phrase_index {
  uint32_t *first_start; /* vcount + 1 offsets into by_first */
  uint32_t *by_first;
  uint32_t *wild_first; /* phrases whose first token is a wildcard: */
  size_t nwild_first;   /* ... [0, nwild_num_first) open with "#", the rest with "*" */
  size_t nwild_num_first;
};

/* Phrase-token wildcards and the id of a word not in the vocabulary. */
#define SC_TOK_UNKNOWN 0xFFFFFFFFu
#define SC_PT_NUM      0xFFFFFFFEu /* "#": any number (digits or a number word) */
#define SC_PT_ANY      0xFFFFFFFDu /* "*": any one word */

#define SC_VF_NUMBER 1u /* vocabulary flag: a number word ("eight") */

#define SC_NO_SET 0xFFFFFFFFu

/* ---- tokeniser ---- */

/* Reads text one word at a time. Words are ASCII-lowercased, apostrophes
 * inside words are dropped ("don't" -> "dont"), bytes >= 0x80 are word
 * bytes (UTF-8 words stay whole; curly apostrophes, NBSP and general
 * punctuation U+2000..U+206F are recognised). */
struct sc_cursor {
  const unsigned char *p;
  const unsigned char *end;
};

enum sc_mark { SC_MARK_NONE = 0, SC_MARK_STOP = 1, SC_MARK_QUESTION = 2 };

/* Next word into buf (at most SC_MAX_TOKEN_BYTES bytes kept; *len is the
 * full length, so *len > SC_MAX_TOKEN_BYTES means "truncated"). *mark is the
 * strongest sentence terminator seen since the previous word. Returns 1 for
 * a word, 0 at the end (with *mark covering trailing punctuation). */
int sc_next_word(struct sc_cursor *c, char *buf, size_t *len, enum sc_mark *mark);
uint64_t sc_hash(const char *s, size_t len);
bool sc_is_digits(const char *s, size_t len);

/* ---- compiled rubric ---- */

struct sc_vocab_entry {
  uint64_t hash;
  uint32_t off; /* into vpool */
  uint16_t len;
  uint16_t flags;
};

struct sc_phrase {
  uint32_t tok_off; /* into ptoks */
  uint16_t ntok;
  uint32_t set;
  const char *text; /* as written in the rubric (borrowed from root) */
};

struct sc_set {
  uint32_t role_mask;  /* SC_ROLE_* whose turns are scanned for it */
  uint32_t except_set; /* hits overlapping a hit of this set are dropped */
  /* Meaning (src/nlu): a sentence the classifier gives this label hits the
   * set too ("nlu": "model:label" in the rubric); with nlu_only the phrases
   * are ignored and only the meaning counts ("nluOnly": true). */
  uint8_t nlu_model; /* index into rubric.nlu_models, or SC_NLU_NONE */
  uint8_t nlu_label;
  bool nlu_only;
};

#define SC_NLU_NONE       0xFFu
#define SC_NLU_MAX_MODELS 4
#define SC_PHRASE_NLU     0xFFFFFFFFu /* sc_occ.phrase of a hit found by meaning */

/* A check: every group (a set of alternative phrases) must match in the
 * same turn. */
struct sc_check {
  uint32_t groups[SC_MAX_GROUPS];
  uint8_t ngroups;
};

enum sc_crit_kind { SC_CK_PHRASE, SC_CK_METRIC, SC_CK_COMPLIANCE, SC_CK_SPECIAL };
enum sc_metric {
  SC_M_TALK_RATIO,
  SC_M_QUESTIONS,
  SC_M_OPEN_Q,
  SC_M_CLOSED_Q,
  SC_M_MONOLOGUE,
  SC_M__N
};
enum sc_special {
  SC_SP_USES_NAME,
  SC_SP_OBJ_ACK,
  SC_SP_OBJ_ADDRESSED,
  SC_SP_OBJ_NO_PRESSURE,
  SC_SP__N
};
enum sc_comp { SC_C_RECORDING, SC_C_TPMO, SC_C_SOA, SC_C_CLAIMS, SC_C__N };

struct sc_criterion {
  const char *key, *label, *advice, *topic; /* borrowed; advice/topic may be NULL */
  double weight;
  enum sc_crit_kind kind;
  /* phrase */
  struct sc_check check;
  uint32_t role;             /* SC_ROLE_REP or SC_ROLE_PERSONA */
  uint32_t within_rep_turns; /* 0 = anywhere */
  uint32_t min_turns;        /* distinct turns needed, >= 1 */
  bool in_question;          /* the hit must sit in a sentence ending with '?' */
  /* metric */
  enum sc_metric metric;
  bool has_min, has_max;
  double min, max;
  /* compliance / special */
  enum sc_comp comp;
  enum sc_special special;
};

struct sc_dimension {
  const char *key, *label;
  double weight;
  struct sc_criterion *crit;
  size_t ncrit;
};

struct sc_penalty {
  double subtract;      /* points taken off the overall score on a miss */
  double cap;           /* the overall score can't exceed this on a miss */
  double per_violation; /* prohibited claims: points per violation */
  double max_subtract;  /* prohibited claims: ceiling of the total */
};

struct sc_element {
  const char *key, *label;
  struct sc_check check;
};

struct sc_tpmo_version {
  const char *rule;
  int64_t from_ms, to_ms; /* to_ms = INT64_MAX when open-ended */
  int64_t within_ms;      /* 0 = no time limit */
  bool before_benefits;
  struct sc_element el[SC_MAX_ELEMENTS];
  size_t nel;
  const char *advice_missing, *advice_late;
};

struct sc_claim {
  const char *key, *label, *advice;
  uint32_t set;
  uint32_t raised_set; /* SC_NO_SET, or persona phrases that make it allowed */
};

struct sc_objection {
  const char *key, *label, *advice;
  uint32_t raised_set;    /* persona */
  uint32_t addressed_set; /* rep */
};

enum sc_tmpl {
  SC_T_INTRO,
  SC_T_INTRO_NO_DIFFICULTY,
  SC_T_INTRO_EMPTY,
  SC_T_INTRO_REP_SILENT,
  SC_T_DISCOVERY_ALL,
  SC_T_DISCOVERY_PARTIAL,
  SC_T_DISCOVERY_NONE,
  SC_T_ENROLL_ASKED,
  SC_T_ENROLL_NOT_ASKED,
  SC_T_OBJECTION_OPEN,
  SC_T_OBJECTIONS_HANDLED,
  SC_T_END_PERSONA_HANGUP,
  SC_T_END_REP_HANGUP,
  SC_T_END_MAX_DURATION,
  SC_T_END_IDLE,
  SC_T_END_DISCONNECT,
  SC_T_END_LIMIT, /* optional: rubrics written before the `limit` end reason */
  SC_T_COMPLIANCE_CLEAN,
  SC_T_COMPLIANCE_MISSED,
  SC_T_STRONG_WEAK,
  SC_T_FB_CLAIM,
  SC_T_FB_OBJECTION_OPEN,
  SC_T_FB_ALL_GOOD,
  SC_T_FB_EMPTY,
  SC_T_TOO_SHORT,    /* optional: required when the rubric has "assessable" */
  SC_T_FB_TOO_SHORT, /* optional, likewise */
  SC__T_N
};

struct rubric {
  json_t *root; /* owns every borrowed string below */
  const char *version;
  double ms_per_word;
  size_t max_feedback_items;

  /* vocabulary: open addressing, power-of-two capacity */
  struct sc_vocab_entry *vtab;
  uint32_t vcap, vcount;
  uint32_t *vslot_id;     /* vtab slot -> word id (SC_TOK_UNKNOWN if empty) */
  uint16_t *vflags_by_id; /* word id -> SC_VF_* */
  char *vpool;
  size_t vpool_len, vpool_cap;

  /* phrases, indexed by first word id */
  struct sc_phrase *phrases;
  size_t nphrases, phrases_cap;
  uint32_t *ptoks;
  size_t nptoks, ptoks_cap;
  struct sc_phrase_index index[SC_ROLES]; /* per role (SC_ROLE_* - 1) */

  struct sc_set *sets;
  size_t nsets, sets_cap;

  /* lexicon sets used by the scorer itself */
  uint32_t set_open_starters, set_agreement, set_empathy, set_benefits;
  uint32_t set_pressure; /* SC_NO_SET, or lexicon.pressure: urgency and pushing to sign */

  struct sc_dimension *dims;
  size_t ndims;

  struct {
    const char *label, *advice;
    struct sc_penalty pen;
    uint32_t set;
    uint32_t within_rep_turns;
  } rec;
  struct {
    const char *label;
    struct sc_penalty pen;
    struct sc_tpmo_version *v;
    size_t nv;
  } tpmo;
  struct {
    const char *label, *advice;
    struct sc_penalty pen;
    struct sc_check products, no_obligation;
    bool before_benefits;
  } soa;
  struct {
    const char *label;
    struct sc_penalty pen;
    struct sc_claim *c;
    size_t n;
  } claims;

  struct sc_objection *obj;
  size_t nobj;

  /* classifiers the rubric names, and the roles whose turns they read */
  const struct nlu_model *nlu_models[SC_NLU_MAX_MODELS];
  size_t n_nlu_models;
  uint32_t nlu_role_mask;
  /* the sets read by meaning, grouped by classifier: nlu_sets[nlu_set_start[k]
   * .. nlu_set_start[k + 1]) use nlu_models[k] (built by build_index) */
  uint32_t *nlu_sets;
  uint32_t nlu_set_start[SC_NLU_MAX_MODELS + 1];
  /* rep turns with this label are off-topic (SC_NLU_NONE = no such rule) */
  uint8_t off_topic_model, off_topic_label;
  /* the too-short rule: a call with fewer rep turns than this carrying a
   * substantive label (substantive_mask of substantive_model) cannot be
   * judged; SC_NLU_NONE = every call is judged */
  uint32_t min_substantive_turns;
  uint32_t min_rep_turns; /* fewer rep turns than this: too short to judge */
  uint8_t substantive_model;
  uint64_t substantive_mask;

  const char *tmpl[SC__T_N];
};

/* Word id of a lowercased word, or SC_TOK_UNKNOWN. */
uint32_t sc_vocab_find(const struct rubric *r, const char *w, size_t len, uint64_t h);

/* ---- per-call analysis (analyse.c) ---- */

struct sc_occ {
  uint32_t turn;
  uint32_t pos;     /* word index of the first hit in the turn */
  uint32_t phrase;  /* the phrase of that first hit, or SC_PHRASE_NLU */
  uint32_t src_off; /* SC_PHRASE_NLU: the sentence's bytes in the turn's text */
  uint32_t src_len;
  uint32_t stmt_pos;   /* first hit outside a question, UINT32_MAX if none */
  uint8_t in_question; /* some hit sat in a sentence ending with '?' */
};

struct sc_turn_info {
  uint8_t role; /* SC_ROLE_*, or 0 for other roles */
  uint32_t words;
  uint32_t rep_ord; /* ordinal among rep turns (valid for rep turns) */
  uint32_t questions, open_questions;
  int64_t time_ms; /* effective start time */
  bool says_name;
  bool off_topic;   /* a rep turn the classifier reads as off-topic chatter */
  bool substantive; /* a rep turn with a substantive label (see rubric) */
};

struct sc_analysis {
  size_t n_turns; /* analysed (<= SC_MAX_TURNS) */
  struct sc_turn_info *ti;
  bool timing_from_clock; /* at_ms used; otherwise estimated from words */

  /* occurrences grouped by set, in turn order */
  struct sc_occ *occ;
  uint32_t *set_start; /* nsets + 1 */

  /* metrics */
  uint64_t rep_words, persona_words;
  uint32_t rep_turns, persona_turns;
  uint32_t questions, open_questions;
  uint32_t longest_run_words, longest_run_turn;
  uint32_t substantive_turns; /* rep turns with a substantive label */
};

int sc_analyse(const struct rubric *r, const struct score_input *in, struct sc_analysis *a,
               char *err, size_t errlen);
void sc_analysis_release(struct sc_analysis *a);

/* Occurrences of set s: *n of them, in turn order. */
const struct sc_occ *sc_occ_of(const struct sc_analysis *a, uint32_t s, size_t *n);

/* Word-position time of word pos in turn t, in ms from the call's start. */
int64_t sc_time_at(const struct rubric *r, const struct sc_analysis *a, uint32_t t, uint32_t pos);

/* ---- the evaluated call (score.c), read by the writer (summary.c) ---- */

struct sc_crit_res {
  bool passed, applicable;
  uint8_t nev;
  uint32_t ev[SC_MAX_EVIDENCE];
};

struct sc_result;

struct sc_violation {
  uint32_t claim, turn, phrase;
  uint32_t src_off, src_len; /* phrase == SC_PHRASE_NLU: the sentence in the turn */
};

/* The words of violation v to quote: the rubric phrase, or an excerpt of
 * the sentence the classifier flagged, cut at a word boundary (score.c). */
void sc_violation_quote(const struct rubric *r, const struct sc_result *res,
                        const struct sc_violation *v, char *out, size_t cap);

struct sc_obj_res {
  uint32_t obj;         /* index into rubric objections */
  uint32_t raised_turn; /* persona turn */
  bool addressed, acked;
  uint32_t addressed_turn, ack_turn;
};

struct sc_el_res {
  bool found, timely;
  uint32_t turn, pos;
};

struct sc_result {
  struct sc_analysis a;
  const struct score_input *in;

  struct sc_crit_res *crit; /* all criteria, dimension after dimension */
  size_t *crit_off;         /* ndims + 1 */
  double *dim_score;        /* 0..100 */
  bool *dim_applicable;

  bool comp_passed[SC_C__N];
  int64_t comp_turn[SC_C__N]; /* -1 = none */
  char comp_detail[SC_C__N][320];

  const struct sc_tpmo_version *tv;
  struct sc_el_res el[SC_MAX_ELEMENTS];
  bool tpmo_complete, tpmo_late;
  int64_t benefit_turn; /* first rep turn discussing benefits, -1 = none */

  bool soa_products, soa_no_obligation, soa_agreed, soa_timely;
  int64_t soa_agree_turn;
  int64_t soa_products_turn, soa_no_obligation_turn; /* -1 = not said */

  struct sc_violation *viol;
  size_t nviol;

  struct sc_obj_res *objs; /* raised objections, in turn order */
  size_t nobjs;

  double talk_ratio;
  uint32_t monologue_sec;
  uint32_t duration_sec;
  double overall;
  int best_dim, worst_dim; /* -1 when no dimension applies */
  bool assessable;         /* false: too short to judge (see docs/internals/scoring.md) */
};

struct sc_buf;

/* Writes the summary and feedback of an evaluated call (summary.c). */
int sc_write_text(const struct rubric *r, const struct sc_result *res, struct sc_buf *summary,
                  struct sc_buf *feedback);

/* ---- bounded string builder (text.c) ----
 * A util/dynbuf with its ceiling (limit > 0 bytes) that keeps what fits:
 * text past the limit is cut at a word boundary and marked with "…". */

struct sc_buf {
  struct dynbuf d;
  bool overflow; /* something was cut (or memory ran out): no more adds */
};

void sc_buf_init(struct sc_buf *b, size_t limit);
void sc_buf_release(struct sc_buf *b);
/* The text so far, NUL-terminated ("" while empty); borrowed until the
 * next add or release. */
const char *sc_buf_str(const struct sc_buf *b);
size_t sc_buf_len(const struct sc_buf *b);
/* sc_utf8_fix() on the text, in place. */
void sc_buf_fix_utf8(struct sc_buf *b);
void sc_buf_add(struct sc_buf *b, const char *s, size_t n);
void sc_buf_adds(struct sc_buf *b, const char *s);
void sc_buf_addf(struct sc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Copies s[0..n) into out (cap bytes with the NUL), cut at a word boundary
 * with "…" when it does not fit; UTF-8 sequences are never split. */
void sc_cut_words(char *out, size_t cap, const char *s, size_t n);
#define SC_QUOTE_MAX 96 /* a quoted sentence in a violation, with its NUL */

/* Replaces every byte that is not part of valid UTF-8 with '?', in place. */
void sc_utf8_fix(char *s);

struct sc_var {
  const char *name;
  const char *value;
};

/* Appends tmpl with each {name} replaced by its value from vars. */
void sc_render(struct sc_buf *b, const char *tmpl, const struct sc_var *vars, size_t nvars);
/* Whether every {placeholder} in tmpl is one of the known variable names. */
bool sc_template_ok(const char *tmpl, const char **bad, size_t *badlen);
/* Names a summary/feedback template may use. */
bool sc_var_known(const char *name, size_t len);

#endif
