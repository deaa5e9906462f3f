/*
 * nlu_train.c — build-time trainer of the language layer's classifiers
 * (src/nlu/). Reads every labelset file drills/nlu/<name>.tsv given on the
 * command line (one example a line: "label1,label2<TAB>text", "-" for an
 * example that carries no label, '#' for comments), trains one-vs-rest
 * logistic regression over the features of src/nlu/classify.c, calibrates
 * one threshold per label by 5-fold cross-validation, and writes a C file of
 * const models plus the spelling lexicon (words of the labelsets and of the
 * --vocab files). Deterministic: fixed seed, fixed order, same output for
 * the same input.
 *
 *   nlu_train [--report] [--algo lr|perceptron] [--epochs N] [--lr X] [--vocab FILE]... OUT.c SET.tsv...
 *
 * --report prints the cross-validated (out-of-fold) precision/recall/F1 of
 * each labelset (folds by text hash), then the final model is trained on
 * all examples. --epochs N and --lr X override the training schedule (for
 * measurement). OUT.c may be "-" to skip writing.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/nlu.h"

/* The trainer links src/nlu without the generated models. */
size_t nlu_model_count(void);
const struct nlu_model *nlu_model_at(size_t i);
const struct nlu_lexicon *nlu_lexicon_default(void);
size_t nlu_model_count(void)
{
  return 0;
}
const struct nlu_model *nlu_model_at(size_t i)
{
  (void)i;
  return NULL;
}
const struct nlu_lexicon *nlu_lexicon_default(void)
{
  return NULL;
}
const struct nlu_turn_word *nlu_turn_words(size_t *n, float *unseen)
{
  *n = 0;
  *unseen = 0.5f;
  return NULL;
}

#define MAX_LINE     1024
#define MAX_VARIANTS 24 /* examples one template line may expand to */
#define L2           1e-6
#define PRUNE        2e-2
#define FOLDS        5

static void *xcalloc(size_t n, size_t sz)
{
  void *p = calloc(n == 0 ? 1 : n, sz);
  if (p == NULL) {
    fprintf(stderr, "nlu_train: out of memory\n");
    exit(2);
  }
  return p;
}

static void *xrealloc(void *p, size_t n)
{
  p = realloc(p, n);
  if (p == NULL) {
    fprintf(stderr, "nlu_train: out of memory\n");
    exit(2);
  }
  return p;
}

/* ---- feature index: hash -> dense id ---- */

struct fmap {
  uint32_t *hash, *id;
  size_t cap, n;
};

static uint32_t fmap_get(struct fmap *m, uint32_t h, int add)
{
  if (add && (m->n + 1) * 2 > m->cap) {
    struct fmap big = {xcalloc(m->cap ? m->cap * 2 : 1024, 4),
                       xcalloc(m->cap ? m->cap * 2 : 1024, 4), m->cap ? m->cap * 2 : 1024, 0};
    for (size_t i = 0; i < m->cap; i++)
      if (m->hash[i] != 0) {
        size_t s = m->hash[i] & (big.cap - 1);
        while (big.hash[s] != 0)
          s = (s + 1) & (big.cap - 1);
        big.hash[s] = m->hash[i];
        big.id[s] = m->id[i];
      }
    big.n = m->n;
    free(m->hash);
    free(m->id);
    *m = big;
  }
  if (m->cap == 0)
    return UINT32_MAX;
  size_t s = h & (m->cap - 1);
  while (m->hash[s] != 0) {
    if (m->hash[s] == h)
      return m->id[s];
    s = (s + 1) & (m->cap - 1);
  }
  if (!add)
    return UINT32_MAX;
  m->hash[s] = h;
  m->id[s] = (uint32_t)m->n++;
  return m->id[s];
}

/* ---- examples ---- */

struct example {
  uint64_t labels;
  uint32_t *feat; /* dense ids */
  uint32_t *fhash;
  size_t nf;
  unsigned fold; /* 0..FOLDS-1, from the text's hash */
};

struct labelset {
  char name[128];
  char *labels[NLU_MAX_LABELS];
  size_t nlabels;
  struct example *ex;
  size_t nex, cap;
};

static int label_index(struct labelset *ls, const char *name, size_t n)
{
  for (size_t i = 0; i < ls->nlabels; i++)
    if (strlen(ls->labels[i]) == n && memcmp(ls->labels[i], name, n) == 0)
      return (int)i;
  if (ls->nlabels >= NLU_MAX_LABELS)
    return -1;
  ls->labels[ls->nlabels] = strndup(name, n);
  return (int)ls->nlabels++;
}

/* ---- lexicon counting ---- */

struct wcount {
  char **w;
  uint32_t *count;
  size_t n, cap;
  struct fmap idx;
};

static void wc_add(struct wcount *wc, const char *w, size_t n)
{
  if (n < 2 || n > NLU_WORD_MAX)
    return;
  for (size_t i = 0; i < n; i++)
    if (w[i] < 'a' || w[i] > 'z')
      return;
  uint32_t h = nlu_hash(w, n, NLU_WORD_SEED);
  /* collisions of distinct words are resolved by a linear scan of ids */
  uint32_t id = fmap_get(&wc->idx, h, 0);
  if (id != UINT32_MAX && strlen(wc->w[id]) == n && memcmp(wc->w[id], w, n) == 0) {
    wc->count[id]++;
    return;
  }
  if (id != UINT32_MAX) { /* hash collision: rare; scan */
    for (size_t i = 0; i < wc->n; i++)
      if (strlen(wc->w[i]) == n && memcmp(wc->w[i], w, n) == 0) {
        wc->count[i]++;
        return;
      }
  }
  if (wc->n == wc->cap) {
    wc->cap = wc->cap ? wc->cap * 2 : 1024;
    wc->w = xrealloc(wc->w, wc->cap * sizeof *wc->w);
    wc->count = xrealloc(wc->count, wc->cap * sizeof *wc->count);
  }
  wc->w[wc->n] = strndup(w, n);
  wc->count[wc->n] = 1;
  if (id == UINT32_MAX)
    fmap_get(&wc->idx, h, 1);
  wc->n++;
}

static void wc_add_doc(struct wcount *wc, const struct nlu_doc *d)
{
  for (size_t i = 0; i < d->n; i++)
    if (d->tok[i].flags & NLU_TF_WORD)
      wc_add(wc, d->text + d->tok[i].off, d->tok[i].len);
}

static void wc_add_file(struct wcount *wc, const char *path)
{
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "nlu_train: cannot read %s\n", path);
    exit(2);
  }
  char w[NLU_WORD_MAX + 1];
  size_t n = 0;
  int c;
  while ((c = fgetc(f)) != EOF) {
    if (c >= 'A' && c <= 'Z')
      c = c - 'A' + 'a';
    if (c >= 'a' && c <= 'z') {
      if (n < NLU_WORD_MAX)
        w[n++] = (char)c;
    } else {
      if (c != '\'')
        wc_add(wc, w, n), n = 0;
    }
  }
  wc_add(wc, w, n);
  fclose(f);
}

/* ---- end of turn: how often an utterance ends at each word ---- */

static int cmp_u32(const void *a, const void *b);

/* Per word (by nlu_hash, NLU_WORD_SEED): utterances that end with it, and
 * places where it is followed by more words. Open addressing; a rare
 * collision of two words merges their counts, as the lookup would. */
struct turn_counts {
  uint32_t *hash; /* 0 = free */
  uint32_t *ends, *mids;
  size_t n, cap;
};

static struct turn_counts g_turn;

static size_t turn_slot(uint32_t h)
{
  if (h == 0)
    h = 1;
  if (g_turn.n * 2 >= g_turn.cap) {
    struct turn_counts old = g_turn;
    g_turn.cap = old.cap ? old.cap * 2 : 4096;
    g_turn.hash = xcalloc(g_turn.cap, sizeof *g_turn.hash);
    g_turn.ends = xcalloc(g_turn.cap, sizeof *g_turn.ends);
    g_turn.mids = xcalloc(g_turn.cap, sizeof *g_turn.mids);
    g_turn.n = 0;
    for (size_t i = 0; i < old.cap; i++)
      if (old.hash[i] != 0) {
        size_t at = turn_slot(old.hash[i]);
        g_turn.ends[at] = old.ends[i];
        g_turn.mids[at] = old.mids[i];
      }
    free(old.hash);
    free(old.ends);
    free(old.mids);
  }
  size_t at = h & (g_turn.cap - 1);
  while (g_turn.hash[at] != 0 && g_turn.hash[at] != h)
    at = (at + 1) & (g_turn.cap - 1);
  if (g_turn.hash[at] == 0) {
    g_turn.hash[at] = h;
    g_turn.n++;
  }
  return at;
}

/* Every word of d counts as a place the turn went on, the last as its end. */
static void turn_count(const struct nlu_doc *d)
{
  size_t last = d->n;
  for (size_t i = 0; i < d->n; i++)
    if (d->tok[i].flags & NLU_TF_WORD)
      last = i;
  for (size_t i = 0; i < d->n; i++) {
    if (!(d->tok[i].flags & NLU_TF_WORD))
      continue;
    size_t at = turn_slot(nlu_hash(d->text + d->tok[i].off, d->tok[i].len, NLU_WORD_SEED));
    if (i == last)
      g_turn.ends[at]++;
    else
      g_turn.mids[at]++;
  }
}

/* The table nlu_turn_end_prob() reads: words seen at least
 * NLU_TURN_MIN_SEEN times, sorted by hash; and, for the others, the end
 * rate of the words seen once or twice (rare words: names, drugs). */
static void write_turn_words(FILE *o)
{
  uint64_t rare_ends = 0, rare_all = 0;
  size_t kept = 0;
  uint32_t *hs = xcalloc(g_turn.n + 1, sizeof *hs);
  for (size_t i = 0; i < g_turn.cap; i++) {
    if (g_turn.hash[i] == 0)
      continue;
    uint32_t all = g_turn.ends[i] + g_turn.mids[i];
    if (all <= 2) {
      rare_ends += g_turn.ends[i];
      rare_all += all;
    }
    if (all >= NLU_TURN_MIN_SEEN)
      hs[kept++] = g_turn.hash[i];
  }
  qsort(hs, kept, sizeof *hs, cmp_u32);
  fprintf(o,
          "\n/* end of turn: %zu words seen %d+ times (of %zu) */\n"
          "static const struct nlu_turn_word turn_words[] = {",
          kept, NLU_TURN_MIN_SEEN, g_turn.n);
  for (size_t k = 0; k < kept; k++) {
    size_t at = turn_slot(hs[k]);
    uint32_t e = g_turn.ends[at], m = g_turn.mids[at];
    fprintf(o, "%s{%uu, %u, %u}",
            k == 0  ? "\n  "
            : k % 4 ? ", "
                    : ",\n  ",
            hs[k], e > 65535 ? 65535 : e, m > 65535 ? 65535 : m);
  }
  fprintf(o,
          "};\n\nconst struct nlu_turn_word *nlu_turn_words(size_t *n, float *unseen)\n{\n"
          "  *n = %zu;\n  *unseen = %.4ff;\n  return turn_words;\n}\n",
          kept, rare_all ? (double)rare_ends / (double)rare_all : 0.5);
  free(hs);
}

/* ---- reading a labelset ---- */

static void base_name(const char *path, char *out, size_t cap)
{
  const char *s = strrchr(path, '/');
  s = s == NULL ? path : s + 1;
  size_t n = strlen(s);
  if (n > 4 && strcmp(s + n - 4, ".tsv") == 0)
    n -= 4;
  if (n >= cap)
    n = cap - 1;
  memcpy(out, s, n);
  out[n] = '\0';
  for (size_t i = 0; i < n; i++)
    if (!((out[i] >= 'a' && out[i] <= 'z') || (out[i] >= '0' && out[i] <= '9') || out[i] == '_')) {
      fprintf(stderr, "nlu_train: labelset name must be [a-z0-9_]: %s\n", path);
      exit(2);
    }
}

/* Appends one example (text with its labels) to ls. */
static void add_example(struct labelset *ls, const char *text, uint64_t labels, unsigned fold,
                        struct fmap *fm, struct wcount *wc)
{
  static struct nlu_doc doc;
  nlu_doc_parse(&doc, text, strlen(text), NULL);
  wc_add_doc(wc, &doc);
  turn_count(&doc);
  uint32_t hashes[NLU_MAX_FEATURES];
  size_t nf = nlu_features(&doc, 0, doc.n, hashes, NLU_MAX_FEATURES);
  if (ls->nex == ls->cap) {
    ls->cap = ls->cap ? ls->cap * 2 : 256;
    ls->ex = xrealloc(ls->ex, ls->cap * sizeof *ls->ex);
  }
  struct example *e = &ls->ex[ls->nex++];
  e->labels = labels;
  e->nf = nf;
  e->feat = xcalloc(nf, sizeof *e->feat);
  e->fhash = xcalloc(nf, sizeof *e->fhash);
  for (size_t i = 0; i < nf; i++) {
    e->fhash[i] = hashes[i];
    e->feat[i] = fmap_get(fm, hashes[i], 1);
  }
  e->fold = fold; /* every variant of a line sits in the line's fold */
}

/* Expands the alternatives of a template line: "{a|b|} c" gives "a c",
 * "b c" and " c". With more than MAX_VARIANTS combinations, an evenly
 * spaced, deterministic subset is kept. Returns the number written. */
static size_t expand_alternatives(const char *text, char out[][MAX_LINE], const char *path,
                                  size_t lineno)
{
  const char *grp[16];
  size_t ngrp = 0, nalt[16];
  unsigned long long total = 1;
  for (const char *p = text; *p != '\0'; p++) {
    if (*p != '{')
      continue;
    const char *end = strchr(p, '}');
    if (end == NULL || ngrp == 16) {
      fprintf(stderr, "%s:%zu: unclosed '{' or too many groups\n", path, lineno);
      exit(2);
    }
    grp[ngrp] = p;
    nalt[ngrp] = 1;
    for (const char *q = p; q < end; q++)
      nalt[ngrp] += *q == '|';
    total *= nalt[ngrp];
    ngrp++;
    p = end;
  }
  unsigned long long step = total <= MAX_VARIANTS ? 1 : (total + MAX_VARIANTS - 1) / MAX_VARIANTS;
  size_t n = 0;
  for (unsigned long long c = 0; c < total && n < MAX_VARIANTS; c += step) {
    char *o = out[n];
    size_t on = 0;
    unsigned long long rest = c;
    const char *p = text;
    for (size_t g = 0; g <= ngrp; g++) {
      const char *stop = g < ngrp ? grp[g] : text + strlen(text);
      size_t len = (size_t)(stop - p);
      if (on + len >= MAX_LINE)
        len = MAX_LINE - 1 - on;
      memcpy(o + on, p, len);
      on += len;
      if (g == ngrp)
        break;
      size_t pick = (size_t)(rest % nalt[g]);
      rest /= nalt[g];
      const char *a = grp[g] + 1;
      for (size_t k = 0; k < pick; k++)
        a = strchr(a, '|') + 1;
      const char *ae = a;
      while (*ae != '|' && *ae != '}')
        ae++;
      len = (size_t)(ae - a);
      if (on + len >= MAX_LINE)
        len = MAX_LINE - 1 - on;
      memcpy(o + on, a, len);
      on += len;
      p = strchr(grp[g], '}') + 1;
    }
    o[on] = '\0';
    n++;
  }
  return n;
}

static void read_labelset(struct labelset *ls, const char *path, struct fmap *fm, struct wcount *wc)
{
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "nlu_train: cannot read %s\n", path);
    exit(2);
  }
  base_name(path, ls->name, sizeof ls->name);
  char line[MAX_LINE];
  size_t lineno = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    lineno++;
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
      line[--n] = '\0';
    if (n == 0 || line[0] == '#')
      continue;
    char *tab = strchr(line, '\t');
    if (tab == NULL) {
      fprintf(stderr, "%s:%zu: no TAB between labels and text\n", path, lineno);
      exit(2);
    }
    *tab = '\0';
    const char *text = tab + 1;
    uint64_t labels = 0;
    if (strcmp(line, "-") != 0) {
      for (char *p = line; *p != '\0';) {
        char *comma = strchr(p, ',');
        size_t ln = comma == NULL ? strlen(p) : (size_t)(comma - p);
        int li = label_index(ls, p, ln);
        if (li < 0) {
          fprintf(stderr, "%s:%zu: more than %d labels\n", path, lineno, NLU_MAX_LABELS);
          exit(2);
        }
        labels |= 1ull << li;
        p += ln;
        if (*p == ',')
          p++;
      }
    }
    unsigned fold = nlu_hash(text, strlen(text), 77) % FOLDS;
    char variants[MAX_VARIANTS][MAX_LINE];
    size_t nv = expand_alternatives(text, variants, path, lineno);
    for (size_t v = 0; v < nv; v++)
      add_example(ls, variants[v], labels, fold, fm, wc);
  }
  fclose(f);
}

/* ---- training ---- */

static int g_epochs = 40;
static double g_lr = 4.0;

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint32_t rng_next(void)
{
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(rng_state >> 33);
}

enum algo { ALGO_LR, ALGO_PERCEPTRON };

/* Trains weights w[nfeat * nlabels] and bias[nlabels] on every example
 * outside fold `holdout` (FOLDS = train on all). */
static void train(const struct labelset *ls, size_t nfeat, enum algo algo, unsigned holdout,
                  float *w, float *bias)
{
  size_t L = ls->nlabels;
  size_t *order = xcalloc(ls->nex, sizeof *order);
  size_t n = 0;
  for (size_t i = 0; i < ls->nex; i++)
    if (ls->ex[i].fold != holdout)
      order[n++] = i;
  memset(w, 0, nfeat * L * sizeof *w);
  memset(bias, 0, L * sizeof *bias);
  /* averaged perceptron: running sums */
  float *wsum = algo == ALGO_PERCEPTRON ? xcalloc(nfeat * L, sizeof *wsum) : NULL;
  float *bsum = algo == ALGO_PERCEPTRON ? xcalloc(L, sizeof *bsum) : NULL;
  double c = 1.0;
  rng_state = 0x2545F4914F6CDD1Dull;
  for (int ep = 0; ep < g_epochs; ep++) {
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates with the fixed-seed LCG */
      size_t j = rng_next() % i;
      size_t t = order[i - 1];
      order[i - 1] = order[j];
      order[j] = t;
    }
    float lr = (float)(g_lr / (1.0 + ep * 0.1));
    for (size_t k = 0; k < n; k++) {
      const struct example *e = &ls->ex[order[k]];
      float v = e->nf ? 1.0f / sqrtf((float)e->nf) : 0.0f;
      for (size_t l = 0; l < L; l++) {
        float z = bias[l];
        for (size_t f = 0; f < e->nf; f++)
          z += v * w[e->feat[f] * L + l];
        float y = (e->labels >> l) & 1 ? 1.0f : 0.0f;
        float g;
        if (algo == ALGO_LR) {
          float p = 1.0f / (1.0f + expf(-z));
          g = y - p;
        } else {
          g = ((z > 0) == (y > 0.5f)) ? 0.0f : (y > 0.5f ? 1.0f : -1.0f);
        }
        if (g == 0.0f)
          continue;
        float step = algo == ALGO_LR ? lr * g : g;
        for (size_t f = 0; f < e->nf; f++) {
          w[e->feat[f] * L + l] += step * v;
          if (wsum)
            wsum[e->feat[f] * L + l] += (float)c * step * v;
        }
        bias[l] += step * 0.5f;
        if (bsum)
          bsum[l] += (float)c * step * 0.5f;
      }
      c += 1.0;
    }
    if (algo == ALGO_LR && L2 > 0) /* weight decay once per epoch */
      for (size_t i = 0; i < nfeat * L; i++)
        w[i] *= (float)(1.0 - L2 * n);
  }
  if (algo == ALGO_PERCEPTRON) { /* averaged weights: w - wsum / c */
    for (size_t i = 0; i < nfeat * L; i++)
      w[i] -= wsum[i] / (float)c;
    for (size_t l = 0; l < L; l++)
      bias[l] -= bsum[l] / (float)c;
    free(wsum);
    free(bsum);
  }
  free(order);
}

static void predict(const struct labelset *ls, const struct example *e, const float *w,
                    const float *bias, float *p)
{
  size_t L = ls->nlabels;
  float v = e->nf ? 1.0f / sqrtf((float)e->nf) : 0.0f;
  for (size_t l = 0; l < L; l++) {
    float z = bias[l];
    for (size_t f = 0; f < e->nf; f++)
      z += v * w[e->feat[f] * L + l];
    p[l] = 1.0f / (1.0f + expf(-z));
  }
}

/* Cross-validates: for each of the FOLDS folds, trains on the others and
 * predicts the fold, so every example gets an out-of-fold probability.
 * Then picks, per label, the threshold in 0.15..0.85 maximising the
 * out-of-fold F1 (ties: the one nearest 0.5); reports precision/recall/F1
 * when report is set. */
static void calibrate(const struct labelset *ls, size_t nfeat, enum algo algo, float *thr,
                      int report, const char *algo_name)
{
  size_t L = ls->nlabels, N = ls->nex;
  float *w = xcalloc(nfeat * L, sizeof *w);
  float bias[NLU_MAX_LABELS];
  float *pp = xcalloc(N * L, sizeof *pp);
  for (unsigned f = 0; f < FOLDS; f++) {
    train(ls, nfeat, algo, f, w, bias);
    for (size_t i = 0; i < N; i++)
      if (ls->ex[i].fold == f)
        predict(ls, &ls->ex[i], w, bias, pp + i * L);
  }
  double f1sum = 0;
  size_t exact = 0;
  for (size_t l = 0; l < L; l++) {
    double best_f1 = -1, best_t = 0.5;
    size_t btp = 0, bfp = 0, bfn = 0;
    for (int ti = 15; ti <= 85; ti += 5) {
      double t = ti / 100.0;
      size_t tp = 0, fp = 0, fn = 0;
      for (size_t k = 0; k < N; k++) {
        bool y = (ls->ex[k].labels >> l) & 1, yh = pp[k * L + l] >= t;
        tp += y && yh;
        fp += !y && yh;
        fn += y && !yh;
      }
      double f1 = tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
      if (f1 > best_f1 + 1e-9 ||
          (fabs(f1 - best_f1) <= 1e-9 && fabs(t - 0.5) < fabs(best_t - 0.5))) {
        best_f1 = f1;
        best_t = t;
        btp = tp;
        bfp = fp;
        bfn = fn;
      }
    }
    thr[l] = (float)best_t;
    f1sum += best_f1;
    if (report)
      printf("  %-10s %-12s %-28s P=%.3f R=%.3f F1=%.3f thr=%.2f (n=%zu)\n", algo_name, ls->name,
             ls->labels[l], btp + bfp ? (double)btp / (btp + bfp) : 0.0,
             btp + bfn ? (double)btp / (btp + bfn) : 0.0, best_f1, best_t, btp + bfn);
  }
  for (size_t k = 0; k < N; k++) {
    uint64_t got = 0;
    for (size_t l = 0; l < L; l++)
      if (pp[k * L + l] >= thr[l])
        got |= 1ull << l;
    exact += got == ls->ex[k].labels;
  }
  if (report)
    printf("  %-10s %-12s %zu-fold cross-validated macro-F1 = %.3f, exact match %.3f "
           "(%zu examples)\n",
           algo_name, ls->name, (size_t)FOLDS, L ? f1sum / L : 0.0, N ? (double)exact / N : 0.0, N);
  free(pp);
  free(w);
}

/* ---- output ---- */

/* The separator before array element i, `per` elements a line. */
static const char *sep(size_t i, size_t per)
{
  return i == 0 ? "\n" : i % per ? "," : ",\n";
}

static int cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static size_t pow2_at_least(size_t n)
{
  size_t c = 16;
  while (c < n)
    c *= 2;
  return c;
}

static void write_model(FILE *o, size_t mi, const struct labelset *ls, const struct fmap *fm,
                        const float *w, const float *bias, const float *thr)
{
  size_t L = ls->nlabels;
  /* the kept features, by hash */
  uint32_t *hs = xcalloc(fm->n, sizeof *hs);
  size_t nh = 0;
  for (size_t s = 0; s < fm->cap; s++) {
    if (fm->hash[s] == 0)
      continue;
    uint32_t id = fm->id[s];
    for (size_t l = 0; l < L; l++)
      if (fabsf(w[id * L + l]) > PRUNE) {
        hs[nh++] = fm->hash[s];
        break;
      }
  }
  qsort(hs, nh, sizeof *hs, cmp_u32);
  size_t cap = pow2_at_least(nh * 2 + 1);
  uint32_t *slot = xcalloc(cap, sizeof *slot);
  for (size_t i = 0; i < nh; i++) {
    size_t s = hs[i] & (cap - 1);
    while (slot[s] != 0)
      s = (s + 1) & (cap - 1);
    slot[s] = hs[i];
  }
  fprintf(o, "\n/* labelset %s: %zu labels, %zu examples, %zu features */\n", ls->name, L, ls->nex,
          nh);
  fprintf(o, "static const char *const m%zu_labels[] = {", mi);
  for (size_t l = 0; l < L; l++)
    fprintf(o, "%s\"%s\"", l ? ", " : "", ls->labels[l]);
  fprintf(o, "};\nstatic const float m%zu_bias[] = {", mi);
  for (size_t l = 0; l < L; l++)
    fprintf(o, "%s%.6ef", l ? ", " : "", (double)bias[l]);
  fprintf(o, "};\nstatic const float m%zu_thr[] = {", mi);
  for (size_t l = 0; l < L; l++)
    fprintf(o, "%s%.6ef", l ? ", " : "", (double)thr[l]);
  fprintf(o, "};\nstatic const float m%zu_thr_logit[] = {", mi);
  for (size_t l = 0; l < L; l++)
    fprintf(o, "%s%.6ef", l ? ", " : "", log((double)thr[l] / (1.0 - (double)thr[l])));
  /* int8 weights: one scale per model, so that the largest weight is 127 */
  float wmax = 0;
  for (size_t i = 0; i < nh; i++) {
    uint32_t id = fmap_get((struct fmap *)fm, hs[i], 0);
    for (size_t l = 0; l < L; l++)
      if (fabsf(w[id * L + l]) > wmax)
        wmax = fabsf(w[id * L + l]);
  }
  float scale = wmax > 0 ? wmax / 127.0f : 1.0f;
  size_t stride = L <= NLU_ROW_NARROW / 2 ? NLU_ROW_NARROW / 2
                  : L <= NLU_ROW_NARROW   ? NLU_ROW_NARROW
                                          : NLU_MAX_LABELS;
  fprintf(o, "};\nstatic const struct nlu_slot m%zu_slots[] = {", mi);
  uint32_t row = 0;
  for (size_t s = 0; s < cap; s++) {
    fprintf(o, "%s{%uu, %u}",
            s == 0  ? "\n"
            : s % 6 ? ", "
                    : ",\n",
            slot[s], slot[s] != 0 ? row : 0);
    row += slot[s] != 0;
  }
  fprintf(o, "};\nstatic const int8_t m%zu_weights[] = {", mi);
  row = 0;
  for (size_t s = 0; s < cap; s++) {
    if (slot[s] == 0)
      continue;
    uint32_t id = fmap_get((struct fmap *)fm, slot[s], 0);
    for (size_t l = 0; l < stride; l++)
      fprintf(o, "%s%d",
              row == 0 && l == 0 ? "\n"
              : l == 0           ? ",\n"
                                 : ",",
              l < L ? (int)lrintf(w[id * L + l] / scale) : 0);
    row++;
  }
  fprintf(o, "};\n");
  fprintf(o,
          "static const struct nlu_model m%zu = {\"%s\", %zu, m%zu_labels, m%zu_bias, "
          "m%zu_thr, m%zu_thr_logit, %zuu, m%zu_slots, m%zu_weights, %zu, %.9ef};\n",
          mi, ls->name, L, mi, mi, mi, mi, cap - 1, mi, mi, stride, (double)scale);
  free(slot);
  free(hs);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

struct del {
  uint32_t hash, word;
};

static int cmp_del(const void *a, const void *b)
{
  const struct del *x = a, *y = b;
  if (x->hash != y->hash)
    return x->hash < y->hash ? -1 : 1;
  return x->word < y->word ? -1 : x->word > y->word;
}

static void write_lexicon(FILE *o, struct wcount *wc)
{
  /* words sorted, so the output does not depend on reading order */
  size_t n = wc->n;
  char **w = xcalloc(n, sizeof *w);
  for (size_t i = 0; i < n; i++)
    w[i] = wc->w[i];
  qsort(w, n, sizeof *w, cmp_str);
  /* counts follow their word: find by scan of the original list */
  uint32_t *cnt = xcalloc(n, sizeof *cnt);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < wc->n; j++)
      if (wc->w[j] == w[i])
        cnt[i] = wc->count[j];
  fprintf(o, "\n/* spelling lexicon: %zu words */\nstatic const char lx_pool[] =", n);
  uint32_t *off = xcalloc(n, sizeof *off);
  uint32_t at = 0;
  for (size_t i = 0; i < n; i++) {
    off[i] = at;
    fprintf(o, "%s\"%s\\0\"", i % 8 ? " " : "\n  ", w[i]);
    at += (uint32_t)strlen(w[i]) + 1;
  }
  fprintf(o, ";\nstatic const uint32_t lx_off[] = {0");
  for (size_t i = 0; i < n; i++)
    fprintf(o, "%s%u", i % 16 ? "," : ",\n", off[i]);
  fprintf(o, "};\nstatic const uint8_t lx_len[] = {0");
  for (size_t i = 0; i < n; i++)
    fprintf(o, "%s%zu", i % 16 ? "," : ",\n", strlen(w[i]));
  fprintf(o, "};\nstatic const uint32_t lx_count[] = {0");
  for (size_t i = 0; i < n; i++)
    fprintf(o, "%s%u", i % 16 ? "," : ",\n", cnt[i]);
  size_t wcap = pow2_at_least(n * 2 + 1);
  uint32_t *wslot = xcalloc(wcap, sizeof *wslot);
  for (size_t i = 0; i < n; i++) {
    size_t s = nlu_hash(w[i], strlen(w[i]), NLU_WORD_SEED) & (wcap - 1);
    while (wslot[s] != 0)
      s = (s + 1) & (wcap - 1);
    wslot[s] = (uint32_t)i + 1;
  }
  fprintf(o, "};\nstatic const uint32_t lx_word_slot[] = {");
  for (size_t s = 0; s < wcap; s++)
    fprintf(o, "%s%u", sep(s, 16), wslot[s]);
  fprintf(o, "};\n");
  /* deletion index */
  size_t nd = 0, dcap = 1024;
  struct del *dl = xcalloc(dcap, sizeof *dl);
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(w[i]);
    if (len < NLU_CORRECT_MIN - 1)
      continue;
    char buf[NLU_WORD_MAX];
    for (size_t k = 0; k < len; k++) {
      memcpy(buf, w[i], k);
      memcpy(buf + k, w[i] + k + 1, len - k - 1);
      if (nd == dcap) {
        dcap *= 2;
        dl = xrealloc(dl, dcap * sizeof *dl);
      }
      dl[nd].hash = nlu_hash(buf, len - 1, NLU_DEL_SEED);
      dl[nd++].word = (uint32_t)i;
    }
  }
  qsort(dl, nd, sizeof *dl, cmp_del);
  size_t nkeys = 0;
  for (size_t i = 0; i < nd; i++)
    if (i == 0 || dl[i].hash != dl[i - 1].hash || dl[i].word != dl[i - 1].word)
      dl[nkeys++] = dl[i]; /* unique (hash, word) pairs */
  nd = nkeys;
  size_t ndistinct = 0;
  for (size_t i = 0; i < nd; i++)
    ndistinct += i == 0 || dl[i].hash != dl[i - 1].hash;
  size_t dcap2 = pow2_at_least(ndistinct * 2 + 1);
  uint32_t *dh = xcalloc(dcap2, sizeof *dh);
  size_t *dfirst = xcalloc(dcap2, sizeof *dfirst);
  size_t *dcount = xcalloc(dcap2, sizeof *dcount);
  for (size_t i = 0; i < nd;) {
    size_t j = i;
    while (j < nd && dl[j].hash == dl[i].hash)
      j++;
    size_t s = dl[i].hash & (dcap2 - 1);
    while (dh[s] != 0)
      s = (s + 1) & (dcap2 - 1);
    dh[s] = dl[i].hash;
    dfirst[s] = i;
    dcount[s] = j - i;
    i = j;
  }
  fprintf(o, "static const uint32_t lx_del_hash[] = {");
  for (size_t s = 0; s < dcap2; s++)
    fprintf(o, "%s%uu", sep(s, 12), dh[s]);
  fprintf(o, "};\nstatic const uint32_t lx_del_off[] = {");
  uint32_t doff = 0;
  for (size_t s = 0; s <= dcap2; s++) {
    fprintf(o, "%s%u", sep(s, 16), doff);
    if (s < dcap2)
      doff += (uint32_t)dcount[s];
  }
  fprintf(o, "};\nstatic const uint32_t lx_del_word[] = {0");
  for (size_t s = 0; s < dcap2; s++)
    for (size_t k = 0; k < dcount[s]; k++)
      fprintf(o, "%s%u", (k + s) % 16 ? "," : ",\n", dl[dfirst[s] + k].word);
  fprintf(o, "};\n");
  fprintf(o,
          "static const struct nlu_lexicon lexicon = {%zu, lx_pool, lx_off + 1, lx_len + 1, "
          "lx_count + 1, "
          "%zuu, lx_word_slot, %zuu, lx_del_hash, lx_del_off, lx_del_word + 1};\n",
          n, wcap - 1, dcap2 - 1);
  free(dh);
  free(dfirst);
  free(dcount);
  free(dl);
  free(wslot);
  free(off);
  free(cnt);
  free(w);
}

static void fmap_release(struct fmap *m)
{
  free(m->hash);
  free(m->id);
}

static void labelset_release(struct labelset *ls, struct fmap *fm)
{
  for (size_t i = 0; i < ls->nex; i++) {
    free(ls->ex[i].feat);
    free(ls->ex[i].fhash);
  }
  free(ls->ex);
  for (size_t l = 0; l < ls->nlabels; l++)
    free(ls->labels[l]);
  fmap_release(fm);
}

static void wcount_release(struct wcount *wc)
{
  for (size_t i = 0; i < wc->n; i++)
    free(wc->w[i]);
  free(wc->w);
  free(wc->count);
  fmap_release(&wc->idx);
}

int main(int argc, char **argv)
{
  int report = 0;
  enum algo algo = ALGO_LR;
  const char *out = NULL;
  struct wcount wc = {0};
  struct labelset *sets = xcalloc((size_t)argc, sizeof *sets);
  struct fmap *fms = xcalloc((size_t)argc, sizeof *fms);
  size_t nsets = 0;
  const char *vocab[64];
  size_t nvocab = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--report") == 0) {
      report = 1;
    } else if (strcmp(argv[i], "--algo") == 0 && i + 1 < argc) {
      i++;
      algo = strcmp(argv[i], "perceptron") == 0 ? ALGO_PERCEPTRON : ALGO_LR;
    } else if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc) {
      g_epochs = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--lr") == 0 && i + 1 < argc) {
      g_lr = atof(argv[++i]);
    } else if (strcmp(argv[i], "--vocab") == 0 && i + 1 < argc && nvocab < 64) {
      vocab[nvocab++] = argv[++i];
    } else if (out == NULL) {
      out = argv[i];
    } else {
      read_labelset(&sets[nsets], argv[i], &fms[nsets], &wc);
      nsets++;
    }
  }
  if (out == NULL || nsets == 0) {
    fprintf(stderr, "usage: nlu_train [--report] [--algo lr|perceptron] [--vocab FILE]... "
                    "OUT.c SET.tsv...\n");
    return 2;
  }
  for (size_t i = 0; i < nvocab; i++)
    wc_add_file(&wc, vocab[i]);
  /* labelsets in name order: the output does not depend on argument order */
  for (size_t i = 1; i < nsets; i++)
    for (size_t j = i; j > 0 && strcmp(sets[j - 1].name, sets[j].name) > 0; j--) {
      struct labelset t = sets[j];
      sets[j] = sets[j - 1];
      sets[j - 1] = t;
      struct fmap tf = fms[j];
      fms[j] = fms[j - 1];
      fms[j - 1] = tf;
    }
  FILE *o = NULL;
  if (strcmp(out, "-") != 0) {
    o = fopen(out, "w");
    if (o == NULL) {
      fprintf(stderr, "nlu_train: cannot write %s\n", out);
      return 2;
    }
    fprintf(o, "/* Generated by tools/nlu_train.c from drills/nlu/<labelset>.tsv. Do not edit. */\n"
               "#include \"nlu/nlu.h\"\n\n"
               "const struct nlu_lexicon *nlu_lexicon_default(void);\n"
               "size_t nlu_model_count(void);\n"
               "const struct nlu_model *nlu_model_at(size_t i);\n");
  }
  const char *algo_name = algo == ALGO_LR ? "logreg" : "perceptron";
  for (size_t m = 0; m < nsets; m++) {
    struct labelset *ls = &sets[m];
    size_t nf = fms[m].n, L = ls->nlabels;
    float *w = xcalloc(nf * L, sizeof *w);
    float bias[NLU_MAX_LABELS], thr[NLU_MAX_LABELS];
    calibrate(ls, nf, algo, thr, report, algo_name);
    if (o != NULL) {
      train(ls, nf, algo, FOLDS, w, bias); /* the final model sees every example */
      write_model(o, m, ls, &fms[m], w, bias, thr);
    }
    free(w);
  }
  if (o != NULL) {
    write_lexicon(o, &wc);
    write_turn_words(o);
    fprintf(o, "\nstatic const struct nlu_model *const models[] = {");
    for (size_t m = 0; m < nsets; m++)
      fprintf(o, "%s&m%zu", m ? ", " : "", m);
    fprintf(o,
            "};\n\nsize_t nlu_model_count(void)\n{\n  return %zu;\n}\n\n"
            "const struct nlu_model *nlu_model_at(size_t i)\n{\n"
            "  return i < %zu ? models[i] : NULL;\n}\n\n"
            "const struct nlu_lexicon *nlu_lexicon_default(void)\n{\n"
            "  return &lexicon;\n}\n",
            nsets, nsets);
    if (fclose(o) != 0) {
      fprintf(stderr, "nlu_train: cannot write %s\n", out);
      return 2;
    }
  }
  for (size_t m = 0; m < nsets; m++)
    labelset_release(&sets[m], &fms[m]);
  wcount_release(&wc);
  free(g_turn.hash);
  free(g_turn.ends);
  free(g_turn.mids);
  free(sets);
  free(fms);
  return 0;
}
