/* rubric.c — compiles a rubric file (drills/<key>.rubric.json) into the
 * scorer's in-memory form: a vocabulary, every phrase list tokenised into
 * word ids and indexed by first word, and the dimensions, compliance rules,
 * objections and text templates, validated once so scoring never has to. */
#include "scoring/scoring_internal.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_spec.h"

struct pctx {
  struct rubric *r;
  char *err;
  size_t errlen;
};

static int fail(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct pctx *c, const char *fmt, ...)
{
  if (c->err && c->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* Grows *arr (element size sz) so that it holds at least need elements. */
static int grow(void **arr, size_t *cap, size_t need, size_t sz)
{
  if (need <= *cap)
    return 0;
  size_t ncap = *cap ? *cap : 16;
  while (ncap < need)
    ncap *= 2;
  void *p = realloc(*arr, ncap * sz);
  if (!p)
    return -1;
  *arr = p;
  *cap = ncap;
  return 0;
}

/* ------------------------------------------------------------------------
 * Vocabulary
 * ---------------------------------------------------------------------- */

uint32_t sc_vocab_find(const struct rubric *r, const char *w, size_t len, uint64_t h)
{
  if (!r->vcap)
    return SC_TOK_UNKNOWN;
  uint32_t mask = r->vcap - 1;
  for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
    const struct sc_vocab_entry *e = &r->vtab[i];
    if (r->vslot_id[i] == SC_TOK_UNKNOWN)
      return SC_TOK_UNKNOWN;
    if (e->hash == h && e->len == len && memcmp(r->vpool + e->off, w, len) == 0)
      return r->vslot_id[i];
  }
}

static int vocab_rehash(struct rubric *r, uint32_t ncap)
{
  struct sc_vocab_entry *nt = calloc(ncap, sizeof *nt);
  uint32_t *ns = malloc(ncap * sizeof *ns);
  if (!nt || !ns) {
    free(nt);
    free(ns);
    return -1;
  }
  for (uint32_t i = 0; i < ncap; i++)
    ns[i] = SC_TOK_UNKNOWN;
  for (uint32_t i = 0; i < r->vcap; i++) {
    if (r->vslot_id[i] == SC_TOK_UNKNOWN)
      continue;
    uint32_t j = (uint32_t)r->vtab[i].hash & (ncap - 1);
    while (ns[j] != SC_TOK_UNKNOWN)
      j = (j + 1) & (ncap - 1);
    nt[j] = r->vtab[i];
    ns[j] = r->vslot_id[i];
  }
  free(r->vtab);
  free(r->vslot_id);
  r->vtab = nt;
  r->vslot_id = ns;
  r->vcap = ncap;
  return 0;
}

/* Interns a lowercased word; returns its id or SC_TOK_UNKNOWN on OOM. */
static uint32_t vocab_intern(struct rubric *r, const char *w, size_t len, uint16_t flags)
{
  uint64_t h = sc_hash(w, len);
  uint32_t id = sc_vocab_find(r, w, len, h);
  if (id != SC_TOK_UNKNOWN) {
    r->vflags_by_id[id] |= flags;
    return id;
  }
  if ((r->vcount + 1) * 2 > r->vcap && vocab_rehash(r, r->vcap ? r->vcap * 2 : 256) != 0)
    return SC_TOK_UNKNOWN;
  size_t fcap = r->vcount; /* vflags_by_id capacity tracks vcount exactly */
  uint16_t *nf = realloc(r->vflags_by_id, (fcap + 1) * sizeof *nf);
  if (!nf)
    return SC_TOK_UNKNOWN;
  r->vflags_by_id = nf;
  if (grow((void **)&r->vpool, &r->vpool_cap, r->vpool_len + len + 1, 1) != 0)
    return SC_TOK_UNKNOWN;
  memcpy(r->vpool + r->vpool_len, w, len);
  r->vpool[r->vpool_len + len] = '\0';
  uint32_t mask = r->vcap - 1, i = (uint32_t)h & mask;
  while (r->vslot_id[i] != SC_TOK_UNKNOWN)
    i = (i + 1) & mask;
  r->vtab[i].hash = h;
  r->vtab[i].off = (uint32_t)r->vpool_len;
  r->vtab[i].len = (uint16_t)len;
  r->vtab[i].flags = flags;
  id = r->vcount++;
  r->vslot_id[i] = id;
  r->vflags_by_id[id] = flags;
  r->vpool_len += len + 1;
  return id;
}

/* ------------------------------------------------------------------------
 * Phrase sets
 * ---------------------------------------------------------------------- */

static int read_fields(struct pctx *c, json_t *obj, const struct json_spec *spec,
                       const char *where);
static struct json_spec opt_text(const char *key, const char **dst);
static struct json_spec opt_bool(const char *key, bool *dst);

static int new_set(struct pctx *c, uint32_t role, uint32_t *out)
{
  struct rubric *r = c->r;
  if (r->nsets >= 0xFFFFu)
    return fail(c, "too many phrase lists");
  if (grow((void **)&r->sets, &r->sets_cap, r->nsets + 1, sizeof *r->sets) != 0)
    return fail(c, "out of memory");
  r->sets[r->nsets].role_mask = role;
  r->sets[r->nsets].except_set = SC_NO_SET;
  r->sets[r->nsets].nlu_model = SC_NLU_NONE;
  r->sets[r->nsets].nlu_label = 0;
  r->sets[r->nsets].nlu_only = false;
  *out = (uint32_t)r->nsets++;
  return 0;
}

/* ------------------------------------------------------------------------
 * Meaning: "model:label" names a label of a compiled-in classifier
 * (src/nlu, trained from drills/nlu/<model>.tsv).
 * ---------------------------------------------------------------------- */

/* Resolves ref for turns of role: the model's index in r->nlu_models and
 * the label's index in the model. */
static int resolve_label(struct pctx *c, const char *ref, uint32_t role, uint8_t *model,
                         uint8_t *label, const char *where)
{
  struct rubric *r = c->r;
  const char *colon = strchr(ref, ':');
  char name[64];
  if (!colon || (size_t)(colon - ref) >= sizeof name)
    return fail(c, "%s: \"%s\" is not \"model:label\"", where, ref);
  memcpy(name, ref, (size_t)(colon - ref));
  name[colon - ref] = '\0';
  const struct nlu_model *m = nlu_model_find(name);
  if (!m)
    return fail(c, "%s: no classifier \"%s\" is built in", where, name);
  int l = nlu_model_label(m, colon + 1);
  if (l < 0)
    return fail(c, "%s: classifier \"%s\" has no label \"%s\"", where, name, colon + 1);
  size_t k = 0;
  while (k < r->n_nlu_models && r->nlu_models[k] != m)
    k++;
  if (k == r->n_nlu_models) {
    if (k == SC_NLU_MAX_MODELS)
      return fail(c, "%s: more than %d classifiers", where, SC_NLU_MAX_MODELS);
    r->nlu_models[r->n_nlu_models++] = m;
  }
  r->nlu_role_mask |= role;
  *model = (uint8_t)k;
  *label = (uint8_t)l;
  return 0;
}

/* An optional "nlu": "model:label" (and "nluOnly": true) on obj, attached
 * to set s. */
static int attach_nlu(struct pctx *c, json_t *obj, uint32_t s, const char *where)
{
  struct sc_set *set = &c->r->sets[s];
  const char *ref = NULL;
  bool only = false;
  struct json_spec spec[] = {opt_text("nlu", &ref), opt_bool("nluOnly", &only), JSON_SPEC_END};
  if (read_fields(c, obj, spec, where))
    return -1;
  if (!ref) {
    if (only)
      return fail(c, "%s: \"nluOnly\" needs \"nlu\"", where);
    return 0;
  }
  if (resolve_label(c, ref, set->role_mask, &set->nlu_model, &set->nlu_label, where) != 0)
    return -1;
  c->r->sets[s].nlu_only = only;
  return 0;
}

/* Tokenises one phrase and adds it to set s. "#" stands for any number and
 * "*" for any one word. */
static int add_phrase(struct pctx *c, const char *text, uint32_t s, const char *where)
{
  struct rubric *r = c->r;
  uint32_t toks[SC_MAX_PHRASE_TOKENS];
  size_t nt = 0;
  const char *p = text;
  while (*p) {
    while (*p == ' ')
      p++;
    if (!*p)
      break;
    const char *q = p;
    while (*q && *q != ' ')
      q++;
    size_t cl = (size_t)(q - p);
    if (cl == 1 && (*p == '#' || *p == '*')) {
      if (nt >= SC_MAX_PHRASE_TOKENS)
        goto too_long;
      toks[nt++] = *p == '#' ? SC_PT_NUM : SC_PT_ANY;
    } else {
      struct sc_cursor cur = {(const unsigned char *)p, (const unsigned char *)q};
      char w[SC_MAX_TOKEN_BYTES];
      size_t wl;
      enum sc_mark m;
      while (sc_next_word(&cur, w, &wl, &m)) {
        if (wl > SC_MAX_TOKEN_BYTES)
          return fail(c, "%s: word too long in phrase \"%s\"", where, text);
        if (nt >= SC_MAX_PHRASE_TOKENS)
          goto too_long;
        uint32_t id = vocab_intern(r, w, wl, 0);
        if (id == SC_TOK_UNKNOWN)
          return fail(c, "out of memory");
        toks[nt++] = id;
      }
    }
    p = q;
  }
  if (nt == 0)
    return fail(c, "%s: phrase \"%s\" has no words", where, text);
  if (grow((void **)&r->phrases, &r->phrases_cap, r->nphrases + 1, sizeof *r->phrases) != 0 ||
      grow((void **)&r->ptoks, &r->ptoks_cap, r->nptoks + nt, sizeof *r->ptoks) != 0)
    return fail(c, "out of memory");
  struct sc_phrase *ph = &r->phrases[r->nphrases++];
  ph->tok_off = (uint32_t)r->nptoks;
  ph->ntok = (uint16_t)nt;
  ph->set = s;
  ph->text = text;
  memcpy(r->ptoks + r->nptoks, toks, nt * sizeof *toks);
  r->nptoks += nt;
  return 0;
too_long:
  return fail(c, "%s: phrase \"%s\" has more than %d words", where, text, SC_MAX_PHRASE_TOKENS);
}

/* Compiles a JSON array of phrase strings into a new set. */
static int compile_set(struct pctx *c, json_t *arr, uint32_t role, uint32_t *out, const char *where)
{
  if (!json_is_array(arr) || json_array_size(arr) == 0)
    return fail(c, "%s: expected a non-empty array of phrases", where);
  if (new_set(c, role, out) != 0)
    return -1;
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v)
  {
    if (!json_is_string(v))
      return fail(c, "%s[%zu]: phrase must be a string", where, i);
    if (add_phrase(c, json_string_value(v), *out, where) != 0)
      return -1;
  }
  return 0;
}

/* An optional "except" list attached to set s. */
static int compile_except(struct pctx *c, json_t *obj, uint32_t s, const char *where)
{
  json_t *ex = json_object_get(obj, "except");
  if (!ex)
    return 0;
  uint32_t es;
  if (compile_set(c, ex, c->r->sets[s].role_mask, &es, where) != 0)
    return -1;
  c->r->sets[s].except_set = es;
  return 0;
}

/* A check: "phrases": [...] (one group) or "allOf": [[...], [...]] (every
 * group in the same turn). */
static int compile_check(struct pctx *c, json_t *obj, uint32_t role, struct sc_check *chk,
                         const char *where)
{
  json_t *ph = json_object_get(obj, "phrases"), *all = json_object_get(obj, "allOf");
  memset(chk, 0, sizeof *chk);
  if (ph && all)
    return fail(c, "%s: give either \"phrases\" or \"allOf\", not both", where);
  if (ph) {
    if (compile_set(c, ph, role, &chk->groups[0], where) != 0)
      return -1;
    chk->ngroups = 1;
    return compile_except(c, obj, chk->groups[0], where) ||
           attach_nlu(c, obj, chk->groups[0], where);
  }
  if (!json_is_array(all) || json_array_size(all) == 0 || json_array_size(all) > SC_MAX_GROUPS)
    return fail(c, "%s: needs \"phrases\" or \"allOf\" (1..%d groups)", where, SC_MAX_GROUPS);
  size_t i;
  json_t *g;
  json_array_foreach(all, i, g)
  {
    /* a sentence with the label stands for every group at once */
    if (compile_set(c, g, role, &chk->groups[i], where) != 0 ||
        attach_nlu(c, obj, chk->groups[i], where) != 0)
      return -1;
  }
  chk->ngroups = (uint8_t)json_array_size(all);
  return 0;
}

/* Does a turn of this role scan for phrase i? (nluOnly sets: by meaning only) */
static bool scanned_for(const struct rubric *r, size_t i, uint32_t role)
{
  const struct sc_set *set = &r->sets[r->phrases[i].set];
  return (set->role_mask & role) && !set->nlu_only;
}

/* The first-word index of role's phrases (see struct sc_phrase_index). */
static int build_role_index(struct rubric *r, uint32_t role, struct sc_phrase_index *x)
{
  x->first_start = calloc((size_t)r->vcount + 1, sizeof *x->first_start);
  x->by_first = malloc((r->nphrases ? r->nphrases : 1) * sizeof *x->by_first);
  x->wild_first = malloc((r->nphrases ? r->nphrases : 1) * sizeof *x->wild_first);
  if (!x->first_start || !x->by_first || !x->wild_first)
    return -1;
  for (size_t i = 0; i < r->nphrases; i++) {
    uint32_t t = r->ptoks[r->phrases[i].tok_off];
    if (t < r->vcount && scanned_for(r, i, role))
      x->first_start[t + 1]++;
  }
  for (uint32_t i = 0; i < r->vcount; i++)
    x->first_start[i + 1] += x->first_start[i];
  uint32_t *fill = calloc((size_t)r->vcount + 1, sizeof *fill);
  if (!fill)
    return -1;
  /* wildcard-first phrases: the "#" ones first, then the "*" ones */
  for (size_t i = 0; i < r->nphrases; i++) {
    uint32_t t = r->ptoks[r->phrases[i].tok_off];
    if (!scanned_for(r, i, role))
      continue;
    if (t < r->vcount)
      x->by_first[x->first_start[t] + fill[t]++] = (uint32_t)i;
    else if (t == SC_PT_NUM)
      x->wild_first[x->nwild_first++] = (uint32_t)i;
  }
  x->nwild_num_first = x->nwild_first;
  for (size_t i = 0; i < r->nphrases; i++)
    if (r->ptoks[r->phrases[i].tok_off] == SC_PT_ANY && scanned_for(r, i, role))
      x->wild_first[x->nwild_first++] = (uint32_t)i;
  free(fill);
  return 0;
}

static int build_index(struct rubric *r)
{
  if (build_role_index(r, SC_ROLE_REP, &r->index[SC_ROLE_REP - 1]) != 0 ||
      build_role_index(r, SC_ROLE_PERSONA, &r->index[SC_ROLE_PERSONA - 1]) != 0)
    return -1;
  /* the sets read by meaning, grouped by classifier (counting sort) */
  r->nlu_sets = malloc((r->nsets ? r->nsets : 1) * sizeof *r->nlu_sets);
  if (!r->nlu_sets)
    return -1;
  memset(r->nlu_set_start, 0, sizeof r->nlu_set_start);
  for (size_t s = 0; s < r->nsets; s++)
    if (r->sets[s].nlu_model != SC_NLU_NONE)
      r->nlu_set_start[r->sets[s].nlu_model + 1]++;
  for (size_t k = 0; k < SC_NLU_MAX_MODELS; k++)
    r->nlu_set_start[k + 1] += r->nlu_set_start[k];
  uint32_t at[SC_NLU_MAX_MODELS];
  memcpy(at, r->nlu_set_start, sizeof at);
  for (size_t s = 0; s < r->nsets; s++)
    if (r->sets[s].nlu_model != SC_NLU_NONE)
      r->nlu_sets[at[r->sets[s].nlu_model]++] = (uint32_t)s;
  return 0;
}

/* ------------------------------------------------------------------------
 * Field helpers
 * ---------------------------------------------------------------------- */

/* Rubric text is ours: any non-empty string, control characters
 * included, borrowed from the parsed document (r->root). */
static struct json_spec text(const char *key, const char **dst)
{
  return json_spec_flags(json_spec_string_ref(key, dst, 1, SIZE_MAX), JSON_SPEC_CONTROL_OK);
}

static struct json_spec opt_text(const char *key, const char **dst)
{
  return json_spec_optional(text(key, dst));
}

/* An optional number: the caller sets the default first. */
static struct json_spec opt_num(const char *key, double *dst, double lo, double hi)
{
  return json_spec_optional(json_spec_number(key, dst, lo, hi));
}

/* An optional flag: false unless present. */
static struct json_spec opt_bool(const char *key, bool *dst)
{
  *dst = false;
  return json_spec_optional(json_spec_bool(key, dst));
}

/* Reads obj's members by spec (util/json_spec.h); the first bad one fails
 * the parse as "<where>: <member> must be …". */
static int read_fields(struct pctx *c, json_t *obj, const struct json_spec *spec, const char *where)
{
  struct json_spec_error e;
  if (json_spec_parse(obj, spec, &e) == 0)
    return 0;
  return fail(c, "%s: %s", where, e.msg);
}

static int get_penalty(struct pctx *c, json_t *obj, struct sc_penalty *p, const char *where)
{
  json_t *pen = json_object_get(obj, "penalty");
  char w[160];
  snprintf(w, sizeof w, "%s.penalty", where);
  if (!json_is_object(pen))
    return fail(c, "%s: missing object", w);
  *p = (struct sc_penalty){.subtract = 0, .cap = 100, .per_violation = 0, .max_subtract = 100};
  struct json_spec spec[] = {
      opt_num("subtract", &p->subtract, 0, 100),
      opt_num("cap", &p->cap, 0, 100),
      opt_num("perViolation", &p->per_violation, 0, 100),
      opt_num("maxSubtract", &p->max_subtract, 0, 100),
      JSON_SPEC_END,
  };
  return read_fields(c, pen, spec, w);
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DD" -> unix ms of 00:00 UTC that day. */
static int parse_date(const char *s, int64_t *ms)
{
  unsigned y, m, d;
  char tail;
  if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
    return -1;
  if (sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3)
    return -1;
  if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
    return -1;
  *ms = days_from_civil(y, m, d) * 86400000LL;
  return 0;
}

/* ------------------------------------------------------------------------
 * Sections
 * ---------------------------------------------------------------------- */

static const char *const metric_names[SC_M__N] = {"talkRatio", "questionsAsked", "openQuestions",
                                                  "closedQuestions", "longestMonologueSec"};
static const char *const special_names[SC_SP__N] = {"usesProspectName", "objectionsAcknowledged",
                                                    "objectionsAddressed",
                                                    "noPressureAfterObjection"};
static const char *const comp_names[SC_C__N] = {"recordingDisclosure", "tpmoDisclaimer",
                                                "scopeOfAppointment", "noProhibitedClaims"};

static int lookup(const char *const *names, size_t n, const char *s)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], s) == 0)
      return (int)i;
  return -1;
}

static int parse_criterion(struct pctx *c, json_t *o, struct sc_criterion *cr, const char *where)
{
  if (!json_is_object(o))
    return fail(c, "%s: expected an object", where);
  const char *metric = NULL, *comp = NULL, *special = NULL, *who = NULL;
  cr->weight = 1;
  struct json_spec spec[] = {
      text("key", &cr->key),
      text("label", &cr->label),
      opt_text("advice", &cr->advice),
      opt_text("topic", &cr->topic),
      opt_num("weight", &cr->weight, 0, 1000),
      opt_text("metric", &metric),
      opt_text("compliance", &comp),
      opt_text("special", &special),
      opt_text("who", &who),
      JSON_SPEC_END,
  };
  if (read_fields(c, o, spec, where))
    return -1;
  if ((metric != NULL) + (comp != NULL) + (special != NULL) > 1)
    return fail(c, "%s: at most one of metric, compliance, special", where);
  if (metric) {
    int m = lookup(metric_names, SC_M__N, metric);
    if (m < 0)
      return fail(c, "%s: unknown metric \"%s\"", where, metric);
    cr->kind = SC_CK_METRIC;
    cr->metric = (enum sc_metric)m;
    cr->has_min = json_object_get(o, "min") != NULL;
    cr->has_max = json_object_get(o, "max") != NULL;
    if (!cr->has_min && !cr->has_max)
      return fail(c, "%s: a metric needs min or max", where);
    cr->min = cr->max = 0;
    struct json_spec range[] = {opt_num("min", &cr->min, 0, 1e9), opt_num("max", &cr->max, 0, 1e9),
                                JSON_SPEC_END};
    return read_fields(c, o, range, where);
  }
  if (comp) {
    int k = lookup(comp_names, SC_C__N, comp);
    if (k < 0)
      return fail(c, "%s: unknown compliance item \"%s\"", where, comp);
    cr->kind = SC_CK_COMPLIANCE;
    cr->comp = (enum sc_comp)k;
    return 0;
  }
  if (special) {
    int k = lookup(special_names, SC_SP__N, special);
    if (k < 0)
      return fail(c, "%s: unknown special check \"%s\"", where, special);
    cr->kind = SC_CK_SPECIAL;
    cr->special = (enum sc_special)k;
    return 0;
  }
  cr->kind = SC_CK_PHRASE;
  cr->role = SC_ROLE_REP;
  if (who && strcmp(who, "persona") == 0)
    cr->role = SC_ROLE_PERSONA;
  else if (who && strcmp(who, "rep") != 0)
    return fail(c, "%s: \"who\" must be \"rep\" or \"persona\"", where);
  double within = 0, mint = 1;
  struct json_spec turns[] = {
      opt_num("withinRepTurns", &within, 0, 1000),
      opt_num("minTurns", &mint, 1, 1000),
      opt_bool("inQuestion", &cr->in_question),
      JSON_SPEC_END,
  };
  if (read_fields(c, o, turns, where))
    return -1;
  cr->within_rep_turns = (uint32_t)within;
  cr->min_turns = (uint32_t)mint;
  return compile_check(c, o, cr->role, &cr->check, where);
}

static int parse_dimensions(struct pctx *c, json_t *arr)
{
  struct rubric *r = c->r;
  if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 32)
    return fail(c, "\"dimensions\" must be an array of 1..32 dimensions");
  r->ndims = json_array_size(arr);
  r->dims = calloc(r->ndims, sizeof *r->dims);
  if (!r->dims)
    return fail(c, "out of memory");
  double wsum = 0;
  for (size_t i = 0; i < r->ndims; i++) {
    json_t *d = json_array_get(arr, i);
    struct sc_dimension *dim = &r->dims[i];
    char where[96];
    snprintf(where, sizeof where, "dimensions[%zu]", i);
    if (!json_is_object(d))
      return fail(c, "%s: expected an object", where);
    struct json_spec spec[] = {text("key", &dim->key), text("label", &dim->label),
                               json_spec_number("weight", &dim->weight, 0, 1000), JSON_SPEC_END};
    if (read_fields(c, d, spec, where))
      return -1;
    wsum += dim->weight;
    for (size_t j = 0; j < i; j++)
      if (strcmp(r->dims[j].key, dim->key) == 0)
        return fail(c, "%s: duplicate key \"%s\"", where, dim->key);
    json_t *crit = json_object_get(d, "criteria");
    if (!json_is_array(crit) || json_array_size(crit) == 0 || json_array_size(crit) > 64)
      return fail(c, "%s: \"criteria\" must be an array of 1..64 criteria", where);
    dim->ncrit = json_array_size(crit);
    dim->crit = calloc(dim->ncrit, sizeof *dim->crit);
    if (!dim->crit)
      return fail(c, "out of memory");
    double cw = 0;
    for (size_t j = 0; j < dim->ncrit; j++) {
      char cwhere[128];
      snprintf(cwhere, sizeof cwhere, "%s.criteria[%zu]", where, j);
      if (parse_criterion(c, json_array_get(crit, j), &dim->crit[j], cwhere) != 0)
        return -1;
      cw += dim->crit[j].weight;
    }
    if (cw <= 0)
      return fail(c, "%s: criteria weights sum to zero", where);
  }
  if (wsum <= 0)
    return fail(c, "dimension weights sum to zero");
  return 0;
}

static int parse_tpmo(struct pctx *c, json_t *o)
{
  struct rubric *r = c->r;
  const char *where = "compliance.tpmoDisclaimer";
  if (!json_is_object(o))
    return fail(c, "%s: missing object", where);
  struct json_spec top[] = {text("label", &r->tpmo.label), JSON_SPEC_END};
  if (read_fields(c, o, top, where) || get_penalty(c, o, &r->tpmo.pen, where))
    return -1;
  json_t *vs = json_object_get(o, "versions");
  if (!json_is_array(vs) || json_array_size(vs) == 0)
    return fail(c, "%s: \"versions\" must be a non-empty array", where);
  r->tpmo.nv = json_array_size(vs);
  r->tpmo.v = calloc(r->tpmo.nv, sizeof *r->tpmo.v);
  if (!r->tpmo.v)
    return fail(c, "out of memory");
  for (size_t i = 0; i < r->tpmo.nv; i++) {
    json_t *v = json_array_get(vs, i);
    struct sc_tpmo_version *tv = &r->tpmo.v[i];
    char w[96];
    snprintf(w, sizeof w, "%s.versions[%zu]", where, i);
    if (!json_is_object(v))
      return fail(c, "%s: expected an object", w);
    const char *from = NULL, *to = NULL;
    double within = 0;
    struct json_spec spec[] = {
        text("ruleVersion", &tv->rule),
        text("effectiveFrom", &from),
        opt_text("effectiveTo", &to),
        opt_num("withinSeconds", &within, 0, 86400),
        opt_bool("beforeBenefits", &tv->before_benefits),
        text("adviceMissing", &tv->advice_missing),
        text("adviceLate", &tv->advice_late),
        JSON_SPEC_END,
    };
    if (read_fields(c, v, spec, w))
      return -1;
    if (parse_date(from, &tv->from_ms) != 0)
      return fail(c, "%s: bad effectiveFrom \"%s\"", w, from);
    tv->to_ms = INT64_MAX;
    if (to) {
      if (parse_date(to, &tv->to_ms) != 0)
        return fail(c, "%s: bad effectiveTo \"%s\"", w, to);
      tv->to_ms += 86400000LL - 1; /* through the end of that day */
      if (tv->to_ms < tv->from_ms)
        return fail(c, "%s: effectiveTo before effectiveFrom", w);
    }
    if (i > 0 && tv->from_ms <= r->tpmo.v[i - 1].from_ms)
      return fail(c, "%s: versions must be in effectiveFrom order", w);
    tv->within_ms = (int64_t)(within * 1000.0);
    if (!tv->within_ms && !tv->before_benefits)
      return fail(c, "%s: needs a timing rule (withinSeconds or beforeBenefits)", w);
    json_t *els = json_object_get(v, "elements");
    if (!json_is_array(els) || json_array_size(els) == 0 || json_array_size(els) > SC_MAX_ELEMENTS)
      return fail(c, "%s: \"elements\" must hold 1..%d items", w, SC_MAX_ELEMENTS);
    tv->nel = json_array_size(els);
    for (size_t j = 0; j < tv->nel; j++) {
      json_t *e = json_array_get(els, j);
      char ew[128];
      snprintf(ew, sizeof ew, "%s.elements[%zu]", w, j);
      if (!json_is_object(e))
        return fail(c, "%s: expected an object", ew);
      struct json_spec el[] = {text("key", &tv->el[j].key), text("label", &tv->el[j].label),
                               JSON_SPEC_END};
      if (read_fields(c, e, el, ew) || compile_check(c, e, SC_ROLE_REP, &tv->el[j].check, ew))
        return -1;
    }
  }
  return 0;
}

static int parse_compliance(struct pctx *c, json_t *o)
{
  struct rubric *r = c->r;
  if (!json_is_object(o))
    return fail(c, "missing \"compliance\" object");

  json_t *rec = json_object_get(o, "recordingDisclosure");
  const char *w = "compliance.recordingDisclosure";
  double within = 0;
  if (!json_is_object(rec))
    return fail(c, "%s: missing object", w);
  struct json_spec rec_spec[] = {text("label", &r->rec.label), text("advice", &r->rec.advice),
                                 opt_num("withinRepTurns", &within, 0, 1000), JSON_SPEC_END};
  if (read_fields(c, rec, rec_spec, w) || get_penalty(c, rec, &r->rec.pen, w) ||
      compile_set(c, json_object_get(rec, "phrases"), SC_ROLE_REP, &r->rec.set, w) ||
      compile_except(c, rec, r->rec.set, w) || attach_nlu(c, rec, r->rec.set, w))
    return -1;
  r->rec.within_rep_turns = (uint32_t)within;

  if (parse_tpmo(c, json_object_get(o, "tpmoDisclaimer")) != 0)
    return -1;

  json_t *soa = json_object_get(o, "scopeOfAppointment");
  w = "compliance.scopeOfAppointment";
  if (!json_is_object(soa))
    return fail(c, "%s: missing object", w);
  json_t *pt = json_object_get(soa, "productTypes"), *no = json_object_get(soa, "noObligation");
  if (!json_is_object(pt) || !json_is_object(no))
    return fail(c, "%s: needs \"productTypes\" and \"noObligation\" objects", w);
  struct json_spec soa_spec[] = {text("label", &r->soa.label), text("advice", &r->soa.advice),
                                 opt_bool("beforeBenefits", &r->soa.before_benefits),
                                 JSON_SPEC_END};
  if (read_fields(c, soa, soa_spec, w) || get_penalty(c, soa, &r->soa.pen, w) ||
      compile_check(c, pt, SC_ROLE_REP, &r->soa.products,
                    "compliance.scopeOfAppointment.productTypes") ||
      compile_check(c, no, SC_ROLE_REP, &r->soa.no_obligation,
                    "compliance.scopeOfAppointment.noObligation"))
    return -1;

  json_t *cl = json_object_get(o, "noProhibitedClaims");
  w = "compliance.noProhibitedClaims";
  if (!json_is_object(cl))
    return fail(c, "%s: missing object", w);
  struct json_spec cl_spec[] = {text("label", &r->claims.label), JSON_SPEC_END};
  if (read_fields(c, cl, cl_spec, w) || get_penalty(c, cl, &r->claims.pen, w))
    return -1;
  json_t *arr = json_object_get(cl, "claims");
  if (!json_is_array(arr) || json_array_size(arr) == 0)
    return fail(c, "%s: \"claims\" must be a non-empty array", w);
  r->claims.n = json_array_size(arr);
  r->claims.c = calloc(r->claims.n, sizeof *r->claims.c);
  if (!r->claims.c)
    return fail(c, "out of memory");
  for (size_t i = 0; i < r->claims.n; i++) {
    json_t *e = json_array_get(arr, i);
    struct sc_claim *k = &r->claims.c[i];
    char ew[96];
    snprintf(ew, sizeof ew, "%s.claims[%zu]", w, i);
    if (!json_is_object(e))
      return fail(c, "%s: expected an object", ew);
    struct json_spec spec[] = {text("key", &k->key), text("label", &k->label),
                               text("advice", &k->advice), JSON_SPEC_END};
    if (read_fields(c, e, spec, ew) ||
        compile_set(c, json_object_get(e, "phrases"), SC_ROLE_REP, &k->set, ew) ||
        compile_except(c, e, k->set, ew) || attach_nlu(c, e, k->set, ew))
      return -1;
    k->raised_set = SC_NO_SET;
    json_t *raised = json_object_get(e, "allowedIfProspectRaised");
    if (raised && compile_set(c, raised, SC_ROLE_PERSONA, &k->raised_set, ew) != 0)
      return -1;
  }
  return 0;
}

static int parse_objections(struct pctx *c, json_t *arr)
{
  struct rubric *r = c->r;
  if (!json_is_array(arr) || json_array_size(arr) == 0)
    return fail(c, "\"objections\" must be a non-empty array");
  r->nobj = json_array_size(arr);
  r->obj = calloc(r->nobj, sizeof *r->obj);
  if (!r->obj)
    return fail(c, "out of memory");
  for (size_t i = 0; i < r->nobj; i++) {
    json_t *e = json_array_get(arr, i);
    struct sc_objection *ob = &r->obj[i];
    char w[64];
    snprintf(w, sizeof w, "objections[%zu]", i);
    if (!json_is_object(e))
      return fail(c, "%s: expected an object", w);
    struct json_spec spec[] = {text("key", &ob->key), text("label", &ob->label),
                               text("advice", &ob->advice), JSON_SPEC_END};
    if (read_fields(c, e, spec, w) ||
        compile_set(c, json_object_get(e, "phrases"), SC_ROLE_PERSONA, &ob->raised_set, w) ||
        compile_except(c, e, ob->raised_set, w) ||
        compile_set(c, json_object_get(e, "addressedBy"), SC_ROLE_REP, &ob->addressed_set, w))
      return -1;
  }
  return 0;
}

static const struct {
  const char *section, *name;
} tmpl_names[SC__T_N] = {
    [SC_T_INTRO] = {"summary", "intro"},
    [SC_T_INTRO_NO_DIFFICULTY] = {"summary", "introNoDifficulty"},
    [SC_T_INTRO_EMPTY] = {"summary", "introEmpty"},
    [SC_T_INTRO_REP_SILENT] = {"summary", "introRepSilent"},
    [SC_T_DISCOVERY_ALL] = {"summary", "discoveryAll"},
    [SC_T_DISCOVERY_PARTIAL] = {"summary", "discoveryPartial"},
    [SC_T_DISCOVERY_NONE] = {"summary", "discoveryNone"},
    [SC_T_ENROLL_ASKED] = {"summary", "enrollAsked"},
    [SC_T_ENROLL_NOT_ASKED] = {"summary", "enrollNotAsked"},
    [SC_T_OBJECTION_OPEN] = {"summary", "objectionOpen"},
    [SC_T_OBJECTIONS_HANDLED] = {"summary", "objectionsHandled"},
    [SC_T_END_PERSONA_HANGUP] = {"summary", "endPersonaHangup"},
    [SC_T_END_REP_HANGUP] = {"summary", "endRepHangup"},
    [SC_T_END_MAX_DURATION] = {"summary", "endMaxDuration"},
    [SC_T_END_IDLE] = {"summary", "endIdle"},
    [SC_T_END_DISCONNECT] = {"summary", "endDisconnect"},
    [SC_T_END_LIMIT] = {"summary", "endLimit"},
    [SC_T_COMPLIANCE_CLEAN] = {"summary", "complianceClean"},
    [SC_T_COMPLIANCE_MISSED] = {"summary", "complianceMissed"},
    [SC_T_STRONG_WEAK] = {"summary", "strongWeak"},
    [SC_T_FB_CLAIM] = {"feedback", "claim"},
    [SC_T_FB_OBJECTION_OPEN] = {"feedback", "objectionOpen"},
    [SC_T_FB_ALL_GOOD] = {"feedback", "allGood"},
    [SC_T_FB_EMPTY] = {"feedback", "empty"},
    [SC_T_TOO_SHORT] = {"summary", "tooShort"},
    [SC_T_FB_TOO_SHORT] = {"feedback", "tooShort"},
};

static int check_template(struct pctx *c, const char *t, const char *where)
{
  const char *bad;
  size_t badlen;
  if (!sc_template_ok(t, &bad, &badlen))
    return fail(c, "%s: unknown placeholder %.*s", where, (int)(badlen > 40 ? 40 : badlen), bad);
  return 0;
}

static int parse_templates(struct pctx *c)
{
  struct rubric *r = c->r;
  for (int i = 0; i < SC__T_N; i++) {
    json_t *sec = json_object_get(r->root, tmpl_names[i].section);
    char w[96];
    snprintf(w, sizeof w, "%s.%s", tmpl_names[i].section, tmpl_names[i].name);
    if (!json_is_object(sec))
      return fail(c, "missing \"%s\" object", tmpl_names[i].section);
    /* the too-short sentences exist only in rubrics with an "assessable" rule */
    bool required = i != SC_T_END_LIMIT && ((i != SC_T_TOO_SHORT && i != SC_T_FB_TOO_SHORT) ||
                                            r->substantive_model != SC_NLU_NONE);
    struct json_spec spec[] = {text(tmpl_names[i].name, &r->tmpl[i]), JSON_SPEC_END};
    if (!required)
      spec[0] = json_spec_optional(spec[0]);
    if (read_fields(c, sec, spec, tmpl_names[i].section) ||
        (r->tmpl[i] && check_template(c, r->tmpl[i], w)))
      return -1;
  }
  /* advice strings are templates too */
  for (size_t i = 0; i < r->ndims; i++)
    for (size_t j = 0; j < r->dims[i].ncrit; j++)
      if (r->dims[i].crit[j].advice &&
          check_template(c, r->dims[i].crit[j].advice, r->dims[i].crit[j].key))
        return -1;
  for (size_t i = 0; i < r->tpmo.nv; i++)
    if (check_template(c, r->tpmo.v[i].advice_missing, r->tpmo.v[i].rule) ||
        check_template(c, r->tpmo.v[i].advice_late, r->tpmo.v[i].rule))
      return -1;
  for (size_t i = 0; i < r->claims.n; i++)
    if (check_template(c, r->claims.c[i].advice, r->claims.c[i].key))
      return -1;
  for (size_t i = 0; i < r->nobj; i++)
    if (check_template(c, r->obj[i].advice, r->obj[i].key))
      return -1;
  if (check_template(c, r->rec.advice, "recordingDisclosure") ||
      check_template(c, r->soa.advice, "scopeOfAppointment"))
    return -1;
  return 0;
}

/* Number words count as numbers for the "#" wildcard ("eight organizations"). */
static const char *const number_words[] = {
    "zero",     "one",     "two",     "three",     "four",     "five",     "six",
    "seven",    "eight",   "nine",    "ten",       "eleven",   "twelve",   "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
    "thirty",   "forty",   "fifty",   "sixty",     "hundred",  "several",  "dozen",
};

static int parse_lexicon(struct pctx *c, json_t *lex)
{
  struct rubric *r = c->r;
  if (!json_is_object(lex))
    return fail(c, "missing \"lexicon\" object");
  if (compile_set(c, json_object_get(lex, "openQuestionStarters"), SC_ROLE_REP,
                  &r->set_open_starters, "lexicon.openQuestionStarters") ||
      compile_set(c, json_object_get(lex, "agreement"), SC_ROLE_PERSONA, &r->set_agreement,
                  "lexicon.agreement") ||
      compile_set(c, json_object_get(lex, "empathy"), SC_ROLE_REP, &r->set_empathy,
                  "lexicon.empathy") ||
      compile_set(c, json_object_get(lex, "benefitDiscussion"), SC_ROLE_REP, &r->set_benefits,
                  "lexicon.benefitDiscussion"))
    return -1;
  /* optional "pressure" phrases (pushing to sign, false urgency) */
  r->set_pressure = SC_NO_SET;
  json_t *pr = json_object_get(lex, "pressure");
  if (pr && compile_set(c, pr, SC_ROLE_REP, &r->set_pressure, "lexicon.pressure"))
    return -1;
  /* optional meanings: "nlu": {"empathy": "model:label", "offTopic": "model:label",
   * "pressure": "model:label"} */
  json_t *nlu = json_object_get(lex, "nlu");
  r->off_topic_model = SC_NLU_NONE;
  if (!nlu)
    return 0;
  if (!json_is_object(nlu))
    return fail(c, "lexicon.nlu: expected an object");
  const char *empathy = NULL, *off = NULL, *press = NULL;
  struct json_spec spec[] = {opt_text("empathy", &empathy), opt_text("offTopic", &off),
                             opt_text("pressure", &press), JSON_SPEC_END};
  if (read_fields(c, nlu, spec, "lexicon.nlu"))
    return -1;
  if (press && r->set_pressure == SC_NO_SET)
    return fail(c, "lexicon.nlu.pressure: needs a lexicon.pressure phrase list");
  struct sc_set *ps = press ? &r->sets[r->set_pressure] : NULL;
  if (ps &&
      resolve_label(c, press, SC_ROLE_REP, &ps->nlu_model, &ps->nlu_label, "lexicon.nlu.pressure"))
    return -1;
  struct sc_set *es = &r->sets[r->set_empathy];
  if (empathy &&
      resolve_label(c, empathy, SC_ROLE_REP, &es->nlu_model, &es->nlu_label, "lexicon.nlu.empathy"))
    return -1;
  if (off && resolve_label(c, off, SC_ROLE_REP, &r->off_topic_model, &r->off_topic_label,
                           "lexicon.nlu.offTopic"))
    return -1;
  return 0;
}

/* Optional "assessable": {"minRepTurns": 4, "minSubstantiveTurns": 2,
 * "substantive": ["model:label", ...]}: a call with fewer rep turns, or
 * fewer rep turns carrying one of the labels (all of one model), is
 * reported as too short to judge (score.c, assessable()). */
static int parse_assessable(struct pctx *c, json_t *o)
{
  struct rubric *r = c->r;
  const char *w = "assessable";
  double mint = 1;
  r->substantive_model = SC_NLU_NONE;
  if (!o)
    return 0;
  if (!json_is_object(o))
    return fail(c, "%s: expected an object", w);
  double minr = 0;
  struct json_spec spec[] = {opt_num("minSubstantiveTurns", &mint, 1, 1000),
                             opt_num("minRepTurns", &minr, 0, 1000), JSON_SPEC_END};
  if (read_fields(c, o, spec, w))
    return -1;
  r->min_substantive_turns = (uint32_t)mint;
  r->min_rep_turns = (uint32_t)minr;
  json_t *sub = json_object_get(o, "substantive");
  if (!json_is_array(sub) || json_array_size(sub) == 0)
    return fail(c, "%s.substantive: expected a non-empty array of \"model:label\"", w);
  size_t i;
  json_t *v;
  json_array_foreach(sub, i, v)
  {
    uint8_t m, l;
    if (!json_is_string(v))
      return fail(c, "%s.substantive[%zu]: expected a string", w, i);
    if (resolve_label(c, json_string_value(v), SC_ROLE_REP, &m, &l, w) != 0)
      return -1;
    if (r->substantive_model != SC_NLU_NONE && m != r->substantive_model)
      return fail(c, "%s.substantive: labels must come from one classifier", w);
    r->substantive_model = m;
    r->substantive_mask |= 1ull << l;
  }
  return 0;
}

struct rubric *rubric_parse(const char *json_text, size_t len, char *err, size_t errlen)
{
  struct rubric *r = calloc(1, sizeof *r);
  struct pctx c = {r, err, errlen};
  if (err && errlen)
    err[0] = '\0';
  if (!r) {
    fail(&c, "out of memory");
    return NULL;
  }
  if (!json_text) {
    fail(&c, "no rubric text");
    goto fail_out;
  }
  json_error_t je;
  r->root = json_loadb(json_text, len, JSON_REJECT_DUPLICATES, &je);
  if (!r->root) {
    fail(&c, "rubric JSON: %s (line %d)", je.text, je.line);
    goto fail_out;
  }
  if (!json_is_object(r->root)) {
    fail(&c, "rubric must be a JSON object");
    goto fail_out;
  }
  double wpm = 150, maxfb = 4;
  struct json_spec spec[] = {
      text("rubricVersion", &r->version),
      opt_num("wordsPerMinute", &wpm, 60, 400),
      opt_num("maxFeedbackItems", &maxfb, 1, 20),
      JSON_SPEC_END,
  };
  if (read_fields(&c, r->root, spec, "rubric"))
    goto fail_out;
  r->ms_per_word = 60000.0 / wpm;
  r->max_feedback_items = (size_t)maxfb;
  for (size_t i = 0; i < sizeof number_words / sizeof number_words[0]; i++)
    if (vocab_intern(r, number_words[i], strlen(number_words[i]), SC_VF_NUMBER) == SC_TOK_UNKNOWN) {
      fail(&c, "out of memory");
      goto fail_out;
    }
  if (parse_lexicon(&c, json_object_get(r->root, "lexicon")) ||
      parse_dimensions(&c, json_object_get(r->root, "dimensions")) ||
      parse_compliance(&c, json_object_get(r->root, "compliance")) ||
      parse_objections(&c, json_object_get(r->root, "objections")) ||
      parse_assessable(&c, json_object_get(r->root, "assessable")) || parse_templates(&c))
    goto fail_out;
  if (build_index(r) != 0) {
    fail(&c, "out of memory");
    goto fail_out;
  }
  return r;
fail_out:
  rubric_free(r);
  return NULL;
}

const char *rubric_version(const struct rubric *r)
{
  return r ? r->version : NULL;
}

void rubric_free(struct rubric *r)
{
  if (!r)
    return;
  if (r->dims)
    for (size_t i = 0; i < r->ndims; i++)
      free(r->dims[i].crit);
  free(r->dims);
  free(r->tpmo.v);
  free(r->claims.c);
  free(r->obj);
  free(r->vtab);
  free(r->vslot_id);
  free(r->vflags_by_id);
  free(r->vpool);
  free(r->phrases);
  free(r->ptoks);
  for (size_t i = 0; i < SC_ROLES; i++) {
    free(r->index[i].first_start);
    free(r->index[i].by_first);
    free(r->index[i].wild_first);
  }
  free(r->sets);
  free(r->nlu_sets);
  json_decref(r->root);
  free(r);
}
