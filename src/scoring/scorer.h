/*
 * scorer.h — the rubric scorer: a finished call's transcript in, the
 * score object out (overallScore, summary, feedback, plus dimensions,
 * compliance, metrics and rubricVersion).
 *
 * Pure: no I/O, no server headers. The rubric is data
 * (drills/<key>.rubric.json). Deterministic: the same input always gives
 * the same score.
 */
#ifndef ATHOS_SCORER_H
#define ATHOS_SCORER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct rubric;

/* Parses a rubric definition. Returns an owned rubric, or NULL with a
 * reason in err. */
struct rubric *rubric_parse(const char *json_text, size_t len, char *err, size_t errlen);
/* Accepts NULL. */
void rubric_free(struct rubric *r);
/* The file's "rubricVersion"; borrowed, valid while r lives. NULL if r is. */
const char *rubric_version(const struct rubric *r);

struct score_turn {
  const char *role;    /* "assistant" (the persona) or "user" (the rep) */
  const char *content; /* UTF-8 */
  int64_t at_ms;       /* offset from the call's start, in milliseconds */
};

struct score_input {
  const struct score_turn *turns;
  size_t n_turns;
  int64_t started_at_ms; /* unix ms: picks the rule version in force */
  int duration_sec;
  const char *persona_name; /* for the summary; may be NULL */
  const char *difficulty;   /* "Beginner" | "Advanced" | "Elite"; may be NULL */
  const char *end_reason;   /* "rep_hangup" | "persona_hangup" | ...; may be NULL */
};

/* Scores one call. Returns a new JSON object reference (the caller owns
 * it), or NULL with a reason in err. */
json_t *scorer_score(const struct rubric *r, const struct score_input *in, char *err,
                     size_t errlen);

#endif
