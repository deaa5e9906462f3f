/*
 * fuzz_rubric.c — libFuzzer driver for rubric_parse() (src/scoring/scorer.h)
 * on arbitrary bytes. Rubric files are ours but hand-edited and loaded at
 * start-up: a bad one must be refused with a reason, and one that parses
 * must score a call.
 *
 * Properties: NULL comes with a non-empty, NUL-terminated reason; an
 * accepted rubric has a version string and scores a short scripted
 * Medicare call to an object with an integer overallScore in 0..100.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/scorer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct score_turn CALL[] = {
    {"assistant", "Hello?", 0},
    {"user",
     "Hi, this is Dana with Athos Health, a licensed insurance agent. This call is "
     "being recorded for quality purposes.",
     1500},
    {"assistant", "Oh. Okay, what is this about?", 9000},
    {"user",
     "We do not offer every plan available in your area. Currently we represent 7 "
     "organizations which offer 42 products in your area. Please contact Medicare.gov, "
     "1-800-MEDICARE, or your local State Health Insurance Program to get information "
     "on all of your options.",
     11000},
    {"assistant", "Alright.", 30000},
    {"user",
     "Is it okay if we talk about Medicare Advantage plans today? What doctors do you "
     "see, and what prescriptions are you taking?",
     31500},
    {"assistant", "I see Dr. Patel, my cardiologist, and I take metformin.", 40000},
    {"user",
     "I understand. This plan has a $0 premium, keeps Dr. Patel in network and covers "
     "metformin at a $5 copay. Would you like to enroll today?",
     45000},
    {"assistant", "Yes, let's do it.", 60000},
    {"user", "Great. Thank you, goodbye.", 62000},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char err[256];
  memset(err, 0x5a, sizeof err);
  struct rubric *r = rubric_parse((const char *)data, size, err, sizeof err);
  if (r == NULL) {
    if (memchr(err, '\0', sizeof err) == NULL || err[0] == '\0')
      abort();
    return 0;
  }
  if (rubric_version(r) == NULL)
    abort();
  struct score_input in = {CALL,        sizeof CALL / sizeof CALL[0], 1780617580295LL,
                           70,          "Dolores Whitfield",          "Advanced",
                           "rep_hangup"};
  char serr[256] = "";
  json_t *s = scorer_score(r, &in, serr, sizeof serr);
  if (s == NULL) {
    fprintf(stderr, "scorer_score refused a call under an accepted rubric: %s\n", serr);
    abort();
  }
  json_t *o = json_object_get(s, "overallScore");
  if (!json_is_integer(o) || json_integer_value(o) < 0 || json_integer_value(o) > 100)
    abort();
  json_decref(s);
  rubric_free(r);
  return 0;
}
