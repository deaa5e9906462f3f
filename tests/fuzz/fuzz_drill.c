/*
 * fuzz_drill.c — libFuzzer driver for drill_parse() (src/persona/persona.h)
 * on arbitrary bytes. Drill files are ours, but they are edited by hand
 * and loaded at start-up: a bad one must be refused with a reason, never
 * crash the server, and anything accepted must be playable.
 *
 * Properties: NULL comes with a non-empty, NUL-terminated reason; a drill
 * that parses has a key and at least one persona, each with a name, and a
 * short call on it (every persona, each difficulty, a few scripted rep
 * lines) answers every line with non-NULL, NUL-terminated text of at most
 * 600 bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "persona/persona.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLY_MAX 600

static const char *const REP_LINES[] = {
    "Hi, this is Dana, a licensed insurance agent. This call is being recorded.",
    "We do not offer every plan available in your area; currently we represent 7 "
    "organizations which offer 42 products in your area. Please contact Medicare.gov, "
    "1-800-MEDICARE, or your local SHIP to get information on all of your options.",
    "Is it okay if we talk about Medicare Advantage and Part D plans today?",
    "Who are your doctors, and what prescriptions do you take?",
    "I understand, that's a fair concern. Your premium would be $0 and your copay $10.",
    "So can I go ahead and get you enrolled today?",
    "you have to sign up right now or you lose everything",
    "",
    "goodbye",
};

static void check_line(const char *text)
{
  if (text == NULL || memchr(text, '\0', REPLY_MAX + 1) == NULL)
    abort();
}

static void play(const struct drill *d)
{
  size_t n = drill_persona_count(d);
  if (n == 0 || drill_key(d) == NULL || drill_key(d)[0] == '\0')
    abort();
  for (size_t i = 0; i < n && i < 8; i++) {
    if (drill_persona_name(d, i) == NULL)
      abort();
    for (int diff = PERSONA_BEGINNER; diff <= PERSONA_ELITE; diff++) {
      struct persona_call *pc =
          persona_call_new(d, i, (enum persona_difficulty)diff, 0x5eed0000u + i);
      if (pc == NULL)
        abort();
      check_line(persona_call_open(pc));
      for (size_t k = 0; k < sizeof REP_LINES / sizeof REP_LINES[0]; k++) {
        struct persona_reply r = {NULL, false};
        if (persona_call_reply(pc, REP_LINES[k], &r) != 0)
          abort();
        check_line(r.text);
        if (r.hangup)
          break;
      }
      persona_call_free(pc);
    }
    /* state filter: any answer is an index in range */
    if (drill_pick_persona(d, drill_persona_state(d, i), PERSONA_ADVANCED, i) >= n ||
        drill_pick_persona(d, "zz", PERSONA_ELITE, i) >= n)
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char err[256];
  memset(err, 0x5a, sizeof err);
  struct drill *d = drill_parse((const char *)data, size, err, sizeof err);
  if (d == NULL) {
    if (memchr(err, '\0', sizeof err) == NULL || err[0] == '\0')
      abort();
    return 0;
  }
  play(d);
  drill_free(d);
  return 0;
}
