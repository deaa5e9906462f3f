/*
 * drill.c — parses and validates a drill definition (drills/<key>.json)
 * into the read-only struct drill that every call of that drill shares.
 */
#include "persona/persona_internal.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/json_spec.h"

const char *const reply_kind_names[R__COUNT] = {
    [R_OPENER] = "opener",
    [R_GREETING] = "greeting",
    [R_ACK_INTRO] = "ack_intro",
    [R_ACK_DISCLOSURE] = "ack_disclosure",
    [R_ACK_TPMO] = "ack_tpmo",
    [R_PERMISSION] = "permission_yes",
    [R_ASK_RECORDING] = "ask_recording",
    [R_ASK_REPRESENTATION] = "ask_representation",
    [R_COVERAGE] = "coverage",
    [R_COVERAGE_AGAIN] = "coverage_again",
    [R_DOCTORS] = "doctors",
    [R_DOCTORS_AGAIN] = "doctors_again",
    [R_DRUGS] = "prescriptions",
    [R_DRUGS_AGAIN] = "prescriptions_again",
    [R_PHARMACY] = "pharmacy",
    [R_PHARMACY_AGAIN] = "pharmacy_again",
    [R_BUDGET] = "budget",
    [R_BUDGET_AGAIN] = "budget_again",
    [R_EXTRA_HELP] = "extra_help",
    [R_EXTRA_HELP_AGAIN] = "extra_help_again",
    [R_HEALTH] = "health",
    [R_HEALTH_AGAIN] = "health_again",
    [R_WITHHOLD] = "withhold",
    [R_VOL_COVERAGE] = "volunteer_coverage",
    [R_VOL_DOCTORS] = "volunteer_doctors",
    [R_VOL_DRUGS] = "volunteer_prescriptions",
    [R_VOL_PHARMACY] = "volunteer_pharmacy",
    [R_VOL_BUDGET] = "volunteer_budget",
    [R_PLAN_REACTION] = "plan_reaction",
    [R_ENROLL_AGREE] = "enroll_agree",
    [R_ENROLL_NOT_READY] = "enroll_not_ready",
    [R_ENROLL_MISSING] = "enroll_missing",
    [R_ENROLLED_ALREADY] = "enrolled_already",
    [R_RECAP_CONFIRM] = "recap_confirm",
    [R_RECAP_PARTIAL] = "recap_partial",
    [R_GOODBYE] = "goodbye",
    [R_GOODBYE_ENROLLED] = "goodbye_enrolled",
    [R_OFF_TOPIC] = "off_topic",
    [R_PRESSURE_PUSHBACK] = "pressure_pushback",
    [R_HANGUP_PRESSURE] = "hangup_pressure",
    [R_HANGUP_PATIENCE] = "hangup_patience",
    [R_HANGUP_COMPLIANCE] = "hangup_compliance",
    [R_EMPATHY_ACK] = "empathy_ack",
    [R_GENERIC] = "generic",
    [R_TOPIC_ANSWER] = "topic_answer",
    [R_TOPIC_AGAIN] = "topic_again",
    [R_TOPIC_UNKNOWN] = "topic_unknown",
    [R_QUESTION_UNKNOWN] = "question_unknown",
    [R_RECAP_CORRECT_DRUG] = "recap_correct_drug",
    [R_RECAP_CORRECT_DOCTOR] = "recap_correct_doctor",
    [R_ENROLL_DEFER] = "enroll_defer",
    [R_CHECK_IN] = "check_in",
    [R_RECAP_CONFIRM_NAMED] = "recap_confirm_named",
    [R_PUSHBACK_FREE] = "pushback_free",
    [R_PUSHBACK_GUARANTEE] = "pushback_guarantee",
    [R_PUSHBACK_MEDICARE] = "pushback_medicare",
    [R_PUSHBACK_URGENCY] = "pushback_urgency",
};

static const char *const fact_names[FACT__COUNT] = {
    [FACT_COVERAGE] = "coverage", [FACT_DOCTORS] = "doctors", [FACT_DRUGS] = "prescriptions",
    [FACT_PHARMACY] = "pharmacy", [FACT_BUDGET] = "budget",   [FACT_EXTRA_HELP] = "extra_help",
    [FACT_HEALTH] = "health",
};

static const char *const difficulty_names[3] = {"Beginner", "Advanced", "Elite"};

int persona_difficulty_parse(const char *s, enum persona_difficulty *out)
{
  if (s == NULL)
    return -1;
  for (int i = 0; i < 3; i++) {
    if (strcmp(s, difficulty_names[i]) == 0) {
      if (out != NULL)
        *out = (enum persona_difficulty)i;
      return 0;
    }
  }
  return -1;
}

const char *persona_difficulty_name(enum persona_difficulty d)
{
  if ((int)d < 0 || (int)d > 2)
    return "Beginner";
  return difficulty_names[d];
}

/* ---- Freeing ---------------------------------------------------------- */

static void strlist_free(struct strlist *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

static void phrases_free(struct phrase_list *pl)
{
  for (size_t i = 0; i < pl->n; i++)
    free(pl->v[i].text);
  free(pl->v);
  pl->v = NULL;
  pl->n = 0;
}

static void persona_free_fields(struct persona *p)
{
  char **strs[] = {
      &p->id,          &p->name,           &p->first_name,        &p->city,         &p->state,
      &p->coverage,    &p->complaint,      &p->pharmacy,          &p->budget,       &p->extra_help,
      &p->family,      &p->personality,    &p->enrollment_period, &p->doctors_text, &p->drugs_text,
      &p->health_text, &p->decision_helper};
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    free(*strs[i]);
  for (size_t i = 0; i < PERSONA_MAX_TOPICS; i++)
    free(p->facts[i]);
  for (size_t i = 0; i < PERSONA_MAX_DRUGS; i++)
    free(p->drug_keys[i]);
  for (size_t i = 0; i < PERSONA_MAX_DOCTORS; i++)
    for (size_t j = 0; j < 3; j++)
      free(p->doctor_keys[i][j]);
  for (size_t i = 0; i < p->n_doctors; i++) {
    free(p->doctors[i].name);
    free(p->doctors[i].specialty);
  }
  for (size_t i = 0; i < p->n_drugs; i++) {
    free(p->drugs[i].name);
    free(p->drugs[i].dose);
  }
  strlist_free(&p->health);
  strlist_free(&p->openers);
  for (int k = 0; k < R__COUNT; k++)
    strlist_free(&p->lines[k]);
}

void drill_free(struct drill *d)
{
  if (d == NULL)
    return;
  free(d->key);
  free(d->title);
  for (size_t i = 0; i < d->n_personas; i++)
    persona_free_fields(&d->personas[i]);
  free(d->personas);
  for (size_t i = 0; i < d->n_objections; i++) {
    struct objection_def *o = &d->objections[i];
    free(o->key);
    strlist_free(&o->raise);
    strlist_free(&o->press);
    strlist_free(&o->accept);
    phrases_free(&o->keywords);
  }
  free(d->objections);
  for (int i = 0; i < PERSONA_INTENT__COUNT; i++)
    phrases_free(&d->intents[i].phrases);
  phrases_free(&d->negators);
  phrases_free(&d->name_cues);
  strlist_free(&d->name_stopwords);
  for (int k = 0; k < R__COUNT; k++)
    for (int j = 0; j < 4; j++)
      strlist_free(&d->replies[k][j]);
  strlist_free(&d->fillers);
  for (size_t f = 0; f < d->n_topics; f++) {
    free(d->topic_keys[f]);
    free(d->topics[f]);
  }
  free(d);
}

/* ---- Parsing helpers: each returns 0, or -1 with err filled ----------- */

struct perr {
  char *buf;
  size_t len;
};

__attribute__((format(printf, 2, 3))) static int fail(struct perr *e, const char *fmt, ...)
{
  if (e->buf != NULL && e->len > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->buf, e->len, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* Checks that every {placeholder} in t is known and braces are balanced. */
static int check_template(struct perr *e, const char *t, const char *where)
{
  if (strlen(t) > PERSONA_MAX_TEXT)
    return fail(e, "%s: line longer than %d bytes", where, PERSONA_MAX_TEXT);
  for (const char *p = t; *p != '\0'; p++) {
    if (*p == '}')
      return fail(e, "%s: unbalanced '}'", where);
    if (*p != '{')
      continue;
    const char *close = strchr(p + 1, '}');
    if (close == NULL)
      return fail(e, "%s: unterminated '{'", where);
    if (persona_placeholder_find(p + 1, (size_t)(close - p - 1)) < 0)
      return fail(e, "%s: unknown placeholder {%.*s}", where, (int)(close - p - 1), p + 1);
    p = close;
  }
  return 0;
}

/* ---- fields, declared as util/json_spec.h specs ----------------------- */

/* Drill text is ours: a non-empty string (control characters allowed, a
 * NUL not), copied into the drill; a JSON null counts as absent. */
static struct json_spec text(const char *key, char **dst)
{
  return json_spec_flags(json_spec_string_dup(key, dst, 1, SIZE_MAX),
                         JSON_SPEC_CONTROL_OK | JSON_SPEC_NULL_ABSENT);
}

static struct json_spec opt_text(const char *key, char **dst)
{
  return json_spec_optional(text(key, dst));
}

/* An optional flag: false unless present. */
static struct json_spec flag(const char *key, bool *dst)
{
  *dst = false;
  return json_spec_optional(json_spec_bool(key, dst));
}

/* Reads obj's members by spec; the first bad one fails the drill as
 * "<where>: <member> must be …". */
static int read_fields(struct perr *e, const json_t *obj, const struct json_spec *spec,
                       const char *where)
{
  struct json_spec_error err;
  if (json_spec_parse(obj, spec, &err) == 0)
    return 0;
  return fail(e, "%s: %s", where, err.msg);
}

/* One required text member. */
static int read_text(struct perr *e, const json_t *obj, const char *key, char **dst,
                     const char *where)
{
  const struct json_spec spec[] = {text(key, dst), JSON_SPEC_END};
  return read_fields(e, obj, spec, where);
}

/* An array of at least min non-empty strings; templates are checked. */
static int get_strlist(struct perr *e, const json_t *arr, size_t min, bool templates,
                       struct strlist *out, const char *where)
{
  if (!json_is_array(arr))
    return fail(e, "%s: must be an array of strings", where);
  size_t n = json_array_size(arr);
  if (n < min)
    return fail(e, "%s: needs at least %zu entries", where, min);
  if (n > 4096)
    return fail(e, "%s: too many entries", where);
  if (n == 0)
    return 0;
  out->v = calloc(n, sizeof *out->v);
  if (out->v == NULL)
    return fail(e, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const json_t *s = json_array_get(arr, i);
    char w[160];
    snprintf(w, sizeof w, "%s[%zu]", where, i);
    if (!json_is_string(s) || json_string_length(s) == 0 ||
        strlen(json_string_value(s)) != json_string_length(s))
      return fail(e, "%s: must be a non-empty string", w);
    if (templates && check_template(e, json_string_value(s), w) < 0)
      return -1;
    out->v[i] = strdup(json_string_value(s));
    if (out->v[i] == NULL)
      return fail(e, "out of memory");
    out->n = i + 1;
  }
  return 0;
}

static int get_phrases(struct perr *e, const json_t *arr, size_t min, struct phrase_list *out,
                       const char *where)
{
  if (!json_is_array(arr))
    return fail(e, "%s: must be an array of phrases", where);
  size_t n = json_array_size(arr);
  if (n < min)
    return fail(e, "%s: needs at least %zu phrases", where, min);
  if (n > 4096)
    return fail(e, "%s: too many phrases", where);
  if (n == 0)
    return 0;
  out->v = calloc(n, sizeof *out->v);
  if (out->v == NULL)
    return fail(e, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const json_t *s = json_array_get(arr, i);
    if (!json_is_string(s) || persona_phrase_compile(json_string_value(s), &out->v[i]) < 0)
      return fail(e, "%s[%zu]: must be a phrase with at least one letter or digit", where, i);
    out->n = i + 1;
  }
  return 0;
}

/* Replaces {name}, {specialty} and {dose} in fmt; used for list items. */
static int render_item(const char *fmt, const char *name, const char *second, char *out, size_t cap)
{
  size_t o = 0;
  for (const char *p = fmt; *p != '\0'; p++) {
    const char *val = NULL;
    size_t skip = 0;
    if (strncmp(p, "{name}", 6) == 0) {
      val = name;
      skip = 6;
    } else if (strncmp(p, "{specialty}", 11) == 0 || strncmp(p, "{dose}", 6) == 0) {
      val = second;
      skip = p[1] == 's' ? 11 : 6;
    }
    if (val != NULL) {
      size_t vl = strlen(val);
      if (o + vl >= cap)
        return -1;
      memcpy(out + o, val, vl);
      o += vl;
      p += skip - 1;
    } else {
      if (o + 1 >= cap)
        return -1;
      out[o++] = *p;
    }
  }
  out[o] = '\0';
  return 0;
}

struct list_formats {
  const char *doctor, *drug, *pair, *sep, *last;
};

/* Joins n items: "a", "a and b", "a, b, and c" per the drill's formats. */
static char *join_items(const struct list_formats *f, size_t n, const char *const *names,
                        const char *const *seconds, const char *item_fmt)
{
  char out[PERSONA_MAX_TEXT + 1];
  char item[PERSONA_MAX_TEXT + 1];
  size_t o = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    const char *sep = i == 0 ? "" : (n == 2 ? f->pair : (i == n - 1 ? f->last : f->sep));
    if (item_fmt != NULL) {
      if (render_item(item_fmt, names[i], seconds[i], item, sizeof item) < 0)
        return NULL;
    } else {
      snprintf(item, sizeof item, "%s", names[i]);
    }
    int w = snprintf(out + o, sizeof out - o, "%s%s", sep, item);
    if (w < 0 || (size_t)w >= sizeof out - o)
      return NULL;
    o += (size_t)w;
  }
  return strdup(out);
}

static int reply_kind_find(const char *name, size_t len)
{
  for (int k = 0; k < R__COUNT; k++)
    if (strlen(reply_kind_names[k]) == len && memcmp(reply_kind_names[k], name, len) == 0)
      return k;
  return -1;
}

/* ---- Sections --------------------------------------------------------- */

static int parse_intents(struct perr *e, struct drill *d, const json_t *root)
{
  const json_t *intents = json_object_get(root, "intents");
  if (!json_is_object(intents))
    return fail(e, "missing \"intents\" object");
  const char *name;
  const json_t *v;
  json_object_foreach((json_t *)intents, name, v)
  {
    int found = -1;
    for (int i = 0; i < PERSONA_INTENT__COUNT; i++)
      if (strcmp(name, persona_intent_name((enum persona_intent)i)) == 0)
        found = i;
    if (found < 0)
      return fail(e, "intents: unknown intent \"%s\"", name);
  }
  for (int i = 0; i < PERSONA_INTENT__COUNT; i++) {
    const char *iname = persona_intent_name((enum persona_intent)i);
    char where[96];
    snprintf(where, sizeof where, "intents.%s", iname);
    const json_t *def = json_object_get(intents, iname);
    if (!json_is_object(def))
      return fail(e, "intents: missing intent \"%s\"", iname);
    if (get_phrases(e, json_object_get(def, "phrases"), 1, &d->intents[i].phrases, where) < 0)
      return -1;
    const struct json_spec spec[] = {flag("negatable", &d->intents[i].negatable), JSON_SPEC_END};
    if (read_fields(e, def, spec, where) < 0)
      return -1;
  }
  if (get_phrases(e, json_object_get(root, "negators"), 1, &d->negators, "negators") < 0)
    return -1;
  if (get_phrases(e, json_object_get(root, "name_cues"), 0, &d->name_cues, "name_cues") < 0)
    return -1;
  const json_t *sw = json_object_get(root, "name_stopwords");
  if (sw != NULL) {
    if (get_strlist(e, sw, 0, false, &d->name_stopwords, "name_stopwords") < 0)
      return -1;
    for (size_t i = 0; i < d->name_stopwords.n; i++)
      for (char *c = d->name_stopwords.v[i]; *c != '\0'; c++)
        if (*c >= 'A' && *c <= 'Z')
          *c = (char)(*c - 'A' + 'a');
  }
  return 0;
}

static int topic_find(const struct drill *d, const char *key)
{
  for (size_t f = 0; f < d->n_topics; f++)
    if (strcmp(d->topic_keys[f], key) == 0)
      return (int)f;
  return -1;
}

/* Maps each label of the persona_topics classifier to a topic of d. */
static void bind_topic_model(struct drill *d)
{
  d->topic_model = nlu_model_find("persona_topics");
  memset(d->label_topic, -1, sizeof d->label_topic);
  if (d->topic_model == NULL)
    return;
  size_t n = nlu_model_nlabels(d->topic_model);
  for (size_t i = 0; i < n && i < sizeof d->label_topic; i++) {
    const char *name = nlu_model_label_name(d->topic_model, i);
    if (strcmp(name, "recap") == 0)
      d->label_topic[i] = TOPIC_LABEL_RECAP;
    else if (strcmp(name, "check_in") == 0)
      d->label_topic[i] = TOPIC_LABEL_CHECK_IN;
    else
      d->label_topic[i] = (int8_t)topic_find(d, name);
  }
}

/* "topics": the seven facts every persona has, then any extra topic the
 * personas' "facts" may answer. */
static int parse_topics(struct perr *e, struct drill *d, const json_t *root)
{
  const json_t *topics = json_object_get(root, "topics");
  if (!json_is_object(topics))
    return fail(e, "missing \"topics\" object");
  if (json_object_size(topics) > PERSONA_MAX_TOPICS)
    return fail(e, "topics: at most %d", PERSONA_MAX_TOPICS);
  for (int f = 0; f < FACT__COUNT; f++) {
    if (read_text(e, topics, fact_names[f], &d->topics[f], "topics") < 0)
      return -1;
    d->n_topics = (size_t)f + 1;
    if ((d->topic_keys[f] = strdup(fact_names[f])) == NULL)
      return fail(e, "out of memory");
  }
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)topics, key, v)
  {
    if (topic_find(d, key) >= 0)
      continue;
    size_t f = d->n_topics;
    if (read_text(e, topics, key, &d->topics[f], "topics") < 0)
      return -1;
    d->n_topics = f + 1;
    if ((d->topic_keys[f] = strdup(key)) == NULL)
      return fail(e, "out of memory");
  }
  bind_topic_model(d);
  return 0;
}

static int parse_replies(struct perr *e, struct drill *d, const json_t *root)
{
  const json_t *replies = json_object_get(root, "replies");
  if (!json_is_object(replies))
    return fail(e, "missing \"replies\" object");
  const char *name;
  const json_t *v;
  json_object_foreach((json_t *)replies, name, v)
  {
    /* "kind" or "kind.Difficulty" */
    const char *dot = strchr(name, '.');
    size_t klen = dot ? (size_t)(dot - name) : strlen(name);
    int k = reply_kind_find(name, klen);
    int slot = 0;
    if (k < 0)
      return fail(e, "replies: unknown reply kind \"%s\"", name);
    if (dot != NULL) {
      enum persona_difficulty df;
      if (persona_difficulty_parse(dot + 1, &df) < 0)
        return fail(e, "replies: unknown difficulty in \"%s\"", name);
      slot = 1 + (int)df;
    }
    char where[128];
    snprintf(where, sizeof where, "replies.%s", name);
    if (get_strlist(e, v, 1, true, &d->replies[k][slot], where) < 0)
      return -1;
  }
  for (int k = 0; k < R__REQUIRED; k++)
    for (int df = 0; df < 3; df++)
      if (d->replies[k][0].n == 0 && d->replies[k][1 + df].n == 0)
        return fail(e, "replies: kind \"%s\" has no lines for %s", reply_kind_names[k],
                    difficulty_names[df]);
  if (get_strlist(e, json_object_get(root, "fillers"), 1, false, &d->fillers, "fillers") < 0)
    return -1;
  return parse_topics(e, d, root);
}

/* Indexed by enum objection_rule. */
static const char *const objection_rule_names[] = {"any", "either", "both", NULL};

static int parse_rules(struct perr *e, struct drill *d, const json_t *root)
{
  const json_t *diff = json_object_get(root, "difficulty");
  if (!json_is_object(diff))
    return fail(e, "missing \"difficulty\" object");
  for (int i = 0; i < 3; i++) {
    const json_t *r = json_object_get(diff, difficulty_names[i]);
    struct difficulty_rules *dr = &d->rules[i];
    char where[64];
    snprintf(where, sizeof where, "difficulty.%s", difficulty_names[i]);
    if (!json_is_object(r))
      return fail(e, "%s: missing", where);
    int rule = 0;
    const struct json_spec spec[] = {
        json_spec_int("trust", &dr->trust, 0, 100),
        json_spec_int("patience", &dr->patience, 1, 100),
        json_spec_int("objections", &dr->objections, 0, PERSONA_MAX_OBJECTIONS),
        json_spec_int("facts_min_trust", &dr->facts_min_trust, 0, 100),
        json_spec_int("enroll_min_trust", &dr->enroll_min_trust, 0, 100),
        json_spec_int("compliance_deadline_turn", &dr->compliance_deadline_turn, 0, 1000),
        flag("hangup_on_pressure", &dr->hangup_on_pressure),
        flag("volunteer", &dr->volunteer),
        flag("require_discovery", &dr->require_discovery),
        json_spec_enum("objection_rule", &rule, objection_rule_names),
        JSON_SPEC_END,
    };
    if (read_fields(e, r, spec, where) < 0)
      return -1;
    dr->objection_rule = (enum objection_rule)rule;
  }
  const json_t *t = json_object_get(root, "trust_deltas");
  if (!json_is_object(t))
    return fail(e, "missing \"trust_deltas\" object");
  const struct json_spec deltas[] = {
      json_spec_int("introduction", &d->delta.introduction, -100, 100),
      json_spec_int("recording_disclosure", &d->delta.disclosure, -100, 100),
      json_spec_int("tpmo_disclaimer", &d->delta.tpmo, -100, 100),
      json_spec_int("permission", &d->delta.permission, -100, 100),
      json_spec_int("question", &d->delta.question, -100, 100),
      json_spec_int("objection_handling", &d->delta.handling, -100, 100),
      json_spec_int("objection_addressed", &d->delta.addressed, -100, 100),
      json_spec_int("recap", &d->delta.recap, -100, 100),
      json_spec_int("pressure", &d->delta.pressure, -100, 100),
      json_spec_int("off_topic", &d->delta.off_topic, -100, 100),
      JSON_SPEC_END,
  };
  if (read_fields(e, t, deltas, "trust_deltas") < 0)
    return -1;
  const json_t *pc = json_object_get(root, "patience_costs");
  if (!json_is_object(pc))
    return fail(e, "missing \"patience_costs\" object");
  const struct json_spec costs[] = {
      json_spec_int("pressure", &d->pressure_patience_cost, 0, 100),
      json_spec_int("off_topic", &d->off_topic_patience_cost, 0, 100),
      JSON_SPEC_END,
  };
  return read_fields(e, pc, costs, "patience_costs");
}

static int parse_objections(struct perr *e, struct drill *d, const json_t *root)
{
  const json_t *objs = json_object_get(root, "objections");
  if (!json_is_object(objs) || json_object_size(objs) == 0)
    return fail(e, "missing or empty \"objections\" object");
  if (json_object_size(objs) > 255)
    return fail(e, "objections: at most 255");
  d->objections = calloc(json_object_size(objs), sizeof *d->objections);
  if (d->objections == NULL)
    return fail(e, "out of memory");
  const char *name;
  const json_t *v;
  json_object_foreach((json_t *)objs, name, v)
  {
    struct objection_def *o = &d->objections[d->n_objections++];
    char where[128];
    o->key = strdup(name);
    if (o->key == NULL)
      return fail(e, "out of memory");
    if (!json_is_object(v))
      return fail(e, "objections.%s: must be an object", name);
    snprintf(where, sizeof where, "objections.%s.raise", name);
    if (get_strlist(e, json_object_get(v, "raise"), 1, true, &o->raise, where) < 0)
      return -1;
    snprintf(where, sizeof where, "objections.%s.press", name);
    if (get_strlist(e, json_object_get(v, "press"), 1, true, &o->press, where) < 0)
      return -1;
    snprintf(where, sizeof where, "objections.%s.accept", name);
    if (get_strlist(e, json_object_get(v, "accept"), 1, true, &o->accept, where) < 0)
      return -1;
    snprintf(where, sizeof where, "objections.%s.keywords", name);
    if (get_phrases(e, json_object_get(v, "keywords"), 1, &o->keywords, where) < 0)
      return -1;
  }
  return 0;
}

/* "facts" (topic key to the persona's answer), "decision_helper" and
 * "power_of_attorney": all optional. */
static int parse_persona_facts(struct perr *e, const struct drill *d, const json_t *pj,
                               struct persona *p, const char *where)
{
  const json_t *facts = json_object_get(pj, "facts");
  if (facts != NULL) {
    if (!json_is_object(facts))
      return fail(e, "%s: \"facts\" must be an object", where);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)facts, key, v)
    {
      int f = topic_find(d, key);
      char w[200];
      snprintf(w, sizeof w, "%s.facts", where);
      if (f < 0)
        return fail(e, "%s: \"%s\" is not a key of the drill's \"topics\"", w, key);
      if (f < FACT__COUNT)
        return fail(e, "%s: \"%s\" is a field of the persona, not a fact", w, key);
      if (read_text(e, facts, key, &p->facts[f], w) < 0)
        return -1;
      if (strlen(p->facts[f]) > PERSONA_MAX_TEXT / 2)
        return fail(e, "%s: \"%s\" is longer than %d bytes", w, key, PERSONA_MAX_TEXT / 2);
    }
  }
  const struct json_spec spec[] = {
      opt_text("decision_helper", &p->decision_helper),
      flag("power_of_attorney", &p->power_of_attorney),
      JSON_SPEC_END,
  };
  if (read_fields(e, pj, spec, where) < 0)
    return -1;
  if (p->power_of_attorney && p->decision_helper == NULL)
    return fail(e, "%s: \"power_of_attorney\" needs a \"decision_helper\"", where);
  return 0;
}

/* A normalised " a b " key from up to two words; NULL on no memory. */
static char *recap_key(const char *a, const char *b)
{
  char raw[256], norm[300];
  snprintf(raw, sizeof raw, "%s %s", a, b != NULL ? b : "");
  persona_normalize(raw, norm, sizeof norm);
  return strdup(norm);
}

/* The words a rep's recap would use for this persona's drugs ("eliquis")
 * and doctors ("dr reyes", "doctor reyes", "alan reyes"). */
static int build_recap_keys(struct perr *e, struct persona *p)
{
  for (size_t i = 0; i < p->n_drugs; i++) {
    char first[128];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(p->drugs[i].name, " "), p->drugs[i].name);
    if ((p->drug_keys[i] = recap_key(first, NULL)) == NULL)
      return fail(e, "out of memory");
  }
  for (size_t i = 0; i < p->n_doctors; i++) {
    /* "Dr. Alan Reyes": the last word is the surname, the one before the
     * first name. */
    const char *name = p->doctors[i].name;
    const char *last = strrchr(name, ' ');
    last = last != NULL ? last + 1 : name;
    const char *prev = last;
    while (prev > name && prev[-1] == ' ')
      prev--;
    const char *pstart = prev;
    while (pstart > name && pstart[-1] != ' ')
      pstart--;
    char first[128];
    snprintf(first, sizeof first, "%.*s", (int)(prev - pstart), pstart);
    if ((p->doctor_keys[i][0] = recap_key("dr", last)) == NULL ||
        (p->doctor_keys[i][1] = recap_key("doctor", last)) == NULL ||
        (p->doctor_keys[i][2] = recap_key(first, last)) == NULL)
      return fail(e, "out of memory");
  }
  return 0;
}

/* A persona's "sex", indexed by enum persona_sex ("unknown" is the
 * default when absent). */
static const char *const sex_names[] = {"unknown", "female", "male", NULL};

static int parse_persona(struct perr *e, struct drill *d, const json_t *pj, size_t idx,
                         const struct list_formats *fmt)
{
  struct persona *p = &d->personas[idx];
  char where[96];
  snprintf(where, sizeof where, "personas[%zu]", idx);
  if (!json_is_object(pj))
    return fail(e, "%s: must be an object", where);
  if (read_text(e, pj, "name", &p->name, where) < 0)
    return -1;
  /* From here on, name the persona in messages. */
  snprintf(where, sizeof where, "personas[%zu] (%s)", idx, p->name);
  const struct json_spec fields[] = {
      text("id", &p->id),
      opt_text("first_name", &p->first_name),
      text("city", &p->city),
      text("state", &p->state),
      text("coverage", &p->coverage),
      opt_text("complaint", &p->complaint),
      opt_text("enrollment_period", &p->enrollment_period),
      text("pharmacy", &p->pharmacy),
      text("budget", &p->budget),
      text("extra_help", &p->extra_help),
      text("family", &p->family),
      text("personality", &p->personality),
      json_spec_int("age", &p->age, 18, 120),
      json_spec_optional(json_spec_int("budget_usd", &p->budget_usd, 0, 100000)),
      json_spec_optional(json_spec_enum("sex", &p->sex, sex_names)),
      json_spec_optional(json_spec_number("pace", &p->pace, 0.6, 1.6)),
      JSON_SPEC_END,
  };
  if (read_fields(e, pj, fields, where) < 0)
    return -1;
  if (strlen(p->state) != 2)
    return fail(e, "%s: \"state\" must be a two-letter code", where);
  if (p->first_name == NULL) {
    size_t n = strcspn(p->name, " ");
    p->first_name = strndup(p->name, n);
    if (p->first_name == NULL)
      return fail(e, "out of memory");
  }

  const json_t *docs = json_object_get(pj, "doctors");
  if (!json_is_array(docs) || json_array_size(docs) == 0 ||
      json_array_size(docs) > PERSONA_MAX_DOCTORS)
    return fail(e, "%s: \"doctors\" must be an array of 1..%d doctors", where, PERSONA_MAX_DOCTORS);
  for (size_t i = 0; i < json_array_size(docs); i++) {
    const json_t *dj = json_array_get(docs, i);
    char w[160];
    snprintf(w, sizeof w, "%s.doctors[%zu]", where, i);
    if (!json_is_object(dj))
      return fail(e, "%s: must be an object", w);
    p->n_doctors = i + 1;
    const struct json_spec doctor[] = {text("name", &p->doctors[i].name),
                                       text("specialty", &p->doctors[i].specialty), JSON_SPEC_END};
    if (read_fields(e, dj, doctor, w) < 0)
      return -1;
  }
  const json_t *rx = json_object_get(pj, "prescriptions");
  if (!json_is_array(rx) || json_array_size(rx) == 0 || json_array_size(rx) > PERSONA_MAX_DRUGS)
    return fail(e, "%s: \"prescriptions\" must be an array of 1..%d drugs", where,
                PERSONA_MAX_DRUGS);
  for (size_t i = 0; i < json_array_size(rx); i++) {
    const json_t *rj = json_array_get(rx, i);
    char w[160];
    snprintf(w, sizeof w, "%s.prescriptions[%zu]", where, i);
    if (!json_is_object(rj))
      return fail(e, "%s: must be an object", w);
    p->n_drugs = i + 1;
    const struct json_spec drug[] = {text("name", &p->drugs[i].name),
                                     text("dose", &p->drugs[i].dose), JSON_SPEC_END};
    if (read_fields(e, rj, drug, w) < 0)
      return -1;
  }
  char w[160];
  snprintf(w, sizeof w, "%s.health", where);
  if (get_strlist(e, json_object_get(pj, "health"), 1, false, &p->health, w) < 0)
    return -1;
  snprintf(w, sizeof w, "%s.openers", where);
  if (get_strlist(e, json_object_get(pj, "openers"), 1, true, &p->openers, w) < 0)
    return -1;

  const json_t *objs = json_object_get(pj, "objections");
  if (!json_is_array(objs) || json_array_size(objs) < 3 ||
      json_array_size(objs) > PERSONA_MAX_OBJECTIONS)
    return fail(e, "%s: \"objections\" must list 3..%d objection keys", where,
                PERSONA_MAX_OBJECTIONS);
  for (size_t i = 0; i < json_array_size(objs); i++) {
    const char *key = json_string_value(json_array_get(objs, i));
    size_t found = SIZE_MAX;
    for (size_t k = 0; key != NULL && k < d->n_objections; k++)
      if (strcmp(d->objections[k].key, key) == 0)
        found = k;
    if (found == SIZE_MAX)
      return fail(e, "%s: objections[%zu] is not a key of the drill's \"objections\"", where, i);
    for (size_t j = 0; j < p->n_objections; j++)
      if (p->objections[j] == found)
        return fail(e, "%s: objection \"%s\" listed twice", where, key);
    p->objections[p->n_objections++] = (uint8_t)found;
  }

  const json_t *diffs = json_object_get(pj, "difficulty");
  if (!json_is_array(diffs) || json_array_size(diffs) == 0)
    return fail(e, "%s: \"difficulty\" must list at least one tier", where);
  for (size_t i = 0; i < json_array_size(diffs); i++) {
    enum persona_difficulty df;
    if (persona_difficulty_parse(json_string_value(json_array_get(diffs, i)), &df) < 0)
      return fail(e, "%s: difficulty[%zu] must be Beginner, Advanced or Elite", where, i);
    p->difficulty_mask |= 1u << df;
  }

  const json_t *lines = json_object_get(pj, "lines");
  if (lines != NULL) {
    if (!json_is_object(lines))
      return fail(e, "%s: \"lines\" must be an object", where);
    const char *kname;
    const json_t *kv;
    json_object_foreach((json_t *)lines, kname, kv)
    {
      int k = reply_kind_find(kname, strlen(kname));
      if (k < 0)
        return fail(e, "%s: lines: unknown reply kind \"%s\"", where, kname);
      snprintf(w, sizeof w, "%s.lines.%s", where, kname);
      if (get_strlist(e, kv, 1, true, &p->lines[k], w) < 0)
        return -1;
    }
  }

  if (parse_persona_facts(e, d, pj, p, where) < 0 || build_recap_keys(e, p) < 0)
    return -1;

  const char *names[PERSONA_MAX_DRUGS], *seconds[PERSONA_MAX_DRUGS];
  for (size_t i = 0; i < p->n_doctors; i++) {
    names[i] = p->doctors[i].name;
    seconds[i] = p->doctors[i].specialty;
  }
  p->doctors_text = join_items(fmt, p->n_doctors, names, seconds, fmt->doctor);
  for (size_t i = 0; i < p->n_drugs; i++) {
    names[i] = p->drugs[i].name;
    seconds[i] = p->drugs[i].dose;
  }
  p->drugs_text = join_items(fmt, p->n_drugs, names, seconds, fmt->drug);
  p->health_text =
      join_items(fmt, p->health.n < PERSONA_MAX_DRUGS ? p->health.n : PERSONA_MAX_DRUGS,
                 (const char *const *)p->health.v, (const char *const *)p->health.v, NULL);
  if (p->doctors_text == NULL || p->drugs_text == NULL || p->health_text == NULL)
    return fail(e, "%s: doctor, prescription or health list too long", where);
  return 0;
}

static int parse_personas(struct perr *e, struct drill *d, const json_t *root)
{
  const json_t *formats = json_object_get(root, "formats");
  if (!json_is_object(formats))
    return fail(e, "missing \"formats\" object");
  struct list_formats f = {
      json_string_value(json_object_get(formats, "doctor")),
      json_string_value(json_object_get(formats, "prescription")),
      json_string_value(json_object_get(formats, "list_pair")),
      json_string_value(json_object_get(formats, "list_sep")),
      json_string_value(json_object_get(formats, "list_last")),
  };
  if (f.doctor == NULL || f.drug == NULL || f.pair == NULL || f.sep == NULL || f.last == NULL)
    return fail(e, "formats: needs doctor, prescription, list_pair, list_sep and list_last");

  const json_t *ps = json_object_get(root, "personas");
  if (!json_is_array(ps) || json_array_size(ps) == 0)
    return fail(e, "missing or empty \"personas\" array");
  if (json_array_size(ps) > 65535)
    return fail(e, "personas: too many");
  d->personas = calloc(json_array_size(ps), sizeof *d->personas);
  if (d->personas == NULL)
    return fail(e, "out of memory");
  for (size_t i = 0; i < json_array_size(ps); i++) {
    d->n_personas = i + 1;
    if (parse_persona(e, d, json_array_get(ps, i), i, &f) < 0)
      return -1;
    for (size_t j = 0; j < i; j++)
      if (strcmp(d->personas[j].id, d->personas[i].id) == 0)
        return fail(e, "personas[%zu]: duplicate id \"%s\"", i, d->personas[i].id);
  }
  for (int df = 0; df < 3; df++) {
    bool any = false;
    for (size_t i = 0; i < d->n_personas; i++)
      if (d->personas[i].difficulty_mask & (1u << df))
        any = true;
    if (!any)
      return fail(e, "personas: none is suitable for %s", difficulty_names[df]);
  }
  return 0;
}

struct drill *drill_parse(const char *json_text, size_t len, char *err, size_t errlen)
{
  struct perr e = {err, errlen};
  json_error_t jerr;
  json_t *root = NULL;
  struct drill *d = NULL;
  struct drill *result = NULL;

  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (json_text == NULL) {
    fail(&e, "no drill text");
    goto out;
  }
  root = json_loadb(json_text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL) {
    fail(&e, "invalid JSON at line %d: %s", jerr.line, jerr.text);
    goto out;
  }
  if (!json_is_object(root)) {
    fail(&e, "a drill must be a JSON object");
    goto out;
  }
  d = calloc(1, sizeof *d);
  if (d == NULL) {
    fail(&e, "out of memory");
    goto out;
  }
  const struct json_spec head[] = {text("key", &d->key), text("title", &d->title), JSON_SPEC_END};
  if (read_fields(&e, root, head, "drill") < 0 || parse_intents(&e, d, root) < 0 ||
      parse_replies(&e, d, root) < 0 || parse_rules(&e, d, root) < 0 ||
      parse_objections(&e, d, root) < 0 || parse_personas(&e, d, root) < 0)
    goto out;
  result = d;
  d = NULL;
out:
  drill_free(d);
  json_decref(root);
  return result;
}

/* ---- Accessors -------------------------------------------------------- */

const char *drill_key(const struct drill *d)
{
  return d->key;
}

size_t drill_persona_count(const struct drill *d)
{
  return d->n_personas;
}

const char *drill_persona_name(const struct drill *d, size_t idx)
{
  return idx < d->n_personas ? d->personas[idx].name : NULL;
}

void drill_persona_voice(const struct drill *d, size_t idx, struct persona_voice *out)
{
  *out = (struct persona_voice){.sex = PERSONA_SEX_UNKNOWN};
  if (idx >= d->n_personas)
    return;
  const struct persona *p = &d->personas[idx];
  out->sex = (enum persona_sex)p->sex;
  out->age = p->age;
  out->pace = p->pace;
}

const char *drill_persona_state(const struct drill *d, size_t idx)
{
  return idx < d->n_personas ? d->personas[idx].state : NULL;
}

/* splitmix64: one step, used to spread the seed. */
static uint64_t mix64(uint64_t x)
{
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

size_t drill_pick_persona(const struct drill *d, const char *state, enum persona_difficulty diff,
                          uint64_t seed)
{
  /* Preference: state and tier, then state, then tier, then anyone. */
  for (int pass = 0; pass < 4; pass++) {
    bool want_state = (pass == 0 || pass == 1) && state != NULL;
    bool want_tier = pass == 0 || pass == 2;
    if ((pass == 0 || pass == 1) && state == NULL)
      continue;
    size_t n = 0;
    for (size_t i = 0; i < d->n_personas; i++) {
      const struct persona *p = &d->personas[i];
      if (want_state && strcasecmp(p->state, state) != 0)
        continue;
      if (want_tier && !(p->difficulty_mask & (1u << diff)))
        continue;
      n++;
    }
    if (n == 0)
      continue;
    size_t pick = (size_t)(mix64(seed ^ 0x5045524Full) % n);
    for (size_t i = 0; i < d->n_personas; i++) {
      const struct persona *p = &d->personas[i];
      if (want_state && strcasecmp(p->state, state) != 0)
        continue;
      if (want_tier && !(p->difficulty_mask & (1u << diff)))
        continue;
      if (pick-- == 0)
        return i;
    }
  }
  return 0;
}
