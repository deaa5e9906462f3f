/* score_check.c — the held-out check of the scorer's verdicts: scores each
 * short scripted call of a TSV file (tests/eval/unseen_scoring.tsv) and
 * compares one verdict with what a Medicare sales trainer would give.
 * Line format: what<TAB>expect<TAB>turns, where what is "dim.criterion",
 * "compliance.key" or "assessable", expect is "pass" or "fail", and turns
 * are "R: ..." / "P: ..." separated by " | ". Prints each miss and a total.
 * Build: as bench/score.sh builds score_bench (src/scoring, src/nlu, the
 * trained models) plus this file.
 * Usage: score_check RUBRIC.json FILE.tsv */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/scorer.h"

#define MAX_TURNS 64

static json_t *find_key(json_t *arr, const char *key)
{
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v)
  {
    const char *k = json_string_value(json_object_get(v, "key"));
    if (k && strcmp(k, key) == 0)
      return v;
  }
  return NULL;
}

/* The verdict named by what: true = passed; -1 when not found. *detail
 * gets the item's "detail" when it has one. */
static int verdict(json_t *s, char *what, const char **detail)
{
  if (strcmp(what, "assessable") == 0)
    return json_is_true(json_object_get(s, "assessable"));
  char *dot = strchr(what, '.');
  if (!dot)
    return -1;
  *dot = '\0';
  json_t *o;
  if (strcmp(what, "compliance") == 0) {
    o = find_key(json_object_get(s, "compliance"), dot + 1);
  } else {
    json_t *d = find_key(json_object_get(s, "dimensions"), what);
    o = d ? find_key(json_object_get(d, "criteria"), dot + 1) : NULL;
  }
  *dot = '.';
  *detail = o ? json_string_value(json_object_get(o, "detail")) : NULL;
  return o ? json_is_true(json_object_get(o, "passed")) : -1;
}

static size_t split_turns(char *text, struct score_turn *t)
{
  size_t n = 0;
  for (char *p = text; p && n < MAX_TURNS;) {
    char *bar = strstr(p, " | ");
    if (bar)
      *bar = '\0';
    while (*p == ' ')
      p++;
    bool rep = p[0] == 'R';
    t[n] =
        (struct score_turn){rep ? "user" : "assistant", p + 2 + (p[2] == ' '), (int64_t)n * 6000};
    n++;
    p = bar ? bar + 3 : NULL;
  }
  return n;
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: score_check RUBRIC.json FILE.tsv\n");
    return 2;
  }
  json_error_t je;
  json_t *rj = json_load_file(argv[1], 0, &je);
  char *rtext = rj ? json_dumps(rj, 0) : NULL;
  json_decref(rj);
  char err[256];
  struct rubric *r = rtext ? rubric_parse(rtext, strlen(rtext), err, sizeof err) : NULL;
  free(rtext);
  FILE *f = fopen(argv[2], "r");
  if (!r || !f) {
    fprintf(stderr, "cannot load %s or %s\n", argv[1], argv[2]);
    return 2;
  }
  char line[8192];
  int total = 0, right = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '#' || line[0] == '\0')
      continue;
    char *what = strtok(line, "\t"), *expect = strtok(NULL, "\t"), *turns = strtok(NULL, "\t");
    if (!what || !expect || !turns)
      continue;
    char orig[8192];
    snprintf(orig, sizeof orig, "%s", turns);
    struct score_turn t[MAX_TURNS];
    size_t n = split_turns(turns, t);
    struct score_input in = {
        t, n, 1767225600000LL, (int)(n * 6), "Dorothy Miller", "Advanced", "rep_hangup"};
    json_t *s = scorer_score(r, &in, err, sizeof err);
    const char *detail = NULL;
    int v = s ? verdict(s, what, &detail) : -1;
    bool ok = v == (strcmp(expect, "pass") == 0);
    total++;
    right += ok;
    if (!ok)
      printf("MISS %s (want %s, got %d): %s\n  %s\n", what, expect, v, orig, detail ? detail : "");
    json_decref(s);
  }
  fclose(f);
  rubric_free(r);
  printf("score_check: %d/%d verdicts as a trainer gives them\n", right, total);
  return 0;
}
