/*
 * persona_eval.c — the persona's on-topic answer rate and reply latency on
 * the evaluation set tests/eval/persona_questions.tsv (topic<TAB>question,
 * kept apart from the training examples in drills/nlu/).
 *
 * Every question is played against every persona, at every tier the
 * persona is made for, in a fresh call after a compliant opening (name,
 * recorded line, TPMO disclaimer, permission). The reply is on topic when
 * it carries the persona's fact for the topic as written in the judging
 * drill, or, for "recap" and "unknown" questions (and topics the persona
 * has no fact for), the literal text of one of the reply templates for it.
 *
 * Only the public persona API is used (drill_parse, persona_call_new/open/
 * reply), so bench/persona_eval.sh can build this same file against an
 * older engine and play that engine's own drill (--play) while judging
 * with the current drill's facts (--judge).
 *
 *   persona_eval [--play DRILL] [--judge DRILL] [--eval TSV] [--label NAME] [-v]
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "persona/persona.h"
#include "util/fileio.h"
#include "../tests/unit/reply_literal.h"

#define MAX_QUESTIONS 1024
#define MAX_TOPICS    64

static const char *const opening[] = {
    "Hi, my name is Sam Parker, I'm a licensed insurance agent with Sunrise Health "
    "Partners. This call is being recorded for quality purposes.",
    "We do not offer every plan available in your area. Currently we represent 8 "
    "organizations which offer 52 products in your area. Please contact Medicare.gov, "
    "1-800-MEDICARE, or your local State Health Insurance Program to get information on "
    "all of your options. Is it okay if I ask you a few questions about your coverage?",
};

struct question {
  char *topic, *text;
};

struct topic_stat {
  const char *topic;
  unsigned asked, on_topic;
};

/* The whole file (at most 8 MiB), or NULL. */
static char *read_file(const char *path, size_t *len)
{
  char *buf = NULL;
  return file_read_all(path, 8u << 20, &buf, len) == 0 ? buf : NULL;
}

/* Reads topic<TAB>question lines; '#' starts a comment line. */
static size_t load_questions(const char *path, struct question *qs, size_t cap)
{
  size_t len, n = 0;
  char *text = read_file(path, &len);
  if (text == NULL)
    return 0;
  for (char *line = strtok(text, "\n"); line != NULL && n < cap; line = strtok(NULL, "\n")) {
    char *tab = strchr(line, '\t');
    if (line[0] == '#' || tab == NULL)
      continue;
    *tab = '\0';
    qs[n].topic = strdup(line);
    qs[n].text = strdup(tab + 1);
    n++;
  }
  free(text);
  return n;
}

static bool carries_list(const char *reply, const json_t *list)
{
  size_t i;
  const json_t *v;
  json_array_foreach(list, i,
                     v) if (json_is_string(v) &&
                            reply_carries_template(reply, json_string_value(v))) return true;
  return false;
}

/* Whether reply carries one of reply kind `kind`'s templates: the drill's
 * (any tier or this one) or the persona's own. */
static bool carries_kind(const char *reply, const json_t *drill, const json_t *persona,
                         const char *kind, const char *tier)
{
  char key[96];
  const json_t *replies = json_object_get(drill, "replies");
  snprintf(key, sizeof key, "%s.%s", kind, tier);
  return carries_list(reply, json_object_get(replies, kind)) ||
         carries_list(reply, json_object_get(replies, key)) ||
         carries_list(reply, json_object_get(json_object_get(persona, "lines"), kind));
}

/* The fact string the reply must contain for a core topic, or NULL. */
static const char *core_fact(const json_t *persona, const char *topic)
{
  static const struct {
    const char *topic, *field, *item;
  } core[] = {
      {"coverage", "coverage", NULL}, {"pharmacy", "pharmacy", NULL},
      {"budget", "budget", NULL},     {"extra_help", "extra_help", NULL},
      {"doctors", "doctors", "name"}, {"prescriptions", "prescriptions", "name"},
      {"health", "health", ""},
  };
  for (size_t i = 0; i < sizeof core / sizeof core[0]; i++) {
    if (strcmp(core[i].topic, topic) != 0)
      continue;
    const json_t *v = json_object_get(persona, core[i].field);
    if (core[i].item == NULL)
      return json_string_value(v);
    v = json_array_get(v, 0);
    return json_string_value(core[i].item[0] ? json_object_get(v, core[i].item) : v);
  }
  return NULL;
}

static bool on_topic(const char *reply, const json_t *drill, const json_t *persona,
                     const char *topic, const char *tier)
{
  if (strcmp(topic, "recap") == 0)
    return carries_kind(reply, drill, persona, "recap_confirm", tier) ||
           carries_kind(reply, drill, persona, "recap_partial", tier) ||
           carries_kind(reply, drill, persona, "recap_correct_drug", tier) ||
           carries_kind(reply, drill, persona, "recap_correct_doctor", tier);
  if (strcmp(topic, "unknown") == 0)
    return carries_kind(reply, drill, persona, "question_unknown", tier) ||
           carries_kind(reply, drill, persona, "topic_unknown", tier) ||
           carries_kind(reply, drill, persona, "off_topic", tier);
  const char *fact = core_fact(persona, topic);
  if (fact == NULL)
    fact = json_string_value(json_object_get(json_object_get(persona, "facts"), topic));
  if (fact != NULL)
    return strstr(reply, fact) != NULL;
  return carries_kind(reply, drill, persona, "topic_unknown", tier);
}

static double now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

struct run {
  struct drill *play;
  const json_t *judge;
  struct question *qs;
  size_t nq;
  struct topic_stat topics[MAX_TOPICS];
  size_t ntopics;
  double *lat;
  size_t nlat, cap_lat;
  unsigned asked, hits;
  bool verbose;
};

static struct topic_stat *topic_stat(struct run *r, const char *topic)
{
  for (size_t i = 0; i < r->ntopics; i++)
    if (strcmp(r->topics[i].topic, topic) == 0)
      return &r->topics[i];
  if (r->ntopics == MAX_TOPICS)
    return &r->topics[MAX_TOPICS - 1];
  r->topics[r->ntopics].topic = topic;
  return &r->topics[r->ntopics++];
}

static const char *timed_reply(struct run *r, struct persona_call *pc, const char *text)
{
  struct persona_reply out = {0};
  double t0 = now_us();
  int rc = persona_call_reply(pc, text, &out);
  double dt = now_us() - t0;
  if (r->nlat == r->cap_lat) {
    r->cap_lat = r->cap_lat ? r->cap_lat * 2 : 4096;
    r->lat = realloc(r->lat, r->cap_lat * sizeof *r->lat);
  }
  r->lat[r->nlat++] = dt;
  return rc == 0 && out.text != NULL ? out.text : "";
}

/* One fresh call: the opening, then question q. */
static void play_one(struct run *r, size_t pi, enum persona_difficulty tier, size_t qi,
                     uint64_t seed)
{
  const json_t *persona = json_array_get(json_object_get(r->judge, "personas"), pi);
  const struct question *q = &r->qs[qi];
  struct persona_call *pc = persona_call_new(r->play, pi, tier, seed);
  if (pc == NULL)
    return;
  persona_call_open(pc);
  for (size_t i = 0; i < sizeof opening / sizeof opening[0]; i++)
    timed_reply(r, pc, opening[i]);
  const char *reply = timed_reply(r, pc, q->text);
  bool hit = on_topic(reply, r->judge, persona, q->topic, persona_difficulty_name(tier));
  struct topic_stat *ts = topic_stat(r, q->topic);
  ts->asked++;
  r->asked++;
  if (hit) {
    ts->on_topic++;
    r->hits++;
  } else if (r->verbose) {
    printf("  off [%s] %s (%s): \"%s\" -> \"%s\"\n", q->topic,
           json_string_value(json_object_get(persona, "id")), persona_difficulty_name(tier),
           q->text, reply);
  }
  persona_call_free(pc);
}

int main(int argc, char **argv)
{
  const char *play_path = "drills/ma-full-sale.json", *judge_path = NULL;
  const char *eval_path = "tests/eval/persona_questions.tsv", *label = "new";
  struct run r = {0};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--play") == 0 && i + 1 < argc)
      play_path = argv[++i];
    else if (strcmp(argv[i], "--judge") == 0 && i + 1 < argc)
      judge_path = argv[++i];
    else if (strcmp(argv[i], "--eval") == 0 && i + 1 < argc)
      eval_path = argv[++i];
    else if (strcmp(argv[i], "--label") == 0 && i + 1 < argc)
      label = argv[++i];
    else if (strcmp(argv[i], "-v") == 0)
      r.verbose = true;
    else {
      fprintf(stderr, "usage: %s [--play DRILL] [--judge DRILL] [--eval TSV] [--label NAME] [-v]\n",
              argv[0]);
      return 2;
    }
  }
  if (judge_path == NULL)
    judge_path = play_path;

  size_t len;
  char err[256];
  char *text = read_file(play_path, &len);
  r.play = text ? drill_parse(text, len, err, sizeof err) : NULL;
  free(text);
  json_error_t jerr;
  json_t *judge = json_load_file(judge_path, 0, &jerr);
  static struct question qs[MAX_QUESTIONS];
  r.qs = qs;
  r.nq = load_questions(eval_path, qs, MAX_QUESTIONS);
  if (r.play == NULL || judge == NULL || r.nq == 0) {
    fprintf(stderr, "persona_eval: cannot load %s, %s or %s\n", play_path, judge_path, eval_path);
    return 1;
  }
  r.judge = judge;

  const json_t *personas = json_object_get(judge, "personas");
  size_t np = drill_persona_count(r.play);
  if (json_array_size(personas) < np)
    np = json_array_size(personas);
  uint64_t seed = 1;
  for (size_t pi = 0; pi < np; pi++) {
    const json_t *tiers = json_object_get(json_array_get(personas, pi), "difficulty");
    size_t ti;
    const json_t *tv;
    json_array_foreach(tiers, ti, tv)
    {
      enum persona_difficulty tier;
      if (persona_difficulty_parse(json_string_value(tv), &tier) < 0)
        continue;
      for (size_t qi = 0; qi < r.nq; qi++)
        play_one(&r, pi, tier, qi, seed++);
    }
  }

  qsort(r.lat, r.nlat, sizeof *r.lat, cmp_double);
  if (r.verbose)
    for (size_t i = 0; i < r.ntopics; i++)
      printf("  %-16s %4u/%-4u %5.1f%%\n", r.topics[i].topic, r.topics[i].on_topic,
             r.topics[i].asked, 100.0 * r.topics[i].on_topic / r.topics[i].asked);
  printf("persona on-topic answers (%s): %u/%u = %.1f%% (%zu questions x personas x tiers)\n",
         label, r.hits, r.asked, r.asked ? 100.0 * r.hits / r.asked : 0.0, r.nq);
  printf("persona reply latency (%s): p50 %.1f us, p99 %.1f us, max %.1f us over %zu replies\n",
         label, r.lat[r.nlat / 2], r.lat[(size_t)((double)r.nlat * 0.99)], r.lat[r.nlat - 1],
         r.nlat);

  for (size_t i = 0; i < r.nq; i++) {
    free(qs[i].topic);
    free(qs[i].text);
  }
  free(r.lat);
  json_decref(judge);
  drill_free(r.play);
  return 0;
}
