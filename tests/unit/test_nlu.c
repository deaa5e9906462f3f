/*
 * test_nlu.c — unit tests of the language layer (src/nlu/): the
 * normaliser (case, punctuation, contractions, chat spellings, numbers,
 * phone numbers, web addresses, spelling), token positions, the negation
 * detector, question detection, the classifiers, and each misreading named
 * in issue 7 as a regression.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nlu/nlu.h"

size_t nlu_expand_table_check(void);

static struct nlu_doc g_doc;

static const struct nlu_doc *parse(const char *s)
{
  nlu_doc_parse(&g_doc, s, strlen(s), nlu_lexicon_default());
  return &g_doc;
}

static void assert_norm(const char *in, const char *want)
{
  char out[512];
  nlu_normalize(in, out, sizeof out);
  if (strcmp(out, want) != 0)
    fail_msg("normalise \"%s\": got \"%s\", want \"%s\"", in, out, want);
}

/* Index of the first token equal to w, or -1. */
static int find_tok(const struct nlu_doc *d, const char *w)
{
  for (size_t i = 0; i < d->n; i++)
    if (nlu_tok_is(d, i, w))
      return (int)i;
  return -1;
}

static void test_normalise_case_punctuation_contractions(void **state)
{
  (void)state;
  assert_norm("Hello, WORLD!", "hello , world !");
  assert_norm("I don't know.", "i do not know .");
  assert_norm("I'm here; you're there", "i am here ; you are there");
  assert_norm("It\xE2\x80\x99s fine", "it is fine"); /* curly apostrophe */
  assert_norm("We can't, won't, shouldn't", "we can not , will not , should not");
  assert_norm("dont cant wont isnt", "do not can not will not is not");
  assert_norm("Medicare's plan", "medicare plan"); /* a possessive is dropped */
  assert_norm("what's that? let's go", "what is that ? let us go");
  assert_norm("Really?"
              "?!",
              "really ?");
  assert_norm("", "");
  assert_int_equal(nlu_expand_table_check(), 0); /* the table stays sorted */
}

static void test_normalise_chat_spellings(void **state)
{
  (void)state;
  assert_norm("who r ur docs?", "who are your doctors ?");
  assert_norm("wat meds r u on", "what medications are you on");
  assert_norm("pls n thx", "please and thanks");
  assert_norm("call me b4 noon", "call me before noon");
  assert_norm("idk tbh", "i do not know to be honest");
  assert_norm("Part C", "part c"); /* single letters that are not chat stay */
}

static void test_normalise_numbers_phones_web(void **state)
{
  (void)state;
  assert_norm("I'm thirty-one", "i am 31");
  assert_norm("thirty one", "31");
  assert_norm("two hundred fifty-five", "255");
  assert_norm("seventeen and eleven thousand", "17 and 11000");
  assert_norm("5 thousand", "5000");
  /* every spelling of 1-800-MEDICARE is the same number */
  assert_norm("1-800-MEDICARE", "8006334227");
  assert_norm("1-800-633-4227", "8006334227");
  assert_norm("1 800 633 4227", "8006334227");
  assert_norm("one eight hundred Medicare", "8006334227");
  assert_norm("800 Medicare", "8006334227");
  assert_norm("1.800.633.4227", "8006334227");
  /* web addresses */
  assert_norm("Medicare dot gov", "medicare.gov");
  assert_norm("www dot medicare dot gov", "medicare.gov");
  assert_norm("visit www.Medicare.gov.", "visit medicare.gov .");
  assert_norm("it costs 3.50", "it costs 3.50");
}

static void test_normalise_spelling(void **state)
{
  (void)state;
  const struct nlu_doc *d = parse("Do you see a docter or a cardiologst?");
  int i = find_tok(d, "doctor"), j = find_tok(d, "cardiologist");
  assert_true(i >= 0 && j >= 0);
  assert_true(d->tok[i].flags & NLU_TF_CORRECTED);
  assert_true(d->tok[j].flags & NLU_TF_CORRECTED);
  /* known words and short words are left alone */
  d = parse("the plan is fine");
  for (size_t k = 0; k < d->n; k++)
    assert_false(d->tok[k].flags & NLU_TF_CORRECTED);
  const struct nlu_lexicon *lx = nlu_lexicon_default();
  size_t n = 0;
  assert_true(nlu_lexicon_has(lx, "pharmacy", 8));
  assert_null(nlu_lexicon_correct(lx, "pharmacy", 8, &n));
  const char *fix = nlu_lexicon_correct(lx, "pharmcy", 7, &n);
  assert_non_null(fix);
  assert_int_equal(n, 8);
  assert_memory_equal(fix, "pharmacy", 8);
  assert_null(nlu_lexicon_correct(lx, "zzzzzzzzq", 9, &n));
  assert_null(nlu_lexicon_correct(lx, "world", 5, &n)); /* too short to touch */
}

static void test_tokens_positions_sentences(void **state)
{
  (void)state;
  const char *src = "Hi there. Don't worry? OK";
  const struct nlu_doc *d = parse(src);
  assert_int_equal(d->nsent, 3);
  int i = find_tok(d, "do");
  assert_true(i >= 0);
  /* "do" and "not" both come from the source word "Don't" */
  assert_int_equal(d->tok[i].src_off, 10);
  assert_int_equal(d->tok[i].src_len, 5);
  assert_true(nlu_tok_is(d, (size_t)i + 1, "not"));
  assert_int_equal(d->tok[i + 1].src_off, 10);
  assert_int_equal(d->tok[i].sent, 1);
  for (size_t k = 0; k < d->n; k++) /* each token points into the text */
    assert_true(d->tok[k].off + d->tok[k].len <= d->len);
  size_t b, e;
  nlu_sentence_range(d, 2, &b, &e);
  assert_int_equal(e - b, 1);
  assert_true(nlu_tok_is(d, b, "ok"));
  /* an input too long for one doc is cut, and says so */
  static char big[NLU_TEXT_MAX * 2];
  memset(big, 'a', sizeof big - 1);
  for (size_t k = 3; k < sizeof big - 1; k += 4)
    big[k] = ' ';
  d = parse(big);
  assert_true(d->truncated);
  assert_true(d->len < NLU_TEXT_MAX);
}

/* Whether word w of s is in a negation scope. */
static bool negated(const char *s, const char *w)
{
  const struct nlu_doc *d = parse(s);
  int i = find_tok(d, w);
  if (i < 0)
    fail_msg("\"%s\" has no word \"%s\"", s, w);
  return (d->tok[i].flags & NLU_TF_NEGATED) != 0;
}

static void test_negation(void **state)
{
  (void)state;
  assert_true(negated("I'll never ask for your card number", "card"));
  assert_true(negated("I'm not calling from Medicare", "medicare"));
  assert_true(negated("these plans aren't free", "free"));
  assert_true(negated("we do not offer every plan", "plan"));
  /* scope terminators */
  assert_false(negated("I won't rush you but you must sign today", "sign"));
  assert_false(negated("If you don't act now you'll lose your coverage", "lose"));
  assert_false(negated("It's not cheap. It is free", "free"));
  /* pseudo-triggers negate nothing */
  assert_false(negated("not only dental but vision", "dental"));
  assert_false(negated("no doubt it is free", "free"));
  /* post-negation: "that is not true" negates what came before */
  assert_true(negated("medicare endorses this plan is not true", "endorses"));
  /* the trigger itself is marked, not negated */
  const struct nlu_doc *d = parse("never free");
  assert_true(d->tok[0].flags & NLU_TF_NEG_TRIGGER);
  assert_true(nlu_span_negated(d, 0, d->n));
  d = parse("Medicare endorses this plan");
  assert_false(nlu_span_negated(d, 0, d->n));
}

static enum nlu_question q(const char *s)
{
  return nlu_doc_question(parse(s));
}

static void test_questions(void **state)
{
  (void)state;
  assert_int_equal(q("Who are your doctors?"), NLU_Q_WH);
  assert_int_equal(q("who r ur docs"), NLU_Q_WH); /* no '?': the form decides */
  assert_int_equal(q("what medications do you take"), NLU_Q_WH);
  assert_int_equal(q("how many pills a day"), NLU_Q_WH);
  assert_int_equal(q("Do you have Parts A and B"), NLU_Q_YESNO);
  assert_int_equal(q("Are you on Medicaid?"), NLU_Q_YESNO);
  assert_int_equal(q("So you see Dr. Lee, right?"), NLU_Q_TAG);
  assert_int_equal(q("You use CVS, don't you?"), NLU_Q_TAG);
  assert_int_equal(q("Can you tell me about your doctors"), NLU_Q_INDIRECT);
  assert_int_equal(q("I was wondering which pharmacy you use."), NLU_Q_INDIRECT);
  assert_int_equal(q("Tell me about your current plan."), NLU_Q_INDIRECT);
  assert_int_equal(q("Okay, so what's your budget?"), NLU_Q_WH);
  /* statements */
  assert_int_equal(q("I will check your doctors."), NLU_Q_NONE);
  assert_int_equal(q("When you turn 65 you can enroll."), NLU_Q_NONE);
  assert_int_equal(q("What I will do is check the network."), NLU_Q_NONE);
  assert_int_equal(q(""), NLU_Q_NONE);
  size_t open_q = 0;
  assert_int_equal(
      nlu_doc_count_questions(parse("Who is your doctor? Do you use CVS? Great."), &open_q), 2);
  assert_int_equal(open_q, 1);
}

/* Whether model name gives text the label. */
static bool has(const char *model, const char *text, const char *label)
{
  const struct nlu_model *m = nlu_model_find(model);
  assert_non_null(m);
  int l = nlu_model_label(m, label);
  if (l < 0)
    fail_msg("model %s has no label %s", model, label);
  return (nlu_classify_text(m, text, strlen(text), NULL) >> l) & 1;
}

static void test_models(void **state)
{
  (void)state;
  const struct nlu_model *m = nlu_model_find("intents");
  assert_non_null(m);
  assert_string_equal(nlu_model_name(m), "intents");
  assert_true(nlu_model_nlabels(m) >= 20);
  assert_int_equal(nlu_model_label(m, "no_such_label"), -1);
  assert_null(nlu_model_label_name(m, 999));
  assert_null(nlu_model_find("no_such_model"));
  assert_non_null(nlu_model_find("compliance"));
  float p[NLU_MAX_LABELS];
  /* nothing to read, nothing found */
  assert_int_equal(nlu_classify_text(m, "", 0, p), 0);
  /* one utterance, several intents */
  const char *open = "Hi, this is Sam with Bright Path, a licensed agent on a recorded line.";
  assert_true(has("intents", open, "greeting"));
  assert_true(has("intents", open, "introduction"));
  assert_true(has("intents", open, "recording_disclosure"));
  /* the same label wherever the sentence sits in a long turn */
  assert_true(has("compliance",
                  "Thanks for picking up. I have a few things to cover today and it will not take "
                  "long, I promise. Also, just so you know, this call is recorded.",
                  "recording_disclosure"));
}

/* The misreadings named in issue 7, as regressions. */
static void test_issue7_misreadings(void **state)
{
  (void)state;
  /* typos and text-speak are discovery questions */
  assert_true(has("intents", "who r ur docs?", "ask_doctors"));
  assert_true(has("intents", "wat meds r u on", "ask_prescriptions"));
  /* compliant paraphrases */
  assert_true(has("compliance", "we don't offer all the plans out there in your area",
                  "tpmo_not_every_plan"));
  assert_true(
      has("compliance", "You're not signing up for anything by talking to me.", "no_obligation"));
  /* negations are not violations */
  static const char *const negated_claims[] = {
      "I'll never ask for bank or card details.", "I'll never ask for your card number.",
      "I'm not calling from Medicare.", "These plans aren't free."};
  static const char *const claims[] = {"claim_bank_card", "claim_medicare_affiliation",
                                       "claim_free", "claim_everyone_qualifies"};
  for (size_t i = 0; i < sizeof negated_claims / sizeof negated_claims[0]; i++)
    for (size_t k = 0; k < sizeof claims / sizeof claims[0]; k++)
      if (has("compliance", negated_claims[i], claims[k]))
        fail_msg("\"%s\" read as %s", negated_claims[i], claims[k]);
  assert_true(has("compliance", "I'm not calling from Medicare.", "not_government"));
  /* lookalikes are violations */
  assert_true(has("compliance", "Medicare endorses this plan.", "claim_medicare_affiliation"));
  assert_true(
      has("compliance", "I'm calling on behalf of Medicare.", "claim_medicare_affiliation"));
  assert_true(has("compliance", "Everyone qualifies.", "claim_everyone_qualifies"));
  assert_true(has("compliance", "Can I get your credit card number?", "claim_bank_card"));
  /* "calling about Medicare" is not "calling from Medicare" */
  assert_false(
      has("compliance", "I'm calling about your Medicare options.", "claim_medicare_affiliation"));
  /* off-topic chatter */
  assert_true(has("intents", "What's your favourite colour?", "off_topic"));
  assert_true(has("intents", "Do you have any pets?", "off_topic"));
}

/* The misreadings fixed after the persona merge (nlufix), as regressions. */
/* End of turn, as the recogniser writes it (no punctuation): a sentence
 * that stops on a function word, a subject or a hesitation goes on; one
 * that stops on its object, or a wh-question on its verb, is finished. */
static void test_turn_complete(void **state)
{
  (void)state;
  static const char *const finished[] = {
      "is your cardiologist in the network right now",
      "we do not offer every plan available in your area",
      "which doctors do you see",
      "what medications are you currently taking",
      "do you get extra help or medicaid",
  };
  static const char *const going_on[] = {
      "is your cardiologist in the",
      "we do not offer every",
      "which doctors do you",
      "can you tell me about the",
      "do you get extra help or",
      "i am calling about your",
      "um",
      "",
  };
  for (size_t i = 0; i < sizeof finished / sizeof *finished; i++)
    assert_true(nlu_turn_complete(finished[i]));
  for (size_t i = 0; i < sizeof going_on / sizeof *going_on; i++)
    assert_false(nlu_turn_complete(going_on[i]));
}

static void test_nlufix_misreadings(void **state)
{
  (void)state;
  /* abbreviation periods do not end the sentence */
  const struct nlu_doc *d = parse("So you see Dr. Alan Reyes, correct?");
  assert_int_equal(d->nsent, 1);
  assert_int_equal(nlu_sentence_question(d, 0), NLU_Q_TAG);
  d = parse("Mrs. Lee fills at the Walgreens on Main St. by the bank.");
  assert_int_equal(d->nsent, 1);
  d = parse("I saw Dr. Lee. Then I went home."); /* a real sentence end still ends */
  assert_int_equal(d->nsent, 2);
  d = parse("I live on Main St."); /* at the end of the text it ends the sentence */
  assert_int_equal(d->nsent, 1);
  /* plain qualification questions are not pressure */
  static const char *const plain[] = {
      "is your medicare a and b active", "Will anyone be helping you decide?",
      "do you need to talk to anyone before you decide", "does anyone help you pay your costs?",
      /* a hedged saving inside an objection answer is no guarantee */
      "your drugs are on the formulary, and you could save compared side by side.",
      /* a hedged endorsement is not a claim of one (decided: not a violation) */
      "I'm not sure Medicare endorses it"};
  for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
    if (has("intents", plain[i], "pressure"))
      fail_msg("\"%s\" read as pressure", plain[i]);
  assert_true(has("intents", "is your medicare a and b active", "ask_coverage"));
  assert_false(
      has("compliance", "I'm not sure Medicare endorses it", "claim_medicare_affiliation"));
  assert_false(
      has("compliance", "you could save when we compare the plans", "claim_guaranteed_savings"));
  /* a polite tail keeps the question's topic; everyday gripes are dislikes */
  assert_true(has("persona_topics", "what's your age, if you don't mind me asking?", "age"));
  assert_true(has("persona_topics", "is anything about your plan bothering you?", "dislikes"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_normalise_case_punctuation_contractions),
      cmocka_unit_test(test_normalise_chat_spellings),
      cmocka_unit_test(test_normalise_numbers_phones_web),
      cmocka_unit_test(test_normalise_spelling),
      cmocka_unit_test(test_tokens_positions_sentences),
      cmocka_unit_test(test_negation),
      cmocka_unit_test(test_questions),
      cmocka_unit_test(test_models),
      cmocka_unit_test(test_issue7_misreadings),
      cmocka_unit_test(test_nlufix_misreadings),
      cmocka_unit_test(test_turn_complete),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
