/*
 * test_persona.c — unit tests of the persona engine against the shipped
 * drill (drills/ma-full-sale.json): intents, facts in replies, difficulty
 * behaviour, determinism, no repeated lines, and drill validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "persona/persona.h"
#include "reply_literal.h"

struct fixture {
  char *text; /* the drill file */
  size_t len;
  struct drill *d;
  json_t *root; /* the same file, to read the personas' facts */
};

static struct fixture fx;

static int group_setup(void **state)
{
  (void)state;
  const char *dir = getenv("ATHOS_SOURCE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/drills/ma-full-sale.json", dir ? dir : ".");
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "cannot open %s\n", path);
    return -1;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  fx.text = malloc((size_t)n + 1);
  fx.len = fread(fx.text, 1, (size_t)n, f);
  fx.text[fx.len] = '\0';
  fclose(f);
  char err[256];
  fx.d = drill_parse(fx.text, fx.len, err, sizeof err);
  if (fx.d == NULL) {
    fprintf(stderr, "drill_parse: %s\n", err);
    return -1;
  }
  fx.root = json_loadb(fx.text, fx.len, 0, NULL);
  return fx.root ? 0 : -1;
}

static int group_teardown(void **state)
{
  (void)state;
  drill_free(fx.d);
  json_decref(fx.root);
  free(fx.text);
  return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static const json_t *persona_json(size_t idx)
{
  return json_array_get(json_object_get(fx.root, "personas"), idx);
}

static const char *pj_str(size_t idx, const char *key)
{
  return json_string_value(json_object_get(persona_json(idx), key));
}

static const char *pj_item(size_t idx, const char *list, size_t i, const char *key)
{
  return json_string_value(
      json_object_get(json_array_get(json_object_get(persona_json(idx), list), i), key));
}

static size_t pj_count(size_t idx, const char *list)
{
  return json_array_size(json_object_get(persona_json(idx), list));
}

static bool persona_suits(size_t idx, enum persona_difficulty df)
{
  const json_t *a = json_object_get(persona_json(idx), "difficulty");
  for (size_t i = 0; i < json_array_size(a); i++)
    if (strcmp(json_string_value(json_array_get(a, i)), persona_difficulty_name(df)) == 0)
      return true;
  return false;
}

/* Whether the persona has a power of attorney or a decision helper (it
 * then never enrolls alone). */
static bool has_helper(size_t idx)
{
  return pj_str(idx, "decision_helper") != NULL;
}

static const char *say(struct persona_call *pc, const char *line, bool *hangup)
{
  struct persona_reply r = {NULL, false};
  assert_int_equal(persona_call_reply(pc, line, &r), 0);
  assert_non_null(r.text);
  assert_true(strlen(r.text) > 0);
  assert_true(strlen(r.text) <= 600);
  if (hangup != NULL)
    *hangup = r.hangup;
  return r.text;
}

static struct persona_call_info info(const struct persona_call *pc)
{
  struct persona_call_info in;
  persona_call_info(pc, &in);
  return in;
}

/* Says line and asserts the persona stays on the call. */
static const char *say_ok(struct persona_call *pc, const char *line)
{
  bool hang = false;
  const char *t = say(pc, line, &hang);
  if (hang) {
    struct persona_call_info in = info(pc);
    fail_msg("%s hung up at turn %u on \"%s\": %s (patience %d, objections %u/%u)",
             drill_persona_name(fx.d, in.persona_idx), in.turn, line, t, in.patience,
             in.objections_addressed, in.objections_raised);
  }
  return t;
}

static const char *const OPENING =
    "Hi, good morning! My name is Mike Jones, I'm a licensed insurance agent with "
    "Acme Health, and this call is recorded for quality and compliance.";
static const char *const TPMO =
    "We do not offer every plan available in your area. Currently we represent 7 "
    "organizations which offer 42 products in your area. Please contact Medicare.gov, "
    "1-800-MEDICARE, or your local State Health Insurance Program to get information "
    "on all of your options.";
static const char *const PERMISSION =
    "Is it okay if we talk about Medicare Advantage plans today? There's no obligation, "
    "and it won't affect your current coverage.";
/* Empathy plus the facts that answer every objection in the drill. */
static const char *const ADDRESS_ALL =
    "I completely understand, that's a great question. Your doctor is in network, I "
    "checked the provider directory; it's a PPO with no referrals; the premium is $0 a "
    "month, within your budget; your drugs are on the formulary; you can verify my "
    "license with the state department of insurance; I'll mail you the Summary of "
    "Benefits in writing; you have a trial right and can switch back; we can do a "
    "three-way call so your family can join; and let me explain Part C simply, you "
    "could save compared side by side.";

static void opening(struct persona_call *pc)
{
  say_ok(pc, OPENING);
  say_ok(pc, TPMO);
  say_ok(pc, PERMISSION);
}

/* ---- difficulty and drill basics -------------------------------------- */

static void test_difficulty_parse(void **state)
{
  (void)state;
  enum persona_difficulty d = PERSONA_ELITE;
  assert_int_equal(persona_difficulty_parse("Beginner", &d), 0);
  assert_int_equal(d, PERSONA_BEGINNER);
  assert_int_equal(persona_difficulty_parse("Advanced", &d), 0);
  assert_int_equal(d, PERSONA_ADVANCED);
  assert_int_equal(persona_difficulty_parse("Elite", &d), 0);
  assert_int_equal(d, PERSONA_ELITE);
  const char *bad[] = {"beginner", "ELITE", "", "Expert", "Elite ", " Advanced"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    d = PERSONA_ADVANCED;
    assert_int_equal(persona_difficulty_parse(bad[i], &d), -1);
    assert_int_equal(d, PERSONA_ADVANCED); /* untouched */
  }
  assert_int_equal(persona_difficulty_parse(NULL, &d), -1);
  assert_string_equal(persona_difficulty_name(PERSONA_BEGINNER), "Beginner");
  assert_string_equal(persona_difficulty_name(PERSONA_ADVANCED), "Advanced");
  assert_string_equal(persona_difficulty_name(PERSONA_ELITE), "Elite");
}

static void test_drill_pool(void **state)
{
  (void)state;
  assert_string_equal(drill_key(fx.d), "ma-full-sale");
  size_t n = drill_persona_count(fx.d);
  assert_true(n >= 12);
  char states[64][3];
  size_t ns = 0;
  for (size_t i = 0; i < n; i++) {
    const char *st = drill_persona_state(fx.d, i);
    assert_non_null(drill_persona_name(fx.d, i));
    assert_int_equal(strlen(st), 2);
    bool seen = false;
    for (size_t j = 0; j < ns; j++)
      seen |= strcmp(states[j], st) == 0;
    if (!seen && ns < 64)
      memcpy(states[ns++], st, 3);
    /* Every persona carries the facts the issue asks for. */
    assert_true(pj_count(i, "doctors") >= 1);
    assert_true(pj_count(i, "prescriptions") >= 1);
    assert_true(pj_count(i, "objections") >= 3);
    assert_true(pj_count(i, "openers") >= 1);
    assert_non_null(pj_str(i, "pharmacy"));
    assert_non_null(pj_str(i, "budget"));
    assert_non_null(pj_str(i, "coverage"));
    assert_non_null(pj_str(i, "personality"));
  }
  assert_true(ns >= 6);
  assert_null(drill_persona_name(fx.d, n));

  /* State filter: lower case works, an unknown state falls back to the pool. */
  for (uint64_t seed = 0; seed < 20; seed++) {
    size_t i = drill_pick_persona(fx.d, "fl", PERSONA_BEGINNER, seed);
    assert_string_equal(drill_persona_state(fx.d, i), "FL");
    i = drill_pick_persona(fx.d, "ZZ", PERSONA_ELITE, seed);
    assert_true(i < n);
    assert_true(persona_suits(i, PERSONA_ELITE));
    i = drill_pick_persona(fx.d, NULL, PERSONA_ADVANCED, seed);
    assert_true(persona_suits(i, PERSONA_ADVANCED));
  }
}

/* ---- intents ---------------------------------------------------------- */

struct intent_case {
  const char *text;
  enum persona_intent intent;
};

static void test_intents(void **state)
{
  (void)state;
  static const struct intent_case cases[] = {
      {"Hello!", PERSONA_INTENT_GREETING},
      {"Good morning, how are you doing today?", PERSONA_INTENT_GREETING},
      {"Hi there, nice to meet you.", PERSONA_INTENT_GREETING},
      {"My name is Sarah.", PERSONA_INTENT_INTRODUCTION},
      {"I'm a licensed insurance agent with Bright Health Partners.", PERSONA_INTENT_INTRODUCTION},
      {"I work with an independent broker in your area.", PERSONA_INTENT_INTRODUCTION},
      {"I'm calling on behalf of Acme Insurance Agency.", PERSONA_INTENT_INTRODUCTION},
      {"I'm on a recorded line.", PERSONA_INTENT_RECORDING_DISCLOSURE},
      {"This call is being recorded for quality and compliance.",
       PERSONA_INTENT_RECORDING_DISCLOSURE},
      {"Just so you know, calls are recorded.", PERSONA_INTENT_RECORDING_DISCLOSURE},
      {"Our conversation may be recorded.", PERSONA_INTENT_RECORDING_DISCLOSURE},
      {"We don't offer every plan available in your area.", PERSONA_INTENT_TPMO_DISCLAIMER},
      {"Currently we represent 5 organizations which offer 20 products.",
       PERSONA_INTENT_TPMO_DISCLAIMER},
      {"You can always contact Medicare.gov or 1-800-MEDICARE for all of your options.",
       PERSONA_INTENT_TPMO_DISCLAIMER},
      {"Do I have your permission to discuss Medicare Advantage plans?", PERSONA_INTENT_PERMISSION},
      {"Is it okay if I ask you a few questions?", PERSONA_INTENT_PERMISSION},
      {"This is a scope of appointment for MA and Part D plans.", PERSONA_INTENT_PERMISSION},
      {"There's no obligation to enroll.", PERSONA_INTENT_PERMISSION},
      {"Who is your primary care doctor?", PERSONA_INTENT_ASK_DOCTORS},
      {"Do you see any specialists?", PERSONA_INTENT_ASK_DOCTORS},
      {"Which doctors do you want to keep?", PERSONA_INTENT_ASK_DOCTORS},
      {"What medications are you taking?", PERSONA_INTENT_ASK_PRESCRIPTIONS},
      {"Can you read me your prescriptions and the doses?", PERSONA_INTENT_ASK_PRESCRIPTIONS},
      {"Do you take any pills every day?", PERSONA_INTENT_ASK_PRESCRIPTIONS},
      {"Which pharmacy do you use?", PERSONA_INTENT_ASK_PHARMACY},
      {"Where do you fill your prescriptions?", PERSONA_INTENT_ASK_PHARMACY},
      {"Do you use mail-order?", PERSONA_INTENT_ASK_PHARMACY},
      {"What's your current coverage?", PERSONA_INTENT_ASK_COVERAGE},
      {"Do you have Original Medicare or a Medicare Advantage plan?", PERSONA_INTENT_ASK_COVERAGE},
      {"Do you have a Medigap supplement?", PERSONA_INTENT_ASK_COVERAGE},
      {"What's your monthly budget for this?", PERSONA_INTENT_ASK_BUDGET},
      {"How much can you afford each month?", PERSONA_INTENT_ASK_BUDGET},
      {"How much are you paying now?", PERSONA_INTENT_ASK_BUDGET},
      {"Do you get Extra Help?", PERSONA_INTENT_ASK_EXTRA_HELP},
      {"Are you on Medicaid as well?", PERSONA_INTENT_ASK_EXTRA_HELP},
      {"Do you receive the low income subsidy?", PERSONA_INTENT_ASK_EXTRA_HELP},
      {"Any health concerns I should know about?", PERSONA_INTENT_ASK_HEALTH},
      {"Have you had any surgeries or hospital stays?", PERSONA_INTENT_ASK_HEALTH},
      {"How's your health these days?", PERSONA_INTENT_ASK_HEALTH},
      {"Based on what you told me, I'd recommend this plan.", PERSONA_INTENT_PLAN_PRESENTATION},
      {"It has a $0 premium and a $10 copay for primary care.", PERSONA_INTENT_PLAN_PRESENTATION},
      {"The maximum out of pocket is $3,900 and it has a 4.5 star rating.",
       PERSONA_INTENT_PLAN_PRESENTATION},
      {"I understand, that's a fair concern.", PERSONA_INTENT_OBJECTION_HANDLING},
      {"Great question, let me check that for you.", PERSONA_INTENT_OBJECTION_HANDLING},
      {"I hear you, take your time.", PERSONA_INTENT_OBJECTION_HANDLING},
      {"Would you like to enroll today?", PERSONA_INTENT_ENROLLMENT_ASK},
      {"Shall we get you signed up?", PERSONA_INTENT_ENROLLMENT_ASK},
      {"Are you ready to move forward with this plan?", PERSONA_INTENT_ENROLLMENT_ASK},
      {"Let me recap what you told me.", PERSONA_INTENT_RECAP},
      {"Just to confirm, did I get everything?", PERSONA_INTENT_RECAP},
      {"Let me summarize: did I miss anything?", PERSONA_INTENT_RECAP},
      {"Thanks for your time, goodbye!", PERSONA_INTENT_GOODBYE},
      {"Have a great day.", PERSONA_INTENT_GOODBYE},
      {"Okay, take care, talk soon.", PERSONA_INTENT_GOODBYE},
      {"This plan is completely free.", PERSONA_INTENT_PRESSURE},
      {"I'm calling from Medicare.", PERSONA_INTENT_PRESSURE},
      {"You're guaranteed to save money.", PERSONA_INTENT_PRESSURE},
      {"If you don't act now you'll lose your coverage.", PERSONA_INTENT_PRESSURE},
      {"Everyone qualifies for these free groceries.", PERSONA_INTENT_PRESSURE},
      {"Can I get your bank account number?", PERSONA_INTENT_PRESSURE},
      {"Did you catch the football game?", PERSONA_INTENT_OFF_TOPIC},
      {"Crazy weather we're having, huh?", PERSONA_INTENT_OFF_TOPIC},
      {"Do you like the stock market these days?", PERSONA_INTENT_OFF_TOPIC},
      {"Sorry, can you say that again?", PERSONA_INTENT_REPEAT_REQUEST},
      {"I didn't catch that.", PERSONA_INTENT_REPEAT_REQUEST},
      {"Could you repeat that, please?", PERSONA_INTENT_REPEAT_REQUEST},
      {"Pardon?", PERSONA_INTENT_REPEAT_REQUEST},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint32_t m = drill_classify(fx.d, cases[i].text);
    if (!(m & (1u << cases[i].intent)))
      fail_msg("\"%s\" not classified as %s (mask %#x)", cases[i].text,
               persona_intent_name(cases[i].intent), m);
  }
  /* Every intent has a name and at least three phrasings above. */
  for (int i = 0; i < PERSONA_INTENT__COUNT; i++) {
    int n = 0;
    for (size_t j = 0; j < sizeof cases / sizeof cases[0]; j++)
      n += cases[j].intent == (enum persona_intent)i;
    assert_non_null(persona_intent_name((enum persona_intent)i));
    assert_true(n >= 3);
  }
  assert_null(persona_intent_name(PERSONA_INTENT__COUNT));
}

static void test_intent_boundaries_and_negation(void **state)
{
  (void)state;
  uint32_t pressure = 1u << PERSONA_INTENT_PRESSURE;
  uint32_t m = drill_classify(fx.d, OPENING);
  assert_true(m & (1u << PERSONA_INTENT_GREETING));
  assert_true(m & (1u << PERSONA_INTENT_INTRODUCTION));
  assert_true(m & (1u << PERSONA_INTENT_RECORDING_DISCLOSURE));
  assert_false(m & pressure);
  /* Compliant statements are not misread as their forbidden twins. */
  assert_false(drill_classify(fx.d, "We are not calling from Medicare.") & pressure);
  assert_false(drill_classify(fx.d, "Nothing is free, and savings aren't guaranteed.") & pressure);
  assert_false(drill_classify(fx.d, "This does not obligate you to enroll.") &
               (1u << PERSONA_INTENT_ENROLLMENT_ASK));
  assert_false(drill_classify(fx.d, PERMISSION) & (1u << PERSONA_INTENT_ASK_COVERAGE));
  /* Word boundaries: "this" holds "hi", "relationship" holds "ship". */
  assert_false(drill_classify(fx.d, "this") & (1u << PERSONA_INTENT_GREETING));
  assert_false(drill_classify(fx.d, "relationship") & (1u << PERSONA_INTENT_TPMO_DISCLAIMER));
  /* Case, punctuation and curly apostrophes are normalised away. */
  assert_true(drill_classify(fx.d, "DO YOU GET EXTRA-HELP???") &
              (1u << PERSONA_INTENT_ASK_EXTRA_HELP));
  assert_true(drill_classify(fx.d, "I\xE2\x80\x99m on a RECORDED line") &
              (1u << PERSONA_INTENT_RECORDING_DISCLOSURE));
  assert_int_equal(drill_classify(fx.d, ""), 0);
  assert_int_equal(drill_classify(fx.d, "\xff\xfe\x01"), 0);
}

/* ---- facts in replies -------------------------------------------------- */

static void test_replies_carry_persona_facts(void **state)
{
  (void)state;
  for (size_t p = 0; p < drill_persona_count(fx.d); p++) {
    struct persona_call *pc = persona_call_new(fx.d, p, PERSONA_ADVANCED, 42 + p);
    assert_non_null(pc);
    assert_non_null(persona_call_open(pc));
    opening(pc);
    const char *t = say_ok(pc, "Who are your doctors?");
    for (size_t i = 0; i < pj_count(p, "doctors"); i++)
      if (strstr(t, pj_item(p, "doctors", i, "name")) == NULL)
        fail_msg("%s: doctors reply lacks %s: %s", drill_persona_name(fx.d, p),
                 pj_item(p, "doctors", i, "name"), t);
    t = say_ok(pc, "What medications do you take?");
    for (size_t i = 0; i < pj_count(p, "prescriptions"); i++) {
      assert_non_null(strstr(t, pj_item(p, "prescriptions", i, "name")));
      assert_non_null(strstr(t, pj_item(p, "prescriptions", i, "dose")));
    }
    t = say_ok(pc, "Which pharmacy do you use?");
    assert_non_null(strstr(t, pj_str(p, "pharmacy")));
    t = say_ok(pc, "What's your monthly budget?");
    assert_non_null(strstr(t, pj_str(p, "budget")));
    t = say_ok(pc, "And what coverage do you have today?");
    assert_non_null(strstr(t, pj_str(p, "coverage")));
    t = say_ok(pc, "Do you get Extra Help or Medicaid?");
    assert_non_null(strstr(t, pj_str(p, "extra_help")));
    /* Asked again, it remembers and says so with the same facts. */
    char first[700];
    snprintf(first, sizeof first, "%s", say_ok(pc, "Sorry, who were your doctors again?"));
    assert_non_null(strstr(first, pj_item(p, "doctors", 0, "name")));
    t = say_ok(pc, "Remind me, which doctors do you see?");
    assert_non_null(strstr(t, pj_item(p, "doctors", 0, "name")));
    assert_string_not_equal(t, first);
    struct persona_call_info in = info(pc);
    assert_true(in.facts_revealed & (1u << 1)); /* doctors */
    assert_true(in.facts_revealed & (1u << 2)); /* prescriptions */
    persona_call_free(pc);
  }
}

static void test_repeat_request_repeats_last_line(void **state)
{
  (void)state;
  struct persona_call *pc = persona_call_new(fx.d, 0, PERSONA_BEGINNER, 7);
  char opener[700];
  snprintf(opener, sizeof opener, "%s", persona_call_open(pc));
  assert_string_equal(say_ok(pc, "Sorry, what was that?"), opener);
  say_ok(pc, OPENING);
  char last[700];
  snprintf(last, sizeof last, "%s", say_ok(pc, "Which pharmacy do you use?"));
  assert_string_equal(say_ok(pc, "Sorry, can you say that again?"), last);
  assert_string_equal(say_ok(pc, "I didn't catch that."), last);
  persona_call_free(pc);
}

/* ---- difficulty behaviour ---------------------------------------------- */

static size_t first_persona_for(enum persona_difficulty df)
{
  for (size_t i = 0; i < drill_persona_count(fx.d); i++)
    if (persona_suits(i, df))
      return i;
  fail_msg("no persona for %s", persona_difficulty_name(df));
  return 0;
}

/* A fresh call of persona p at tier df, past the opening lines. The
 * caller frees it. */
static struct persona_call *started(size_t p, enum persona_difficulty df, uint64_t seed)
{
  struct persona_call *pc = persona_call_new(fx.d, p, df, seed);
  persona_call_open(pc);
  opening(pc);
  return pc;
}

/* A fresh Elite call past the opening lines that hears line; *hang tells
 * whether it hung up. The caller frees the call. */
static struct persona_call *elite_says(const char *line, uint64_t seed, bool *hang)
{
  struct persona_call *pc = started(first_persona_for(PERSONA_ELITE), PERSONA_ELITE, seed);
  say(pc, line, hang);
  return pc;
}

static bool is_kind(size_t p, const char *text, const char *kind);

/* An Elite prospect reacts in proportion: the first push gets a warning
 * and the call goes on; a second push ends it, and it stays ended. */
static void test_elite_hangs_up_on_pressure(void **state)
{
  (void)state;
  static const char *const pressure[] = {
      "This plan is completely free, so there's nothing to think about.",
      "I'm calling from Medicare about your benefits.",
      "You're guaranteed to save money with this one.",
      "You need to sign up today or you'll lose your coverage.",
  };
  const size_t n = sizeof pressure / sizeof pressure[0];
  size_t p = first_persona_for(PERSONA_ELITE);
  for (size_t k = 0; k < n; k++) {
    struct persona_call *pc = started(p, PERSONA_ELITE, 100 + k);
    bool hang = true;
    const char *t = say(pc, pressure[k], &hang);
    if (hang || !is_kind(p, t, "pressure_pushback"))
      fail_msg("Elite on a first push \"%s\": %s%s", pressure[k], t, hang ? " (hung up)" : "");
    assert_int_equal(info(pc).pressure_count, 1);
    say(pc, pressure[(k + 1) % n], &hang);
    assert_true(hang);
    struct persona_call_info in = info(pc);
    assert_true(in.ended);
    assert_string_equal(in.stage, "ended");
    /* After hanging up the call stays ended. */
    say(pc, "Hello? Are you there?", &hang);
    assert_true(hang);
    persona_call_free(pc);
  }
}

/* Two prohibited claims in one line are strong pressure: an Elite
 * prospect hangs up at once, answering the claim; the same claims
 * negated are no pressure at all. */
static void test_elite_strong_pressure(void **state)
{
  (void)state;
  size_t p = first_persona_for(PERSONA_ELITE);
  bool hang = false;
  struct persona_call *pc = elite_says(
      "Listen, this plan is free and you need to sign up today before it's gone.", 5, &hang);
  assert_true(hang);
  const char *t = info(pc).ended ? say(pc, "Hello?", &hang) : "";
  if (!is_kind(p, t, "hangup_pressure") ||
      !(is_kind(p, t, "pushback_free") || is_kind(p, t, "pushback_urgency")))
    fail_msg("strong pressure: %s", t);
  persona_call_free(pc);

  pc = elite_says("It's not free, and nothing is guaranteed, so take your time.", 6, &hang);
  assert_false(hang);
  assert_int_equal(info(pc).pressure_count, 0);
  persona_call_free(pc);
}

/* Pushback answers the claim the rep made ("Nothing is free" to "it's
 * free", never "Medicare doesn't call people" to it), in every tier; an
 * Elite prospect adds its warning. */
static void test_pressure_answers_the_claim(void **state)
{
  (void)state;
  static const struct {
    const char *line, *kind;
  } pushes[] = {
      {"This plan is completely free, you won't pay a thing.", "pushback_free"},
      {"You're guaranteed to save money with this one.", "pushback_guarantee"},
      {"I'm calling from Medicare about your benefits.", "pushback_medicare"},
      {"You have to sign up today or you'll lose this offer.", "pushback_urgency"},
  };
  static const char *const kinds[] = {"pushback_free", "pushback_guarantee", "pushback_medicare",
                                      "pushback_urgency"};
  for (int df = PERSONA_BEGINNER; df <= PERSONA_ELITE; df++) {
    size_t p = first_persona_for((enum persona_difficulty)df);
    for (size_t k = 0; k < sizeof pushes / sizeof pushes[0]; k++) {
      struct persona_call *pc = started(p, (enum persona_difficulty)df, 40 + k);
      const char *t = say_ok(pc, pushes[k].line);
      if (!is_kind(p, t, pushes[k].kind))
        fail_msg("%s on \"%s\": %s", persona_difficulty_name((enum persona_difficulty)df),
                 pushes[k].line, t);
      for (size_t o = 0; o < sizeof kinds / sizeof kinds[0]; o++)
        if (strcmp(kinds[o], pushes[k].kind) != 0 && is_kind(p, t, kinds[o]))
          fail_msg("\"%s\" got the answer to another claim: %s", pushes[k].line, t);
      if (df == PERSONA_ELITE)
        assert_true(is_kind(p, t, "pressure_pushback"));
      persona_call_free(pc);
    }
  }
}

/* Plain qualification questions and a long objection answer are not
 * pressure: an Elite prospect answers them and stays on the line. */
static void test_elite_stays_on_plain_questions(void **state)
{
  (void)state;
  static const char *const plain[] = {
      "is your medicare a and b active",
      "Will anyone be helping you decide?",
      "do you need to talk to anyone before you decide",
      "Does anyone help you pay your costs?",
      ("I understand, that's a fair concern, let me explain; your doctor is in network, your "
       "drugs are on the formulary, and you could save compared side by side."),
  };
  for (size_t k = 0; k < sizeof plain / sizeof plain[0]; k++) {
    bool hang = false;
    struct persona_call *pc = elite_says(plain[k], 200 + k, &hang);
    if (hang)
      fail_msg("Elite hung up on \"%s\"", plain[k]);
    persona_call_free(pc);
  }
}

static void test_elite_hangs_up_without_early_disclosures(void **state)
{
  (void)state;
  size_t p = first_persona_for(PERSONA_ELITE);
  bool hang;
  /* No recording disclosure and no TPMO: hangs up on the rep's third turn. */
  struct persona_call *pc = persona_call_new(fx.d, p, PERSONA_ELITE, 5);
  persona_call_open(pc);
  say(pc, "Hi, my name is Mike, I'm a licensed agent.", &hang);
  assert_false(hang);
  say(pc, "Who are your doctors?", &hang);
  assert_false(hang);
  say(pc, "What medications do you take?", &hang);
  assert_true(hang);
  persona_call_free(pc);

  /* The disclosure alone is not enough. */
  pc = persona_call_new(fx.d, p, PERSONA_ELITE, 6);
  persona_call_open(pc);
  say(pc, OPENING, &hang);
  assert_false(hang);
  say(pc, "Who are your doctors?", &hang);
  assert_false(hang);
  say(pc, "What's your budget?", &hang);
  assert_true(hang);
  persona_call_free(pc);

  /* Both early: the call goes on, and the turns are recorded. */
  pc = persona_call_new(fx.d, p, PERSONA_ELITE, 7);
  persona_call_open(pc);
  say_ok(pc, OPENING);
  say_ok(pc, TPMO);
  for (int i = 0; i < 5; i++)
    say_ok(pc, i % 2 ? "What do you like about your coverage?" : "Okay.");
  struct persona_call_info in = info(pc);
  assert_int_equal(in.disclosure_turn, 1);
  assert_int_equal(in.tpmo_turn, 2);
  assert_false(in.ended);
  persona_call_free(pc);

  /* Beginner and Advanced do not enforce the deadline. */
  for (int df = PERSONA_BEGINNER; df <= PERSONA_ADVANCED; df++) {
    pc = persona_call_new(fx.d, first_persona_for((enum persona_difficulty)df),
                          (enum persona_difficulty)df, 8);
    for (int i = 0; i < 6; i++)
      say_ok(pc, "Who are your doctors?");
    persona_call_free(pc);
  }
}

static void test_elite_withholds_facts_until_trust(void **state)
{
  (void)state;
  size_t p = first_persona_for(PERSONA_ELITE);
  const char *doc = pj_item(p, "doctors", 0, "name");
  struct persona_call *pc = persona_call_new(fx.d, p, PERSONA_ELITE, 11);
  persona_call_open(pc);
  say_ok(pc, "Hi, I'm on a recorded line.");
  const char *t = say_ok(pc, "Who are your doctors?");
  assert_null(strstr(t, doc));
  assert_false(info(pc).facts_revealed & (1u << 1));
  int before = info(pc).trust;
  say_ok(pc, TPMO);
  say_ok(pc, PERMISSION);
  assert_true(info(pc).trust > before);
  t = say_ok(pc, "Who are your doctors?");
  assert_non_null(strstr(t, doc));
  persona_call_free(pc);

  /* A Beginner tells at once. */
  p = first_persona_for(PERSONA_BEGINNER);
  pc = persona_call_new(fx.d, p, PERSONA_BEGINNER, 11);
  persona_call_open(pc);
  t = say_ok(pc, "Who are your doctors?");
  assert_non_null(strstr(t, pj_item(p, "doctors", 0, "name")));
  persona_call_free(pc);
}

/* Runs a compliant call that asks to enroll, addressing any open objection
 * with addr, until the persona agrees. Returns the number of enroll asks. */
static int close_the_sale(struct persona_call *pc, const char *addr, int max_asks)
{
  int asks = 0;
  while (asks < max_asks && !info(pc).enrolled) {
    if (info(pc).objection_open) {
      say_ok(pc, addr);
      continue;
    }
    say_ok(pc, "Would you like to enroll today?");
    asks++;
  }
  return asks;
}

static void discovery(struct persona_call *pc)
{
  say_ok(pc, "Who are your doctors?");
  say_ok(pc, "What medications do you take, and at what dose?");
  say_ok(pc, "Which pharmacy do you use?");
  say_ok(pc, "What is your monthly budget?");
}

static void test_advanced_needs_two_objections_addressed(void **state)
{
  (void)state;
  for (size_t p = 0; p < drill_persona_count(fx.d); p++) {
    if (!persona_suits(p, PERSONA_ADVANCED))
      continue;
    struct persona_call *pc = started(p, PERSONA_ADVANCED, 300 + p);
    /* Asking before discovery does not work. */
    say_ok(pc, "Would you like to enroll today?");
    assert_false(info(pc).enrolled);
    discovery(pc);
    say_ok(pc, "Based on what you told me, I'd recommend this plan: $0 premium, $10 copays.");
    /* Ignoring an open objection never closes the sale. */
    for (int i = 0; i < 2 && info(pc).objection_open; i++) {
      say_ok(pc, "Would you like to enroll today?");
      assert_false(info(pc).enrolled);
    }
    close_the_sale(pc, ADDRESS_ALL, 10);
    struct persona_call_info in = info(pc);
    assert_true(in.enrolled != has_helper(p));
    assert_true(in.objections_raised >= 2);
    assert_int_equal(in.objections_addressed, in.objections_raised);
    assert_false(in.objection_open);
    persona_call_free(pc);
  }
}

static void test_elite_needs_three_objections_with_empathy_and_facts(void **state)
{
  (void)state;
  for (size_t p = 0; p < drill_persona_count(fx.d); p++) {
    if (!persona_suits(p, PERSONA_ELITE))
      continue;
    struct persona_call *pc = started(p, PERSONA_ELITE, 500 + p);
    discovery(pc);
    say_ok(pc, "Let me recap: did I get everything?");
    /* Enroll asks raise objections until three are on the table. */
    say_ok(pc, "Would you like to enroll today?");
    assert_false(info(pc).enrolled);
    assert_true(info(pc).objection_open);
    /* Empathy alone is not an answer for an Elite prospect. */
    say_ok(pc, "I understand.");
    assert_true(info(pc).objection_open);
    close_the_sale(pc, ADDRESS_ALL, 10);
    struct persona_call_info in = info(pc);
    assert_true(in.enrolled != has_helper(p));
    assert_true(in.objections_raised >= 3);
    assert_int_equal(in.objections_addressed, in.objections_raised);
    persona_call_free(pc);
  }
}

static void test_beginner_volunteers_and_accepts(void **state)
{
  (void)state;
  for (size_t p = 0; p < drill_persona_count(fx.d); p++) {
    if (!persona_suits(p, PERSONA_BEGINNER))
      continue;
    struct persona_call *pc = started(p, PERSONA_BEGINNER, 700 + p);
    for (int i = 0; i < 4; i++)
      say_ok(pc, "Okay, great.");
    /* Volunteered without being asked. */
    assert_int_not_equal(info(pc).facts_revealed, 0);
    assert_int_equal(info(pc).objections_raised, 0);
    say_ok(pc, "I found a plan with a $0 premium and a $5 copay for primary care.");
    assert_int_equal(info(pc).objections_raised, 1);
    assert_true(info(pc).objection_open);
    /* A plain, reasonable answer settles it. */
    say_ok(pc, "Let me explain how that works for you.");
    assert_false(info(pc).objection_open);
    say_ok(pc, "Would you like to enroll today?");
    assert_true(info(pc).enrolled);
    persona_call_free(pc);
  }
}

static void test_repeated_pressure_ends_every_tier(void **state)
{
  (void)state;
  for (int df = PERSONA_BEGINNER; df <= PERSONA_ELITE; df++) {
    size_t p = first_persona_for((enum persona_difficulty)df);
    struct persona_call *pc = started(p, (enum persona_difficulty)df, 9);
    bool hang = false;
    int n = 0;
    while (!hang && n < 10) {
      say(pc, "Trust me, it's free and guaranteed, you have to sign today.", &hang);
      n++;
    }
    assert_true(hang);
    if (df == PERSONA_ELITE)
      assert_int_equal(n, 1); /* three claims at once: gone without a warning */
    else
      assert_true(n >= 2 && n <= 4); /* pushes back first, then hangs up */
    assert_int_equal(info(pc).pressure_count, n);
    persona_call_free(pc);
  }
}

/* ---- determinism and variety ------------------------------------------ */

static const char *const SCRIPT[] = {
    "Hello, how are you today?",
    "My name is Dana, I'm a licensed insurance agent and this call is recorded.",
    ("We do not offer every plan available in your area; please contact Medicare.gov or "
     "1-800-MEDICARE for all of your options."),
    "Is it okay if we discuss Medicare Advantage plans? There's no obligation.",
    "What coverage do you have right now?",
    "What do you like about it?",
    "Who are your doctors?",
    "Any specialists?",
    "What medications do you take?",
    "Which pharmacy do you use?",
    "What's your monthly budget?",
    "Do you get Extra Help?",
    "Any health concerns?",
    "Okay.",
    "Let me recap, did I get everything?",
    "Based on what you told me, I found a plan with a $0 premium.",
    "I understand, great question, let me explain.",
    "The maximum out of pocket is $3,400.",
    "Would you like to enroll?",
    "Great weather today, isn't it?",
    "I hear you, that makes sense.",
    "Sorry, can you say that again?",
    "Mm-hmm.",
    "Who's your primary care doctor again?",
    "And which medications?",
    "Your doctor is in network, I checked the provider directory.",
    "Would you like to enroll?",
    "Right.",
    "I see.",
    "Thanks for your time, goodbye.",
};
#define SCRIPT_LEN (sizeof SCRIPT / sizeof SCRIPT[0])

/* Plays SCRIPT cyclically for n turns, collecting replies (owned). */
static char **play(size_t p, enum persona_difficulty df, uint64_t seed, size_t n,
                   const char *const *lines, size_t nlines, bool *hung_up)
{
  char **out = calloc(n + 1, sizeof *out);
  struct persona_call *pc = persona_call_new(fx.d, p, df, seed);
  out[0] = strdup(persona_call_open(pc));
  *hung_up = false;
  for (size_t i = 0; i < n; i++) {
    bool hang;
    out[i + 1] = strdup(say(pc, lines[i % nlines], &hang));
    if (hang) {
      *hung_up = true;
      break;
    }
  }
  persona_call_free(pc);
  return out;
}

static void free_lines(char **l, size_t n)
{
  for (size_t i = 0; i <= n; i++)
    free(l[i]);
  free(l);
}

static void test_replay_is_deterministic(void **state)
{
  (void)state;
  for (uint64_t seed = 1; seed < 6; seed++) {
    for (int df = 0; df < 3; df++) {
      size_t p = drill_pick_persona(fx.d, NULL, (enum persona_difficulty)df, seed);
      assert_int_equal(p, drill_pick_persona(fx.d, NULL, (enum persona_difficulty)df, seed));
      bool h1, h2;
      char **a = play(p, (enum persona_difficulty)df, seed, SCRIPT_LEN, SCRIPT, SCRIPT_LEN, &h1);
      char **b = play(p, (enum persona_difficulty)df, seed, SCRIPT_LEN, SCRIPT, SCRIPT_LEN, &h2);
      assert_int_equal(h1, h2);
      for (size_t i = 0; i <= SCRIPT_LEN; i++) {
        assert_int_equal(a[i] == NULL, b[i] == NULL);
        if (a[i] != NULL)
          assert_string_equal(a[i], b[i]);
      }
      free_lines(a, SCRIPT_LEN);
      free_lines(b, SCRIPT_LEN);
    }
  }
}

static void test_seeds_vary_personas_and_openers(void **state)
{
  (void)state;
  enum { N = 40 };
  char *openers[N];
  size_t personas[N];
  size_t distinct_openers = 0, distinct_personas = 0;
  for (uint64_t seed = 0; seed < N; seed++) {
    size_t p = drill_pick_persona(fx.d, NULL, PERSONA_ADVANCED, seed * 7919);
    struct persona_call *pc = persona_call_new(fx.d, p, PERSONA_ADVANCED, seed * 7919);
    openers[seed] = strdup(persona_call_open(pc));
    /* open() is idempotent. */
    assert_string_equal(persona_call_open(pc), openers[seed]);
    personas[seed] = p;
    persona_call_free(pc);
    bool seen_o = false, seen_p = false;
    for (size_t j = 0; j < seed; j++) {
      seen_o |= strcmp(openers[j], openers[seed]) == 0;
      seen_p |= personas[j] == p;
    }
    distinct_openers += !seen_o;
    distinct_personas += !seen_p;
  }
  assert_true(distinct_openers >= 15);
  assert_true(distinct_personas >= 6);
  for (int i = 0; i < N; i++)
    free(openers[i]);

  /* Same persona, different seeds: the replies differ somewhere. */
  bool h;
  char **a = play(0, PERSONA_BEGINNER, 1, SCRIPT_LEN, SCRIPT, SCRIPT_LEN, &h);
  char **b = play(0, PERSONA_BEGINNER, 2, SCRIPT_LEN, SCRIPT, SCRIPT_LEN, &h);
  size_t differ = 0;
  for (size_t i = 0; i <= SCRIPT_LEN; i++)
    differ += a[i] && b[i] && strcmp(a[i], b[i]) != 0;
  assert_true(differ >= 5);
  free_lines(a, SCRIPT_LEN);
  free_lines(b, SCRIPT_LEN);
}

/* A long call that cycles through every kind of question many times. */
static const char *const LONG_SCRIPT[] = {
    "Who are your doctors?",
    "What medications do you take?",
    "Okay.",
    "Which pharmacy do you use?",
    "What's your budget?",
    ("I understand, that's a fair concern, let me explain; your doctor is in network, the "
     "premium is $0 a month, it's a PPO, I'll mail you the summary of benefits, you can "
     "verify my license, you can switch back, your family can join a three-way call, your "
     "drugs are on the formulary, and you could save compared side by side."),
    "What coverage do you have now?",
    "Do you get Extra Help?",
    "Any health concerns?",
    "Let me recap.",
    "Based on what you told me, I recommend this plan.",
    "I see.",
    "Mm-hmm.",
    "Would you like to enroll?",
    "Right.",
    "Hello?",
};

static void test_no_repeated_line_in_long_call(void **state)
{
  (void)state;
  const size_t turns = 60;
  for (size_t p = 0; p < drill_persona_count(fx.d); p++) {
    for (int df = 0; df < 3; df++) {
      /* Elite needs the disclosures first, so prepend them. */
      const char *lines[64];
      size_t n = 0;
      lines[n++] = OPENING;
      lines[n++] = TPMO;
      lines[n++] = PERMISSION;
      for (size_t i = 0; i < sizeof LONG_SCRIPT / sizeof LONG_SCRIPT[0]; i++)
        lines[n++] = LONG_SCRIPT[i];
      char **out = calloc(turns + 1, sizeof *out);
      struct persona_call *pc = persona_call_new(fx.d, p, (enum persona_difficulty)df, 77 + p);
      out[0] = strdup(persona_call_open(pc));
      for (size_t t = 0; t < turns; t++) {
        /* After the compliance lines, cycle through the rest. */
        const char *line = t < 3 ? lines[t] : lines[3 + (t - 3) % (n - 3)];
        out[t + 1] = strdup(say_ok(pc, line));
      }
      for (size_t i = 0; i <= turns; i++)
        for (size_t j = 0; j < i; j++)
          if (strcmp(out[i], out[j]) == 0)
            fail_msg("%s/%s repeated turn %zu at turn %zu: %s", drill_persona_name(fx.d, p),
                     persona_difficulty_name((enum persona_difficulty)df), j, i, out[i]);
      assert_int_equal(info(pc).turn, turns);
      persona_call_free(pc);
      free_lines(out, turns);
    }
  }
}

/* ---- robustness and size ------------------------------------------------ */

static void test_call_is_small_and_robust(void **state)
{
  (void)state;
  struct persona_call *pc = persona_call_new(fx.d, 0, PERSONA_BEGINNER, 1);
  assert_true(persona_call_footprint(pc) <= 8192);
  /* No crash and a bounded reply on any input. */
  char big[10000];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  say_ok(pc, big);
  say_ok(pc, "");
  say_ok(pc, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xff\xfe");
  uint64_t x = 12345;
  for (int i = 0; i < 200; i++) {
    char junk[64];
    for (size_t k = 0; k < sizeof junk - 1; k++) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      junk[k] = (char)((x >> 33) % 255 + 1);
    }
    junk[sizeof junk - 1] = '\0';
    struct persona_reply r;
    assert_int_equal(persona_call_reply(pc, junk, &r), 0);
    assert_true(strlen(r.text) <= 600);
    if (r.hangup)
      break;
  }
  struct persona_reply r;
  assert_int_equal(persona_call_reply(NULL, "hi", &r), -1);
  assert_int_equal(persona_call_reply(pc, "hi", NULL), -1);
  assert_int_equal(persona_call_reply(pc, NULL, &r), 0);
  persona_call_free(pc);
  persona_call_free(NULL);
  drill_free(NULL);
  assert_null(persona_call_new(fx.d, drill_persona_count(fx.d), PERSONA_BEGINNER, 1));
  assert_null(persona_call_new(NULL, 0, PERSONA_BEGINNER, 1));
}

/* ---- drill validation --------------------------------------------------- */

/* Applies a mutation to a fresh copy of the shipped drill and expects
 * drill_parse to refuse it with a message containing `needle`. */
static void expect_reject(void (*mutate)(json_t *root), const char *needle)
{
  json_t *root = json_deep_copy(fx.root);
  mutate(root);
  char *text = json_dumps(root, 0);
  char err[256] = "";
  struct drill *d = drill_parse(text, strlen(text), err, sizeof err);
  if (d != NULL)
    fail_msg("mutation expected to fail with \"%s\" was accepted", needle);
  if (strstr(err, needle) == NULL)
    fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
  free(text);
  json_decref(root);
}

static json_t *p0(json_t *root)
{
  return json_array_get(json_object_get(root, "personas"), 0);
}

static void m_no_personas(json_t *r)
{
  json_object_del(r, "personas");
}
static void m_empty_personas(json_t *r)
{
  json_object_set_new(r, "personas", json_array());
}
static void m_persona_no_name(json_t *r)
{
  json_object_del(p0(r), "name");
}
static void m_persona_name_number(json_t *r)
{
  json_object_set_new(p0(r), "name", json_integer(3));
}
static void m_persona_no_doctors(json_t *r)
{
  json_object_set_new(p0(r), "doctors", json_array());
}
static void m_persona_bad_state(json_t *r)
{
  json_object_set_new(p0(r), "state", json_string("Florida"));
}
static void m_persona_bad_objection(json_t *r)
{
  json_array_append_new(json_object_get(p0(r), "objections"), json_string("no_such_objection"));
}
static void m_persona_bad_difficulty(json_t *r)
{
  json_object_set_new(p0(r), "difficulty", json_pack("[s]", "Expert"));
}
static void m_persona_age(json_t *r)
{
  json_object_set_new(p0(r), "age", json_string("old"));
}
static void m_no_key(json_t *r)
{
  json_object_del(r, "key");
}
static void m_missing_intent(json_t *r)
{
  json_object_del(json_object_get(r, "intents"), "greeting");
}
static void m_unknown_intent(json_t *r)
{
  json_object_set_new(json_object_get(r, "intents"), "dance", json_pack("{s[s]}", "phrases", "x"));
}
static void m_empty_phrase(json_t *r)
{
  json_object_set_new(json_object_get(r, "intents"), "goodbye",
                      json_pack("{s[s]}", "phrases", "!!"));
}
static void m_unknown_placeholder(json_t *r)
{
  json_object_set_new(json_object_get(r, "replies"), "generic", json_pack("[s]", "Hi {nope}"));
}
static void m_unbalanced_brace(json_t *r)
{
  json_object_set_new(json_object_get(r, "replies"), "generic", json_pack("[s]", "Hi {doctor"));
}
static void m_missing_kind(json_t *r)
{
  json_object_del(json_object_get(r, "replies"), "goodbye");
}
static void m_unknown_kind(json_t *r)
{
  json_object_set_new(json_object_get(r, "replies"), "sing", json_pack("[s]", "la"));
}
static void m_no_elite_rules(json_t *r)
{
  json_object_del(json_object_get(r, "difficulty"), "Elite");
}
static void m_bad_rule(json_t *r)
{
  json_object_set_new(json_object_get(json_object_get(r, "difficulty"), "Beginner"),
                      "objection_rule", json_string("whatever"));
}
static void m_no_elite_persona(json_t *r)
{
  json_t *ps = json_object_get(r, "personas");
  for (size_t i = 0; i < json_array_size(ps); i++)
    json_object_set_new(json_array_get(ps, i), "difficulty", json_pack("[s]", "Beginner"));
}

static void test_drill_parse_rejects_bad_data(void **state)
{
  (void)state;
  expect_reject(m_no_personas, "personas");
  expect_reject(m_empty_personas, "personas");
  expect_reject(m_persona_no_name, "name");
  expect_reject(m_persona_name_number, "name");
  expect_reject(m_persona_no_doctors, "doctors");
  expect_reject(m_persona_bad_state, "state");
  expect_reject(m_persona_bad_objection, "objections");
  expect_reject(m_persona_bad_difficulty, "difficulty");
  expect_reject(m_persona_age, "age");
  expect_reject(m_no_key, "key");
  expect_reject(m_missing_intent, "greeting");
  expect_reject(m_unknown_intent, "dance");
  expect_reject(m_empty_phrase, "goodbye");
  expect_reject(m_unknown_placeholder, "{nope}");
  expect_reject(m_unbalanced_brace, "generic");
  expect_reject(m_missing_kind, "goodbye");
  expect_reject(m_unknown_kind, "sing");
  expect_reject(m_no_elite_rules, "Elite");
  expect_reject(m_bad_rule, "objection_rule");
  expect_reject(m_no_elite_persona, "none is suitable");

  static const char *const raw[] = {"",
                                    "{",
                                    "[]",
                                    "null",
                                    "42",
                                    "\"drill\"",
                                    "{}",
                                    "{\"key\":5}",
                                    "{\"key\":\"x\",\"title\":\"t\"}",
                                    "{\"a\":1,\"a\":2}",
                                    "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]"};
  for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
    char err[256] = "";
    assert_null(drill_parse(raw[i], strlen(raw[i]), err, sizeof err));
    assert_true(strlen(err) > 0);
  }
  assert_null(drill_parse(NULL, 0, NULL, 0));

  /* Random byte damage to the real file: refused or parsed, never a crash. */
  uint64_t x = 99;
  char *copy = malloc(fx.len + 1);
  for (int round = 0; round < 150; round++) {
    memcpy(copy, fx.text, fx.len + 1);
    for (int k = 0; k < 4; k++) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      size_t pos = (size_t)(x >> 20) % fx.len;
      copy[pos] = (char)("{}[]\",:0a{ \\"[(x >> 8) % 12]);
    }
    char err[128];
    struct drill *d = drill_parse(copy, fx.len, err, sizeof err);
    drill_free(d);
  }
  free(copy);
}

/* ---- voice traits (issue 10) ----------------------------------------- */

/* Parses fx's drill with every persona's field `key` set to val (NULL:
 * removed). Returns the drill or NULL. */
static struct drill *drill_with_persona_field(const char *key, json_t *val)
{
  json_t *root = json_deep_copy(fx.root);
  json_t *ps = json_object_get(root, "personas");
  for (size_t i = 0; i < json_array_size(ps); i++) {
    if (val != NULL)
      json_object_set(json_array_get(ps, i), key, val);
    else
      json_object_del(json_array_get(ps, i), key);
  }
  char *text = json_dumps(root, JSON_COMPACT);
  char err[256];
  struct drill *d = drill_parse(text, strlen(text), err, sizeof err);
  free(text);
  json_decref(root);
  json_decref(val);
  return d;
}

static void test_drill_persona_voice(void **state)
{
  (void)state;
  size_t n = drill_persona_count(fx.d);
  int female = 0, male = 0;
  for (size_t i = 0; i < n; i++) {
    struct persona_voice v;
    drill_persona_voice(fx.d, i, &v);
    const char *sex = pj_str(i, "sex");
    assert_non_null(sex);
    assert_int_equal(v.sex, strcmp(sex, "female") == 0 ? PERSONA_SEX_FEMALE : PERSONA_SEX_MALE);
    female += v.sex == PERSONA_SEX_FEMALE;
    male += v.sex == PERSONA_SEX_MALE;
    assert_int_equal(v.age, (int)json_integer_value(json_object_get(persona_json(i), "age")));
    const json_t *pace = json_object_get(persona_json(i), "pace");
    assert_true(v.pace == (pace != NULL ? json_number_value(pace) : 0.0));
  }
  assert_true(female > 0 && male > 0);
  struct persona_voice v;
  drill_persona_voice(fx.d, n, &v); /* out of range: nothing known */
  assert_int_equal(v.sex, PERSONA_SEX_UNKNOWN);

  /* A drill written before the traits still loads: unknown sex, pace 0. */
  struct drill *d = drill_with_persona_field("pace", NULL);
  assert_non_null(d);
  drill_persona_voice(d, 0, &v);
  assert_true(v.pace == 0.0);
  drill_free(d);
  d = drill_with_persona_field("sex", NULL);
  assert_non_null(d);
  drill_persona_voice(d, 0, &v);
  assert_int_equal(v.sex, PERSONA_SEX_UNKNOWN);
  drill_free(d);
  /* Bad values are refused. */
  assert_null(drill_with_persona_field("sex", json_string("robot")));
  assert_null(drill_with_persona_field("pace", json_real(3.0)));
  assert_null(drill_with_persona_field("pace", json_string("slow")));
}

/* ---- questions, recaps and constraints (issue 7) ---------------------- */

/* Whether text is one of the drill's lines of reply kind `kind` (any tier,
 * or the persona's own), by reply_carries_template(). */
static bool is_kind(size_t p, const char *text, const char *kind)
{
  const json_t *lists[5];
  char key[96];
  const json_t *replies = json_object_get(fx.root, "replies");
  lists[0] = json_object_get(replies, kind);
  for (int df = 0; df < 3; df++) {
    snprintf(key, sizeof key, "%s.%s", kind, persona_difficulty_name((enum persona_difficulty)df));
    lists[1 + df] = json_object_get(replies, key);
  }
  lists[4] = json_object_get(json_object_get(persona_json(p), "lines"), kind);
  for (int l = 0; l < 5; l++) {
    for (size_t i = 0; i < json_array_size(lists[l]); i++)
      if (reply_carries_template(text, json_string_value(json_array_get(lists[l], i))))
        return true;
  }
  return false;
}

static const char *pj_fact(size_t idx, const char *topic)
{
  return json_string_value(json_object_get(json_object_get(persona_json(idx), "facts"), topic));
}

static enum persona_difficulty first_tier(size_t p)
{
  enum persona_difficulty df = PERSONA_BEGINNER;
  persona_difficulty_parse(
      json_string_value(json_array_get(json_object_get(persona_json(p), "difficulty"), 0)), &df);
  return df;
}

/* The twelve kinds of question the issue names, casual and misspelled:
 * every persona answers each with its own fact, at its own tier. */
static void test_questions_get_the_persona_facts(void **state)
{
  (void)state;
  static const struct {
    const char *q, *topic;
  } cases[] = {
      {"who r ur docs?", "doctors"},
      {"wat meds r u on", "prescriptions"},
      {"do you have both part a and b", "parts_ab"},
      {"r u on medicaid or extra help?", "extra_help"},
      {"any other insurance, like VA or tricare?", "other_coverage"},
      {"whats ur zip code", "location"},
      {"which hospital do you like", "hospital"},
      {"need dental or vision?", "extras"},
      {"you travel much?", "travel"},
      {"what don't you like about your plan", "dislikes"},
      {"what do u like about ur plan", "likes"},
      {"how old r u", "age"},
      {"who helps u make decisions like this?", "decision"},
  };
  for (size_t p = 0; p < drill_persona_count(fx.d); p++) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      struct persona_call *pc = started(p, first_tier(p), 40 + i);
      const char *t = say_ok(pc, cases[i].q);
      const char *want = pj_fact(p, cases[i].topic);
      if (strcmp(cases[i].topic, "doctors") == 0)
        want = pj_item(p, "doctors", 0, "name");
      else if (strcmp(cases[i].topic, "prescriptions") == 0)
        want = pj_item(p, "prescriptions", 0, "name");
      else if (strcmp(cases[i].topic, "extra_help") == 0)
        want = pj_str(p, "extra_help");
      assert_non_null(want);
      if (strstr(t, want) == NULL)
        fail_msg("%s: \"%s\" -> \"%s\" (wanted \"%s\")", drill_persona_name(fx.d, p), cases[i].q, t,
                 want);
      persona_call_free(pc);
    }
  }
}

/* Two questions in one turn get both answers, also at the end of a long
 * turn that starts with small talk; a pitch that names a topic is not a
 * question about the persona. */
static void test_two_questions_and_pitches(void **state)
{
  (void)state;
  size_t p = first_persona_for(PERSONA_BEGINNER);
  struct persona_call *pc = started(p, PERSONA_BEGINNER, 12);
  const char *t = say_ok(pc, "What's your zip and which hospital do you use?");
  assert_non_null(strstr(t, pj_fact(p, "location")));
  assert_non_null(strstr(t, pj_fact(p, "hospital")));
  t = say_ok(pc, "Thanks so much, I know these calls can be long and a bit confusing with all "
                 "the different parts of Medicare and the plans out there. So tell me, do you "
                 "travel at all, and do you need dental?");
  assert_non_null(strstr(t, pj_fact(p, "travel")));
  assert_non_null(strstr(t, pj_fact(p, "extras")));
  /* Answered in the order asked. */
  assert_true(strstr(t, pj_fact(p, "travel")) < strstr(t, pj_fact(p, "extras")));
  persona_call_free(pc);

  pc = persona_call_new(fx.d, p, PERSONA_ADVANCED, 12);
  persona_call_open(pc);
  opening(pc);
  t = say_ok(pc, "The plan I found includes dental, vision and hearing aids at no extra cost.");
  assert_null(strstr(t, pj_fact(p, "extras")));
  persona_call_free(pc);
}

/* Asked again, the persona says so and repeats the fact; Elite keeps its
 * facts until trust is earned and says why, in character. */
static void test_topic_again_and_elite_withholding(void **state)
{
  (void)state;
  size_t p = first_persona_for(PERSONA_ELITE);
  struct persona_call *pc = persona_call_new(fx.d, p, PERSONA_ELITE, 5);
  persona_call_open(pc);
  say_ok(pc, "Hi, I'm on a recorded line.");
  const char *t = say_ok(pc, "you travel much?");
  assert_null(strstr(t, pj_fact(p, "travel")));
  assert_true(is_kind(p, t, "withhold"));
  say_ok(pc, TPMO);
  say_ok(pc, PERMISSION);
  t = say_ok(pc, "you travel much?");
  assert_non_null(strstr(t, pj_fact(p, "travel")));
  t = say_ok(pc, "sorry, do you travel a lot?");
  assert_non_null(strstr(t, pj_fact(p, "travel")));
  assert_true(is_kind(p, t, "topic_again"));
  persona_call_free(pc);
}

/* "Did I get all of that right?" is confirmed once the facts are out; a
 * recap that names someone else's drug or doctor is corrected. */
static void test_recaps_confirmed_or_corrected(void **state)
{
  (void)state;
  size_t p = first_persona_for(PERSONA_BEGINNER);
  size_t other = (p + 1) % drill_persona_count(fx.d);
  struct persona_call *pc = started(p, PERSONA_BEGINNER, 8);
  const char *t = say_ok(pc, "did I get all of that right?");
  assert_true(is_kind(p, t, "recap_partial")); /* nothing told yet */
  discovery(pc);
  t = say_ok(pc, "did I get all of that right?");
  assert_true(is_kind(p, t, "recap_confirm"));

  char line[300];
  snprintf(line, sizeof line, "so you take %s and see %s, correct?",
           pj_item(p, "prescriptions", 0, "name"), pj_item(p, "doctors", 0, "name"));
  t = say_ok(pc, line);
  assert_true(is_kind(p, t, "recap_confirm_named"));
  assert_non_null(strstr(t, pj_item(p, "prescriptions", 0, "name")));
  assert_non_null(strstr(t, pj_item(p, "doctors", 0, "name")));

  const char *wrong_drug = pj_item(other, "prescriptions", 0, "name");
  snprintf(line, sizeof line, "ok so u take %s n see %s, right?", wrong_drug,
           pj_item(p, "doctors", 0, "name"));
  t = say_ok(pc, line);
  assert_true(is_kind(p, t, "recap_correct_drug"));
  assert_non_null(strstr(t, wrong_drug));
  assert_non_null(strstr(t, pj_item(p, "prescriptions", 0, "name")));

  const char *wrong_doc = pj_item(other, "doctors", 0, "name");
  snprintf(line, sizeof line, "Let me recap: you see %s for checkups, is that right?", wrong_doc);
  t = say_ok(pc, line);
  assert_true(is_kind(p, t, "recap_correct_doctor"));
  assert_non_null(strstr(t, wrong_doc));
  assert_non_null(strstr(t, pj_item(p, "doctors", 0, "name")));
  persona_call_free(pc);
}

/* The surname of doctor i of persona p ("Reyes" of "Dr. Alan Reyes"). */
static const char *doctor_surname(size_t p, size_t i)
{
  const char *name = pj_item(p, "doctors", i, "name");
  const char *sp = strrchr(name, ' ');
  return sp != NULL ? sp + 1 : name;
}

/* A read-back of one fact the persona itself gave, before the rest of
 * discovery, is confirmed, not met with "we haven't talked about X yet";
 * a name the persona does not know is corrected, asked as a recap or as
 * a question; a title before an ordinary word is no name. Every persona. */
static void test_partial_and_named_recaps(void **state)
{
  (void)state;
  for (size_t p = 0; p < drill_persona_count(fx.d); p++) {
    size_t other = (p + 1) % drill_persona_count(fx.d);
    struct persona_call *pc = started(p, PERSONA_BEGINNER, 31);
    say_ok(pc, "Who is your primary care doctor?");
    char line[300];
    snprintf(line, sizeof line, "So you see Dr. %s, correct?", doctor_surname(p, 0));
    const char *t = say_ok(pc, line);
    if (!is_kind(p, t, "recap_confirm_named") ||
        strstr(t, pj_item(p, "doctors", 0, "name")) == NULL)
      fail_msg("%s on \"%s\": %s", pj_str(p, "name"), line, t);

    t = say_ok(pc, "Is Mrs. Jones your primary care doctor?");
    if (!is_kind(p, t, "recap_correct_doctor") || strstr(t, "Mrs. Jones") == NULL ||
        strstr(t, pj_item(p, "doctors", 0, "name")) == NULL)
      fail_msg("%s on Mrs. Jones: %s", pj_str(p, "name"), t);

    const char *wrong_drug = pj_item(other, "prescriptions", 0, "name");
    bool shared = false; /* two personas may take the same drug */
    for (size_t i = 0; i < pj_count(p, "prescriptions"); i++)
      shared |= strcmp(pj_item(p, "prescriptions", i, "name"), wrong_drug) == 0;
    snprintf(line, sizeof line, "do u take %s?", wrong_drug);
    t = say_ok(pc, line);
    if (!shared && (!is_kind(p, t, "recap_correct_drug") || strstr(t, wrong_drug) == NULL))
      fail_msg("%s on \"%s\": %s", pj_str(p, "name"), line, t);

    t = say_ok(pc, "is there a dr you like to see for checkups?");
    assert_false(is_kind(p, t, "recap_correct_doctor"));

    /* Asked as a question in text-speak, it is still a read-back... */
    snprintf(line, sizeof line, "u still see dr %s rite?", doctor_surname(p, 0));
    t = say_ok(pc, line);
    if (!is_kind(p, t, "recap_confirm_named"))
      fail_msg("%s on \"%s\": %s", pj_str(p, "name"), line, t);
    /* ...but a wh-question about the persona's own drug asks for more. */
    snprintf(line, sizeof line, "What dose of %s do you take?",
             pj_item(p, "prescriptions", 0, "name"));
    t = say_ok(pc, line);
    if (strstr(t, pj_item(p, "prescriptions", 0, "dose")) == NULL)
      fail_msg("%s on \"%s\": %s", pj_str(p, "name"), line, t);
    persona_call_free(pc);
  }
}

/* Budgets are written many ways ("about $30 a month", "nothing, I can't
 * pay a premium at all", "up to $75 a month"): no reply wraps one in a
 * second qualifier ("about about", "more than up to"). Every persona. */
static void test_budget_lines_read_naturally(void **state)
{
  (void)state;
  static const char *const bad[] = {
      "about about",   "about around",    "about under",  "about no ",    "about up to",
      "about nothing", "than up to",      "than no ",     "than about",   "than around",
      "than under",    "than nothing",    "around about", "within up to", "within nothing",
      "within about",  "no more, no more"};
  for (size_t p = 0; p < drill_persona_count(fx.d); p++) {
    for (uint64_t seed = 0; seed < 8; seed++) {
      struct persona_call *pc = started(p, first_tier(p), seed);
      const char *lines[] = {"What's your monthly budget?", "sorry, what was ur budget again?",
                             "Based on what you told me, I found a plan with a $0 premium."};
      for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        const char *t = say(pc, lines[i], NULL);
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
          if (strstr(t, bad[b]) != NULL)
            fail_msg("%s: \"%s\" in %s", pj_str(p, "name"), bad[b], t);
      }
      persona_call_free(pc);
    }
  }
}

/* A wh-question that names an open worry asks about it and does not
 * settle it ("What's a comfortable monthly budget?" to "what will it
 * cost me?"). Every persona, Advanced. */
static void test_question_does_not_settle_objection(void **state)
{
  (void)state;
  for (size_t p = 0; p < drill_persona_count(fx.d); p++) {
    if (!persona_suits(p, PERSONA_ADVANCED))
      continue;
    struct persona_call *pc = started(p, PERSONA_ADVANCED, 70 + p);
    discovery(pc);
    say_ok(pc, "Based on what you told me, I'd recommend this plan: $0 premium, $10 copays.");
    if (!info(pc).objection_open) {
      persona_call_free(pc);
      continue;
    }
    unsigned addressed = info(pc).objections_addressed;
    say_ok(pc, "What's a comfortable monthly budget for you?");
    say_ok(pc, "Which doctors do you see, and what do your copays cost a month?");
    assert_int_equal(info(pc).objections_addressed, addressed);
    assert_true(info(pc).objection_open);
    persona_call_free(pc);
  }
}

/* Whether text carries a "raise" line of objection id. */
static bool raises(const char *text, const char *id)
{
  const json_t *l =
      json_object_get(json_object_get(json_object_get(fx.root, "objections"), id), "raise");
  for (size_t i = 0; i < json_array_size(l); i++)
    if (reply_carries_template(text, json_string_value(json_array_get(l, i))))
      return true;
  return false;
}

/* Right after "your doctors are in the network", a prospect with other
 * worries does not ask whether it keeps its doctor. Every persona whose
 * objections include keep_doctor, several seeds. */
static void test_no_objection_the_rep_just_answered(void **state)
{
  (void)state;
  int checked = 0;
  for (size_t p = 0; p < drill_persona_count(fx.d); p++) {
    const json_t *objs = json_object_get(persona_json(p), "objections");
    bool has = false;
    for (size_t i = 0; i < json_array_size(objs); i++)
      has |= strcmp(json_string_value(json_array_get(objs, i)), "keep_doctor") == 0;
    if (!has || json_array_size(objs) < 2 || !persona_suits(p, PERSONA_ADVANCED))
      continue;
    for (uint64_t seed = 0; seed < 12; seed++) {
      struct persona_call *pc = started(p, PERSONA_ADVANCED, seed);
      discovery(pc);
      const char *t = say_ok(pc, "Based on what you told me, I'd recommend this plan: your "
                                 "doctors are in the network, I checked the provider directory.");
      if (raises(t, "keep_doctor"))
        fail_msg("%s (seed %u) asks about the doctor the rep just covered: %s", pj_str(p, "name"),
                 (unsigned)seed, t);
      checked++;
      persona_call_free(pc);
    }
  }
  assert_true(checked > 0);
}

/* An Elite prospect's answer to an introduction never asks the same
 * thing twice ("Is this call being recorded? Wait, is this call being
 * recorded?"), whatever line its seed picks. */
static void test_elite_prompts_once(void **state)
{
  (void)state;
  for (size_t p = 0; p < drill_persona_count(fx.d); p++) {
    if (!persona_suits(p, PERSONA_ELITE))
      continue;
    for (uint64_t seed = 0; seed < 24; seed++) {
      struct persona_call *pc = persona_call_new(fx.d, p, PERSONA_ELITE, seed);
      persona_call_open(pc);
      const char *t = say_ok(pc, "hi this is dana w/ acme health, licensed agent, how r u today?");
      const char *first = strstr(t, "record");
      if (first != NULL && strstr(first + 1, "record") != NULL)
        fail_msg("%s asks twice: %s", pj_str(p, "name"), t);
      persona_call_free(pc);
    }
  }
}

/* A goodbye gets a goodbye, even with an objection still open: the
 * prospect does not keep pressing a rep who is leaving. */
static void test_goodbye_with_an_open_objection(void **state)
{
  (void)state;
  size_t p = first_persona_for(PERSONA_ADVANCED);
  struct persona_call *pc = started(p, PERSONA_ADVANCED, 61);
  discovery(pc);
  say_ok(pc, "Based on what you told me, I'd recommend this plan: $0 premium, $10 copays.");
  assert_true(info(pc).objection_open);
  const char *t = say_ok(pc, "bye");
  if (!is_kind(p, t, "goodbye"))
    fail_msg("goodbye with an open objection: %s", t);
  persona_call_free(pc);
}

/* A question the persona has no fact for is acknowledged in character,
 * never answered with a bare filler. */
static void test_unknown_questions_are_acknowledged(void **state)
{
  (void)state;
  static const char *const qs[] = {"What's your shoe size?",
                                   "do u know how many steps you walk a day?",
                                   "Have you ever been to Alaska?"};
  for (size_t p = 0; p < drill_persona_count(fx.d); p++) {
    struct persona_call *pc = started(p, first_tier(p), 77);
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
      const char *t = say_ok(pc, qs[i]);
      if (is_kind(p, t, "generic") ||
          !(is_kind(p, t, "question_unknown") || is_kind(p, t, "topic_unknown") ||
            is_kind(p, t, "off_topic")))
        fail_msg("%s: \"%s\" -> \"%s\"", drill_persona_name(fx.d, p), qs[i], t);
    }
    /* The rep checking in is not a question the persona must look up. */
    const char *t = say_ok(pc, "Does that make sense?");
    if (!is_kind(p, t, "check_in"))
      fail_msg("%s: check-in -> \"%s\"", drill_persona_name(fx.d, p), t);
    persona_call_free(pc);
  }
}

/* A persona whose daughter holds power of attorney, or who decides with
 * her grandson, never enrolls alone: it defers on every ask, including the
 * turn after it said so, however well the call went. */
static void test_decision_helper_blocks_enrolling_alone(void **state)
{
  (void)state;
  size_t checked = 0;
  for (size_t p = 0; p < drill_persona_count(fx.d); p++) {
    if (!has_helper(p))
      continue;
    const char *helper = pj_str(p, "decision_helper");
    const char *name = strrchr(helper, ' ') + 1; /* "my daughter Denise" -> "Denise" */
    for (int df = PERSONA_BEGINNER; df <= PERSONA_ELITE; df++) {
      if (!persona_suits(p, (enum persona_difficulty)df))
        continue;
      struct persona_call *pc = started(p, (enum persona_difficulty)df, 31);
      discovery(pc);
      say_ok(pc, "Based on what you told me, I'd recommend this plan: $0 premium, $10 copays.");
      close_the_sale(pc, ADDRESS_ALL, 6);
      assert_false(info(pc).enrolled);
      assert_false(info(pc).objection_open);
      static const char *const asks[] = {"So can we go ahead and get you enrolled now?",
                                         "Great, let's sign you up today then.",
                                         "Are you ready to enroll?"};
      for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
        const char *t = say_ok(pc, asks[i]);
        assert_false(info(pc).enrolled);
        /* It names the person it waits for ("Denise", "my grandson Tyler"). */
        if (!is_kind(p, t, "enroll_defer") || strstr(t, name) == NULL)
          fail_msg("%s (%s): \"%s\" -> \"%s\"", drill_persona_name(fx.d, p),
                   persona_difficulty_name((enum persona_difficulty)df), asks[i], t);
      }
      persona_call_free(pc);
      checked++;
    }
  }
  assert_true(checked >= 3);
}

static void m_fact_unknown_topic(json_t *r)
{
  json_object_set_new(json_object_get(p0(r), "facts"), "favourite_colour", json_string("Blue."));
}
static void m_fact_core_topic(json_t *r)
{
  json_object_set_new(json_object_get(p0(r), "facts"), "doctors", json_string("Dr. Who."));
}
static void m_poa_without_helper(json_t *r)
{
  json_object_set_new(p0(r), "power_of_attorney", json_true());
}

static void test_drill_parse_checks_facts(void **state)
{
  (void)state;
  expect_reject(m_fact_unknown_topic, "favourite_colour");
  expect_reject(m_fact_core_topic, "doctors");
  expect_reject(m_poa_without_helper, "decision_helper");
  /* Every persona of the shipped drill answers every extra topic. */
  const json_t *topics = json_object_get(fx.root, "topics");
  for (size_t p = 0; p < drill_persona_count(fx.d); p++) {
    const char *key;
    const json_t *v;
    size_t n = 0;
    json_object_foreach((json_t *)topics, key, v) n += pj_fact(p, key) != NULL;
    assert_int_equal(n, json_object_size(topics) - 7);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_difficulty_parse),
      cmocka_unit_test(test_drill_pool),
      cmocka_unit_test(test_drill_persona_voice),
      cmocka_unit_test(test_intents),
      cmocka_unit_test(test_intent_boundaries_and_negation),
      cmocka_unit_test(test_replies_carry_persona_facts),
      cmocka_unit_test(test_repeat_request_repeats_last_line),
      cmocka_unit_test(test_elite_hangs_up_on_pressure),
      cmocka_unit_test(test_elite_stays_on_plain_questions),
      cmocka_unit_test(test_elite_hangs_up_without_early_disclosures),
      cmocka_unit_test(test_elite_withholds_facts_until_trust),
      cmocka_unit_test(test_advanced_needs_two_objections_addressed),
      cmocka_unit_test(test_elite_needs_three_objections_with_empathy_and_facts),
      cmocka_unit_test(test_beginner_volunteers_and_accepts),
      cmocka_unit_test(test_repeated_pressure_ends_every_tier),
      cmocka_unit_test(test_replay_is_deterministic),
      cmocka_unit_test(test_seeds_vary_personas_and_openers),
      cmocka_unit_test(test_no_repeated_line_in_long_call),
      cmocka_unit_test(test_call_is_small_and_robust),
      cmocka_unit_test(test_drill_parse_rejects_bad_data),
      cmocka_unit_test(test_questions_get_the_persona_facts),
      cmocka_unit_test(test_two_questions_and_pitches),
      cmocka_unit_test(test_topic_again_and_elite_withholding),
      cmocka_unit_test(test_recaps_confirmed_or_corrected),
      cmocka_unit_test(test_partial_and_named_recaps),
      cmocka_unit_test(test_pressure_answers_the_claim),
      cmocka_unit_test(test_elite_strong_pressure),
      cmocka_unit_test(test_goodbye_with_an_open_objection),
      cmocka_unit_test(test_elite_prompts_once),
      cmocka_unit_test(test_budget_lines_read_naturally),
      cmocka_unit_test(test_question_does_not_settle_objection),
      cmocka_unit_test(test_no_objection_the_rep_just_answered),
      cmocka_unit_test(test_unknown_questions_are_acknowledged),
      cmocka_unit_test(test_decision_helper_blocks_enrolling_alone),
      cmocka_unit_test(test_drill_parse_checks_facts),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
