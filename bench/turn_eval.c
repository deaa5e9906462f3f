/*
 * turn_eval.c — how well nlu_turn_complete() tells a finished turn from a
 * pause inside one (the voice end-pointer's shorter silence, issue 10).
 * For every utterance of the given TSV files (labels<TAB>text), spoken as
 * the recogniser writes it (lower case, no punctuation): the whole
 * utterance should read as finished ("recall"), and each of its proper
 * prefixes cut at a word is a place where a pause would end the turn too
 * early if it read as finished ("early"; an upper bound of the harm: some
 * prefixes are finished sentences, and a rep rarely pauses at most of
 * them). Printed for a range of thresholds; the shipped one is marked.
 *   turn_eval NAME FILE.tsv...   (built and run by bench/understanding.sh)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/nlu.h"

#define THRESHOLDS 7
static const double thr[THRESHOLDS] = {0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.50};

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: turn_eval NAME FILE.tsv...\n");
    return 2;
  }
  struct nlu_doc *d = malloc(sizeof *d);
  size_t full = 0, prefixes = 0, full_ok[THRESHOLDS] = {0}, early[THRESHOLDS] = {0};
  char line[4096];
  for (int f = 2; f < argc && d != NULL; f++) {
    FILE *in = fopen(argv[f], "r");
    if (in == NULL) {
      fprintf(stderr, "turn_eval: cannot read %s\n", argv[f]);
      return 2;
    }
    while (fgets(line, sizeof line, in) != NULL) {
      char *text = strchr(line, '\t');
      if (line[0] == '#' || text == NULL || strchr(text, '{') != NULL)
        continue;                     /* comments, and templates of the training files */
      for (char *p = ++text; *p; p++) /* as the recogniser writes it */
        *p = isalnum((unsigned char)*p) || *p == '\'' ? (char)tolower((unsigned char)*p) : ' ';
      nlu_doc_parse(d, text, strlen(text), nlu_lexicon_default());
      size_t n = d->n;
      if (n == 0)
        continue;
      for (size_t k = 1; k <= n; k++) {
        d->n = k; /* the first k tokens: their last word decides */
        double p = nlu_turn_end_prob(d);
        for (int t = 0; t < THRESHOLDS; t++) {
          if (k == n)
            full_ok[t] += p >= thr[t];
          else
            early[t] += p >= thr[t];
        }
      }
      full++;
      prefixes += n - 1;
    }
    fclose(in);
  }
  printf("%s: %zu utterances, %zu prefixes\n", argv[1], full, prefixes);
  for (int t = 0; t < THRESHOLDS; t++)
    printf("  threshold %.2f: finished turns recognised %5.1f %%, prefixes read as finished %5.1f "
           "%%%s\n",
           thr[t], full ? 100.0 * (double)full_ok[t] / (double)full : 0.0,
           prefixes ? 100.0 * (double)early[t] / (double)prefixes : 0.0,
           thr[t] > NLU_TURN_END_THRESHOLD - 1e-9 && thr[t] < NLU_TURN_END_THRESHOLD + 1e-9
               ? "   <- shipped"
               : "");
  free(d);
  return 0;
}
