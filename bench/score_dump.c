/* score_dump.c — prints the score JSON of a fixed set of calls, one per line,
 * so that a change to the scorer that must not change behaviour can be checked
 * byte for byte (before/after diff), and, with -n N, scores the strong call N
 * times and prints nothing (for instruction counts under callgrind).
 * The set: the calls of tests/unit/scoring_calls.h under each difficulty and
 * end reason, every one-statement call, and 40-turn calls made of the lines of
 * the TSV files given (labels<TAB>text), taken in order.
 * Build: as bench/score.sh builds score_bench, plus src/util/fileio.c.
 * Usage: score_dump RUBRIC.json [-n N] [FILE.tsv ...] */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/scorer.h"
#include "util/fileio.h"
#include "../tests/unit/scoring_calls.h"

#define MAX_LINES 4096

static char *read_all(const char *path, size_t *len)
{
  char *buf = NULL;
  return file_read_all(path, 8u << 20, &buf, len) == 0 ? buf : NULL;
}

static void dump(const struct rubric *r, const struct score_turn *t, size_t n, const char *diff,
                 const char *end)
{
  char err[256];
  struct score_input in = {t, n, DATE_CY2024, (int)(n * 9), "Dorothy Miller", diff, end};
  json_t *s = scorer_score(r, &in, err, sizeof err);
  if (!s) {
    printf("ERROR %s\n", err);
    return;
  }
  char *d = json_dumps(s, JSON_COMPACT | JSON_REAL_PRECISION(15));
  printf("%s\n", d ? d : "(null)");
  free(d);
  json_decref(s);
}

static void dump_fixed(const struct rubric *r, const struct call_line *c, size_t n)
{
  static const char *diffs[] = {"Beginner", "Advanced", "Elite", NULL};
  static const char *ends[] = {"rep_hangup", "persona_hangup", "timeout", NULL};
  struct score_turn t[256];
  for (size_t i = 0; i < n && i < 256; i++)
    t[i] = (struct score_turn){c[i].role, c[i].text, c[i].at_ms};
  for (size_t d = 0; d < 4; d++)
    for (size_t e = 0; e < 4; e++)
      dump(r, t, n, diffs[d], ends[e]);
  for (size_t k = 1; k < n; k += 7)
    dump(r, t, k, "Advanced", "rep_hangup");
}

/* Lines of a TSV file: every one alone, then in 20-line rep/persona calls. */
static void dump_tsv(const struct rubric *r, const char *path)
{
  size_t len = 0;
  char *text = read_all(path, &len);
  if (!text) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  static char *lines[MAX_LINES];
  size_t n = 0;
  for (char *p = text; *p && n < MAX_LINES;) {
    char *nl = strchr(p, '\n');
    if (nl)
      *nl = '\0';
    char *tab = strchr(p, '\t');
    if (*p != '#' && tab && tab[1])
      lines[n++] = tab + 1;
    p = nl ? nl + 1 : p + strlen(p);
  }
  struct score_turn t[40];
  for (size_t i = 0; i < n; i++) {
    t[0] = (struct score_turn){"assistant", "Hello?", 0};
    t[1] = (struct score_turn){"user", lines[i], 1000};
    dump(r, t, 2, "Advanced", "rep_hangup");
  }
  for (size_t i = 0; i + 20 <= n; i += 20) {
    for (size_t k = 0; k < 20; k++) {
      t[2 * k] = (struct score_turn){"assistant", k ? "Okay. Go on." : "Hello?", (int64_t)k * 9000};
      t[2 * k + 1] = (struct score_turn){"user", lines[i + k], (int64_t)k * 9000 + 4000};
    }
    dump(r, t, 40, i % 60 == 0 ? "Beginner" : i % 60 == 20 ? "Advanced" : "Elite", "rep_hangup");
  }
  free(text);
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s RUBRIC.json [-n N] [FILE.tsv ...]\n", argv[0]);
    return 2;
  }
  size_t len = 0;
  char *text = read_all(argv[1], &len), err[256];
  struct rubric *r = text ? rubric_parse(text, len, err, sizeof err) : NULL;
  free(text);
  if (!r) {
    fprintf(stderr, "rubric %s: unreadable\n", argv[1]);
    return 1;
  }
  if (argc > 3 && strcmp(argv[2], "-n") == 0) {
    long times = atol(argv[3]);
    struct score_turn t[256];
    size_t n = N_LINES(STRONG_CALL);
    for (size_t i = 0; i < n; i++)
      t[i] = (struct score_turn){STRONG_CALL[i].role, STRONG_CALL[i].text, STRONG_CALL[i].at_ms};
    struct score_input in = {t, n, DATE_CY2024, 375, "Dorothy Miller", "Advanced", "rep_hangup"};
    for (long k = 0; k < times; k++)
      json_decref(scorer_score(r, &in, err, sizeof err));
    rubric_free(r);
    return 0;
  }
  dump_fixed(r, STRONG_CALL, N_LINES(STRONG_CALL));
  dump_fixed(r, AVERAGE_CALL, N_LINES(AVERAGE_CALL));
  dump_fixed(r, POOR_CALL, N_LINES(POOR_CALL));
  for (int i = 2; i < argc; i++)
    dump_tsv(r, argv[i]);
  rubric_free(r);
  return 0;
}
