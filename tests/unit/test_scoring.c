/* test_scoring.c — unit tests of the rubric scorer on crafted transcripts:
 * each compliance miss is caught at the right turn under the right rule
 * version, strong > average > poor, evidence points at the right turns, the
 * text is written from the call's facts, and odd input never crashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/scorer.h"
#include "scoring/scoring_internal.h" /* sc_cut_words, sc_buf: the text primitives */
#include "scoring_calls.h"

static struct rubric *g_rubric;
static char *g_text;
static size_t g_len;

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = NULL;
  if (fseek(f, 0, SEEK_END) != 0)
    goto out;
  long n = ftell(f);
  if (n < 0 || fseek(f, 0, SEEK_SET) != 0)
    goto out;
  buf = malloc((size_t)n + 1);
  if (!buf)
    goto out;
  if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
    goto out;
  }
  buf[n] = '\0';
  *len = (size_t)n;
out:
  fclose(f);
  return buf;
}

static int setup(void **state)
{
  (void)state;
  const char *dir = getenv("ATHOS_SOURCE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/drills/ma-full-sale.rubric.json", dir ? dir : ".");
  g_text = read_file(path, &g_len);
  if (!g_text) {
    fprintf(stderr, "cannot read %s (set ATHOS_SOURCE_DIR)\n", path);
    return -1;
  }
  char err[256];
  g_rubric = rubric_parse(g_text, g_len, err, sizeof err);
  if (!g_rubric) {
    fprintf(stderr, "rubric_parse: %s\n", err);
    return -1;
  }
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  rubric_free(g_rubric);
  free(g_text);
  return 0;
}

struct edit {
  size_t idx;
  const char *text; /* NULL: keep */
  int64_t at_ms;    /* -1: keep */
};

struct call {
  const struct call_line *lines;
  size_t n;
  int64_t started;
  const char *name;
  const char *difficulty;
  const char *end_reason;
  const struct edit *edits;
  size_t nedits;
};

static json_t *score_call(const struct call *c)
{
  struct score_turn *t = calloc(c->n ? c->n : 1, sizeof *t);
  assert_non_null(t);
  for (size_t i = 0; i < c->n; i++)
    t[i] = (struct score_turn){c->lines[i].role, c->lines[i].text, c->lines[i].at_ms};
  for (size_t e = 0; e < c->nedits; e++) {
    assert_true(c->edits[e].idx < c->n);
    if (c->edits[e].text)
      t[c->edits[e].idx].content = c->edits[e].text;
    if (c->edits[e].at_ms >= 0)
      t[c->edits[e].idx].at_ms = c->edits[e].at_ms;
  }
  struct score_input in = {t, c->n, c->started, 0, c->name, c->difficulty, c->end_reason};
  char err[256] = "";
  json_t *s = scorer_score(g_rubric, &in, err, sizeof err);
  if (!s)
    fprintf(stderr, "scorer_score: %s\n", err);
  assert_non_null(s);
  if (getenv("SCORING_DUMP")) {
    char *d = json_dumps(s, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    fprintf(stderr, "%s\n", d);
    free(d);
  }
  free(t);
  return s;
}

static json_t *strong(int64_t date, const struct edit *e, size_t ne)
{
  struct call c = {STRONG_CALL, N_LINES(STRONG_CALL), date, "Dorothy Miller",
                   "Advanced",  "rep_hangup",         e,    ne};
  return score_call(&c);
}

static int overall(json_t *s)
{
  return (int)json_integer_value(json_object_get(s, "overallScore"));
}

static json_t *find_key(json_t *arr, const char *key)
{
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v)
  {
    if (strcmp(json_string_value(json_object_get(v, "key")), key) == 0)
      return v;
  }
  fail_msg("no item with key %s", key);
  return NULL;
}

static json_t *comp(json_t *s, const char *key)
{
  return find_key(json_object_get(s, "compliance"), key);
}

static json_t *dim(json_t *s, const char *key)
{
  return find_key(json_object_get(s, "dimensions"), key);
}

static json_t *crit(json_t *s, const char *dkey, const char *ckey)
{
  return find_key(json_object_get(dim(s, dkey), "criteria"), ckey);
}

static bool passed(json_t *o)
{
  return json_is_true(json_object_get(o, "passed"));
}

static long long turn_of(json_t *o)
{
  json_t *t = json_object_get(o, "turn");
  return json_is_integer(t) ? (long long)json_integer_value(t) : -1;
}

static bool has_turn(json_t *evidence, long long turn)
{
  size_t i;
  json_t *v;
  json_array_foreach(evidence, i, v)
  {
    if (json_integer_value(v) == turn)
      return true;
  }
  return false;
}

static const char *str(json_t *s, const char *key)
{
  return json_string_value(json_object_get(s, key));
}

static json_t *element(json_t *tpmo, const char *key)
{
  return find_key(json_object_get(tpmo, "elements"), key);
}

/* ------------------------------------------------------------------------
 * The strong call: everything passes where it should
 * ---------------------------------------------------------------------- */

static void test_strong_call_is_compliant(void **state)
{
  (void)state;
  json_t *s = strong(DATE_CY2024, NULL, 0);
  assert_true(passed(comp(s, "recordingDisclosure")));
  assert_int_equal(turn_of(comp(s, "recordingDisclosure")), 1);
  json_t *tpmo = comp(s, "tpmoDisclaimer");
  assert_true(passed(tpmo));
  assert_int_equal(turn_of(tpmo), 3);
  assert_string_equal(str(tpmo, "ruleVersion"), "CY2024");
  assert_true(passed(element(tpmo, "notEveryPlan")));
  assert_true(passed(element(tpmo, "orgAndProductCount")));
  assert_true(passed(element(tpmo, "allOptionsSource")));
  json_t *soa = comp(s, "scopeOfAppointment");
  assert_true(passed(soa));
  assert_int_equal(turn_of(soa), 5);
  assert_int_equal(json_integer_value(json_object_get(soa, "agreementTurn")), 6);
  assert_true(passed(comp(s, "noProhibitedClaims")));
  assert_int_equal(turn_of(comp(s, "noProhibitedClaims")), -1);
  assert_true(overall(s) >= 85);
  assert_string_equal(str(s, "rubricVersion"), "ma-full-sale/2026.11-2");
  json_decref(s);

  /* the same call under the CY2027 rule: disclaimer before any benefit */
  s = strong(DATE_CY2027, NULL, 0);
  tpmo = comp(s, "tpmoDisclaimer");
  assert_string_equal(str(tpmo, "ruleVersion"), "CY2027");
  assert_true(passed(tpmo));
  json_decref(s);
}

static void test_strong_call_evidence(void **state)
{
  (void)state;
  json_t *s = strong(DATE_CY2024, NULL, 0);
  assert_true(passed(crit(s, "opening", "licensedAgent")));
  assert_true(has_turn(json_object_get(crit(s, "opening", "licensedAgent"), "evidence"), 1));
  assert_true(has_turn(json_object_get(crit(s, "discovery", "doctors"), "evidence"), 13));
  assert_true(has_turn(json_object_get(crit(s, "discovery", "prescriptions"), "evidence"), 15));
  assert_true(has_turn(json_object_get(crit(s, "discovery", "pharmacy"), "evidence"), 15));
  assert_true(has_turn(json_object_get(crit(s, "discovery", "travel"), "evidence"), 17));
  assert_true(has_turn(json_object_get(crit(s, "discovery", "recap"), "evidence"), 19));
  /* the doctors are named by the persona in 14, but only the rep's question counts */
  assert_false(has_turn(json_object_get(crit(s, "discovery", "doctors"), "evidence"), 14));
  /* discovery counts questions: the dental/vision/hearing statement in 25 is presentation */
  assert_true(has_turn(json_object_get(crit(s, "discovery", "healthNeeds"), "evidence"), 17));
  assert_false(has_turn(json_object_get(crit(s, "discovery", "healthNeeds"), "evidence"), 25));
  assert_true(has_turn(json_object_get(crit(s, "presentation", "extras"), "evidence"), 25));
  json_t *ask = crit(s, "closing", "asksForEnrollment");
  assert_true(passed(ask));
  assert_int_equal(json_array_size(json_object_get(ask, "evidence")), 1);
  assert_true(has_turn(json_object_get(ask, "evidence"), 31));
  assert_true(has_turn(json_object_get(crit(s, "presentation", "moop"), "evidence"), 23));
  assert_true(has_turn(json_object_get(crit(s, "objectionHandling", "addresses"), "evidence"), 21));
  assert_true(has_turn(json_object_get(dim(s, "discovery"), "evidence"), 19));
  assert_true(has_turn(json_object_get(dim(s, "compliance"), "evidence"), 3));
  /* every evidence index is a real turn */
  size_t i, j;
  json_t *d, *v;
  json_array_foreach(json_object_get(s, "dimensions"), i, d)
  {
    json_array_foreach(json_object_get(d, "evidence"), j, v)
    {
      assert_true(json_integer_value(v) >= 0 &&
                  json_integer_value(v) < (json_int_t)N_LINES(STRONG_CALL));
    }
  }
  json_decref(s);
}

static void test_metrics(void **state)
{
  (void)state;
  json_t *s = strong(DATE_CY2024, NULL, 0);
  json_t *m = json_object_get(s, "metrics");
  assert_int_equal(json_integer_value(json_object_get(m, "repTurns")), 20);
  assert_int_equal(json_integer_value(json_object_get(m, "personaTurns")), 20);
  assert_int_equal(json_integer_value(json_object_get(m, "questionsAsked")), 19);
  assert_int_equal(json_integer_value(json_object_get(m, "openQuestions")), 8);
  assert_int_equal(json_integer_value(json_object_get(m, "closedQuestions")), 11);
  double tr = json_real_value(json_object_get(m, "talkRatio"));
  assert_true(tr > 0.3 && tr < 0.65);
  json_decref(s);

  /* exact figures on a crafted call: 10 rep words, 10 persona words, then two
   * rep turns in a row of 75 words each (150 words = 60 s at 150 wpm) */
  static char long75[75 * 5 + 1];
  for (int i = 0; i < 75; i++)
    memcpy(long75 + i * 5, "word ", 5);
  long75[75 * 5] = '\0';
  static const struct call_line small[] = {
      PERSONA("a b c d e f g h i j", 0),
      REP("What do you like? Is it good? one two three", 1000),
  };
  struct call c = {small, 2, DATE_CY2024, "Ann", NULL, NULL, NULL, 0};
  s = score_call(&c);
  m = json_object_get(s, "metrics");
  assert_true(json_real_value(json_object_get(m, "talkRatio")) == 0.5);
  assert_int_equal(json_integer_value(json_object_get(m, "questionsAsked")), 2);
  assert_int_equal(json_integer_value(json_object_get(m, "openQuestions")), 1);
  assert_int_equal(json_integer_value(json_object_get(m, "closedQuestions")), 1);
  json_decref(s);

  const struct call_line mono[] = {
      PERSONA("Hi.", 0),       REP(long75, 1000),     REP(long75, 31000),
      PERSONA("Okay.", 61000), REP("Thanks.", 62000),
  };
  c = (struct call){mono, 5, DATE_CY2024, "Ann", NULL, NULL, NULL, 0};
  s = score_call(&c);
  m = json_object_get(s, "metrics");
  assert_int_equal(json_integer_value(json_object_get(m, "longestMonologueSec")), 60);
  assert_true(
      has_turn(json_object_get(crit(s, "conversationSkills", "shortMonologues"), "evidence"), 1));
  json_decref(s);
}

/* ------------------------------------------------------------------------
 * Compliance misses
 * ---------------------------------------------------------------------- */

static void test_missing_recording_disclosure(void **state)
{
  (void)state;
  json_t *base = strong(DATE_CY2024, NULL, 0);
  const struct edit e[] = {{1,
                            "Hi, is this Dorothy? My name is Sam Carter with Bright Path "
                            "Insurance. I'm a licensed insurance agent, and I'm not connected with "
                            "Medicare or any government agency. Is now a good time to talk?",
                            -1}};
  json_t *s = strong(DATE_CY2024, e, 1);
  json_t *rec = comp(s, "recordingDisclosure");
  assert_false(passed(rec));
  assert_int_equal(turn_of(rec), -1);
  assert_true(overall(s) <= 75);
  assert_true(overall(s) < overall(base));
  assert_non_null(strstr(str(s, "feedback"), "recorded line"));
  json_decref(s);

  /* said, but only late in the call: flagged with the turn where it was said */
  const struct edit late[] = {
      {1, e[0].text, -1},
      {29,
       "By the way, this call is recorded for quality. What other questions do you have for "
       "me, Dorothy?",
       -1}};
  s = strong(DATE_CY2024, late, 2);
  rec = comp(s, "recordingDisclosure");
  assert_false(passed(rec));
  assert_int_equal(turn_of(rec), 29);
  json_decref(s);
  json_decref(base);
}

static const char *const NO_TPMO = "Great, thank you Dorothy. Let's get started.";

static void test_missing_tpmo(void **state)
{
  (void)state;
  const struct edit e[] = {{3, NO_TPMO, -1}};
  json_t *s = strong(DATE_CY2024, e, 1);
  json_t *tpmo = comp(s, "tpmoDisclaimer");
  assert_false(passed(tpmo));
  assert_int_equal(turn_of(tpmo), -1);
  assert_false(passed(element(tpmo, "notEveryPlan")));
  assert_true(overall(s) <= 70);
  assert_non_null(strstr(str(s, "feedback"), "TPMO"));
  assert_non_null(strstr(str(s, "summary"), "TPMO"));
  assert_false(passed(crit(s, "compliance", "tpmoDisclaimer")));
  json_decref(s);

  /* incomplete: no organization / product counts */
  const struct edit part[] = {
      {3,
       "We do not offer every plan available in your area. Please contact Medicare.gov, "
       "1-800-MEDICARE, or your local SHIP to get information on all of your options.",
       -1}};
  s = strong(DATE_CY2024, part, 1);
  tpmo = comp(s, "tpmoDisclaimer");
  assert_false(passed(tpmo));
  assert_true(passed(element(tpmo, "notEveryPlan")));
  assert_false(passed(element(tpmo, "orgAndProductCount")));
  assert_true(passed(element(tpmo, "allOptionsSource")));
  json_decref(s);
}

/* The disclaimer said at 40 s passes the CY2024 minute rule; at 65 s it
 * fails it; the CY2027 rule doesn't look at the clock. */
static void test_tpmo_timing_cy2024(void **state)
{
  (void)state;
  const struct call_line call[] = {
      PERSONA("Hello?", 0),
      REP("Hi Ruth, this is Sam with Bright Path, a licensed insurance agent on a recorded line.",
          2000),
      PERSONA("Oh, hello. My neighbor told me about you, she said you helped her last year.", 8000),
      REP("We do not offer every plan available in your area. Currently we represent 8 "
          "organizations which offer 42 products in your area. Please contact Medicare.gov, "
          "1-800-MEDICARE, or your local State Health Insurance Program (SHIP) to get "
          "information on all of your options.",
          40000),
      PERSONA("Okay.", 90000),
      /* two more rep turns, so that the call is long enough to judge */
      REP("What plan are you on now, and which doctors do you see?", 95000),
      PERSONA("A supplement, and I see Dr. Lee.", 100000),
      REP("Thanks, Ruth. And what prescriptions do you take?", 105000),
      PERSONA("Just lisinopril.", 110000),
  };
  struct call c = {call, N_LINES(call), DATE_CY2024, "Ruth Adams", NULL, NULL, NULL, 0};
  json_t *s = score_call(&c);
  assert_true(passed(comp(s, "tpmoDisclaimer")));
  assert_int_equal(turn_of(comp(s, "tpmoDisclaimer")), 3);
  json_decref(s);

  const struct edit late[] = {{3, NULL, 65000}};
  c.edits = late;
  c.nedits = 1;
  s = score_call(&c);
  json_t *tpmo = comp(s, "tpmoDisclaimer");
  assert_false(passed(tpmo));
  assert_int_equal(turn_of(tpmo), 3);
  assert_string_equal(str(tpmo, "ruleVersion"), "CY2024");
  assert_non_null(strstr(str(tpmo, "detail"), "60 seconds"));
  assert_false(passed(element(tpmo, "notEveryPlan")));
  assert_non_null(strstr(str(s, "feedback"), "first minute"));
  json_decref(s);

  /* the last day of the CY2024 rule and the first of CY2027 */
  c.started = 1790726400000LL + 23 * 3600 * 1000LL; /* 2026-09-30 23:00Z */
  s = score_call(&c);
  assert_string_equal(str(comp(s, "tpmoDisclaimer"), "ruleVersion"), "CY2024");
  assert_false(passed(comp(s, "tpmoDisclaimer")));
  json_decref(s);
  c.started = 1790812800000LL; /* 2026-10-01 00:00Z */
  s = score_call(&c);
  assert_string_equal(str(comp(s, "tpmoDisclaimer"), "ruleVersion"), "CY2027");
  assert_true(passed(comp(s, "tpmoDisclaimer")));
  json_decref(s);
}

/* Under CY2027, benefits discussed before the disclaimer fail it (a ZIP
 * code check first is fine); SHIP is no longer required. */
static void test_tpmo_cy2027_before_benefits(void **state)
{
  (void)state;
  const struct call_line call[] = {
      PERSONA("Hello?", 0),
      REP("Hi Ruth, this is Sam with Bright Path, a licensed insurance agent on a recorded line. "
          "What's your ZIP code?",
          2000),
      PERSONA("It's 60614.", 8000),
      REP("Great news, there's a plan in 60614 with a $0 premium and dental coverage.", 11000),
      PERSONA("Oh really?", 18000),
      REP("We do not offer every plan available in your area. Currently we represent 8 "
          "organizations which offer 42 products in your area. Please contact Medicare.gov or "
          "1-800-MEDICARE to get information on all of your options.",
          21000),
      PERSONA("Okay.", 40000),
      /* one more rep turn, so that the call is long enough to judge */
      REP("Which doctors do you see, Ruth?", 45000),
      PERSONA("Dr. Lee.", 50000),
  };
  struct call c = {call, N_LINES(call), DATE_CY2027, "Ruth Adams", NULL, NULL, NULL, 0};
  json_t *s = score_call(&c);
  json_t *tpmo = comp(s, "tpmoDisclaimer");
  assert_string_equal(str(tpmo, "ruleVersion"), "CY2027");
  assert_false(passed(tpmo));
  assert_int_equal(turn_of(tpmo), 5);
  assert_non_null(strstr(str(tpmo, "detail"), "turn 3"));
  assert_non_null(strstr(str(s, "feedback"), "benefits"));
  json_decref(s);

  /* under CY2024 the same call passes the minute rule but misses SHIP */
  c.started = DATE_CY2024;
  s = score_call(&c);
  tpmo = comp(s, "tpmoDisclaimer");
  assert_false(passed(tpmo));
  assert_true(passed(element(tpmo, "notEveryPlan")));
  assert_false(passed(element(tpmo, "allOptionsSource")));
  json_decref(s);

  /* ZIP intake, then the disclaimer, then benefits: CY2027 passes */
  const struct edit fix[] = {{3, call[5].text, -1}, {5, call[3].text, -1}};
  c.started = DATE_CY2027;
  c.edits = fix;
  c.nedits = 2;
  s = score_call(&c);
  tpmo = comp(s, "tpmoDisclaimer");
  assert_true(passed(tpmo));
  assert_int_equal(turn_of(tpmo), 3);
  json_decref(s);
}

static void test_scope_of_appointment(void **state)
{
  (void)state;
  /* no no-obligation statement */
  const struct edit noobl[] = {
      {5,
       "Today I'd like to talk about Medicare Advantage plans and Part D prescription drug "
       "plans. Is that okay with you? And is there anyone else who helps you with these "
       "decisions, like a family member?",
       -1}};
  json_t *s = strong(DATE_CY2024, noobl, 1);
  json_t *soa = comp(s, "scopeOfAppointment");
  assert_false(passed(soa));
  assert_int_equal(turn_of(soa), -1);
  assert_true(overall(s) <= 70);
  json_decref(s);

  /* stated, but the prospect did not agree */
  const struct edit refused[] = {
      {6, "No, I don't want to talk about any of that. Just mail it.", -1}};
  s = strong(DATE_CY2024, refused, 1);
  soa = comp(s, "scopeOfAppointment");
  assert_false(passed(soa));
  assert_int_equal(turn_of(soa), 5);
  assert_true(json_is_null(json_object_get(soa, "agreementTurn")));
  json_decref(s);

  /* no scope at all */
  const struct edit none[] = {
      {5, "Is there anyone else who helps you with these decisions, like a family member?", -1}};
  s = strong(DATE_CY2024, none, 1);
  assert_false(passed(comp(s, "scopeOfAppointment")));
  assert_non_null(strstr(str(s, "feedback"), "scope"));
  json_decref(s);
}

/* "won't enroll you automatically" in the scope of appointment is not an
 * enrollment ask: only turn 31 is. */
static void test_no_obligation_is_not_an_ask(void **state)
{
  (void)state;
  const struct edit soa[] = {
      {5,
       "Today I'd like to talk about Medicare Advantage plans and Part D prescription drug "
       "plans. This call won't enroll you automatically and you don't have to enroll. "
       "Is that okay with you?",
       -1}};
  json_t *s = strong(DATE_CY2024, soa, 1);
  json_t *ask = crit(s, "closing", "asksForEnrollment");
  assert_true(passed(ask));
  json_t *ev = json_object_get(ask, "evidence");
  assert_true(has_turn(ev, 31));
  assert_false(has_turn(ev, 5));
  json_decref(s);

  const struct edit no_ask[] = {soa[0], {31, "Do you have any other questions for me today?", -1}};
  s = strong(DATE_CY2024, no_ask, 2);
  assert_false(passed(crit(s, "closing", "asksForEnrollment")));
  json_decref(s);
}

static void test_prohibited_claims(void **state)
{
  (void)state;
  const struct edit e[] = {
      {1,
       "Hi Dorothy, I'm calling from Medicare on a recorded line. I'm a licensed insurance "
       "agent with Bright Path.",
       -1},
      {25, "The dental is free and it's the best plan on the market. You need to sign up today.",
       -1},
      {35,
       "Of course. Feel free to call me, it's toll-free. What's your credit card number for "
       "the premium? I'll also need your Medicare card number.",
       -1},
  };
  json_t *s = strong(DATE_CY2024, e, 3);
  json_t *c = comp(s, "noProhibitedClaims");
  assert_false(passed(c));
  assert_int_equal(turn_of(c), 1);
  json_t *v = json_object_get(c, "violations");
  assert_int_equal(json_array_size(v), 5);
  const char *keys[] = {"medicareAffiliation", "freeBenefits", "bestLowest", "falseUrgency",
                        "bankCardInfo"};
  const long long turns[] = {1, 25, 25, 25, 35};
  for (size_t i = 0; i < 5; i++) {
    json_t *x = json_array_get(v, i);
    assert_string_equal(str(x, "key"), keys[i]);
    assert_int_equal(json_integer_value(json_object_get(x, "turn")), turns[i]);
  }
  assert_true(overall(s) <= 60);
  assert_non_null(strstr(str(s, "feedback"), "turn 1"));
  assert_true(
      has_turn(json_object_get(crit(s, "compliance", "noProhibitedClaims"), "evidence"), 25));
  json_decref(s);

  /* negations and legitimate uses are not claims */
  const struct edit ok[] = {
      {35,
       "Feel free to call me, it's toll-free. I'm not from Medicare, and I'm not affiliated "
       "with or endorsed by Medicare. It's the best plan for you given your doctors. I'll need "
       "your Medicare card number to enroll.",
       -1}};
  s = strong(DATE_CY2024, ok, 1);
  assert_true(passed(comp(s, "noProhibitedClaims")));
  json_decref(s);

  /* life insurance is fine when the prospect asks for it, a violation otherwise */
  const struct edit asked[] = {
      {34, "Do you also sell life insurance? My friend said I should look into it.", -1},
      {35,
       "I do, and we can set a separate appointment for life insurance. I'll call you in two weeks "
       "to follow up.",
       -1}};
  s = strong(DATE_CY2024, asked, 2);
  assert_true(passed(comp(s, "noProhibitedClaims")));
  json_decref(s);
  s = strong(DATE_CY2024, &asked[1], 1);
  c = comp(s, "noProhibitedClaims");
  assert_false(passed(c));
  assert_string_equal(str(json_array_get(json_object_get(c, "violations"), 0), "key"),
                      "nonHealthProducts");
  json_decref(s);
}

/* ------------------------------------------------------------------------
 * Ranking, text, determinism
 * ---------------------------------------------------------------------- */

static void test_strong_beats_average_beats_poor(void **state)
{
  (void)state;
  json_t *s = strong(DATE_CY2024, NULL, 0);
  struct call ca = {AVERAGE_CALL, N_LINES(AVERAGE_CALL), DATE_CY2024, "Harold Brooks",
                    "Beginner",   "rep_hangup",          NULL,        0};
  json_t *a = score_call(&ca);
  struct call cp = {POOR_CALL, N_LINES(POOR_CALL), DATE_CY2024, "Margaret Lee",
                    "Elite",   "persona_hangup",   NULL,        0};
  json_t *p = score_call(&cp);
  int so = overall(s), ao = overall(a), po = overall(p);
  assert_true(so >= 85);
  assert_true(ao >= 40 && ao <= 75);
  assert_true(po <= 25);
  assert_true(so - ao >= 15);
  assert_true(ao - po >= 15);
  /* dimension by dimension the strong call is never behind the poor one */
  size_t i;
  json_t *d;
  json_array_foreach(json_object_get(s, "dimensions"), i, d)
  {
    json_t *pd = dim(p, str(d, "key"));
    assert_true(json_integer_value(json_object_get(d, "score")) >=
                json_integer_value(json_object_get(pd, "score")));
  }
  /* the poor call misses every required statement */
  assert_false(passed(comp(p, "recordingDisclosure")));
  assert_false(passed(comp(p, "tpmoDisclaimer")));
  assert_false(passed(comp(p, "scopeOfAppointment")));
  assert_false(passed(comp(p, "noProhibitedClaims")));
  assert_true(json_array_size(json_object_get(comp(p, "noProhibitedClaims"), "violations")) >= 5);
  json_decref(s);
  json_decref(a);
  json_decref(p);
}

static void test_summary_and_feedback_use_call_facts(void **state)
{
  (void)state;
  json_t *s = strong(DATE_CY2024, NULL, 0);
  const char *sum = str(s, "summary");
  assert_non_null(strstr(sum, "Dorothy Miller"));
  assert_non_null(strstr(sum, "Advanced"));
  assert_non_null(strstr(sum, "turn 31"));       /* the enrollment ask */
  assert_non_null(strstr(sum, "doctors"));       /* discovery covered */
  assert_non_null(strstr(sum, "The rep ended")); /* end_reason */
  json_decref(s);

  /* a call stopped at the turn or transcript cap says so */
  struct call cl = {STRONG_CALL, N_LINES(STRONG_CALL),
                    DATE_CY2024, "Dorothy Miller",
                    "Advanced",  "limit",
                    NULL,        0};
  s = score_call(&cl);
  sum = str(s, "summary");
  assert_non_null(strstr(sum, "reached the length limit after turn"));
  assert_null(strstr(sum, "The rep ended"));

  struct call ca = {AVERAGE_CALL, N_LINES(AVERAGE_CALL), DATE_CY2024, "Harold Brooks",
                    "Beginner",   "rep_hangup",          NULL,        0};
  json_t *a = score_call(&ca);
  const char *asum = str(a, "summary");
  assert_non_null(strstr(asum, "Harold Brooks"));
  assert_non_null(strstr(asum, "never asked Harold to enroll"));
  assert_non_null(strstr(asum, "talk to family")); /* the objection left open */
  assert_non_null(strstr(asum, "turn 14"));
  assert_non_null(strstr(str(a, "feedback"), "three-way call"));
  assert_string_not_equal(sum, asum);
  assert_string_not_equal(str(s, "feedback"), str(a, "feedback"));

  struct call cp = {POOR_CALL, N_LINES(POOR_CALL), DATE_CY2024, "Margaret Lee",
                    "Elite",   "persona_hangup",   NULL,        0};
  json_t *p = score_call(&cp);
  const char *psum = str(p, "summary");
  assert_non_null(strstr(psum, "Margaret"));
  assert_non_null(strstr(psum, "hung up"));
  assert_non_null(strstr(psum, "scam"));
  const char *pfb = str(p, "feedback");
  assert_non_null(strstr(pfb, "recorded line"));
  assert_non_null(strstr(pfb, "TPMO"));

  /* the same poor call under the CY2027 rule gets the CY2027 advice */
  cp.started = DATE_CY2027;
  json_t *p27 = score_call(&cp);
  assert_non_null(strstr(str(p27, "feedback"), "before discussing benefits"));
  assert_null(strstr(str(p27, "feedback"), "SHIP"));
  json_decref(p27);

  /* the same transcript with another prospect's name gives another summary */
  struct call cs = {STRONG_CALL, N_LINES(STRONG_CALL), DATE_CY2024, "Walter Ortiz",
                    NULL,        "persona_hangup",     NULL,        0};
  json_t *s2 = score_call(&cs);
  assert_non_null(strstr(str(s2, "summary"), "Walter Ortiz"));
  assert_non_null(strstr(str(s2, "summary"), "Walter hung up"));
  assert_string_not_equal(sum, str(s2, "summary"));
  json_decref(s2);
  json_decref(s);
  json_decref(a);
  json_decref(p);
}

static void test_objection_answered_later(void **state)
{
  (void)state;
  /* the rep skips the doctor question at 21 and never comes back to it */
  const struct edit e[] = {{21, "Let's look at the plan itself, Dorothy.", -1}};
  json_t *s = strong(DATE_CY2024, e, 1);
  json_t *ad = crit(s, "objectionHandling", "addresses");
  assert_false(passed(ad));
  assert_non_null(strstr(str(s, "summary"), "doctor would still be covered"));
  assert_non_null(strstr(str(s, "feedback"), "provider directory"));
  json_t *base = strong(DATE_CY2024, NULL, 0);
  assert_true(json_integer_value(json_object_get(dim(s, "objectionHandling"), "score")) <
              json_integer_value(json_object_get(dim(base, "objectionHandling"), "score")));
  json_decref(base);
  json_decref(s);
}

static void test_deterministic(void **state)
{
  (void)state;
  json_t *a = strong(DATE_CY2024, NULL, 0), *b = strong(DATE_CY2024, NULL, 0);
  char *da = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(15));
  char *db = json_dumps(b, JSON_COMPACT | JSON_REAL_PRECISION(15));
  assert_string_equal(da, db);
  free(da);
  free(db);
  json_decref(a);
  json_decref(b);
}

/* ------------------------------------------------------------------------
 * Odd input
 * ---------------------------------------------------------------------- */

static void check_shape(json_t *s)
{
  assert_true(json_is_integer(json_object_get(s, "overallScore")));
  int o = overall(s);
  assert_true(o >= 0 && o <= 100);
  assert_true(json_is_string(json_object_get(s, "summary")));
  assert_true(strlen(str(s, "summary")) > 0);
  assert_true(json_is_string(json_object_get(s, "feedback")));
  assert_true(strlen(str(s, "feedback")) > 0);
  assert_int_equal(json_array_size(json_object_get(s, "dimensions")), 7);
  assert_int_equal(json_array_size(json_object_get(s, "compliance")), 4);
  assert_true(json_is_object(json_object_get(s, "metrics")));
  char *d = json_dumps(s, 0); /* serialises: valid UTF-8 everywhere */
  assert_non_null(d);
  free(d);
}

static void test_edge_cases(void **state)
{
  (void)state;
  struct score_input in = {NULL, 0, DATE_CY2024, 0, NULL, NULL, NULL};
  char err[128];
  json_t *s = scorer_score(g_rubric, &in, err, sizeof err);
  assert_non_null(s);
  check_shape(s);
  assert_int_equal(overall(s), 0);
  assert_non_null(strstr(str(s, "summary"), "empty"));
  json_decref(s);

  /* only the persona spoke */
  const struct call_line only[] = {PERSONA("Hello?", 0), PERSONA("Hello? Anyone there?", 5000)};
  struct call c = {only, 2, DATE_CY2024, "Ruth Adams", "Beginner", "idle", NULL, 0};
  s = score_call(&c);
  check_shape(s);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "metrics"), "repTurns")),
                   0);
  assert_true(overall(s) <= 5);
  assert_non_null(strstr(str(s, "summary"), "never said a word"));
  json_decref(s);

  /* a huge turn, invalid UTF-8, NULL content, an unknown role, a NULL name */
  size_t big = 4u << 20;
  char *huge = malloc(big + 1);
  assert_non_null(huge);
  static const char pat[] = "free best plan? \xff\xc3 recorded line. ";
  for (size_t i = 0; i < big; i++)
    huge[i] = pat[i % (sizeof pat - 1)];
  huge[big] = '\0';
  struct score_turn t[] = {
      {"assistant", "¿Está cubierto mi médico? Ça va — “quotes” and ’curly’ apostrophes…", 0},
      {"user", huge, 1000},
      {"user", NULL, 2000},
      {"system", "ignored", 3000},
      {NULL, "no role", 4000},
      {"user", "Vous êtes \xe2\x80\x99 \xf0\x9f\x98\x80 emoji \xed\xa0\x80 surrogate", 5000},
      {"assistant", "\xc3", 6000},
  };
  in = (struct score_input){t, sizeof t / sizeof t[0], 0, -5, NULL, NULL, "weird_reason"};
  s = scorer_score(g_rubric, &in, err, sizeof err);
  assert_non_null(s);
  check_shape(s);
  json_decref(s);

  /* a persona name that is not valid UTF-8 still yields valid JSON */
  in = (struct score_input){t, 1, DATE_CY2024, 10, "Jos\xe9 \xff", "Elite", "persona_hangup"};
  s = scorer_score(g_rubric, &in, err, sizeof err);
  assert_non_null(s);
  check_shape(s);
  json_decref(s);
  free(huge);

  /* NULL arguments */
  assert_null(scorer_score(NULL, &in, err, sizeof err));
  assert_null(scorer_score(g_rubric, NULL, err, sizeof err));
  rubric_free(NULL);
}

/* ------------------------------------------------------------------------
 * Rubric parsing
 * ---------------------------------------------------------------------- */

/* Parses the real rubric after mutate() changed it; returns whether it parsed. */
static bool parses_after(void (*mutate)(json_t *root), char *err, size_t errlen)
{
  json_t *root = json_loadb(g_text, g_len, 0, NULL);
  assert_non_null(root);
  mutate(root);
  char *text = json_dumps(root, 0);
  assert_non_null(text);
  struct rubric *r = rubric_parse(text, strlen(text), err, errlen);
  bool ok = r != NULL;
  rubric_free(r);
  free(text);
  json_decref(root);
  return ok;
}

static void m_none(json_t *root)
{
  (void)root;
}
static void m_no_version(json_t *root)
{
  json_object_del(root, "rubricVersion");
}
static void m_no_dimensions(json_t *root)
{
  json_object_set_new(root, "dimensions", json_array());
}
static void m_bad_metric(json_t *root)
{
  json_t *c = json_array_get(
      json_object_get(json_array_get(json_object_get(root, "dimensions"), 6), "criteria"), 0);
  json_object_set_new(c, "metric", json_string("nonsense"));
}
static void m_bad_date(json_t *root)
{
  json_t *v = json_array_get(
      json_object_get(json_object_get(json_object_get(root, "compliance"), "tpmoDisclaimer"),
                      "versions"),
      1);
  json_object_set_new(v, "effectiveFrom", json_string("2026-13-01"));
}
static void m_versions_out_of_order(json_t *root)
{
  json_t *vs = json_object_get(
      json_object_get(json_object_get(root, "compliance"), "tpmoDisclaimer"), "versions");
  json_t *first = json_incref(json_array_get(vs, 0));
  json_array_remove(vs, 0);
  json_array_append_new(vs, first);
}
static void m_bad_placeholder(json_t *root)
{
  json_object_set_new(json_object_get(root, "summary"), "intro", json_string("Hello {nobody}."));
}
static void m_empty_phrase(json_t *root)
{
  json_t *c = json_array_get(
      json_object_get(json_array_get(json_object_get(root, "dimensions"), 0), "criteria"), 0);
  json_array_append_new(json_object_get(c, "phrases"), json_string(" ... "));
}
static void m_phrase_not_string(json_t *root)
{
  json_t *c = json_array_get(
      json_object_get(json_array_get(json_object_get(root, "dimensions"), 0), "criteria"), 0);
  json_array_append_new(json_object_get(c, "phrases"), json_integer(3));
}
static void m_no_claims(json_t *root)
{
  json_object_del(json_object_get(root, "compliance"), "noProhibitedClaims");
}
static void m_negative_weight(json_t *root)
{
  json_object_set_new(json_array_get(json_object_get(root, "dimensions"), 0), "weight",
                      json_integer(-3));
}
static void m_dup_dimension(json_t *root)
{
  json_t *d = json_object_get(root, "dimensions");
  json_array_append(d, json_array_get(d, 0));
}

/* Issue 7: compliant paraphrases pass by meaning, with the evidence turn;
 * negated claims are not violations; lookalike claims are. */
static void test_meaning_paraphrases_and_negations(void **state)
{
  (void)state;
  const struct edit e[] = {
      {3,
       "Quick disclaimer: we don't offer all the plans out there in your area. Right now "
       "I work with 8 companies that have 42 plans where you live. For all your options you "
       "can check Medicare dot gov, call one eight hundred Medicare, or ask your local SHIP.",
       -1},
      {5,
       "Today I'd like to go over Medicare Advantage and Part D drug plans. You're not "
       "signing up for anything by talking to me. Is that okay with you? And is there "
       "anyone else who helps you with these decisions, like a family member?",
       -1},
      {35,
       "Of course. I'll never ask for bank or card details, and these plans aren't free. "
       "I'll call you in two weeks to follow up.",
       -1},
  };
  json_t *s = strong(DATE_CY2024, e, 3);
  json_t *tpmo = comp(s, "tpmoDisclaimer");
  assert_true(passed(tpmo));
  assert_int_equal(turn_of(element(tpmo, "notEveryPlan")), 3);
  assert_int_equal(turn_of(element(tpmo, "orgAndProductCount")), 3);
  json_t *soa = comp(s, "scopeOfAppointment");
  assert_true(passed(soa));
  assert_int_equal(json_integer_value(json_object_get(soa, "noObligationTurn")), 5);
  assert_int_equal(json_integer_value(json_object_get(soa, "productTypesTurn")), 5);
  assert_true(passed(comp(s, "noProhibitedClaims")));
  assert_true(overall(s) >= 85);
  json_decref(s);

  const struct edit bad[] = {
      {1,
       "Hi Dorothy, I'm calling on behalf of Medicare, on a recorded line. My name is Sam, a "
       "licensed insurance agent.",
       -1},
      {25, "Medicare endorses this plan, and everyone qualifies.", -1},
  };
  s = strong(DATE_CY2024, bad, 2);
  json_t *v = json_object_get(comp(s, "noProhibitedClaims"), "violations");
  assert_true(json_array_size(v) >= 2);
  bool affiliation1 = false, affiliation25 = false, everyone = false;
  for (size_t i = 0; i < json_array_size(v); i++) {
    json_t *x = json_array_get(v, i);
    long long t = json_integer_value(json_object_get(x, "turn"));
    affiliation1 |= strcmp(str(x, "key"), "medicareAffiliation") == 0 && t == 1;
    affiliation25 |= strcmp(str(x, "key"), "medicareAffiliation") == 0 && t == 25;
    everyone |= strcmp(str(x, "key"), "everyoneQualifies") == 0 && t == 25;
    /* the quote is the rep's own sentence */
    const char *said = t == 1 ? bad[0].text : bad[1].text;
    char head[12];
    snprintf(head, sizeof head, "%s", str(x, "phrase"));
    assert_true(strlen(head) == 11);
    assert_non_null(strstr(said, head));
  }
  assert_true(affiliation1 && affiliation25 && everyone);
  assert_true(overall(s) <= 60);
  json_decref(s);
}

/* Typos and text-speak count as discovery questions. */
static void test_discovery_by_meaning(void **state)
{
  (void)state;
  const struct edit e[] = {{13, "ok. who r ur docs", -1}, {15, "wat meds r u on", -1}};
  json_t *s = strong(DATE_CY2024, e, 2);
  json_t *d = crit(s, "discovery", "doctors"), *p = crit(s, "discovery", "prescriptions");
  assert_true(passed(d));
  assert_true(passed(p));
  bool d13 = false, p15 = false;
  json_t *ev;
  size_t i;
  json_array_foreach(json_object_get(d, "evidence"), i, ev) d13 |= json_integer_value(ev) == 13;
  json_array_foreach(json_object_get(p, "evidence"), i, ev) p15 |= json_integer_value(ev) == 15;
  assert_true(d13 && p15);
  json_decref(s);
}

/* A two-line hang-up is too short to judge, not a list of failures. */
static void test_too_short_to_judge(void **state)
{
  (void)state;
  const struct call_line call[] = {
      PERSONA("Hello?", 0),
      REP("Hi, is this Dorothy?", 2000),
      PERSONA("No, wrong number.", 5000),
  };
  struct call c = {call,       N_LINES(call),    DATE_CY2024, "Dorothy Miller",
                   "Beginner", "persona_hangup", NULL,        0};
  json_t *s = score_call(&c);
  assert_true(json_is_false(json_object_get(s, "assessable")));
  assert_string_equal(str(s, "notAssessableReason"), "tooShort");
  assert_true(json_is_integer(json_object_get(s, "overallScore")));
  assert_non_null(strstr(str(s, "summary"), "too short to judge"));
  assert_null(strstr(str(s, "summary"), "Compliance misses"));
  assert_null(strstr(str(s, "feedback"), "TPMO disclaimer:"));
  json_t *items = json_object_get(s, "compliance");
  for (size_t i = 0; i < json_array_size(items); i++)
    assert_true(json_is_false(json_object_get(json_array_get(items, i), "applicable")));
  json_decref(s);
  /* a judged call says so */
  s = strong(DATE_CY2024, NULL, 0);
  assert_true(json_is_true(json_object_get(s, "assessable")));
  assert_null(json_object_get(s, "notAssessableReason"));
  assert_null(json_object_get(comp(s, "tpmoDisclaimer"), "applicable"));
  json_decref(s);
  /* a prohibited claim stands however short the call */
  const struct call_line claim[] = {
      PERSONA("Hello?", 0),
      REP("Hi, I'm calling from Medicare about your benefits.", 2000),
      PERSONA("Goodbye.", 5000),
  };
  struct call cc = {claim, N_LINES(claim), DATE_CY2024, "Dorothy Miller", NULL, NULL, NULL, 0};
  s = score_call(&cc);
  assert_true(json_is_true(json_object_get(s, "assessable")));
  assert_false(passed(comp(s, "noProhibitedClaims")));
  json_decref(s);
}

/* Off-topic chatter does not raise the conversation-skills dimension. */
static void test_off_topic_does_not_raise_skills(void **state)
{
  (void)state;
  struct call_line call[] = {
      PERSONA("Hello?", 0),
      REP("Hi Dorothy, this is Sam, a licensed insurance agent on a recorded line.", 2000),
      PERSONA("Hi.", 6000),
      REP("What's your favourite colour?", 8000),
      PERSONA("Blue.", 10000),
      REP("Do you have any pets?", 12000),
      PERSONA("A cat.", 14000),
      REP("What's your cat's name?", 16000),
      PERSONA("Milo.", 18000),
      REP("Did you watch the football game last night?", 20000),
      PERSONA("No.", 22000),
  };
  struct call c = {call, N_LINES(call), DATE_CY2024, "Dorothy Miller", NULL, NULL, NULL, 0};
  json_t *s = score_call(&c);
  json_t *m = json_object_get(s, "metrics");
  assert_true(json_integer_value(json_object_get(m, "questionsAsked")) <= 1);
  /* 7: the evidence of questionsAsked is the questions it counted, not the chatter */
  json_t *ev = json_object_get(crit(s, "conversationSkills", "questionsAsked"), "evidence");
  assert_true(json_array_size(ev) <= 1);
  assert_true(json_integer_value(json_object_get(dim(s, "conversationSkills"), "score")) < 100);
  json_decref(s);
}

/* Summaries are cut at a word boundary, never mid-word. */
static void test_text_cut_at_word_boundary(void **state)
{
  (void)state;
  char out[16];
  sc_cut_words(out, sizeof out, "whether the doctor is in network", 32);
  assert_string_equal(out, "whether the\xE2\x80\xA6");
  sc_cut_words(out, sizeof out, "short", 5);
  assert_string_equal(out, "short");
  struct sc_buf b;
  sc_buf_init(&b, 20);
  sc_buf_adds(&b, "Discovery covered doctors and whether they travel.");
  assert_true(b.overflow);
  assert_string_equal(sc_buf_str(&b), "Discovery covered\xE2\x80\xA6");
  sc_buf_release(&b);
}

/* Issue 7: a compliant rep who speaks naturally (paraphrases, text-speak)
 * passes every compliance rule (the keyword scorer missed the TPMO
 * disclaimer and the scope of appointment, and capped the call). */
static void test_natural_compliant_call(void **state)
{
  (void)state;
  const struct call_line call[] = {
      PERSONA("Hello?", 0),
      REP("Hey, is this Dorothy? It's Sam from Bright Path, I'm a licenced agent and just so you "
          "know we're on a recorded line. I don't work for Medicare or the government.",
          2000),
      PERSONA("Yes, this is Dorothy.", 12000),
      REP("Quick thing I have to mention: we don't offer all the plans out there in your area. "
          "Right now I work with 8 companies that have 42 plans where you live, and for all your "
          "options you can always check medicare dot gov or call one eight hundred Medicare.",
          15000),
      PERSONA("Okay.", 35000),
      REP("I'd like to go over Medicare Advantage and Part D drug plans with you today. You're "
          "not signing up for anything by talking to me. That alright?",
          38000),
      PERSONA("Sure, that's fine.", 50000),
      REP("Great. So wat plan r u on now, and what do you like or not like about it?", 53000),
      PERSONA("Original Medicare with a supplement. The premium keeps going up.", 60000),
      REP("Got it. who r ur docs, any specialists?", 70000),
      PERSONA("Dr. Patel, and a cardiologist, Dr. Kim.", 76000),
      REP("wat meds r u on, and which pharmacy do u use?", 82000),
      PERSONA("Eliquis and metformin, at the Walgreens on Main.", 88000),
      REP("I found a plan with a $0 premium, both your doctors in network, and Eliquis at a $47 "
          "copay. Would you like to go ahead and enroll today?",
          95000),
      PERSONA("Yes, let's do it.", 110000),
  };
  struct call c = {call,       N_LINES(call), DATE_CY2027, "Dorothy Miller",
                   "Beginner", "rep_hangup",  NULL,        0};
  json_t *s = score_call(&c);
  const char *keys[] = {"recordingDisclosure", "tpmoDisclaimer", "scopeOfAppointment",
                        "noProhibitedClaims"};
  for (size_t i = 0; i < 4; i++)
    if (!passed(comp(s, keys[i])))
      fail_msg("%s failed: %s", keys[i], str(comp(s, keys[i]), "detail"));
  assert_true(passed(crit(s, "opening", "notGovernment")));
  assert_true(passed(crit(s, "discovery", "currentCoverage")));
  assert_true(passed(crit(s, "discovery", "doctors")));
  assert_true(passed(crit(s, "discovery", "prescriptions")));
  assert_true(passed(crit(s, "closing", "asksForEnrollment")));
  /* no compliance penalty or cap: what is left is the discovery it skipped */
  assert_int_equal(json_integer_value(json_object_get(dim(s, "compliance"), "score")), 100);
  assert_true(overall(s) >= 50);
  json_decref(s);
}

/* Issue 7, a trainer's review of 17 played calls: each verdict the scorer
 * got wrong, as a regression. A case is one short call and the verdict of
 * one criterion ("dim.key") or compliance item ("compliance.key"). */
struct verdict_case {
  const char *dim, *key;
  bool want;
  struct call_line lines[8];
};

static bool verdict_of(json_t *s, const char *dim_key, const char *key)
{
  return passed(strcmp(dim_key, "compliance") == 0 ? comp(s, key) : crit(s, dim_key, key));
}

static void test_trainer_verdicts(void **state)
{
  (void)state;
  static const struct verdict_case cases[] = {
      /* 1: an introduction with name and agency, however it is put */
      {"opening",
       "introducesSelf",
       true,
       {PERSONA("Hello?", 0),
        REP("Hi, this is Sam Carter, a licensed insurance agent with BrightPath Insurance", 2000)}},
      {"opening",
       "introducesSelf",
       true,
       {PERSONA("Hello?", 0), REP("this is dana w/ acme health", 2000)}},
      {"opening",
       "introducesSelf",
       false,
       {PERSONA("Hello?", 0), REP("Hi, is this Dorothy? How are you today?", 2000)}},
      /* 3: "help" in a question about who decides is not Extra Help... */
      {"discovery",
       "extraHelp",
       false,
       {PERSONA("Hello?", 0), REP("Does anyone help you make decisions like this?", 2000)}},
      {"opening",
       "helperOrPoa",
       true,
       {PERSONA("Hello?", 0), REP("Does anyone help you make decisions like this?", 2000)}},
      /* ...while the real question still is */
      {"discovery",
       "extraHelp",
       true,
       {PERSONA("Hello?", 0), REP("Do you get Extra Help or Medicaid?", 2000)}},
      /* 4: an open ask without a '?' */
      {"discovery",
       "currentCoverage",
       true,
       {PERSONA("Hello?", 0), REP("So tell me a bit about your current coverage.", 2000)}},
      /* 5: text-speak discovery */
      {"discovery", "partsAB", true, {PERSONA("Hello?", 0), REP("u got parts a n b?", 2000)}},
      {"discovery",
       "likesDislikes",
       true,
       {PERSONA("Hello?", 0), REP("wat do u hate bout ur plan", 2000)}},
      {"opening",
       "helperOrPoa",
       true,
       {PERSONA("Hello?", 0), REP("who helps u decide stuff like this", 2000)}},
      /* 2: a compliant scope ask, grudgingly allowed by an Elite prospect */
      {"compliance",
       "scopeOfAppointment",
       true,
       {PERSONA("Hello?", 0),
        REP("I need your permission to discuss Medicare Advantage and Part D plans. There's no "
            "obligation to enroll. Do I have your OK?",
            2000),
        PERSONA("You can ask. Whether I answer is another matter.", 9000)}},
      {"compliance",
       "scopeOfAppointment",
       false,
       {PERSONA("Hello?", 0),
        REP("I need your permission to discuss Medicare Advantage and Part D plans. There's no "
            "obligation to enroll. Do I have your OK?",
            2000),
        PERSONA("No. I don't want to hear about plans.", 9000)}},
      /* 6: acknowledgement of a worry about doctors */
      {"objectionHandling",
       "acknowledges",
       true,
       {PERSONA("Hello?", 0), REP("What matters to you in a plan?", 2000),
        PERSONA("I'm worried I won't be able to keep my doctors.", 5000),
        REP("I understand. It makes sense to want to keep your doctors, so let me check them.",
            8000)}},
      /* 8: pushing to sign fails noPressure, before the objection too */
      {"objectionHandling",
       "noPressure",
       false,
       {PERSONA("Hello?", 0), REP("Hi, this is Sam with BrightPath.", 2000),
        PERSONA("Hello.", 4000), REP("this plan is free and you need to sign up today", 6000),
        PERSONA("I can't afford another premium.", 9000),
        REP("I understand, that's fair. The premium is $0 a month.", 12000)}},
      /* 10: a cost worry answered in plain words */
      {"objectionHandling",
       "addresses",
       true,
       {PERSONA("Hello?", 0), REP("What plan are you on now?", 2000),
        PERSONA("Original Medicare. Honestly I can't afford another premium.", 5000),
        REP("I hear you. This plan wouldn't cost you anything more than what you pay now.", 8000)}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct verdict_case *vc = &cases[i];
    size_t n = 0;
    while (n < 8 && vc->lines[n].role)
      n++;
    struct call c = {vc->lines, n, DATE_CY2024, "Dorothy Miller", "Elite", "rep_hangup", NULL, 0};
    json_t *s = score_call(&c);
    if (verdict_of(s, vc->dim, vc->key) != vc->want)
      fail_msg("case %zu: %s.%s should have %s", i, vc->dim, vc->key,
               vc->want ? "passed" : "failed");
    json_decref(s);
  }
}

/* 9: a three-rep-turn hang-up with an introduction and a scope ask is too
 * short to judge (under 4 rep turns), not a list of compliance misses. */
static void test_three_turn_hangup_is_too_short(void **state)
{
  (void)state;
  const struct call_line call[] = {
      PERSONA("Hello?", 0),
      REP("Hi, this is Sam Carter, a licensed insurance agent with BrightPath Insurance, on a "
          "recorded line.",
          2000),
      PERSONA("What do you want?", 8000),
      REP("I'd like to go over Medicare Advantage plans with you, there's no obligation. Is "
          "that okay?",
          11000),
      PERSONA("I don't have time for this.", 17000),
      REP("It only takes a few minutes, what plan are you on now?", 20000),
      PERSONA("Goodbye.", 24000),
  };
  struct call c = {call,    N_LINES(call),    DATE_CY2024, "Dorothy Miller",
                   "Elite", "persona_hangup", NULL,        0};
  json_t *s = score_call(&c);
  assert_true(json_is_false(json_object_get(s, "assessable")));
  assert_null(strstr(str(s, "summary"), "Compliance misses"));
  json_decref(s);
}

static void test_rubric_parse_rejects_malformed(void **state)
{
  (void)state;
  char err[256];
  assert_null(rubric_parse(NULL, 0, err, sizeof err));
  const char *bad[] = {"",
                       "not json",
                       "[]",
                       "{}",
                       "{\"rubricVersion\": 3}",
                       "{\"rubricVersion\": \"x\"}",
                       "{\"a\":1,\"a\":2}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    assert_null(rubric_parse(bad[i], strlen(bad[i]), err, sizeof err));
    assert_true(strlen(err) > 0);
  }
  /* truncated real rubric */
  assert_null(rubric_parse(g_text, g_len / 2, err, sizeof err));

  assert_true(parses_after(m_none, err, sizeof err));
  void (*muts[])(json_t *) = {m_no_version,      m_no_dimensions,         m_bad_metric,
                              m_bad_date,        m_versions_out_of_order, m_bad_placeholder,
                              m_empty_phrase,    m_phrase_not_string,     m_no_claims,
                              m_negative_weight, m_dup_dimension};
  for (size_t i = 0; i < sizeof muts / sizeof muts[0]; i++) {
    err[0] = '\0';
    assert_false(parses_after(muts[i], err, sizeof err));
    assert_true(strlen(err) > 0);
  }
  assert_string_equal(rubric_version(g_rubric), "ma-full-sale/2026.11-2");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rubric_parse_rejects_malformed),
      cmocka_unit_test(test_strong_call_is_compliant),
      cmocka_unit_test(test_strong_call_evidence),
      cmocka_unit_test(test_metrics),
      cmocka_unit_test(test_missing_recording_disclosure),
      cmocka_unit_test(test_missing_tpmo),
      cmocka_unit_test(test_tpmo_timing_cy2024),
      cmocka_unit_test(test_tpmo_cy2027_before_benefits),
      cmocka_unit_test(test_scope_of_appointment),
      cmocka_unit_test(test_no_obligation_is_not_an_ask),
      cmocka_unit_test(test_prohibited_claims),
      cmocka_unit_test(test_strong_beats_average_beats_poor),
      cmocka_unit_test(test_summary_and_feedback_use_call_facts),
      cmocka_unit_test(test_objection_answered_later),
      cmocka_unit_test(test_deterministic),
      cmocka_unit_test(test_edge_cases),
      cmocka_unit_test(test_meaning_paraphrases_and_negations),
      cmocka_unit_test(test_discovery_by_meaning),
      cmocka_unit_test(test_too_short_to_judge),
      cmocka_unit_test(test_off_topic_does_not_raise_skills),
      cmocka_unit_test(test_text_cut_at_word_boundary),
      cmocka_unit_test(test_natural_compliant_call),
      cmocka_unit_test(test_trainer_verdicts),
      cmocka_unit_test(test_three_turn_hangup_is_too_short),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
