/* score.c — scorer_score(): evaluates the rubric's criteria, compliance
 * rules and objections against the analysed transcript, combines them into
 * dimension scores and a penalised overall score, and builds the score
 * object (the contract's three fields plus dimensions, compliance, metrics
 * and rubricVersion). */
#include "scoring/scoring_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Checks: turns where every group of a check hit (k-way intersection of
 * the groups' turn-ordered occurrence lists).
 * ---------------------------------------------------------------------- */

struct check_iter {
  const struct sc_occ *o[SC_MAX_GROUPS];
  size_t n[SC_MAX_GROUPS], i[SC_MAX_GROUPS];
  uint8_t ng;
};

static void check_begin(const struct sc_analysis *a, const struct sc_check *c,
                        struct check_iter *it)
{
  it->ng = c->ngroups;
  for (uint8_t g = 0; g < c->ngroups; g++) {
    it->o[g] = sc_occ_of(a, c->groups[g], &it->n[g]);
    it->i[g] = 0;
  }
}

/* Next turn where all groups hit; *pos is the earliest hit in that turn and
 * *inq whether the first group's hit sat in a question. */
static bool check_next(struct check_iter *it, uint32_t *turn, uint32_t *pos, bool *inq)
{
  for (;;) {
    uint32_t hi = 0;
    for (uint8_t g = 0; g < it->ng; g++) {
      if (it->i[g] >= it->n[g])
        return false;
      uint32_t t = it->o[g][it->i[g]].turn;
      if (t > hi)
        hi = t;
    }
    bool all = true;
    for (uint8_t g = 0; g < it->ng; g++) {
      while (it->i[g] < it->n[g] && it->o[g][it->i[g]].turn < hi)
        it->i[g]++;
      if (it->i[g] >= it->n[g])
        return false;
      if (it->o[g][it->i[g]].turn != hi)
        all = false;
    }
    if (!all)
      continue;
    uint32_t p = UINT32_MAX;
    for (uint8_t g = 0; g < it->ng; g++) {
      if (it->o[g][it->i[g]].pos < p)
        p = it->o[g][it->i[g]].pos;
    }
    *turn = hi;
    *pos = p;
    *inq = it->o[0][it->i[0]].in_question;
    for (uint8_t g = 0; g < it->ng; g++)
      it->i[g]++;
    return true;
  }
}

/* First turn >= from where the check hits. */
static bool check_first(const struct sc_analysis *a, const struct sc_check *c, uint32_t from,
                        uint32_t *turn, uint32_t *pos)
{
  struct check_iter it;
  bool inq;
  check_begin(a, c, &it);
  while (check_next(&it, turn, pos, &inq))
    if (*turn >= from)
      return true;
  return false;
}

static bool set_hit_in(const struct sc_analysis *a, uint32_t set, uint32_t turn)
{
  size_t n;
  const struct sc_occ *o = sc_occ_of(a, set, &n);
  for (size_t i = 0; i < n && o[i].turn <= turn; i++)
    if (o[i].turn == turn)
      return true;
  return false;
}

static void ev_add(struct sc_crit_res *cr, uint32_t turn)
{
  for (uint8_t i = 0; i < cr->nev; i++)
    if (cr->ev[i] == turn)
      return;
  if (cr->nev < SC_MAX_EVIDENCE)
    cr->ev[cr->nev++] = turn;
}

/* ------------------------------------------------------------------------
 * Compliance
 * ---------------------------------------------------------------------- */

static void fmt_clock(char *b, size_t n, int64_t ms)
{
  int64_t s = ms / 1000;
  snprintf(b, n, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

static void eval_recording(const struct rubric *r, struct sc_result *res)
{
  const struct sc_analysis *a = &res->a;
  size_t n;
  const struct sc_occ *o = sc_occ_of(a, r->rec.set, &n);
  char *d = res->comp_detail[SC_C_RECORDING];
  size_t dl = sizeof res->comp_detail[0];
  res->comp_turn[SC_C_RECORDING] = n ? (int64_t)o[0].turn : -1;
  if (!n) {
    snprintf(d, dl, "The rep never said the call is recorded.");
    return;
  }
  uint32_t ord = a->ti[o[0].turn].rep_ord;
  if (r->rec.within_rep_turns && ord >= r->rec.within_rep_turns) {
    snprintf(d, dl,
             "Disclosed only at turn %u (rep turn %u); it belongs in the rep's first %u turns.",
             o[0].turn, ord + 1, r->rec.within_rep_turns);
    return;
  }
  res->comp_passed[SC_C_RECORDING] = true;
  snprintf(d, dl, "Disclosed at turn %u.", o[0].turn);
}

/* First rep turn that talks about benefits: a benefit phrase outside a
 * question ("do you need dental?" is discovery, not a benefit discussion). */
static int64_t first_benefit(const struct rubric *r, const struct sc_analysis *a, uint32_t *pos)
{
  size_t n;
  const struct sc_occ *o = sc_occ_of(a, r->set_benefits, &n);
  for (size_t i = 0; i < n; i++) {
    if (o[i].stmt_pos == UINT32_MAX)
      continue;
    *pos = o[i].stmt_pos;
    return o[i].turn;
  }
  return -1;
}

/* Is (t, p) strictly before the first benefit discussion (bt, bp)? */
static bool before(uint32_t t, uint32_t p, int64_t bt, uint32_t bp)
{
  if (bt < 0)
    return true;
  return (int64_t)t < bt || ((int64_t)t == bt && p < bp);
}

static const struct sc_tpmo_version *tpmo_version(const struct rubric *r, int64_t at)
{
  const struct sc_tpmo_version *v = &r->tpmo.v[0]; /* earlier calls: the oldest rule */
  for (size_t i = 0; i < r->tpmo.nv; i++)
    if (r->tpmo.v[i].from_ms <= at)
      v = &r->tpmo.v[i];
  return v;
}

static void eval_tpmo(const struct rubric *r, struct sc_result *res)
{
  const struct sc_analysis *a = &res->a;
  const struct sc_tpmo_version *v = tpmo_version(r, res->in->started_at_ms);
  uint32_t bpos = 0;
  int64_t bt = first_benefit(r, a, &bpos);
  char *d = res->comp_detail[SC_C_TPMO];
  size_t dl = sizeof res->comp_detail[0];
  res->tv = v;
  res->benefit_turn = bt;
  size_t found = 0;
  int64_t last = -1, worst_ms = 0;
  const char *missing = NULL;
  for (size_t i = 0; i < v->nel; i++) {
    struct sc_el_res *e = &res->el[i];
    e->found = check_first(a, &v->el[i].check, 0, &e->turn, &e->pos);
    if (!e->found) {
      if (!missing)
        missing = v->el[i].label;
      continue;
    }
    found++;
    if ((int64_t)e->turn > last)
      last = e->turn;
    int64_t ms = sc_time_at(r, a, e->turn, e->pos);
    if (ms > worst_ms)
      worst_ms = ms;
    e->timely = true;
    if (v->within_ms && ms > v->within_ms)
      e->timely = false;
    if (v->before_benefits && !before(e->turn, e->pos, bt, bpos))
      e->timely = false;
    if (!e->timely)
      res->tpmo_late = true;
  }
  res->tpmo_complete = found == v->nel;
  res->comp_turn[SC_C_TPMO] = last;
  char clock[32];
  fmt_clock(clock, sizeof clock, worst_ms);
  if (found == 0) {
    snprintf(d, dl, "The TPMO disclaimer was never said (%s rule).", v->rule);
  } else if (!res->tpmo_complete) {
    snprintf(d, dl, "Incomplete TPMO disclaimer (%s rule): missing \"%s\".", v->rule, missing);
  } else if (res->tpmo_late && v->within_ms) {
    snprintf(d, dl, "Said at turn %lld (%s), after the first %lld seconds (%s rule).",
             (long long)last, clock, (long long)(v->within_ms / 1000), v->rule);
  } else if (res->tpmo_late) {
    snprintf(d, dl, "Said at turn %lld, after benefits were discussed at turn %lld (%s rule).",
             (long long)last, (long long)bt, v->rule);
  } else {
    res->comp_passed[SC_C_TPMO] = true;
    if (v->within_ms)
      snprintf(d, dl, "Complete at turn %lld (%s), within the first %lld seconds (%s rule).",
               (long long)last, clock, (long long)(v->within_ms / 1000), v->rule);
    else
      snprintf(d, dl, "Complete at turn %lld, before any discussion of benefits (%s rule).",
               (long long)last, v->rule);
  }
}

static void eval_soa(const struct rubric *r, struct sc_result *res)
{
  const struct sc_analysis *a = &res->a;
  char *d = res->comp_detail[SC_C_SOA];
  size_t dl = sizeof res->comp_detail[0];
  uint32_t tp = 0, pp = 0, tn = 0, pn = 0;
  res->soa_products = check_first(a, &r->soa.products, 0, &tp, &pp);
  res->soa_no_obligation = check_first(a, &r->soa.no_obligation, 0, &tn, &pn);
  res->soa_agree_turn = -1;
  res->soa_products_turn = res->soa_products ? (int64_t)tp : -1;
  res->soa_no_obligation_turn = res->soa_no_obligation ? (int64_t)tn : -1;
  res->comp_turn[SC_C_SOA] = -1;
  if (!res->soa_products || !res->soa_no_obligation) {
    snprintf(d, dl, "%s",
             !res->soa_products && !res->soa_no_obligation
                 ? "No scope of appointment: product types and the no-obligation "
                   "statement were never stated."
             : !res->soa_products ? "Scope of appointment incomplete: the product types to be "
                                    "discussed (MA, MAPD, PDP) were never named."
                                  : "Scope of appointment incomplete: the no-obligation statement "
                                    "was never made.");
    return;
  }
  /* the scope is complete at the later of its two parts */
  uint32_t ts = tn, ps = pn;
  if (tp > tn || (tp == tn && pp > pn)) {
    ts = tp;
    ps = pp;
  }
  res->comp_turn[SC_C_SOA] = ts;
  /* the prospect's answer is the next persona turn */
  for (size_t t = (size_t)ts + 1; t < a->n_turns; t++) {
    if (a->ti[t].role != SC_ROLE_PERSONA)
      continue;
    if (set_hit_in(a, r->set_agreement, (uint32_t)t)) {
      res->soa_agreed = true;
      res->soa_agree_turn = (int64_t)t;
    }
    break;
  }
  uint32_t bpos = 0;
  int64_t bt = first_benefit(r, a, &bpos);
  res->soa_timely = !r->soa.before_benefits || before(ts, ps, bt, bpos);
  if (!res->soa_agreed)
    snprintf(d, dl, "Scope stated at turn %u but the prospect's agreement was not recorded.", ts);
  else if (!res->soa_timely)
    snprintf(d, dl,
             "Scope agreed at turn %lld, after benefits were already discussed at turn %lld.",
             (long long)res->soa_agree_turn, (long long)bt);
  else {
    res->comp_passed[SC_C_SOA] = true;
    snprintf(d, dl, "Scope stated at turn %u and agreed at turn %lld.", ts,
             (long long)res->soa_agree_turn);
  }
}

void sc_violation_quote(const struct rubric *r, const struct sc_result *res,
                        const struct sc_violation *v, char *out, size_t cap)
{
  if (v->phrase != SC_PHRASE_NLU) {
    snprintf(out, cap, "%s", r->phrases[v->phrase].text);
    return;
  }
  const char *text = res->in->turns[v->turn].content;
  size_t tl = text ? strlen(text) : 0, off = v->src_off, n = v->src_len;
  if (off > tl)
    off = tl;
  if (n > tl - off)
    n = tl - off;
  sc_cut_words(out, cap, text ? text + off : "", n);
}

static int cmp_viol(const void *x, const void *y)
{
  const struct sc_violation *a = x, *b = y;
  if (a->turn != b->turn)
    return a->turn < b->turn ? -1 : 1;
  return a->claim < b->claim ? -1 : a->claim > b->claim;
}

static int eval_claims(const struct rubric *r, struct sc_result *res)
{
  const struct sc_analysis *a = &res->a;
  size_t total = 0;
  for (size_t k = 0; k < r->claims.n; k++) {
    size_t n;
    sc_occ_of(a, r->claims.c[k].set, &n);
    total += n;
  }
  res->viol = malloc((total ? total : 1) * sizeof *res->viol);
  if (!res->viol)
    return -1;
  for (size_t k = 0; k < r->claims.n; k++) {
    const struct sc_claim *c = &r->claims.c[k];
    int64_t raised = -1;
    if (c->raised_set != SC_NO_SET) {
      size_t rn;
      const struct sc_occ *ro = sc_occ_of(a, c->raised_set, &rn);
      if (rn)
        raised = ro[0].turn;
    }
    size_t n;
    const struct sc_occ *o = sc_occ_of(a, c->set, &n);
    for (size_t i = 0; i < n; i++) {
      if (raised >= 0 && (int64_t)o[i].turn > raised)
        continue; /* the prospect asked */
      res->viol[res->nviol++] =
          (struct sc_violation){(uint32_t)k, o[i].turn, o[i].phrase, o[i].src_off, o[i].src_len};
    }
  }
  qsort(res->viol, res->nviol, sizeof *res->viol, cmp_viol);
  char *d = res->comp_detail[SC_C_CLAIMS];
  size_t dl = sizeof res->comp_detail[0];
  if (!res->nviol) {
    res->comp_passed[SC_C_CLAIMS] = true;
    res->comp_turn[SC_C_CLAIMS] = -1;
    snprintf(d, dl, "No prohibited claims.");
    return 0;
  }
  res->comp_turn[SC_C_CLAIMS] = res->viol[0].turn;
  struct sc_buf b;
  sc_buf_init(&b, dl - 1);
  sc_buf_addf(&b, "%zu prohibited claim%s: ", res->nviol, res->nviol == 1 ? "" : "s");
  for (size_t i = 0; i < res->nviol && i < 4; i++) {
    char q[SC_QUOTE_MAX];
    sc_violation_quote(r, res, &res->viol[i], q, sizeof q);
    sc_buf_addf(&b, "%s\"%s\" at turn %u", i ? ", " : "", q, res->viol[i].turn);
  }
  sc_buf_adds(&b, res->nviol > 4 ? ", …" : ".");
  snprintf(d, dl, "%s", sc_buf_str(&b));
  sc_buf_release(&b);
  return 0;
}

/* ------------------------------------------------------------------------
 * Objections
 * ---------------------------------------------------------------------- */

static int cmp_obj(const void *x, const void *y)
{
  const struct sc_obj_res *a = x, *b = y;
  if (a->raised_turn != b->raised_turn)
    return a->raised_turn < b->raised_turn ? -1 : 1;
  return a->obj < b->obj ? -1 : a->obj > b->obj;
}

static int eval_objections(const struct rubric *r, struct sc_result *res)
{
  const struct sc_analysis *a = &res->a;
  res->objs = calloc(r->nobj ? r->nobj : 1, sizeof *res->objs);
  if (!res->objs)
    return -1;
  for (size_t k = 0; k < r->nobj; k++) {
    size_t n;
    const struct sc_occ *o = sc_occ_of(a, r->obj[k].raised_set, &n);
    if (!n)
      continue;
    struct sc_obj_res *ob = &res->objs[res->nobjs++];
    ob->obj = (uint32_t)k;
    ob->raised_turn = o[0].turn;
    size_t an;
    const struct sc_occ *ao = sc_occ_of(a, r->obj[k].addressed_set, &an);
    for (size_t i = 0; i < an; i++)
      if (ao[i].turn > ob->raised_turn) {
        ob->addressed = true;
        ob->addressed_turn = ao[i].turn;
        break;
      }
    for (size_t t = (size_t)ob->raised_turn + 1; t < a->n_turns; t++) {
      if (a->ti[t].role != SC_ROLE_REP)
        continue;
      if (set_hit_in(a, r->set_empathy, (uint32_t)t)) {
        ob->acked = true;
        ob->ack_turn = (uint32_t)t;
      }
      break;
    }
  }
  qsort(res->objs, res->nobjs, sizeof *res->objs, cmp_obj);
  return 0;
}

/* ------------------------------------------------------------------------
 * Criteria and dimensions
 * ---------------------------------------------------------------------- */

static double metric_value(const struct sc_result *res, enum sc_metric m)
{
  const struct sc_analysis *a = &res->a;
  switch (m) {
  case SC_M_TALK_RATIO: return res->talk_ratio;
  case SC_M_QUESTIONS: return a->questions;
  case SC_M_OPEN_Q: return a->open_questions;
  case SC_M_CLOSED_Q: return a->questions - a->open_questions;
  case SC_M_MONOLOGUE: return res->monologue_sec;
  case SC_M__N: break;
  }
  return 0;
}

static void eval_metric(const struct sc_criterion *c, const struct sc_result *res,
                        struct sc_crit_res *cr)
{
  const struct sc_analysis *a = &res->a;
  double v = metric_value(res, c->metric);
  cr->passed = a->rep_turns > 0 && (!c->has_min || v >= c->min) && (!c->has_max || v <= c->max);
  for (size_t t = 0; t < a->n_turns; t++) {
    const struct sc_turn_info *ti = &a->ti[t];
    /* the evidence is the turns the count is made of: off-topic chatter's
     * questions are not counted (analyse.c), so they are not evidence */
    if (ti->role != SC_ROLE_REP || ti->off_topic)
      continue;
    bool hit = (c->metric == SC_M_QUESTIONS && ti->questions) ||
               (c->metric == SC_M_OPEN_Q && ti->open_questions) ||
               (c->metric == SC_M_CLOSED_Q && ti->questions > ti->open_questions);
    if (hit)
      ev_add(cr, (uint32_t)t);
  }
  if (c->metric == SC_M_MONOLOGUE && a->rep_turns)
    ev_add(cr, a->longest_run_turn);
}

static void eval_phrase(const struct sc_criterion *c, const struct sc_result *res,
                        struct sc_crit_res *cr)
{
  const struct sc_analysis *a = &res->a;
  struct check_iter it;
  uint32_t turn, pos, count = 0;
  bool inq;
  check_begin(a, &c->check, &it);
  while (check_next(&it, &turn, &pos, &inq)) {
    if (c->in_question && !inq)
      continue;
    if (c->role == SC_ROLE_REP && c->within_rep_turns && a->ti[turn].rep_ord >= c->within_rep_turns)
      continue;
    count++;
    ev_add(cr, turn);
  }
  cr->passed = count >= c->min_turns;
}

static void eval_compliance_crit(const struct sc_criterion *c, const struct sc_result *res,
                                 struct sc_crit_res *cr)
{
  cr->passed = res->comp_passed[c->comp];
  if (c->comp == SC_C_CLAIMS) {
    for (size_t i = 0; i < res->nviol; i++)
      ev_add(cr, res->viol[i].turn);
  } else if (res->comp_turn[c->comp] >= 0) {
    ev_add(cr, (uint32_t)res->comp_turn[c->comp]);
  }
}

/* No pressure: no prohibited claim after the first objection, and no
 * pushing to sign or false urgency (lexicon.pressure) anywhere in the call,
 * which is pushy whether it comes before the objection or after it. */
static void eval_no_pressure(const struct rubric *r, const struct sc_result *res,
                             struct sc_crit_res *cr)
{
  size_t n = 0;
  const struct sc_occ *o =
      r->set_pressure != SC_NO_SET ? sc_occ_of(&res->a, r->set_pressure, &n) : NULL;
  for (size_t i = 0; i < n; i++) {
    cr->passed = false;
    ev_add(cr, o[i].turn);
  }
  for (size_t i = 0; i < res->nviol; i++)
    if (res->viol[i].turn > res->objs[0].raised_turn) {
      cr->passed = false;
      ev_add(cr, res->viol[i].turn);
    }
}

static void eval_special(const struct rubric *r, const struct sc_criterion *c,
                         const struct sc_result *res, struct sc_crit_res *cr)
{
  const struct sc_analysis *a = &res->a;
  switch (c->special) {
  case SC_SP_USES_NAME:
    if (!res->in->persona_name || !*res->in->persona_name) {
      cr->applicable = false;
      return;
    }
    for (size_t t = 0; t < a->n_turns; t++)
      if (a->ti[t].says_name)
        ev_add(cr, (uint32_t)t);
    cr->passed = cr->nev > 0;
    return;
  case SC_SP_OBJ_ACK:
  case SC_SP_OBJ_ADDRESSED:
  case SC_SP_OBJ_NO_PRESSURE:
    if (!res->nobjs) {
      cr->applicable = false;
      return;
    }
    break;
  case SC_SP__N: return;
  }
  cr->passed = true;
  if (c->special == SC_SP_OBJ_NO_PRESSURE) {
    eval_no_pressure(r, res, cr);
    return;
  }
  for (size_t i = 0; i < res->nobjs; i++) {
    const struct sc_obj_res *o = &res->objs[i];
    bool ok = c->special == SC_SP_OBJ_ACK ? o->acked : o->addressed;
    if (!ok)
      cr->passed = false;
    else
      ev_add(cr, c->special == SC_SP_OBJ_ACK ? o->ack_turn : o->addressed_turn);
  }
}

static void eval_dimensions(const struct rubric *r, struct sc_result *res)
{
  double wsum = 0, acc = 0;
  res->best_dim = res->worst_dim = -1;
  for (size_t d = 0; d < r->ndims; d++) {
    const struct sc_dimension *dim = &r->dims[d];
    double cw = 0, cp = 0;
    for (size_t j = 0; j < dim->ncrit; j++) {
      const struct sc_criterion *c = &dim->crit[j];
      struct sc_crit_res *cr = &res->crit[res->crit_off[d] + j];
      cr->applicable = true;
      switch (c->kind) {
      case SC_CK_PHRASE: eval_phrase(c, res, cr); break;
      case SC_CK_METRIC: eval_metric(c, res, cr); break;
      case SC_CK_COMPLIANCE: eval_compliance_crit(c, res, cr); break;
      case SC_CK_SPECIAL: eval_special(r, c, res, cr); break;
      }
      if (!cr->applicable)
        continue;
      cw += c->weight;
      if (cr->passed)
        cp += c->weight;
    }
    res->dim_applicable[d] = cw > 0;
    res->dim_score[d] = cw > 0 ? 100.0 * cp / cw : 100.0;
    if (!res->dim_applicable[d])
      continue;
    wsum += dim->weight;
    acc += dim->weight * res->dim_score[d];
    if (res->best_dim < 0 || res->dim_score[d] > res->dim_score[res->best_dim])
      res->best_dim = (int)d;
    if (res->worst_dim < 0 || res->dim_score[d] < res->dim_score[res->worst_dim])
      res->worst_dim = (int)d;
  }
  res->overall = wsum > 0 ? acc / wsum : 0;
}

/* The too-short rule (rubric "assessable"): a call with fewer than
 * minRepTurns rep turns, or fewer than minSubstantiveTurns rep turns that
 * the classifier gives a substantive label (an introduction, a disclosure,
 * a discovery question, a plan...) cannot be judged — unless the rep made a prohibited claim, which stands
 * however short the call. Rubrics without the rule judge every call. */
static bool assessable(const struct rubric *r, const struct sc_result *res)
{
  if (res->nviol > 0 || r->substantive_model == SC_NLU_NONE)
    return true;
  return res->a.rep_turns >= r->min_rep_turns &&
         res->a.substantive_turns >= r->min_substantive_turns;
}

/* A missed required statement takes points off and caps the total. */
static void apply_penalties(const struct rubric *r, struct sc_result *res)
{
  const struct sc_penalty *pens[SC_C__N] = {&r->rec.pen, &r->tpmo.pen, &r->soa.pen, &r->claims.pen};
  double s = res->overall, cap = 100;
  for (int k = 0; k < SC_C__N; k++) {
    if (res->comp_passed[k])
      continue;
    double sub = pens[k]->subtract;
    if (k == SC_C_CLAIMS) {
      sub += pens[k]->per_violation * (double)res->nviol;
      if (sub > pens[k]->max_subtract)
        sub = pens[k]->max_subtract;
    }
    s -= sub;
    if (pens[k]->cap < cap)
      cap = pens[k]->cap;
  }
  if (s > cap)
    s = cap;
  if (s < 0)
    s = 0;
  res->overall = s;
}

/* ------------------------------------------------------------------------
 * JSON
 *
 * The _nocheck forms skip jansson's UTF-8 check (a hot path): the keys are
 * ASCII literals and the rubric's strings were read from a JSON file, so
 * both are valid UTF-8. Text made from the transcript keeps the check.
 * ---------------------------------------------------------------------- */

static double round2(double x)
{
  return floor(x * 100.0 + 0.5) / 100.0;
}
static json_int_t iround(double x)
{
  return (json_int_t)floor(x + 0.5);
}

static json_t *turns_json(const uint32_t *ev, size_t n)
{
  json_t *arr = json_array();
  if (!arr)
    return NULL;
  for (size_t i = 0; i < n; i++)
    json_array_append_new(arr, json_integer(ev[i]));
  return arr;
}

static int cmp_u32(const void *x, const void *y)
{
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  return a < b ? -1 : a > b;
}

static json_t *turn_or_null(int64_t t)
{
  return t >= 0 ? json_integer(t) : json_null();
}

static json_t *dimensions_json(const struct rubric *r, const struct sc_result *res)
{
  json_t *arr = json_array();
  for (size_t d = 0; d < r->ndims && arr; d++) {
    const struct sc_dimension *dim = &r->dims[d];
    json_t *crits = json_array();
    uint32_t ev[SC_MAX_EVIDENCE * 8];
    size_t nev = 0;
    for (size_t j = 0; j < dim->ncrit; j++) {
      const struct sc_crit_res *cr = &res->crit[res->crit_off[d] + j];
      json_t *o = json_object();
      json_object_set_new_nocheck(o, "key", json_string_nocheck(dim->crit[j].key));
      json_object_set_new_nocheck(o, "label", json_string_nocheck(dim->crit[j].label));
      json_object_set_new_nocheck(o, "passed", json_boolean(cr->passed || !cr->applicable));
      if (!cr->applicable)
        json_object_set_new_nocheck(o, "applicable", json_false());
      json_object_set_new_nocheck(o, "evidence", turns_json(cr->ev, cr->nev));
      json_array_append_new(crits, o);
      for (uint8_t i = 0; i < cr->nev; i++) {
        bool dup = false;
        for (size_t q = 0; q < nev && !dup; q++)
          dup = ev[q] == cr->ev[i];
        if (!dup && nev < sizeof ev / sizeof ev[0])
          ev[nev++] = cr->ev[i];
      }
    }
    qsort(ev, nev, sizeof ev[0], cmp_u32);
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "key", json_string_nocheck(dim->key));
    json_object_set_new_nocheck(o, "label", json_string_nocheck(dim->label));
    json_object_set_new_nocheck(o, "score", json_integer(iround(res->dim_score[d])));
    json_object_set_new_nocheck(o, "weight", json_real(dim->weight));
    if (!res->dim_applicable[d])
      json_object_set_new_nocheck(o, "applicable", json_false());
    json_object_set_new_nocheck(o, "evidence", turns_json(ev, nev));
    json_object_set_new_nocheck(o, "criteria", crits);
    json_array_append_new(arr, o);
  }
  return arr;
}

static json_t *comp_item(const char *key, const char *label, bool passed, int64_t turn,
                         const char *detail, bool applicable)
{
  json_t *o = json_object();
  json_object_set_new_nocheck(o, "key", json_string_nocheck(key));
  json_object_set_new_nocheck(o, "label", json_string_nocheck(label));
  json_object_set_new_nocheck(o, "passed", json_boolean(passed));
  json_object_set_new_nocheck(o, "turn", turn_or_null(turn));
  json_object_set_new_nocheck(o, "detail", json_string(detail));
  if (!applicable)
    json_object_set_new_nocheck(o, "applicable", json_false());
  return o;
}

static json_t *compliance_json(const struct rubric *r, const struct sc_result *res)
{
  json_t *arr = json_array();
  json_array_append_new(arr,
                        comp_item("recordingDisclosure", r->rec.label,
                                  res->comp_passed[SC_C_RECORDING], res->comp_turn[SC_C_RECORDING],
                                  res->comp_detail[SC_C_RECORDING], res->assessable));

  json_t *t = comp_item("tpmoDisclaimer", r->tpmo.label, res->comp_passed[SC_C_TPMO],
                        res->comp_turn[SC_C_TPMO], res->comp_detail[SC_C_TPMO], res->assessable);
  json_object_set_new_nocheck(t, "ruleVersion", json_string_nocheck(res->tv->rule));
  json_t *els = json_array();
  for (size_t i = 0; i < res->tv->nel; i++) {
    const struct sc_el_res *e = &res->el[i];
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "key", json_string_nocheck(res->tv->el[i].key));
    json_object_set_new_nocheck(o, "label", json_string_nocheck(res->tv->el[i].label));
    json_object_set_new_nocheck(o, "passed", json_boolean(e->found && e->timely));
    json_object_set_new_nocheck(o, "turn", turn_or_null(e->found ? (int64_t)e->turn : -1));
    json_array_append_new(els, o);
  }
  json_object_set_new_nocheck(t, "elements", els);
  json_array_append_new(arr, t);

  json_t *s = comp_item("scopeOfAppointment", r->soa.label, res->comp_passed[SC_C_SOA],
                        res->comp_turn[SC_C_SOA], res->comp_detail[SC_C_SOA], res->assessable);
  json_object_set_new_nocheck(s, "agreementTurn", turn_or_null(res->soa_agree_turn));
  json_object_set_new_nocheck(s, "productTypesTurn", turn_or_null(res->soa_products_turn));
  json_object_set_new_nocheck(s, "noObligationTurn", turn_or_null(res->soa_no_obligation_turn));
  json_array_append_new(arr, s);

  json_t *c =
      comp_item("noProhibitedClaims", r->claims.label, res->comp_passed[SC_C_CLAIMS],
                res->comp_turn[SC_C_CLAIMS], res->comp_detail[SC_C_CLAIMS], res->assessable);
  json_t *vs = json_array();
  for (size_t i = 0; i < res->nviol; i++) {
    const struct sc_claim *k = &r->claims.c[res->viol[i].claim];
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "key", json_string_nocheck(k->key));
    json_object_set_new_nocheck(o, "label", json_string_nocheck(k->label));
    json_object_set_new_nocheck(o, "turn", json_integer(res->viol[i].turn));
    char q[SC_QUOTE_MAX];
    sc_violation_quote(r, res, &res->viol[i], q, sizeof q);
    json_object_set_new_nocheck(o, "phrase", json_string(q));
    json_array_append_new(vs, o);
  }
  json_object_set_new_nocheck(c, "violations", vs);
  json_array_append_new(arr, c);
  return arr;
}

static json_t *metrics_json(const struct sc_result *res)
{
  const struct sc_analysis *a = &res->a;
  json_t *o = json_object();
  json_object_set_new_nocheck(o, "talkRatio", json_real(round2(res->talk_ratio)));
  json_object_set_new_nocheck(o, "questionsAsked", json_integer(a->questions));
  json_object_set_new_nocheck(o, "openQuestions", json_integer(a->open_questions));
  json_object_set_new_nocheck(o, "closedQuestions", json_integer(a->questions - a->open_questions));
  json_object_set_new_nocheck(o, "longestMonologueSec", json_integer(res->monologue_sec));
  json_object_set_new_nocheck(o, "repTurns", json_integer(a->rep_turns));
  json_object_set_new_nocheck(o, "personaTurns", json_integer(a->persona_turns));
  json_object_set_new_nocheck(o, "repWords", json_integer((json_int_t)a->rep_words));
  json_object_set_new_nocheck(o, "personaWords", json_integer((json_int_t)a->persona_words));
  return o;
}

/* ------------------------------------------------------------------------
 * Entry point
 * ---------------------------------------------------------------------- */

static void result_release(struct sc_result *res)
{
  sc_analysis_release(&res->a);
  free(res->crit);
  free(res->crit_off);
  free(res->dim_score);
  free(res->dim_applicable);
  free(res->viol);
  free(res->objs);
}

json_t *scorer_score(const struct rubric *r, const struct score_input *in, char *err, size_t errlen)
{
  char dummy[8];
  if (!err || !errlen) {
    err = dummy;
    errlen = sizeof dummy;
  }
  err[0] = '\0';
  if (!r || !in) {
    snprintf(err, errlen, "no rubric or no input");
    return NULL;
  }
  json_t *out = NULL;
  struct sc_result res;
  struct sc_buf summary, feedback;
  memset(&res, 0, sizeof res);
  sc_buf_init(&summary, SC_MAX_TEXT);
  sc_buf_init(&feedback, SC_MAX_TEXT);
  res.in = in;
  if (sc_analyse(r, in, &res.a, err, errlen) != 0)
    goto cleanup;
  const struct sc_analysis *a = &res.a;

  size_t ncrit = 0;
  for (size_t d = 0; d < r->ndims; d++)
    ncrit += r->dims[d].ncrit;
  res.crit = calloc(ncrit, sizeof *res.crit);
  res.crit_off = calloc(r->ndims + 1, sizeof *res.crit_off);
  res.dim_score = calloc(r->ndims, sizeof *res.dim_score);
  res.dim_applicable = calloc(r->ndims, sizeof *res.dim_applicable);
  if (!res.crit || !res.crit_off || !res.dim_score || !res.dim_applicable) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  for (size_t d = 0; d < r->ndims; d++)
    res.crit_off[d + 1] = res.crit_off[d] + r->dims[d].ncrit;

  uint64_t all = a->rep_words + a->persona_words;
  res.talk_ratio = all ? (double)a->rep_words / (double)all : 0;
  res.monologue_sec = (uint32_t)floor(a->longest_run_words * r->ms_per_word / 1000.0 + 0.5);
  if (in->duration_sec > 0) {
    res.duration_sec = (uint32_t)in->duration_sec;
  } else if (a->n_turns) {
    const struct sc_turn_info *last = &a->ti[a->n_turns - 1];
    res.duration_sec = (uint32_t)((last->time_ms + (int64_t)(last->words * r->ms_per_word)) / 1000);
  }

  eval_recording(r, &res);
  eval_tpmo(r, &res);
  eval_soa(r, &res);
  if (eval_claims(r, &res) != 0 || eval_objections(r, &res) != 0) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  eval_dimensions(r, &res);
  apply_penalties(r, &res);
  res.assessable = assessable(r, &res);
  if (sc_write_text(r, &res, &summary, &feedback) != 0) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }

  for (int k = 0; k < SC_C__N; k++)
    sc_utf8_fix(res.comp_detail[k]);
  out = json_object();
  if (!out) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  json_object_set_new_nocheck(out, "overallScore", json_integer(iround(res.overall)));
  json_object_set_new_nocheck(out, "summary", json_string(sc_buf_str(&summary)));
  json_object_set_new_nocheck(out, "feedback", json_string(sc_buf_str(&feedback)));
  json_object_set_new_nocheck(out, "dimensions", dimensions_json(r, &res));
  json_object_set_new_nocheck(out, "compliance", compliance_json(r, &res));
  json_object_set_new_nocheck(out, "metrics", metrics_json(&res));
  json_object_set_new_nocheck(out, "rubricVersion", json_string_nocheck(r->version));
  json_object_set_new_nocheck(out, "assessable", json_boolean(res.assessable));
  if (!res.assessable)
    json_object_set_new_nocheck(out, "notAssessableReason", json_string_nocheck("tooShort"));
  if (json_object_size(out) !=
      (res.assessable ? 8u : 9u)) { /* a json_*() allocation failed along the way */
    json_decref(out);
    out = NULL;
    snprintf(err, errlen, "out of memory");
  }
cleanup:
  sc_buf_release(&summary);
  sc_buf_release(&feedback);
  result_release(&res);
  return out;
}
