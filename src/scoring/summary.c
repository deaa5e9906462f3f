/* summary.c — writes a scored call's summary and coaching feedback from its
 * own facts (who the prospect was, what discovery covered, whether the rep
 * asked for the enrollment, which objection stayed open, how the call ended,
 * compliance misses, strongest and weakest areas), using the sentence
 * templates of the rubric file. */
#include "scoring/scoring_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum var {
  V_PERSONA,
  V_FIRST_NAME,
  V_DIFFICULTY,
  V_DURATION,
  V_TURNS,
  V_REP_TURNS,
  V_PERSONA_TURNS,
  V_COVERED,
  V_MISSED,
  V_TURN,
  V_OBJECTION,
  V_OPEN_COUNT,
  V_STRONGEST,
  V_STRONGEST_SCORE,
  V_WEAKEST,
  V_WEAKEST_SCORE,
  V_PHRASE,
  V_ADVICE,
  V_TALK_PCT,
  V_QUESTIONS,
  V_OPEN_QUESTIONS,
  V_MONOLOGUE_SEC,
  V_SCORE,
  V_CLAIM,
  V_END_TURN,
  V__N
};

static const char *const var_names[V__N] = {
    "persona",       "firstName",    "difficulty", "duration",       "turns",
    "repTurns",      "personaTurns", "covered",    "missed",         "turn",
    "objection",     "openCount",    "strongest",  "strongestScore", "weakest",
    "weakestScore",  "phrase",       "advice",     "talkPct",        "questions",
    "openQuestions", "monologueSec", "score",      "claim",          "endTurn",
};

struct vars {
  struct sc_var v[V__N];
  char store[V__N][96];
  char covered[640], missed[640];
  char advice[1024];
};

static void set_num(struct vars *vs, enum var k, long long n)
{
  snprintf(vs->store[k], sizeof vs->store[k], "%lld", n);
  vs->v[k].value = vs->store[k];
}

static void set_str(struct vars *vs, enum var k, const char *s)
{
  s = s ? s : "";
  sc_cut_words(vs->store[k], sizeof vs->store[k], s, strlen(s)); /* never mid-word */
  sc_utf8_fix(vs->store[k]);
  vs->v[k].value = vs->store[k];
}

/* "a", "a and b", "a, b and c" */
static void join_list(char *out, size_t n, const char *const *items, size_t count)
{
  struct sc_buf b;
  sc_buf_init(&b, n - 1);
  for (size_t i = 0; i < count; i++) {
    if (i)
      sc_buf_adds(&b, i + 1 == count ? " and " : ", ");
    sc_buf_adds(&b, items[i]);
  }
  sc_cut_words(out, n, sc_buf_str(&b), sc_buf_len(&b));
  sc_buf_release(&b);
}

static void fmt_duration(char *out, size_t n, uint32_t sec)
{
  if (sec < 60)
    snprintf(out, n, "%u s", sec);
  else
    snprintf(out, n, "%u min %02u s", sec / 60, sec % 60);
}

/* Renders one sentence and separates it from the previous one. */
static void sentence(struct sc_buf *b, const char *tmpl, const struct vars *vs)
{
  if (sc_buf_len(b))
    sc_buf_adds(b, " ");
  sc_render(b, tmpl, vs->v, V__N);
}

/* Renders an advice template into the {advice} variable. */
static void set_advice(struct vars *vs, const char *tmpl)
{
  struct sc_buf b;
  sc_buf_init(&b, sizeof vs->advice - 1);
  sc_render(&b, tmpl, vs->v, V__N);
  snprintf(vs->advice, sizeof vs->advice, "%s", sc_buf_str(&b));
  sc_buf_release(&b);
  vs->v[V_ADVICE].value = vs->advice;
}

static const struct sc_criterion *find_crit(const struct rubric *r, const struct sc_result *res,
                                            const char *key, const struct sc_crit_res **cr)
{
  for (size_t d = 0; d < r->ndims; d++)
    for (size_t j = 0; j < r->dims[d].ncrit; j++)
      if (strcmp(r->dims[d].crit[j].key, key) == 0) {
        *cr = &res->crit[res->crit_off[d] + j];
        return &r->dims[d].crit[j];
      }
  return NULL;
}

static void fill_vars(const struct rubric *r, const struct sc_result *res, struct vars *vs)
{
  const struct sc_analysis *a = &res->a;
  const struct score_input *in = res->in;
  memset(vs, 0, sizeof *vs);
  for (int i = 0; i < V__N; i++) {
    vs->v[i].name = var_names[i];
    vs->v[i].value = "";
  }
  bool named = in->persona_name && *in->persona_name;
  set_str(vs, V_PERSONA, named ? in->persona_name : "The prospect");
  char first[96];
  snprintf(first, sizeof first, "%s", named ? in->persona_name : "the prospect");
  char *sp = strchr(first, ' ');
  if (sp && named)
    *sp = '\0';
  set_str(vs, V_FIRST_NAME, first);
  set_str(vs, V_DIFFICULTY, in->difficulty);
  char dur[48];
  fmt_duration(dur, sizeof dur, res->duration_sec);
  set_str(vs, V_DURATION, dur);
  set_num(vs, V_TURNS, (long long)a->n_turns);
  set_num(vs, V_REP_TURNS, a->rep_turns);
  set_num(vs, V_PERSONA_TURNS, a->persona_turns);
  set_num(vs, V_END_TURN, a->n_turns ? (long long)a->n_turns - 1 : 0);
  set_num(vs, V_TALK_PCT, (long long)floor(res->talk_ratio * 100 + 0.5));
  set_num(vs, V_QUESTIONS, a->questions);
  set_num(vs, V_OPEN_QUESTIONS, a->open_questions);
  set_num(vs, V_MONOLOGUE_SEC, res->monologue_sec);
  set_num(vs, V_SCORE, (long long)floor(res->overall + 0.5));
  if (res->best_dim >= 0) {
    set_str(vs, V_STRONGEST, r->dims[res->best_dim].label);
    set_num(vs, V_STRONGEST_SCORE, (long long)floor(res->dim_score[res->best_dim] + 0.5));
    set_str(vs, V_WEAKEST, r->dims[res->worst_dim].label);
    set_num(vs, V_WEAKEST_SCORE, (long long)floor(res->dim_score[res->worst_dim] + 0.5));
  }

  /* discovery topics covered and missed */
  const char *cov[32], *mis[32];
  size_t ncov = 0, nmis = 0;
  for (size_t d = 0; d < r->ndims; d++) {
    if (strcmp(r->dims[d].key, "discovery") != 0)
      continue;
    for (size_t j = 0; j < r->dims[d].ncrit; j++) {
      const struct sc_criterion *c = &r->dims[d].crit[j];
      if (!c->topic)
        continue;
      if (res->crit[res->crit_off[d] + j].passed) {
        if (ncov < 32)
          cov[ncov++] = c->topic;
      } else if (nmis < 32) {
        mis[nmis++] = c->topic;
      }
    }
  }
  join_list(vs->covered, sizeof vs->covered, cov, ncov);
  join_list(vs->missed, sizeof vs->missed, mis, nmis);
  vs->v[V_COVERED].value = vs->covered;
  vs->v[V_MISSED].value = vs->missed;
}

/* How the call ended. */
static void write_ending(const struct rubric *r, const struct score_input *in,
                         const struct vars *vs, struct sc_buf *b)
{
  const char *why = in->end_reason ? in->end_reason : "";
  if (strcmp(why, "persona_hangup") == 0)
    sentence(b, r->tmpl[SC_T_END_PERSONA_HANGUP], vs);
  else if (strcmp(why, "rep_hangup") == 0)
    sentence(b, r->tmpl[SC_T_END_REP_HANGUP], vs);
  else if (strcmp(why, "max_duration") == 0)
    sentence(b, r->tmpl[SC_T_END_MAX_DURATION], vs);
  else if (strcmp(why, "idle") == 0)
    sentence(b, r->tmpl[SC_T_END_IDLE], vs);
  else if (strcmp(why, "disconnect") == 0)
    sentence(b, r->tmpl[SC_T_END_DISCONNECT], vs);
  else if (strcmp(why, "limit") == 0 && r->tmpl[SC_T_END_LIMIT])
    sentence(b, r->tmpl[SC_T_END_LIMIT], vs);
}

static void write_summary(const struct rubric *r, const struct sc_result *res, struct vars *vs,
                          struct sc_buf *b)
{
  const struct sc_analysis *a = &res->a;
  const struct score_input *in = res->in;
  if (a->n_turns == 0) {
    sentence(b, r->tmpl[SC_T_INTRO_EMPTY], vs);
    return;
  }
  if (a->rep_turns == 0)
    sentence(b, r->tmpl[SC_T_INTRO_REP_SILENT], vs);
  else if (in->difficulty && *in->difficulty)
    sentence(b, r->tmpl[SC_T_INTRO], vs);
  else
    sentence(b, r->tmpl[SC_T_INTRO_NO_DIFFICULTY], vs);
  if (!res->assessable && a->rep_turns && r->tmpl[SC_T_TOO_SHORT]) {
    /* too short to judge: say so, and not as a list of failures */
    sentence(b, r->tmpl[SC_T_TOO_SHORT], vs);
    write_ending(r, in, vs, b);
    return;
  }

  if (a->rep_turns) {
    if (!vs->missed[0] && vs->covered[0])
      sentence(b, r->tmpl[SC_T_DISCOVERY_ALL], vs);
    else if (vs->covered[0])
      sentence(b, r->tmpl[SC_T_DISCOVERY_PARTIAL], vs);
    else if (vs->missed[0])
      sentence(b, r->tmpl[SC_T_DISCOVERY_NONE], vs);

    const struct sc_crit_res *cr = NULL;
    if (find_crit(r, res, "asksForEnrollment", &cr)) {
      if (cr->passed && cr->nev) {
        set_num(vs, V_TURN, cr->ev[0]);
        sentence(b, r->tmpl[SC_T_ENROLL_ASKED], vs);
      } else {
        sentence(b, r->tmpl[SC_T_ENROLL_NOT_ASKED], vs);
      }
    }
  }

  /* objections: the first one left open, or all handled */
  size_t open = 0;
  const struct sc_obj_res *first_open = NULL;
  for (size_t i = 0; i < res->nobjs; i++)
    if (!res->objs[i].addressed) {
      if (!first_open)
        first_open = &res->objs[i];
      open++;
    }
  if (first_open) {
    set_str(vs, V_OBJECTION, r->obj[first_open->obj].label);
    set_num(vs, V_TURN, first_open->raised_turn);
    set_num(vs, V_OPEN_COUNT, (long long)open);
    sentence(b, r->tmpl[SC_T_OBJECTION_OPEN], vs);
  } else if (res->nobjs) {
    const char *labels[16];
    size_t n = 0;
    for (size_t i = 0; i < res->nobjs && n < 16; i++)
      labels[n++] = r->obj[res->objs[i].obj].label;
    char list[96];
    join_list(list, sizeof list, labels, n);
    set_str(vs, V_OBJECTION, list);
    sentence(b, r->tmpl[SC_T_OBJECTIONS_HANDLED], vs);
  }

  write_ending(r, in, vs, b);

  const char *missed[SC_C__N];
  size_t nm = 0;
  const char *labels[SC_C__N] = {r->rec.label, r->tpmo.label, r->soa.label, r->claims.label};
  for (int k = 0; k < SC_C__N; k++)
    if (!res->comp_passed[k])
      missed[nm++] = labels[k];
  if (nm) {
    char list[96 * SC_C__N];
    join_list(list, sizeof list, missed, nm);
    char saved[640];
    memcpy(saved, vs->missed, sizeof saved);
    snprintf(vs->missed, sizeof vs->missed, "%s", list);
    sentence(b, r->tmpl[SC_T_COMPLIANCE_MISSED], vs);
    memcpy(vs->missed, saved, sizeof saved);
  } else {
    sentence(b, r->tmpl[SC_T_COMPLIANCE_CLEAN], vs);
  }

  if (res->best_dim >= 0 && res->best_dim != res->worst_dim)
    sentence(b, r->tmpl[SC_T_STRONG_WEAK], vs);
}

/* Feedback: concrete next steps, most important first — compliance, then
 * prohibited claims, open objections, and the failed criteria of the
 * weakest dimensions. */
static void write_feedback(const struct rubric *r, const struct sc_result *res, struct vars *vs,
                           struct sc_buf *b)
{
  size_t items = 0, max = r->max_feedback_items;
  if (res->a.rep_turns == 0) {
    sentence(b, r->tmpl[SC_T_FB_EMPTY], vs);
    return;
  }
  if (!res->assessable && r->tmpl[SC_T_FB_TOO_SHORT]) {
    sentence(b, r->tmpl[SC_T_FB_TOO_SHORT], vs);
    return;
  }
  if (!res->comp_passed[SC_C_RECORDING] && items < max) {
    set_num(vs, V_TURN, res->comp_turn[SC_C_RECORDING]);
    sentence(b, r->rec.advice, vs);
    items++;
  }
  if (!res->comp_passed[SC_C_TPMO] && items < max) {
    set_num(vs, V_TURN, res->comp_turn[SC_C_TPMO]);
    sentence(b, res->tpmo_complete ? res->tv->advice_late : res->tv->advice_missing, vs);
    items++;
  }
  if (!res->comp_passed[SC_C_SOA] && items < max) {
    set_num(vs, V_TURN, res->comp_turn[SC_C_SOA]);
    sentence(b, r->soa.advice, vs);
    items++;
  }
  for (size_t i = 0; i < res->nviol && i < 2 && items < max; i++) {
    const struct sc_claim *k = &r->claims.c[res->viol[i].claim];
    set_num(vs, V_TURN, res->viol[i].turn);
    char quote[SC_QUOTE_MAX];
    sc_violation_quote(r, res, &res->viol[i], quote, sizeof quote);
    set_str(vs, V_PHRASE, quote);
    set_str(vs, V_CLAIM, k->label);
    set_advice(vs, k->advice);
    sentence(b, r->tmpl[SC_T_FB_CLAIM], vs);
    items++;
  }
  for (size_t i = 0, n = 0; i < res->nobjs && n < 2 && items < max; i++) {
    const struct sc_obj_res *o = &res->objs[i];
    if (o->addressed)
      continue;
    set_num(vs, V_TURN, o->raised_turn);
    set_str(vs, V_OBJECTION, r->obj[o->obj].label);
    set_advice(vs, r->obj[o->obj].advice);
    sentence(b, r->tmpl[SC_T_FB_OBJECTION_OPEN], vs);
    items++;
    n++;
  }

  /* failed criteria, weakest dimension first (ties: rubric order) */
  bool done[64] = {0};
  size_t nd = r->ndims < 64 ? r->ndims : 64;
  for (size_t round = 0; round < nd && items < max; round++) {
    int pick = -1;
    for (size_t d = 0; d < nd; d++) {
      if (done[d] || !res->dim_applicable[d])
        continue;
      if (pick < 0 || res->dim_score[d] < res->dim_score[pick])
        pick = (int)d;
    }
    if (pick < 0)
      break;
    done[pick] = true;
    if (res->dim_score[pick] >= 100)
      break;
    const struct sc_dimension *dim = &r->dims[pick];
    for (size_t j = 0; j < dim->ncrit && items < max; j++) {
      const struct sc_criterion *c = &dim->crit[j];
      const struct sc_crit_res *cr = &res->crit[res->crit_off[pick] + j];
      if (cr->passed || !cr->applicable || !c->advice || c->kind == SC_CK_COMPLIANCE)
        continue;
      if (c->kind == SC_CK_SPECIAL && c->special == SC_SP_OBJ_ADDRESSED)
        continue; /* said above */
      sentence(b, c->advice, vs);
      items++;
    }
  }
  if (items == 0)
    sentence(b, r->tmpl[SC_T_FB_ALL_GOOD], vs);
}

int sc_write_text(const struct rubric *r, const struct sc_result *res, struct sc_buf *summary,
                  struct sc_buf *feedback)
{
  struct vars vs;
  fill_vars(r, res, &vs);
  write_summary(r, res, &vs, summary);
  write_feedback(r, res, &vs, feedback);
  sc_buf_fix_utf8(summary);
  sc_buf_fix_utf8(feedback);
  return 0;
}
