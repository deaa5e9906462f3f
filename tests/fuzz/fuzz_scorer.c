/*
 * fuzz_scorer.c — libFuzzer driver for scorer_score() (src/scoring/scorer.h)
 * with the real rubric, drills/ma-full-sale.rubric.json, on transcripts
 * built from the input: whatever was said in a call, scoring it must
 * give a well-formed score.
 *
 * Input: byte 0 picks who speaks first, whether duration_sec is given,
 * the call date (which picks the rule version in force) and the optional
 * persona name / difficulty / end reason; the rest is the transcript, one
 * turn per '\n', roles alternating, at_ms increasing by a length-dependent
 * gap. Lines are made valid UTF-8 first (invalid bytes become '?'): the
 * server's transcripts come out of jansson, which only holds UTF-8.
 * Property: the result is an object whose overallScore is an integer in
 * 0..100, with string summary / feedback / rubricVersion and every
 * dimension score in 0..100.
 *
 * The rubric is found through $ATHOS_RUBRIC, else <binary dir>/../drills/,
 * else ./drills/.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scoring/scorer.h"
#include "util/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_TURNS 400

static struct rubric *g_rubric;

/* The whole file (at most 8 MiB), or NULL: util/fileio's bounded read. */
static char *slurp(const char *path, size_t *len)
{
  char *buf = NULL;
  return file_read_all(path, 8u << 20, &buf, len) == 0 ? buf : NULL;
}

static char *load_rubric_file(const char *argv0, size_t *len)
{
  char path[PATH_MAX + 64], exe[PATH_MAX];
  const char *env = getenv("ATHOS_RUBRIC");
  char *text;
  if (env != NULL && (text = slurp(env, len)) != NULL)
    return text;
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0 && argv0 != NULL) {
    snprintf(exe, sizeof exe, "%s", argv0);
    n = (ssize_t)strlen(exe);
  }
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash != NULL) {
      *slash = '\0';
      snprintf(path, sizeof path, "%s/../drills/ma-full-sale.rubric.json", exe);
      if ((text = slurp(path, len)) != NULL)
        return text;
    }
  }
  return slurp("drills/ma-full-sale.rubric.json", len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  size_t len = 0;
  char err[256] = "";
  char *text = load_rubric_file(*argc > 0 ? (*argv)[0] : NULL, &len);
  if (text == NULL) {
    fprintf(stderr, "fuzz_scorer: cannot read drills/ma-full-sale.rubric.json "
                    "(set ATHOS_RUBRIC)\n");
    exit(2);
  }
  g_rubric = rubric_parse(text, len, err, sizeof err);
  free(text);
  if (g_rubric == NULL) {
    fprintf(stderr, "fuzz_scorer: the real rubric does not parse: %s\n", err);
    exit(2);
  }
  return 0;
}

/* Replaces every byte that is not part of a well-formed UTF-8 sequence
 * (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF) with '?'. */
static void utf8_fix(unsigned char *s, size_t n)
{
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    size_t k = c < 0x80                 ? 1
               : c >= 0xc2 && c <= 0xdf ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    bool ok = k > 0 && i + k <= n;
    for (size_t j = 1; ok && j < k; j++)
      ok = (s[i + j] & 0xc0) == 0x80;
    if (ok && k == 3) {
      unsigned c1 = s[i + 1];
      ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
    } else if (ok && k == 4) {
      unsigned c1 = s[i + 1];
      ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
    }
    if (!ok) {
      s[i++] = '?';
      continue;
    }
    i += k;
  }
}

static const char *const NAMES[] = {NULL, "Dolores Whitfield", "Harold", ""};
static const char *const DIFFS[] = {NULL, "Beginner", "Advanced", "Elite"};
static const char *const REASONS[] = {NULL,           "rep_hangup", "persona_hangup",
                                      "max_duration", "idle",       "disconnect"};
static const int64_t DATES[] = {1735689600000LL /* 2025-01-01 */, 1780617580295LL /* 2026-06-05 */,
                                1798761600000LL /* 2027-01-01 */, 0};

static void check_score(json_t *s, char *err)
{
  if (s == NULL) {
    fprintf(stderr, "scorer_score refused a transcript: %s\n", err);
    abort();
  }
  json_t *o = json_object_get(s, "overallScore");
  if (!json_is_object(s) || !json_is_integer(o) || json_integer_value(o) < 0 ||
      json_integer_value(o) > 100 || !json_is_string(json_object_get(s, "summary")) ||
      !json_is_string(json_object_get(s, "feedback")) ||
      !json_is_string(json_object_get(s, "rubricVersion")))
    abort();
  size_t i;
  json_t *d;
  json_array_foreach(json_object_get(s, "dimensions"), i, d)
  {
    json_t *sc = json_object_get(d, "score");
    if (!json_is_integer(sc) || json_integer_value(sc) < 0 || json_integer_value(sc) > 100)
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  uint8_t b = data[0];
  data++, size--;
  unsigned char *text = malloc(size + 1);
  struct score_turn *turns = calloc(MAX_TURNS, sizeof *turns);
  if (text == NULL || turns == NULL)
    goto out;
  memcpy(text, data, size);
  text[size] = '\0';
  size_t n = 0;
  int64_t at = 0;
  bool user = (b & 1) != 0;
  unsigned char *p = text;
  while (n < MAX_TURNS) {
    unsigned char *nl = (unsigned char *)strchr((char *)p, '\n');
    size_t len = nl != NULL ? (size_t)(nl - p) : strlen((char *)p);
    if (nl != NULL)
      *nl = '\0';
    utf8_fix(p, len);
    turns[n].role = user ? "user" : "assistant";
    turns[n].content = (const char *)p;
    turns[n].at_ms = at;
    at += 400 + (int64_t)len * 60 + (len > 0 ? (p[0] & 7) * 700 : 0);
    n++;
    user = !user;
    if (nl == NULL)
      break;
    p = nl + 1;
  }
  struct score_input in = {
      .turns = turns,
      .n_turns = n,
      .started_at_ms = DATES[(b >> 1) & 3],
      .duration_sec = (b & 8) ? (int)(at / 1000) + 1 : 0,
      .persona_name = NAMES[(b >> 4) & 3],
      .difficulty = DIFFS[(b >> 6) & 3],
      .end_reason = REASONS[(size > 0 ? data[size - 1] : 0) % 6],
  };
  char err[256] = "";
  json_t *s = scorer_score(g_rubric, &in, err, sizeof err);
  check_score(s, err);
  json_decref(s);
out:
  free(text);
  free(turns);
  return 0;
}
