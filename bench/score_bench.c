/* score_bench.c — how many 40-turn practice calls one core scores per second,
 * next to a baseline that only lowercases and splits the same transcript
 * into words (the floor of any text scorer), run in the same process. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scoring/scorer.h"
#include "../tests/unit/scoring_calls.h"

static double now_sec(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) != 0)
    goto out;
  long n = ftell(f);
  if (n < 0 || fseek(f, 0, SEEK_SET) != 0)
    goto out;
  buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  if (buf) {
    buf[n] = '\0';
    *len = (size_t)n;
  }
out:
  fclose(f);
  return buf;
}

/* The floor: lowercase every turn into a buffer and count its words. */
static uint64_t baseline_once(const struct score_turn *t, size_t n)
{
  char buf[4096];
  uint64_t words = 0, sum = 0;
  for (size_t i = 0; i < n; i++) {
    const unsigned char *p = (const unsigned char *)t[i].content;
    size_t l = 0;
    int in_word = 0;
    for (; *p && l < sizeof buf; p++) {
      unsigned char c = *p;
      int w =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
      if (c >= 'A' && c <= 'Z')
        c = (unsigned char)(c + 32);
      if (w && !in_word)
        words++;
      in_word = w;
      buf[l++] = (char)c;
    }
    sum += (unsigned char)buf[l ? l - 1 : 0];
  }
  return words * 131 + sum;
}

int main(int argc, char **argv)
{
  double secs = argc > 1 ? atof(argv[1]) : 2.0;
  const char *path = argc > 2 ? argv[2] : "drills/ma-full-sale.rubric.json";
  size_t len = 0;
  char *text = read_file(path, &len);
  if (!text) {
    fprintf(stderr, "cannot read %s\n", path);
    return 1;
  }
  char err[256];
  struct rubric *r = rubric_parse(text, len, err, sizeof err);
  free(text);
  if (!r) {
    fprintf(stderr, "rubric: %s\n", err);
    return 1;
  }

  size_t n = N_LINES(STRONG_CALL);
  struct score_turn turns[64];
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++) {
    turns[i] = (struct score_turn){STRONG_CALL[i].role, STRONG_CALL[i].text, STRONG_CALL[i].at_ms};
    bytes += strlen(STRONG_CALL[i].text);
  }
  struct score_input in = {turns, n, DATE_CY2024, 375, "Dorothy Miller", "Advanced", "rep_hangup"};

  /* warm up, and make sure the figure is for a real score */
  json_t *s = scorer_score(r, &in, err, sizeof err);
  if (!s) {
    fprintf(stderr, "score: %s\n", err);
    return 1;
  }
  char *dump = json_dumps(s, JSON_COMPACT | JSON_REAL_PRECISION(15));
  size_t out_bytes = dump ? strlen(dump) : 0;
  long long overall = (long long)json_integer_value(json_object_get(s, "overallScore"));
  free(dump);
  json_decref(s);

  uint64_t iters = 0;
  double t0 = now_sec(), t1;
  do {
    for (int k = 0; k < 100; k++) {
      json_t *x = scorer_score(r, &in, err, sizeof err);
      json_decref(x);
    }
    iters += 100;
    t1 = now_sec();
  } while (t1 - t0 < secs);
  double score_rate = (double)iters / (t1 - t0);

  uint64_t biters = 0, sink = 0;
  t0 = now_sec();
  do {
    for (int k = 0; k < 1000; k++)
      sink += baseline_once(turns, n);
    biters += 1000;
    t1 = now_sec();
  } while (t1 - t0 < secs);
  double base_rate = (double)biters / (t1 - t0);

  /* with serialisation, as the pipeline stores it */
  uint64_t diters = 0;
  t0 = now_sec();
  do {
    for (int k = 0; k < 100; k++) {
      json_t *x = scorer_score(r, &in, err, sizeof err);
      char *d = json_dumps(x, JSON_COMPACT | JSON_REAL_PRECISION(15));
      sink += d ? (unsigned char)d[0] : 0;
      free(d);
      json_decref(x);
    }
    diters += 100;
    t1 = now_sec();
  } while (t1 - t0 < secs);
  double dump_rate = (double)diters / (t1 - t0);

  printf("transcript: %zu turns, %zu bytes; overallScore %lld; score JSON %zu bytes\n", n, bytes,
         overall, out_bytes);
  printf("scorer %.0f/s (%.1f us per call), with json_dumps %.0f/s, target >= 5000/s: %s\n",
         score_rate, 1e6 / score_rate, dump_rate, score_rate >= 5000 ? "met" : "MISSED");
  printf("scorer %.0f/s, baseline %.0f/s, ratio %.4f (the scorer runs at 1/%.0f of the "
         "lowercase+split floor) [sink %llu]\n",
         score_rate, base_rate, score_rate / base_rate, base_rate / score_rate,
         (unsigned long long)(sink & 0xff));
  rubric_free(r);
  return 0;
}
