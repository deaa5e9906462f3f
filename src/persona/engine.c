/*
 * engine.c — the conversation state machine that plays one persona through
 * a call: reads the rep's intents, moves trust, patience, objections and
 * the call's stage, and renders the persona's reply from the drill's lines.
 */
#include "persona/persona_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Lines already said are remembered as 32-bit FNV-1a hashes of the exact
 * text, in a ring of USED_MAX entries: 512 covers a 30-minute call at one
 * rep line every 3.5 s. A hash collision only makes the engine pick
 * another variant, never repeat one.
 */
#define USED_MAX     512
#define MAX_SEGMENTS 3
/* An Elite prospect warns at the first push ("say that again and I hang
 * up") and hangs up at this one, or at once on a line that makes two
 * prohibited claims or more ("it's free AND guaranteed"): the pressure
 * reading is a probability, and one borderline line should not end a
 * call. */
#define ELITE_PRESSURE_LIMIT 2

enum call_flag {
  CF_ENROLLED = 1u << 0,
  CF_ENDED = 1u << 1,
  CF_PRESENTED = 1u << 2,
  CF_ENROLL_ASKED = 1u << 3,
  CF_RECAPPED = 1u << 4,
  CF_OPENED = 1u << 5,
};

struct persona_call {
  const struct drill *d;
  uint64_t rng;
  uint16_t persona;
  uint8_t diff;
  uint8_t flags;
  uint16_t turn;
  int16_t trust, patience;
  uint16_t intro_turn, disclosure_turn, tpmo_turn, permission_turn;
  uint32_t revealed; /* 1u << topic index (enum persona_fact, then the drill's extra topics) */
  uint32_t asked;    /* topics the rep has asked about */
  uint16_t pressure_count;
  uint8_t obj_order[PERSONA_MAX_OBJECTIONS]; /* this call's order of the persona's objections */
  uint8_t needed; /* objections this call raises (difficulty, capped by the persona) */
  uint8_t raised; /* obj_order[0 .. raised) have been raised */
  uint8_t addressed;
  int8_t open; /* obj_order index of the open objection, or -1 */
  uint8_t press_count;
  uint32_t last_intents;
  uint32_t used_count;
  uint32_t used[USED_MAX];
  char agent_name[24];
  char last[PERSONA_MAX_TEXT + 1]; /* the reply handed out last */
};

/* ---- Placeholders ----------------------------------------------------- */

enum placeholder {
  PH_NAME,
  PH_FIRST_NAME,
  PH_AGE,
  PH_CITY,
  PH_STATE,
  PH_COVERAGE,
  PH_COMPLAINT,
  PH_PERIOD,
  PH_PHARMACY,
  PH_BUDGET,
  PH_EXTRA_HELP,
  PH_FAMILY,
  PH_DOCTOR,
  PH_SPECIALTY,
  PH_DOCTOR2,
  PH_SPECIALTY2,
  PH_DOCTORS,
  PH_DRUG,
  PH_DOSE,
  PH_DRUG2,
  PH_DOSE2,
  PH_DRUGS,
  PH_HEALTH,
  PH_HEALTH1,
  PH_AGENT_NAME,
  PH_MISSING_TOPIC,
  PH_FACT,
  PH_TOPIC,
  PH_HELPER,
  PH_RECAP_WRONG,
  PH_RECAP_RIGHT,
  PH__COUNT
};

static const char *const placeholder_names[PH__COUNT] = {
    [PH_NAME] = "name",
    [PH_FIRST_NAME] = "first_name",
    [PH_AGE] = "age",
    [PH_CITY] = "city",
    [PH_STATE] = "state",
    [PH_COVERAGE] = "coverage",
    [PH_COMPLAINT] = "complaint",
    [PH_PERIOD] = "enrollment_period",
    [PH_PHARMACY] = "pharmacy",
    [PH_BUDGET] = "budget",
    [PH_EXTRA_HELP] = "extra_help",
    [PH_FAMILY] = "family",
    [PH_DOCTOR] = "doctor",
    [PH_SPECIALTY] = "specialty",
    [PH_DOCTOR2] = "doctor2",
    [PH_SPECIALTY2] = "specialty2",
    [PH_DOCTORS] = "doctors",
    [PH_DRUG] = "drug",
    [PH_DOSE] = "dose",
    [PH_DRUG2] = "drug2",
    [PH_DOSE2] = "dose2",
    [PH_DRUGS] = "drugs",
    [PH_HEALTH] = "health",
    [PH_HEALTH1] = "health1",
    [PH_AGENT_NAME] = "agent_name",
    [PH_MISSING_TOPIC] = "missing_topic",
    [PH_FACT] = "fact",
    [PH_TOPIC] = "topic",
    [PH_HELPER] = "helper",
    [PH_RECAP_WRONG] = "recap_wrong",
    [PH_RECAP_RIGHT] = "recap_right",
};

int persona_placeholder_find(const char *name, size_t len)
{
  for (int i = 0; i < PH__COUNT; i++)
    if (strlen(placeholder_names[i]) == len && memcmp(placeholder_names[i], name, len) == 0)
      return i;
  return -1;
}

/* What a line is about, beyond the persona: the values of {missing_topic},
 * {fact}/{topic} (a topic index, or -1) and {recap_wrong}/{recap_right}
 * (the drug or doctor a recap named, wrongly or rightly). */
struct slots {
  const char *missing_topic;
  int topic;
  const char *recap_named;
};

struct render_ctx {
  const struct persona_call *pc;
  const struct slots *s;
  char age[16];
};

/* The value of a placeholder, or NULL when this persona or moment has none
 * (the line is then skipped). Sets *fact to the fact it reveals, or -1. */
static const char *placeholder_value(struct render_ctx *rc, int ph, int *fact)
{
  const struct persona *p = &rc->pc->d->personas[rc->pc->persona];
  *fact = -1;
  switch ((enum placeholder)ph) {
  case PH_NAME: return p->name;
  case PH_FIRST_NAME: return p->first_name;
  case PH_AGE: snprintf(rc->age, sizeof rc->age, "%d", p->age); return rc->age;
  case PH_CITY: return p->city;
  case PH_STATE: return p->state;
  case PH_COVERAGE: *fact = FACT_COVERAGE; return p->coverage;
  case PH_COMPLAINT: *fact = FACT_COVERAGE; return p->complaint;
  case PH_PERIOD: return p->enrollment_period;
  case PH_PHARMACY: *fact = FACT_PHARMACY; return p->pharmacy;
  case PH_BUDGET: *fact = FACT_BUDGET; return p->budget;
  case PH_EXTRA_HELP: *fact = FACT_EXTRA_HELP; return p->extra_help;
  case PH_FAMILY: return p->family;
  case PH_DOCTOR: return p->doctors[0].name;
  case PH_SPECIALTY: return p->doctors[0].specialty;
  case PH_DOCTOR2: return p->n_doctors > 1 ? p->doctors[1].name : NULL;
  case PH_SPECIALTY2: return p->n_doctors > 1 ? p->doctors[1].specialty : NULL;
  case PH_DOCTORS: *fact = FACT_DOCTORS; return p->doctors_text;
  case PH_DRUG: return p->drugs[0].name;
  case PH_DOSE: return p->drugs[0].dose;
  case PH_DRUG2: return p->n_drugs > 1 ? p->drugs[1].name : NULL;
  case PH_DOSE2: return p->n_drugs > 1 ? p->drugs[1].dose : NULL;
  case PH_DRUGS: *fact = FACT_DRUGS; return p->drugs_text;
  case PH_HEALTH: *fact = FACT_HEALTH; return p->health_text;
  case PH_HEALTH1: return p->health.v[0];
  case PH_AGENT_NAME: return rc->pc->agent_name[0] != '\0' ? rc->pc->agent_name : NULL;
  case PH_MISSING_TOPIC: return rc->s->missing_topic;
  case PH_FACT:
    if (rc->s->topic < 0)
      return NULL;
    *fact = rc->s->topic;
    return p->facts[rc->s->topic];
  case PH_TOPIC: return rc->s->topic >= 0 ? rc->pc->d->topics[rc->s->topic] : NULL;
  case PH_HELPER: return p->decision_helper;
  case PH_RECAP_WRONG:
  case PH_RECAP_RIGHT: return rc->s->recap_named;
  case PH__COUNT: break;
  }
  return NULL;
}

/* Renders prefix (may be NULL) + tmpl into out. Returns the length, or -1
 * when a placeholder has no value or the text does not fit. */
static int render(struct render_ctx *rc, const char *prefix, const char *tmpl, char *out,
                  size_t cap, unsigned *facts)
{
  size_t o = 0;
  *facts = 0;
  if (prefix != NULL) {
    int w = snprintf(out, cap, "%s ", prefix);
    if (w < 0 || (size_t)w >= cap)
      return -1;
    o = (size_t)w;
  }
  for (const char *p = tmpl; *p != '\0'; p++) {
    if (*p == '{') {
      const char *close = strchr(p + 1, '}');
      int ph = close ? persona_placeholder_find(p + 1, (size_t)(close - p - 1)) : -1;
      int fact;
      const char *val = ph >= 0 ? placeholder_value(rc, ph, &fact) : NULL;
      if (val == NULL)
        return -1;
      size_t vl = strlen(val);
      if (o + vl >= cap)
        return -1;
      memcpy(out + o, val, vl);
      o += vl;
      if (fact >= 0)
        *facts |= 1u << fact;
      p = close;
      continue;
    }
    if (o + 1 >= cap)
      return -1;
    out[o++] = *p;
  }
  out[o] = '\0';
  return (int)o;
}

/* ---- Randomness and memory of lines ------------------------------------ */

/* splitmix64: small, fast and fully determined by the call's seed. */
static uint64_t rng_next(struct persona_call *pc)
{
  uint64_t z = (pc->rng += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static size_t rng_below(struct persona_call *pc, size_t n)
{
  return n == 0 ? 0 : (size_t)(rng_next(pc) % n);
}

static uint32_t fnv1a(const char *s)
{
  uint32_t h = 2166136261u;
  for (; *s != '\0'; s++) {
    h ^= (unsigned char)*s;
    h *= 16777619u;
  }
  return h;
}

static bool line_used(const struct persona_call *pc, uint32_t h)
{
  size_t n = pc->used_count < USED_MAX ? pc->used_count : USED_MAX;
  for (size_t i = 0; i < n; i++)
    if (pc->used[i] == h)
      return true;
  return false;
}

static void line_remember(struct persona_call *pc, uint32_t h)
{
  pc->used[pc->used_count % USED_MAX] = h;
  pc->used_count++;
}

/* ---- Composing a reply from segments ---------------------------------- */

/* Candidate lines for one segment: up to three lists, read as one. */
struct pool {
  const struct strlist *l[3];
};

static size_t pool_size(const struct pool *p)
{
  size_t n = 0;
  for (int i = 0; i < 3; i++)
    n += p->l[i] ? p->l[i]->n : 0;
  return n;
}

static const char *pool_get(const struct pool *p, size_t idx)
{
  for (int i = 0; i < 3; i++) {
    size_t n = p->l[i] ? p->l[i]->n : 0;
    if (idx < n)
      return p->l[i]->v[idx];
    idx -= n;
  }
  return NULL;
}

/* The persona's own lines for kind, then the drill's for this difficulty
 * (or, when the drill has none for it, the drill's lines for any tier). */
static struct pool kind_pool(const struct persona_call *pc, enum reply_kind k)
{
  const struct drill *d = pc->d;
  struct pool p = {{NULL, NULL, NULL}};
  p.l[0] = &d->personas[pc->persona].lines[k];
  p.l[1] = d->replies[k][1 + pc->diff].n > 0 ? &d->replies[k][1 + pc->diff] : &d->replies[k][0];
  if (k == R_OPENER)
    p.l[2] = &d->personas[pc->persona].openers;
  return p;
}

struct comp {
  char text[PERSONA_MAX_TEXT + 1];
  size_t len;
  int segments;
};

/* Tries one candidate: renders it, and appends it to c unless it was said
 * before in this call or does not fit. */
static bool try_candidate(struct persona_call *pc, struct render_ctx *rc, struct comp *c,
                          const char *prefix, const char *tmpl, bool allow_used)
{
  char tmp[PERSONA_MAX_TEXT + 1];
  unsigned facts;
  size_t room = sizeof c->text - c->len - (c->len > 0 ? 1 : 0);
  int n = render(rc, prefix, tmpl, tmp, room < sizeof tmp ? room : sizeof tmp, &facts);
  if (n <= 0)
    return false;
  uint32_t h = fnv1a(tmp);
  if (line_used(pc, h) && !allow_used)
    return false;
  if (c->len > 0)
    c->text[c->len++] = ' ';
  memcpy(c->text + c->len, tmp, (size_t)n + 1);
  c->len += (size_t)n;
  c->segments++;
  line_remember(pc, h);
  pc->revealed |= facts;
  return true;
}

/*
 * Appends one line from pool to c that has not been said in this call.
 * Order: the variants as written (from a seeded starting point), then each
 * variant behind one filler ("Well,", "Hmm."), then behind two: a pool of
 * n lines with f fillers yields n * (1 + f + f*f) distinct lines before it
 * gives up, which no realistic call exhausts.
 */
static const struct slots no_slots = {NULL, -1, NULL};

static bool add_from_pool(struct persona_call *pc, struct comp *c, const struct pool *pool,
                          const struct slots *s, bool last_resort)
{
  struct render_ctx rc = {.pc = pc, .s = s != NULL ? s : &no_slots};
  const struct strlist *fl = &pc->d->fillers;
  size_t n = pool_size(pool);
  if (n == 0 || c->segments >= MAX_SEGMENTS)
    return false;
  size_t start = rng_below(pc, n);
  for (size_t i = 0; i < n; i++)
    if (try_candidate(pc, &rc, c, NULL, pool_get(pool, (start + i) % n), false))
      return true;
  size_t fs = rng_below(pc, fl->n);
  for (size_t j = 0; j < fl->n; j++)
    for (size_t i = 0; i < n; i++)
      if (try_candidate(pc, &rc, c, fl->v[(fs + j) % fl->n], pool_get(pool, (start + i) % n),
                        false))
        return true;
  for (size_t j = 0; j < fl->n; j++) {
    for (size_t j2 = 0; j2 < fl->n; j2++) {
      char two[256];
      if (j == j2)
        continue;
      int w = snprintf(two, sizeof two, "%s %s", fl->v[(fs + j) % fl->n], fl->v[(fs + j2) % fl->n]);
      if (w < 0 || (size_t)w >= sizeof two)
        continue;
      for (size_t i = 0; i < n; i++)
        if (try_candidate(pc, &rc, c, two, pool_get(pool, (start + i) % n), false))
          return true;
    }
  }
  /* Spent (only a drill with tiny pools gets here): rather than silence,
   * the first line of the reply may repeat. */
  if (last_resort && c->segments == 0)
    for (size_t i = 0; i < n; i++)
      if (try_candidate(pc, &rc, c, NULL, pool_get(pool, (start + i) % n), true))
        return true;
  return false;
}

/* Whether the drill has lines of k for this persona and tier (an
 * optional kind may have none). */
static bool kind_has_lines(const struct persona_call *pc, enum reply_kind k)
{
  struct pool p = kind_pool(pc, k);
  return pool_size(&p) > 0;
}

static bool add_kind_with(struct persona_call *pc, struct comp *c, enum reply_kind k,
                          const struct slots *s)
{
  struct pool p = kind_pool(pc, k);
  if (add_from_pool(pc, c, &p, s, false))
    return true;
  if (c->segments > 0)
    return false;
  /* Every variant of k is spent: say something generic instead, and only
   * if that is spent too, repeat a line of k. */
  struct pool g = kind_pool(pc, R_GENERIC);
  if (k != R_GENERIC && add_from_pool(pc, c, &g, s, false))
    return true;
  return add_from_pool(pc, c, &p, s, true);
}

static bool add_kind(struct persona_call *pc, struct comp *c, enum reply_kind k,
                     const char *missing_topic)
{
  struct slots s = {missing_topic, -1, NULL};
  return add_kind_with(pc, c, k, &s);
}

static bool add_list(struct persona_call *pc, struct comp *c, const struct strlist *l)
{
  struct pool p = {{l, NULL, NULL}};
  return add_from_pool(pc, c, &p, NULL, c->segments == 0);
}

/* ---- Call state ------------------------------------------------------- */

#define I(x) (1u << PERSONA_INTENT_##x)

static const struct {
  enum persona_intent intent;
  enum reply_kind first, again, volunteer;
} fact_table[FACT__COUNT] = {
    [FACT_COVERAGE] = {PERSONA_INTENT_ASK_COVERAGE, R_COVERAGE, R_COVERAGE_AGAIN, R_VOL_COVERAGE},
    [FACT_DOCTORS] = {PERSONA_INTENT_ASK_DOCTORS, R_DOCTORS, R_DOCTORS_AGAIN, R_VOL_DOCTORS},
    [FACT_DRUGS] = {PERSONA_INTENT_ASK_PRESCRIPTIONS, R_DRUGS, R_DRUGS_AGAIN, R_VOL_DRUGS},
    [FACT_PHARMACY] = {PERSONA_INTENT_ASK_PHARMACY, R_PHARMACY, R_PHARMACY_AGAIN, R_VOL_PHARMACY},
    [FACT_BUDGET] = {PERSONA_INTENT_ASK_BUDGET, R_BUDGET, R_BUDGET_AGAIN, R_VOL_BUDGET},
    [FACT_EXTRA_HELP] = {PERSONA_INTENT_ASK_EXTRA_HELP, R_EXTRA_HELP, R_EXTRA_HELP_AGAIN, R__COUNT},
    [FACT_HEALTH] = {PERSONA_INTENT_ASK_HEALTH, R_HEALTH, R_HEALTH_AGAIN, R__COUNT},
};

/* The topics the intents in m ask about (bits of enum persona_fact). */
static uint32_t intent_topics(uint32_t m)
{
  uint32_t t = 0;
  for (int f = 0; f < FACT__COUNT; f++)
    if (m & (1u << fact_table[f].intent))
      t |= 1u << f;
  return t;
}

static void trust_add(struct persona_call *pc, int delta)
{
  int t = pc->trust + delta;
  pc->trust = (int16_t)(t < 0 ? 0 : (t > 100 ? 100 : t));
}

static const struct difficulty_rules *rules(const struct persona_call *pc)
{
  return &pc->d->rules[pc->diff];
}

static const struct objection_def *open_objection(const struct persona_call *pc)
{
  const struct persona *p = &pc->d->personas[pc->persona];
  if (pc->open < 0)
    return NULL;
  return &pc->d->objections[p->objections[pc->obj_order[pc->open]]];
}

struct persona_call *persona_call_new(const struct drill *d, size_t persona_idx,
                                      enum persona_difficulty diff, uint64_t seed)
{
  if (d == NULL || persona_idx >= d->n_personas || (int)diff < 0 || (int)diff > 2)
    return NULL;
  struct persona_call *pc = calloc(1, sizeof *pc);
  if (pc == NULL)
    return NULL;
  const struct persona *p = &d->personas[persona_idx];
  pc->d = d;
  pc->persona = (uint16_t)persona_idx;
  pc->diff = (uint8_t)diff;
  pc->rng = seed ^ ((uint64_t)persona_idx << 48) ^ ((uint64_t)diff << 56);
  pc->trust = (int16_t)d->rules[diff].trust;
  pc->patience = (int16_t)d->rules[diff].patience;
  pc->open = -1;
  /* This call's order of objections: a seeded shuffle of the persona's. */
  for (size_t i = 0; i < p->n_objections; i++)
    pc->obj_order[i] = (uint8_t)i;
  for (size_t i = p->n_objections; i > 1; i--) {
    size_t j = rng_below(pc, i);
    uint8_t t = pc->obj_order[i - 1];
    pc->obj_order[i - 1] = pc->obj_order[j];
    pc->obj_order[j] = t;
  }
  size_t need = (size_t)d->rules[diff].objections;
  pc->needed = (uint8_t)(need < p->n_objections ? need : p->n_objections);
  return pc;
}

void persona_call_voice(const struct persona_call *pc, struct persona_voice *out)
{
  drill_persona_voice(pc->d, pc->persona, out);
}

void persona_call_free(struct persona_call *pc)
{
  free(pc);
}

size_t persona_call_footprint(const struct persona_call *pc)
{
  (void)pc;
  return sizeof(struct persona_call);
}

static void finish(struct persona_call *pc, const struct comp *c)
{
  memcpy(pc->last, c->text, c->len + 1);
}

const char *persona_call_open(struct persona_call *pc)
{
  if (pc == NULL)
    return NULL;
  if (pc->flags & CF_OPENED)
    return pc->last;
  struct comp c = {.len = 0};
  c.text[0] = '\0';
  add_kind(pc, &c, R_OPENER, NULL);
  finish(pc, &c);
  pc->flags |= CF_OPENED;
  return pc->last;
}

/* Brings forward, to the next place of this call's order, the first
 * objection not yet raised whose facts the rep's words (norm) do not
 * already answer: right after "your doctors are in network", a prospect
 * does not ask whether it keeps its doctor. When every one is answered,
 * the order stays. */
static void skip_answered(struct persona_call *pc, const char *norm)
{
  const struct persona *p = &pc->d->personas[pc->persona];
  for (size_t i = pc->raised; i < p->n_objections; i++) {
    const struct objection_def *o = &pc->d->objections[p->objections[pc->obj_order[i]]];
    if (persona_phrases_match(&o->keywords, norm, NULL))
      continue;
    uint8_t t = pc->obj_order[i];
    memmove(&pc->obj_order[pc->raised + 1], &pc->obj_order[pc->raised], i - pc->raised);
    pc->obj_order[pc->raised] = t;
    return;
  }
}

/* Raises the next objection of this call's order; with norm (the rep's
 * words this turn, or NULL), one they have not already answered. */
static bool raise_next(struct persona_call *pc, struct comp *c, const char *norm)
{
  const struct persona *p = &pc->d->personas[pc->persona];
  if (pc->raised >= pc->needed || pc->open >= 0 || (pc->flags & CF_ENROLLED))
    return false;
  if (norm != NULL)
    skip_answered(pc, norm);
  const struct objection_def *o = &pc->d->objections[p->objections[pc->obj_order[pc->raised]]];
  if (!add_list(pc, c, &o->raise))
    return false;
  pc->open = (int8_t)pc->raised;
  pc->raised++;
  pc->press_count = 0;
  return true;
}

/* Whether this utterance answers the open objection, by the tier's rule. */
static bool addresses_objection(const struct persona_call *pc, uint32_t m, const char *norm,
                                bool asks)
{
  const struct objection_def *o = open_objection(pc);
  bool handling = (m & I(OBJECTION_HANDLING)) != 0;
  /* A wh-question that names the worry asks, it does not answer ("What's
   * a comfortable monthly budget?" to "what will it cost me?"). */
  bool facts = !asks && persona_phrases_match(&o->keywords, norm, NULL);
  if (m & I(PRESSURE))
    return false;
  switch (rules(pc)->objection_rule) {
  case OBJ_RULE_ANY: return handling || facts || (m & (I(PLAN_PRESENTATION) | I(RECAP)));
  case OBJ_RULE_EITHER: return handling || facts;
  case OBJ_RULE_BOTH: return handling && facts;
  }
  return false;
}

/* The persona's answer to the claim of a pressure line (kind, or -1 for
 * none: "Nothing is free."), when the drill has a fresh line for it. */
static bool add_claim_answer(struct persona_call *pc, struct comp *c, int kind)
{
  if (kind < 0)
    return false;
  struct pool p = kind_pool(pc, (enum reply_kind)kind);
  return add_from_pool(pc, c, &p, NULL, false);
}

/* Pushback on pressure: the answer to its claim and, from an Elite
 * prospect, a warning; a plain "don't rush me" when no claim is named. */
static void push_back(struct persona_call *pc, struct comp *c, int claim)
{
  bool answered = add_claim_answer(pc, c, claim);
  if (!answered || pc->diff == PERSONA_ELITE)
    add_kind(pc, c, R_PRESSURE_PUSHBACK, NULL);
}

/* Hangs up with a line of kind k, after the answer to claim (-1: none). */
static int hang_up(struct persona_call *pc, enum reply_kind k, int claim, struct persona_reply *out)
{
  struct comp c = {.len = 0};
  c.text[0] = '\0';
  add_claim_answer(pc, &c, claim);
  add_kind(pc, &c, k, NULL);
  finish(pc, &c);
  pc->flags |= CF_ENDED;
  out->text = pc->last;
  out->hangup = true;
  return 0;
}

/* The first fact of `needed` the persona has not told yet, or -1. */
static int missing_fact(const struct persona_call *pc, const int *needed, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!(pc->revealed & (1u << needed[i])))
      return needed[i];
  return -1;
}

/* The rep asks to enroll: agree only when every condition of the tier holds. */
static void enroll_decision(struct persona_call *pc, struct comp *c)
{
  static const int discovery[] = {FACT_DOCTORS, FACT_DRUGS};
  const struct difficulty_rules *r = rules(pc);
  pc->flags |= CF_ENROLL_ASKED;
  if (pc->flags & CF_ENROLLED) {
    add_kind(pc, c, R_ENROLLED_ALREADY, NULL);
    return;
  }
  if (pc->diff != PERSONA_BEGINNER && pc->raised < pc->needed && raise_next(pc, c, NULL))
    return;
  int missing = r->require_discovery ? missing_fact(pc, discovery, 2) : -1;
  if (missing >= 0) {
    add_kind(pc, c, R_ENROLL_MISSING, pc->d->topics[missing]);
    return;
  }
  if (pc->trust < r->enroll_min_trust) {
    add_kind(pc, c, R_ENROLL_NOT_READY, NULL);
    return;
  }
  /* Everything holds, but a persona with a power of attorney or a decision
   * helper never enrolls alone: it defers to them, every time it is asked. */
  if (pc->d->personas[pc->persona].decision_helper != NULL) {
    add_kind(pc, c, R_ENROLL_DEFER, NULL);
    return;
  }
  pc->flags |= CF_ENROLLED;
  add_kind(pc, c, R_ENROLL_AGREE, NULL);
}

/* Answers a question about topic f: the fact the first time, "like I told
 * you" after, and an in-character "I'd have to check" when the persona has
 * no fact for it. */
static void answer_topic(struct persona_call *pc, struct comp *c, int f)
{
  const struct persona *p = &pc->d->personas[pc->persona];
  bool told = (pc->revealed & (1u << f)) != 0;
  if (f < FACT__COUNT) {
    add_kind(pc, c, told ? fact_table[f].again : fact_table[f].first, NULL);
    return;
  }
  struct slots s = {NULL, f, NULL};
  if (p->facts[f] == NULL)
    add_kind_with(pc, c, R_TOPIC_UNKNOWN, &s);
  else
    add_kind_with(pc, c, told ? R_TOPIC_AGAIN : R_TOPIC_ANSWER, &s);
}

/* Whether key (a recap key of some persona) is one of this persona's. */
static bool own_key(const struct persona *p, const char *key, bool drug)
{
  if (drug) {
    for (size_t i = 0; i < p->n_drugs; i++)
      if (strcmp(p->drug_keys[i], key) == 0)
        return true;
    return false;
  }
  for (size_t i = 0; i < p->n_doctors; i++)
    for (int j = 0; j < 3; j++)
      if (strcmp(p->doctor_keys[i][j], key) == 0)
        return true;
  return false;
}

/* Whether the padded word " w " is part of one of this persona's doctor
 * keys (" dr reyes ", " alan reyes "). */
static bool own_doctor_word(const struct persona *p, const char *padded)
{
  for (size_t i = 0; i < p->n_doctors; i++)
    for (int j = 0; j < 3; j++)
      if (strstr(p->doctor_keys[i][j], padded) != NULL)
        return true;
  return false;
}

/* A titled name in the rep's words ("is mrs jones your doctor", "so u see
 * dr patel") that is none of this persona's doctors: "Mrs. Jones" into
 * buf. A title before an ordinary word ("a dr you like") is no name. */
static const char *unknown_titled_name(const struct persona *me, const char *norm, char *buf,
                                       size_t cap)
{
  static const char *const titles[] = {" dr ", " mrs ", " mr ", " ms "};
  static const char *const not_names[] = {
      "you", "your",  "yours",  "the",    "that",        "this",         "who",  "and",
      "for", "visit", "visits", "office", "appointment", "appointments", "near", "nearby"};
  for (size_t t = 0; t < sizeof titles / sizeof titles[0]; t++) {
    for (const char *hit = strstr(norm, titles[t]); hit != NULL; hit = strstr(hit + 1, titles[t])) {
      const char *w = hit + strlen(titles[t]);
      size_t wl = strcspn(w, " ");
      char padded[64];
      if (wl < 3 || wl + 3 > sizeof padded)
        continue;
      snprintf(padded, sizeof padded, " %.*s ", (int)wl, w);
      bool common = false;
      for (size_t k = 0; k < sizeof not_names / sizeof not_names[0]; k++)
        common |= strlen(not_names[k]) == wl && memcmp(not_names[k], w, wl) == 0;
      if (common || own_doctor_word(me, padded))
        continue;
      /* " mrs " -> "Mrs.", "jones" -> "Jones" */
      int n =
          snprintf(buf, cap, "%c%.*s. %c%.*s", titles[t][1] - 'a' + 'A', (int)strlen(titles[t]) - 3,
                   titles[t] + 2, w[0] - 'a' + 'A', (int)wl - 1, w + 1);
      if (n > 0 && (size_t)n < cap && w[0] >= 'a' && w[0] <= 'z')
        return buf;
    }
  }
  return NULL;
}

/* A drug or doctor the rep names that is not this persona's: one of
 * another persona of the drill ("so you take metformin" to a persona who
 * does not), or a titled name it does not know ("Is Mrs. Jones your
 * doctor?"). Returns its display name (buf may hold it), or NULL; *drug
 * tells which. */
static const char *recap_mistake(const struct persona_call *pc, const char *norm, bool *drug,
                                 char *buf, size_t cap)
{
  const struct drill *d = pc->d;
  const struct persona *me = &d->personas[pc->persona];
  for (size_t q = 0; q < d->n_personas; q++) {
    const struct persona *o = &d->personas[q];
    if (q == pc->persona)
      continue;
    for (size_t i = 0; i < o->n_drugs; i++)
      if (strstr(norm, o->drug_keys[i]) != NULL && !own_key(me, o->drug_keys[i], true)) {
        *drug = true;
        return o->drugs[i].name;
      }
    for (size_t i = 0; i < o->n_doctors; i++)
      for (int j = 0; j < 3; j++)
        if (strstr(norm, o->doctor_keys[i][j]) != NULL &&
            !own_key(me, o->doctor_keys[i][j], false)) {
          *drug = false;
          return o->doctors[i].name;
        }
  }
  *drug = false;
  return unknown_titled_name(me, norm, buf, cap);
}

/* This persona's own drugs and doctors that the rep names, as "Eliquis
 * and Dr. Alan Reyes" into buf (at most two); NULL when none. */
static const char *recap_named_own(const struct persona *p, const char *norm, char *buf, size_t cap)
{
  const char *names[2];
  int n = 0;
  for (size_t i = 0; i < p->n_drugs && n < 2; i++)
    if (strstr(norm, p->drug_keys[i]) != NULL)
      names[n++] = p->drugs[i].name;
  for (size_t i = 0; i < p->n_doctors && n < 2; i++)
    for (int j = 0; j < 3; j++)
      if (strstr(norm, p->doctor_keys[i][j]) != NULL) {
        names[n++] = p->doctors[i].name;
        break;
      }
  if (n == 0)
    return NULL;
  int w = n == 1 ? snprintf(buf, cap, "%s", names[0])
                 : snprintf(buf, cap, "%s and %s", names[0], names[1]);
  return w > 0 && (size_t)w < cap ? buf : NULL;
}

#define DRUGS_OR_DOCTORS ((1u << FACT_DOCTORS) | (1u << FACT_DRUGS))

/* Whether the rep names a drug or doctor in a question about drugs or
 * doctors: one that is not the persona's ("So you take Eliquis?" to one
 * who does not, "What dose of metformin?") is corrected; its own is
 * confirmed ("u see dr reyes rite?"), unless a wh-question asks more
 * about it ("What dose of Eliquis do you take?"). Either way it reads a
 * fact back rather than asking for the list again. */
static bool names_fact(const struct persona_call *pc, const char *norm, bool wh)
{
  char buf[256];
  bool drug;
  if (recap_mistake(pc, norm, &drug, buf, sizeof buf) != NULL)
    return true;
  return !wh && recap_named_own(&pc->d->personas[pc->persona], norm, buf, sizeof buf) != NULL;
}

/* The rep reads back what they heard: a wrong drug or doctor is corrected;
 * the persona's own ones, named, are confirmed (the rep may know them from
 * the persona's own earlier line: "So you see Dr. Reyes, correct?");
 * otherwise the whole read-back is confirmed, or "we haven't talked about
 * X yet". */
static void answer_recap(struct persona_call *pc, struct comp *c, const char *norm)
{
  static const int discovery[] = {FACT_DOCTORS, FACT_DRUGS, FACT_PHARMACY};
  const struct persona *p = &pc->d->personas[pc->persona];
  char buf[256];
  bool drug = false;
  const char *wrong = recap_mistake(pc, norm, &drug, buf, sizeof buf);
  if (wrong != NULL) {
    struct slots s = {NULL, -1, wrong};
    add_kind_with(pc, c, drug ? R_RECAP_CORRECT_DRUG : R_RECAP_CORRECT_DOCTOR, &s);
    return;
  }
  const char *right = recap_named_own(p, norm, buf, sizeof buf);
  if (right != NULL && kind_has_lines(pc, R_RECAP_CONFIRM_NAMED)) {
    struct slots s = {NULL, -1, right};
    add_kind_with(pc, c, R_RECAP_CONFIRM_NAMED, &s);
    return;
  }
  int missing = missing_fact(pc, discovery, 3);
  if (missing < 0 || right != NULL)
    add_kind(pc, c, R_RECAP_CONFIRM, NULL);
  else
    add_kind(pc, c, R_RECAP_PARTIAL, pc->d->topics[missing]);
}

/* Marks compliance moments and moves trust and patience for utterance m. */
static void apply_intents(struct persona_call *pc, uint32_t m, uint32_t topics, const char *norm)
{
  const struct drill *d = pc->d;
  if ((m & I(INTRODUCTION)) && pc->intro_turn == 0) {
    pc->intro_turn = pc->turn;
    trust_add(pc, d->delta.introduction);
  }
  if ((m & I(INTRODUCTION)) && pc->agent_name[0] == '\0')
    persona_extract_name(d, norm, pc->agent_name, sizeof pc->agent_name);
  if ((m & I(RECORDING_DISCLOSURE)) && pc->disclosure_turn == 0) {
    pc->disclosure_turn = pc->turn;
    trust_add(pc, d->delta.disclosure);
  }
  if ((m & I(TPMO_DISCLAIMER)) && pc->tpmo_turn == 0) {
    pc->tpmo_turn = pc->turn;
    trust_add(pc, d->delta.tpmo);
  }
  if ((m & I(PERMISSION)) && pc->permission_turn == 0) {
    pc->permission_turn = pc->turn;
    trust_add(pc, d->delta.permission);
  }
  for (uint32_t f = topics & ~pc->asked; f != 0; f &= f - 1)
    trust_add(pc, d->delta.question); /* once per topic */
  pc->asked |= topics;
  if (m & I(OBJECTION_HANDLING))
    trust_add(pc, d->delta.handling);
  if ((m & I(RECAP)) && !(pc->flags & CF_RECAPPED)) {
    pc->flags |= CF_RECAPPED;
    trust_add(pc, d->delta.recap);
  }
  if (m & I(OFF_TOPIC)) {
    trust_add(pc, d->delta.off_topic);
    pc->patience = (int16_t)(pc->patience - d->off_topic_patience_cost);
  }
  if (m & I(PRESSURE)) {
    pc->pressure_count++;
    trust_add(pc, d->delta.pressure);
    pc->patience = (int16_t)(pc->patience - d->pressure_patience_cost);
  }
}

int persona_call_reply(struct persona_call *pc, const char *rep_text, struct persona_reply *out)
{
  if (pc == NULL || out == NULL)
    return -1;
  if (pc->flags & CF_ENDED) { /* already hung up: nothing new to say */
    out->text = pc->last;
    out->hangup = true;
    return 0;
  }
  if (rep_text == NULL)
    rep_text = "";

  const struct drill *d = pc->d;
  const struct difficulty_rules *r = rules(pc);
  char norm[PERSONA_NORM_MAX];
  persona_normalize(rep_text, norm, sizeof norm);
  uint32_t m = drill_classify(d, rep_text); /* the raw text: "?" and contractions count */
  struct persona_heard h;
  persona_hear(d, rep_text, &h);
  if (pc->turn < UINT16_MAX)
    pc->turn++;
  pc->last_intents = m;

  /* The topics asked about: the topic classifier's, which knows them all
   * and tells them apart ("which hospital" is not about doctors), unless
   * the rep is pitching (a statement about the plan's dental benefits is
   * not a question about the persona's teeth); else the ask_* intents'.
   * A read-back of what the persona said is a recap, not a new question. */
  uint32_t heard =
      h.question || !(m & (I(PLAN_PRESENTATION) | I(OBJECTION_HANDLING))) ? h.topics : 0;
  uint32_t topics = heard != 0 ? heard : intent_topics(m);
  bool recap = h.recap || ((m & I(RECAP)) && h.topics == 0) ||
               (topics != 0 && (topics & ~DRUGS_OR_DOCTORS) == 0 && names_fact(pc, norm, h.wh));
  if (recap)
    topics = 0;

  /* "Sorry, can you say that again?" gets the last line, word for word. */
  if ((m & I(REPEAT_REQUEST)) && topics == 0 && pc->last[0] != '\0') {
    out->text = pc->last;
    out->hangup = false;
    return 0;
  }

  apply_intents(pc, recap ? m | I(RECAP) : m, topics, norm);

  /* Hanging up: pressure (Elite on the second push, after a warning;
   * others when patience runs out), exhausted patience, or no recording
   * disclosure and TPMO disclaimer by the tier's deadline. */
  int n_claims = 0;
  int claim = (m & I(PRESSURE)) ? persona_pressure_claim(rep_text, &n_claims) : -1;
  bool strong = n_claims >= 2 || pc->pressure_count >= ELITE_PRESSURE_LIMIT;
  if ((m & I(PRESSURE)) && ((r->hangup_on_pressure && strong) || pc->patience <= 0))
    return hang_up(pc, R_HANGUP_PRESSURE, claim, out);
  if (pc->patience <= 0)
    return hang_up(pc, R_HANGUP_PATIENCE, -1, out);
  if (r->compliance_deadline_turn > 0 && pc->turn >= r->compliance_deadline_turn &&
      (pc->disclosure_turn == 0 || pc->tpmo_turn == 0))
    return hang_up(pc, R_HANGUP_COMPLIANCE, -1, out);

  struct comp c = {.len = 0};
  c.text[0] = '\0';
  bool done = false;     /* the utterance has had its main answer */
  bool accepted = false; /* an objection was settled this turn */
  bool raised_now = false;

  if (m & I(PRESSURE)) {
    push_back(pc, &c, claim);
    done = true;
  }

  if (!done && pc->open >= 0) {
    const struct objection_def *o = open_objection(pc);
    if (addresses_objection(pc, m, norm, h.wh && topics != 0)) {
      add_list(pc, &c, &o->accept);
      pc->open = -1;
      pc->addressed++;
      trust_add(pc, d->delta.addressed);
      if (pc->patience < r->patience) /* a real answer restores some goodwill */
        pc->patience++;
      accepted = true;
    } else if (topics == 0 && !recap && !(m & I(GOODBYE))) {
      /* A question or a recap is answered first, and a goodbye gets one. */
      /* Ignored or brushed off: the persona comes back to it. Pushing on
       * to the plan or the close past it, again and again, wears patience
       * down; small talk and "mm-hmm" only get the question again. */
      if ((m & (I(ENROLLMENT_ASK) | I(PLAN_PRESENTATION))) && ++pc->press_count >= 2) {
        pc->patience = (int16_t)(pc->patience - 1);
        if (pc->patience <= 0)
          return hang_up(pc, R_HANGUP_PATIENCE, -1, out);
      }
      /* A plain question it cannot answer is acknowledged before the
       * persona comes back to its worry. */
      if (h.question && h.about_persona && !h.check_in && (m & ~I(OFF_TOPIC)) == 0)
        add_kind(pc, &c, R_QUESTION_UNKNOWN, NULL);
      add_list(pc, &c, &o->press);
      done = true;
    }
  }

  if (!done && (m & I(ENROLLMENT_ASK))) {
    enroll_decision(pc, &c);
    raised_now = pc->open >= 0;
    done = true;
  }

  /* "Do you wear glasses or hearing aids?" names plan benefits, but it is a
   * question about the persona, not a pitch. */
  bool pitch = (m & I(PLAN_PRESENTATION)) && !(h.question && h.topics != 0);
  bool raise_after_plan = false;
  if (!done && !accepted && pitch) {
    pc->flags |= CF_PRESENTED;
    add_kind(pc, &c, R_PLAN_REACTION, NULL);
    raise_after_plan = true;
    done = true;
  }

  if (!done && !accepted && recap) {
    answer_recap(pc, &c, norm);
    done = true;
  }

  /* Questions get answers, at most two per turn; right after an objection
   * is settled, only an explicit question does (the rep's reassurance often
   * names the topic). Below the tier's trust, the persona says it will not
   * tell yet. */
  if (!done && topics != 0 && (!accepted || h.question)) {
    /* In the order asked (the classifier's), then any others by index. */
    int order[PERSONA_MAX_TOPICS], n = 0;
    for (size_t i = 0; topics == heard && i < h.n_order; i++)
      order[n++] = h.order[i];
    for (uint32_t rest = topics; rest != 0; rest &= rest - 1) {
      int f = __builtin_ctz(rest);
      bool listed = false;
      for (int i = 0; i < n; i++)
        listed |= order[i] == f;
      if (!listed)
        order[n++] = f;
    }
    int answered = 0;
    for (int i = 0; i < n && answered < 2; i++) {
      if (pc->trust < r->facts_min_trust) {
        add_kind(pc, &c, R_WITHHOLD, NULL);
        break;
      }
      answer_topic(pc, &c, order[i]);
      answered++;
    }
    done = true;
  }

  if (!done && !accepted) {
    enum reply_kind k = R_GENERIC;
    if (m & I(PERMISSION))
      k = R_PERMISSION;
    else if (m & I(TPMO_DISCLAIMER))
      k = R_ACK_TPMO;
    else if (m & I(RECORDING_DISCLOSURE))
      k = R_ACK_DISCLOSURE;
    else if (m & I(INTRODUCTION))
      k = R_ACK_INTRO;
    else if (m & I(GREETING))
      k = R_GREETING;
    else if (m & I(GOODBYE))
      k = (pc->flags & CF_ENROLLED) ? R_GOODBYE_ENROLLED : R_GOODBYE;
    else if (m & I(OBJECTION_HANDLING))
      k = R_EMPATHY_ACK;
    else if (m & I(OFF_TOPIC))
      k = R_OFF_TOPIC;
    else if (h.check_in)
      k = R_CHECK_IN; /* "does that make sense?" */
    else if (h.question && h.about_persona)
      k = R_QUESTION_UNKNOWN; /* asked, but nothing the persona knows: say so */
    add_kind(pc, &c, k, NULL);
  }

  /* Extras after the main answer. */
  bool calm = !(m & (I(PRESSURE) | I(GOODBYE) | I(OFF_TOPIC)));
  if (r->compliance_deadline_turn > 0 && pc->turn < r->compliance_deadline_turn &&
      (pc->disclosure_turn == 0 || pc->tpmo_turn == 0))
    /* A skeptic prompts for what is missing before the deadline. */
    add_kind(pc, &c, pc->disclosure_turn == 0 ? R_ASK_RECORDING : R_ASK_REPRESENTATION, NULL);
  else if (calm && !raised_now && !accepted && pc->open < 0 && pc->raised < pc->needed &&
           !(pc->flags & CF_ENROLLED)) {
    /* Objections come up after a plan is presented, or on their own once
     * the conversation is under way (harder tiers only). */
    unsigned told = 0;
    for (unsigned f = pc->revealed; f != 0; f &= f - 1)
      told++;
    bool spontaneous =
        pc->diff != PERSONA_BEGINNER && pc->turn >= 4 && told >= 2 && rng_below(pc, 3) == 0;
    if (raise_after_plan || spontaneous)
      raised_now = raise_next(pc, &c, norm);
  }
  if (r->volunteer && calm && !raised_now && pc->open < 0 && pc->turn >= 2 &&
      rng_below(pc, 2) == 0) {
    static const int volunteerable[] = {FACT_COVERAGE, FACT_DOCTORS, FACT_DRUGS, FACT_PHARMACY,
                                        FACT_BUDGET};
    int f = missing_fact(pc, volunteerable, 5);
    if (f >= 0)
      add_kind(pc, &c, fact_table[f].volunteer, NULL);
  }

  if (c.segments == 0) /* everything spent: still answer, never in silence */
    add_kind(pc, &c, R_GENERIC, NULL);
  finish(pc, &c);
  out->text = pc->last;
  out->hangup = false;
  return 0;
}

/* ---- Introspection ---------------------------------------------------- */

static const char *stage_name(const struct persona_call *pc)
{
  if (pc->flags & CF_ENDED)
    return "ended";
  if (pc->flags & CF_ENROLLED)
    return "enrolled";
  if (pc->flags & CF_ENROLL_ASKED)
    return "closing";
  if (pc->raised > 0)
    return "objections";
  if (pc->flags & CF_PRESENTED)
    return "presentation";
  if (pc->asked != 0)
    return "discovery";
  if (pc->disclosure_turn || pc->tpmo_turn || pc->permission_turn)
    return "compliance";
  return "opening";
}

void persona_call_info(const struct persona_call *pc, struct persona_call_info *out)
{
  memset(out, 0, sizeof *out);
  if (pc == NULL)
    return;
  out->turn = pc->turn;
  out->trust = pc->trust;
  out->patience = pc->patience;
  out->stage = stage_name(pc);
  out->disclosure_turn = pc->disclosure_turn;
  out->tpmo_turn = pc->tpmo_turn;
  out->permission_turn = pc->permission_turn;
  out->objections_raised = pc->raised;
  out->objections_addressed = pc->addressed;
  out->objection_open = pc->open >= 0;
  out->facts_revealed = pc->revealed;
  out->pressure_count = pc->pressure_count;
  out->enrolled = (pc->flags & CF_ENROLLED) != 0;
  out->ended = (pc->flags & CF_ENDED) != 0;
  out->last_intents = pc->last_intents;
  out->persona_idx = pc->persona;
}
