/*
 * understanding_eval.c — scores the language understanding of one build
 * against the held-out evaluation sets (tests/eval/). Uses only public
 * APIs that exist before and after the language layer (drill_classify()
 * and scorer_score()), so bench/understanding.sh can build it against an
 * old commit and the current tree and print the two side by side.
 *
 *   understanding_eval NAME DRILL.json RUBRIC.json INTENTS.tsv COMPLIANCE.tsv
 *
 * Prints, prefixed with NAME: per-intent precision/recall/F1 and the macro
 * average; compliance statement accuracy (every element and violation the
 * scorer reports for a one-statement call must equal the labels), element
 * accuracy, and false violations on negated claims; utterances classified
 * per second.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "persona/persona.h"
#include "scoring/scorer.h"

#define MAX_ITEMS 2000
#define MAX_TEXT  1024

struct item {
  char labels[256];
  char text[MAX_TEXT];
};

static double now_sec(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  if (f == NULL)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
      if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
      } else {
        buf[n] = '\0';
        *len = (size_t)n;
      }
    }
  }
  fclose(f);
  return buf;
}

static size_t read_items(const char *path, struct item *it, size_t cap)
{
  FILE *f = fopen(path, "r");
  char line[MAX_TEXT + 256];
  size_t n = 0;
  if (f == NULL) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  while (n < cap && fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\r\n")] = '\0';
    char *tab = strchr(line, '\t');
    if (line[0] == '#' || tab == NULL)
      continue;
    *tab = '\0';
    snprintf(it[n].labels, sizeof it[n].labels, "%.255s", line);
    snprintf(it[n].text, sizeof it[n].text, "%.1023s", tab + 1);
    n++;
  }
  fclose(f);
  return n;
}

/* Whether the comma-separated list has label. */
static bool has_label(const char *list, const char *label)
{
  size_t n = strlen(label);
  for (const char *p = list; *p != '\0';) {
    size_t l = strcspn(p, ",");
    if (l == n && strncmp(p, label, n) == 0)
      return true;
    p += l;
    if (*p == ',')
      p++;
  }
  return false;
}

/* ---- intents ---- */

static void eval_intents(const char *name, const struct drill *d, const struct item *it, size_t n)
{
  size_t tp[PERSONA_INTENT__COUNT] = {0}, fp[PERSONA_INTENT__COUNT] = {0},
         fn[PERSONA_INTENT__COUNT] = {0};
  size_t exact = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t m = drill_classify(d, it[i].text);
    bool all = true;
    for (int k = 0; k < PERSONA_INTENT__COUNT; k++) {
      bool gold = has_label(it[i].labels, persona_intent_name((enum persona_intent)k));
      bool got = (m >> k) & 1;
      tp[k] += gold && got;
      fp[k] += !gold && got;
      fn[k] += gold && !got;
      all &= gold == got;
    }
    exact += all;
  }
  double f1sum = 0, psum = 0, rsum = 0;
  int nint = 0;
  for (int k = 0; k < PERSONA_INTENT__COUNT; k++) {
    double p = tp[k] + fp[k] ? (double)tp[k] / (double)(tp[k] + fp[k]) : 0;
    double r = tp[k] + fn[k] ? (double)tp[k] / (double)(tp[k] + fn[k]) : 0;
    double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
    if (tp[k] + fn[k] == 0)
      continue;
    printf("%-4s intent %-22s P=%.3f R=%.3f F1=%.3f (n=%zu)\n", name,
           persona_intent_name((enum persona_intent)k), p, r, f1, tp[k] + fn[k]);
    f1sum += f1;
    psum += p;
    rsum += r;
    nint++;
  }
  printf("%-4s intent MACRO                  P=%.3f R=%.3f F1=%.3f; exact-match %.3f (%zu "
         "utterances)\n",
         name, psum / nint, rsum / nint, f1sum / nint, (double)exact / (double)n, n);
  /* speed: classify the whole set repeatedly for about a second */
  uint64_t sink = 0, count = 0;
  double t0 = now_sec(), t1;
  do {
    for (size_t i = 0; i < n; i++)
      sink += drill_classify(d, it[i].text);
    count += n;
    t1 = now_sec();
  } while (t1 - t0 < 1.0);
  printf("%-4s intent speed: %.0f utterances/s (one core; checksum %llu)\n", name,
         (double)count / (t1 - t0), (unsigned long long)(sink & 0xff));
}

/* ---- compliance, through the scorer ---- */

static const char *const claim_keys[][2] = {{"medicareAffiliation", "claim_medicare_affiliation"},
                                            {"freeBenefits", "claim_free"},
                                            {"guaranteedSavings", "claim_guaranteed_savings"},
                                            {"everyoneQualifies", "claim_everyone_qualifies"},
                                            {"bestLowest", "claim_best_lowest"},
                                            {"falseUrgency", "claim_false_urgency"},
                                            {"bankCardInfo", "claim_bank_card"},
                                            {"nonHealthProducts", "claim_non_health"}};
static const char *const tpmo_keys[][2] = {{"notEveryPlan", "tpmo_not_every_plan"},
                                           {"orgAndProductCount", "tpmo_org_count"},
                                           {"allOptionsSource", "tpmo_all_options"}};
static const char *const all_labels[] = {"recording_disclosure",
                                         "tpmo_not_every_plan",
                                         "tpmo_org_count",
                                         "tpmo_all_options",
                                         "soa_products",
                                         "no_obligation",
                                         "not_government",
                                         "claim_medicare_affiliation",
                                         "claim_free",
                                         "claim_guaranteed_savings",
                                         "claim_everyone_qualifies",
                                         "claim_best_lowest",
                                         "claim_false_urgency",
                                         "claim_bank_card",
                                         "claim_non_health"};
#define NLABELS (sizeof all_labels / sizeof all_labels[0])

static json_t *find_key(json_t *arr, const char *key)
{
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v)
  {
    if (strcmp(json_string_value(json_object_get(v, "key")) ?: "", key) == 0)
      return v;
  }
  return NULL;
}

/* Appends label to the comma list out when cond. */
static void put(char *out, size_t cap, bool cond, const char *label)
{
  if (!cond)
    return;
  size_t l = strlen(out);
  snprintf(out + l, cap - l, "%s%s", l ? "," : "", label);
}

/* What the scorer found in a call where the rep says only `text`. */
static void scorer_labels(const struct rubric *r, const char *text, char *out, size_t cap)
{
  struct score_turn turns[2] = {{"assistant", "Hello?", 0}, {"user", text, 2000}};
  /* 2026-11-02: the CY2027 TPMO rule, the one in force from 1 Oct 2026 */
  struct score_input in = {turns, 2, 1793577600000LL, 20, "Pat Doe", "Beginner", "rep_hangup"};
  char err[256];
  out[0] = '\0';
  json_t *s = scorer_score(r, &in, err, sizeof err);
  if (s == NULL)
    return;
  json_t *comp = json_object_get(s, "compliance");
  json_t *rec = find_key(comp, "recordingDisclosure");
  put(out, cap, rec && !json_is_null(json_object_get(rec, "turn")), "recording_disclosure");
  json_t *tpmo = find_key(comp, "tpmoDisclaimer");
  json_t *els = json_object_get(tpmo, "elements");
  for (size_t k = 0; k < 3; k++) {
    json_t *e = find_key(els, tpmo_keys[k][0]);
    put(out, cap, e && !json_is_null(json_object_get(e, "turn")), tpmo_keys[k][1]);
  }
  json_t *soa = find_key(comp, "scopeOfAppointment");
  json_t *pt = json_object_get(soa, "productTypesTurn"),
         *no = json_object_get(soa, "noObligationTurn");
  if (pt && no) { /* the scorer says where each part was said */
    put(out, cap, !json_is_null(pt), "soa_products");
    put(out, cap, !json_is_null(no), "no_obligation");
  } else { /* older scorers only say it in the detail */
    const char *det = json_string_value(json_object_get(soa, "detail")) ?: "";
    put(out, cap, strstr(det, "product types") == NULL, "soa_products");
    put(out, cap, strstr(det, "no-obligation statement") == NULL, "no_obligation");
  }
  json_t *opening = find_key(json_object_get(s, "dimensions"), "opening");
  json_t *ng = find_key(json_object_get(opening, "criteria"), "notGovernment");
  put(out, cap, ng && json_is_true(json_object_get(ng, "passed")), "not_government");
  json_t *claims = find_key(comp, "noProhibitedClaims");
  json_t *viol = json_object_get(claims, "violations");
  for (size_t k = 0; k < sizeof claim_keys / sizeof claim_keys[0]; k++)
    put(out, cap, find_key(viol, claim_keys[k][0]) != NULL, claim_keys[k][1]);
  json_decref(s);
}

static bool has_negation(const char *text)
{
  static const char *const neg[] = {"not ",  "never ", "n't ",  "n\xE2\x80\x99t ", "no ",
                                    "won't", "don't",  "isn't", "aren't",          "nothing"};
  char low[MAX_TEXT + 2];
  size_t i = 0;
  for (; text[i] != '\0' && i < MAX_TEXT; i++)
    low[i] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] + 32 : text[i]);
  low[i++] = ' ';
  low[i] = '\0';
  for (size_t k = 0; k < sizeof neg / sizeof neg[0]; k++)
    if (strstr(low, neg[k]) != NULL)
      return true;
  return false;
}

static void eval_compliance(const char *name, const struct rubric *r, const struct item *it,
                            size_t n, bool verbose)
{
  size_t exact = 0, el_ok = 0, negated = 0, false_viol = 0;
  for (size_t i = 0; i < n; i++) {
    char got[512];
    scorer_labels(r, it[i].text, got, sizeof got);
    bool all = true, gold_claim = false, got_claim = false;
    for (size_t k = 0; k < NLABELS; k++) {
      bool g = has_label(it[i].labels, all_labels[k]), h = has_label(got, all_labels[k]);
      el_ok += g == h;
      all &= g == h;
      if (strncmp(all_labels[k], "claim_", 6) == 0) {
        gold_claim |= g;
        got_claim |= h;
      }
    }
    exact += all;
    if (!gold_claim && has_negation(it[i].text)) {
      negated++;
      false_viol += got_claim;
      if (got_claim && verbose)
        printf("%-4s   false violation: \"%s\" -> %s\n", name, it[i].text, got);
    }
    if (!all && verbose)
      printf("%-4s   miss: \"%s\" gold=%s got=%s\n", name, it[i].text, it[i].labels,
             got[0] ? got : "-");
  }
  printf("%-4s compliance statement accuracy %.3f (%zu/%zu); element accuracy %.3f; "
         "false violations on %zu negated statements: %zu\n",
         name, (double)exact / (double)n, exact, n, (double)el_ok / (double)(n * NLABELS), negated,
         false_viol);
}

int main(int argc, char **argv)
{
  if (argc < 6) {
    fprintf(stderr, "usage: %s NAME DRILL RUBRIC INTENTS.tsv COMPLIANCE.tsv [-v]\n", argv[0]);
    return 2;
  }
  const char *name = argv[1];
  bool verbose = argc > 6 && strcmp(argv[6], "-v") == 0;
  size_t len;
  char err[256];
  char *text = slurp(argv[2], &len);
  struct drill *d = text ? drill_parse(text, len, err, sizeof err) : NULL;
  free(text);
  text = slurp(argv[3], &len);
  struct rubric *r = text ? rubric_parse(text, len, err, sizeof err) : NULL;
  free(text);
  if (d == NULL || r == NULL) {
    fprintf(stderr, "cannot load the drill or the rubric\n");
    return 1;
  }
  static struct item items[MAX_ITEMS];
  size_t n = read_items(argv[4], items, MAX_ITEMS);
  eval_intents(name, d, items, n);
  n = read_items(argv[5], items, MAX_ITEMS);
  eval_compliance(name, r, items, n, verbose);
  drill_free(d);
  rubric_free(r);
  return 0;
}
