/*
 * classify.c — the generic multi-label classifier: hashed word and
 * character n-gram features (shared with the trainer, tools/nlu_train.c)
 * scored by one-vs-rest logistic regression models that the build trains
 * from drills/nlu/<labelset>.tsv and compiles in (nlu_models.c, generated).
 *
 * Scoring is a sparse dot product: each feature hash is looked up once in
 * the model's open-addressing table, which lists the non-zero weights of
 * that feature for each label. No allocation, no mutable state.
 */
#include "nlu/nlu.h"

#include <math.h>
#include <string.h>

#define SEED_WORD       0x01000193u
#define SEED_NEG_WORD   0x02000193u
#define SEED_BIGRAM     0x03000193u
#define SEED_NEG_BIGRAM 0x04000193u
#define SEED_CHAR       0x05000193u
#define SEED_NEG_CHAR   0x06000193u
#define SEED_SHAPE      0x07000193u

#define WINDOW_WORDS  24 /* long sentences are scored in windows of this many */
#define WINDOW_STRIDE 12
#define CLAUSE_MIN    6 /* tokens of a clause of a long sentence */

uint32_t nlu_hash(const void *p, size_t n, uint32_t seed)
{
  const unsigned char *s = p;
  uint32_t h = 2166136261u ^ seed;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 16777619u;
  }
  return h == 0 ? 1 : h;
}

/* nlu_hash() of exactly 4 bytes, unrolled (the character 4-grams: the most
 * frequent feature). */
static uint32_t hash4(const char *p, uint32_t seed)
{
  const unsigned char *s = (const unsigned char *)p;
  uint32_t h = 2166136261u ^ seed;
  h = (h ^ s[0]) * 16777619u;
  h = (h ^ s[1]) * 16777619u;
  h = (h ^ s[2]) * 16777619u;
  h = (h ^ s[3]) * 16777619u;
  return h == 0 ? 1 : h;
}

static uint32_t hash_mix(uint32_t a, uint32_t b)
{
  uint32_t h = a ^ (b + 0x9e3779b9u + (a << 6) + (a >> 2));
  return h == 0 ? 1 : h;
}

struct fbuf {
  uint32_t *out;
  size_t n, cap;
};

static void fput(struct fbuf *f, uint32_t h)
{
  if (f->n < f->cap)
    f->out[f->n++] = h;
}

static void char_grams(struct fbuf *f, const char *w, size_t n, uint32_t seed)
{
  char pad[NLU_WORD_MAX + 2];
  if (n < 4 || n > NLU_WORD_MAX) /* short words: the unigram says it all */
    return;
  pad[0] = '<';
  memcpy(pad + 1, w, n);
  pad[n + 1] = '>';
  size_t pn = n + 2;
  /* 4-grams only: as accurate as 3- and 4-grams together on the
   * cross-validated training sets, at half the features (docs/internals/nlu.md) */
  for (size_t i = 0; i + 4 <= pn; i++)
    fput(f, hash4(pad + i, seed));
}

size_t nlu_features(const struct nlu_doc *d, size_t b, size_t e, uint32_t *out, size_t cap)
{
  struct fbuf f = {out, 0, cap};
  uint32_t prev = 0;
  bool qmark = false;
  for (size_t i = b; i < e && i < d->n; i++) {
    const struct nlu_token *t = &d->tok[i];
    if (!(t->flags & NLU_TF_WORD)) {
      if (t->flags & NLU_TF_QMARK)
        qmark = true;
      if (t->flags & NLU_TF_SENT_END)
        prev = 0;
      continue;
    }
    const char *w = d->text + t->off;
    bool neg = (t->flags & NLU_TF_NEGATED) != 0;
    uint32_t wh = (t->flags & NLU_TF_NUMBER) && t->len > 2
                      ? nlu_hash("#", 1, SEED_WORD)
                      : nlu_hash(w, t->len, neg ? SEED_NEG_WORD : SEED_WORD);
    fput(&f, wh);
    if (t->flags & NLU_TF_NUMBER)
      fput(&f, nlu_hash("#num", 4, SEED_SHAPE));
    fput(&f, hash_mix(prev, wh) ^ (neg ? SEED_NEG_BIGRAM : SEED_BIGRAM));
    prev = wh;
    if (!(t->flags & NLU_TF_NUMBER))
      char_grams(&f, w, t->len, neg ? SEED_NEG_CHAR : SEED_CHAR);
  }
  if (qmark)
    fput(&f, nlu_hash("?", 1, SEED_SHAPE));
  return f.n;
}

/* ---- scoring ---- */

static float sigmoid(float x)
{
  return 1.0f / (1.0f + expf(-x));
}

/* The innermost loop of the classifier: rows of int8 weights summed into
 * int16 lanes (a constant trip count the compiler vectorises with plain
 * SSE2), flushed into int32 every FLUSH_ROWS rows so they cannot overflow
 * (FLUSH_ROWS * 127 < 32767). */
#define FLUSH_ROWS 256

static void flush(int32_t *acc, int16_t *acc16)
{
  for (uint32_t k = 0; k < NLU_MAX_LABELS; k++) {
    acc[k] += acc16[k];
    acc16[k] = 0;
  }
}

static void score_features(const struct nlu_model *m, const uint32_t *feat, size_t nf, float *logit)
{
  int32_t acc[NLU_MAX_LABELS] = {0};
  int16_t acc16[NLU_MAX_LABELS] = {0};
  uint32_t L = m->nlabels, rows = 0;
  for (size_t i = 0; i < nf; i++) {
    uint32_t h = feat[i];
    for (uint32_t s = h & m->slot_mask;; s = (s + 1) & m->slot_mask) {
      const struct nlu_slot *sl = &m->slots[s];
      if (sl->hash == 0)
        break;
      if (sl->hash != h)
        continue;
      const int8_t *row = m->weights + (size_t)sl->row * m->row_stride;
      if (m->row_stride == NLU_ROW_NARROW / 2)
        for (uint32_t k = 0; k < NLU_ROW_NARROW / 2; k++)
          acc16[k] = (int16_t)(acc16[k] + row[k]);
      else if (m->row_stride == NLU_ROW_NARROW)
        for (uint32_t k = 0; k < NLU_ROW_NARROW; k++)
          acc16[k] = (int16_t)(acc16[k] + row[k]);
      else
        for (uint32_t k = 0; k < NLU_MAX_LABELS; k++)
          acc16[k] = (int16_t)(acc16[k] + row[k]);
      if (++rows == FLUSH_ROWS) {
        flush(acc, acc16);
        rows = 0;
      }
      break;
    }
  }
  flush(acc, acc16);
  /* every feature has the value 1/sqrt(nf): scale once at the end */
  float v = nf > 0 ? m->scale / sqrtf((float)nf) : 0.0f;
  for (uint32_t k = 0; k < L; k++)
    logit[k] = m->bias[k] + v * (float)acc[k];
}

/* Logits and label mask of model m for the features feat[0..nf): a label
 * fires when its logit reaches the threshold's logit (no exp per label). */
static uint64_t classify_features(const struct nlu_model *m, const uint32_t *feat, size_t nf,
                                  float *logit)
{
  score_features(m, feat, nf, logit);
  uint64_t mask = 0;
  if (nf == 0)
    return 0;
  for (uint32_t k = 0; k < m->nlabels; k++)
    if (logit[k] >= m->threshold_logit[k])
      mask |= 1ull << k;
  return mask;
}

uint64_t nlu_classify_span(const struct nlu_model *m, const struct nlu_doc *d, size_t b, size_t e,
                           float *p)
{
  uint32_t feat[NLU_MAX_FEATURES];
  float logit[NLU_MAX_LABELS];
  if (m == NULL)
    return 0;
  size_t nf = nlu_features(d, b, e, feat, NLU_MAX_FEATURES);
  uint64_t mask = classify_features(m, feat, nf, logit);
  if (p != NULL)
    for (uint32_t k = 0; k < m->nlabels; k++)
      p[k] = sigmoid(logit[k]);
  return mask;
}

/* Scores [b, e) with every model (features hashed once) and folds the
 * results into out[] (out[i].p holds the best logit until the end). */
static void fold(const struct nlu_model *const *models, size_t nm, const struct nlu_doc *d,
                 size_t b, size_t e, size_t sent, struct nlu_result *out)
{
  uint32_t feat[NLU_MAX_FEATURES];
  float logit[NLU_MAX_LABELS];
  size_t nf = nlu_features(d, b, e, feat, NLU_MAX_FEATURES);
  if (nf == 0)
    return;
  for (size_t i = 0; i < nm; i++) {
    const struct nlu_model *m = models[i];
    uint64_t got = classify_features(m, feat, nf, logit);
    for (uint32_t k = 0; k < m->nlabels; k++)
      if (logit[k] > out[i].p[k])
        out[i].p[k] = logit[k];
    for (uint64_t g = got & ~out[i].mask; g != 0; g &= g - 1) /* labels new to this doc */
      out[i].sent_of[__builtin_ctzll(g)] = (uint16_t)sent;
    out[i].mask |= got;
  }
}

void nlu_classify_doc_multi(const struct nlu_model *const *models, size_t nm,
                            const struct nlu_doc *d, struct nlu_result *out)
{
  for (size_t i = 0; i < nm; i++) {
    out[i].mask = 0;
    for (size_t k = 0; k < NLU_MAX_LABELS; k++) {
      out[i].p[k] = -INFINITY; /* the best logit, turned into a probability below */
      out[i].sent_of[k] = UINT16_MAX;
    }
  }
  size_t b = 0;
  for (size_t s = 0; s < d->nsent; s++) {
    size_t e = b;
    while (e < d->n && d->tok[e].sent == s)
      e++;
    if (e - b <= WINDOW_WORDS) {
      fold(models, nm, d, b, e, s, out);
    } else {
      /* a long sentence: clause by clause (cut at commas, clauses of at
       * least CLAUSE_MIN tokens), long clauses (speech without punctuation)
       * in overlapping windows */
      size_t cb = b;
      while (cb < e) {
        size_t ce = cb;
        while (ce < e && (ce - cb < CLAUSE_MIN || !nlu_tok_is(d, ce, ",")))
          ce++;
        if (ce < e)
          ce++; /* the comma */
        if (e - ce < CLAUSE_MIN)
          ce = e; /* a short tail joins the last clause */
        for (size_t w = cb; w < ce; w += WINDOW_STRIDE) {
          size_t we = w + WINDOW_WORDS < ce ? w + WINDOW_WORDS : ce;
          fold(models, nm, d, w, we, s, out);
          if (we == ce)
            break;
        }
        cb = ce;
      }
    }
    b = e;
  }
  for (size_t i = 0; i < nm; i++)
    for (uint32_t k = 0; k < models[i]->nlabels; k++)
      out[i].p[k] = out[i].p[k] == -INFINITY ? 0.0f : sigmoid(out[i].p[k]);
}

uint64_t nlu_classify_doc_where(const struct nlu_model *m, const struct nlu_doc *d, float *p,
                                uint16_t *sent_of)
{
  struct nlu_result r;
  if (m == NULL)
    return 0;
  nlu_classify_doc_multi(&m, 1, d, &r);
  if (p != NULL)
    memcpy(p, r.p, m->nlabels * sizeof *p);
  if (sent_of != NULL)
    memcpy(sent_of, r.sent_of, m->nlabels * sizeof *sent_of);
  return r.mask;
}

uint64_t nlu_classify_doc(const struct nlu_model *m, const struct nlu_doc *d, float *p)
{
  return nlu_classify_doc_where(m, d, p, NULL);
}

size_t nlu_chunk_end(const char *s, size_t len)
{
  if (len <= NLU_CHUNK_MAX)
    return len;
  for (size_t i = NLU_CHUNK_MAX; i > NLU_CHUNK_MAX / 2; i--)
    if (s[i - 1] == '.' || s[i - 1] == '?' || s[i - 1] == '!' || s[i - 1] == '\n')
      return i;
  for (size_t i = NLU_CHUNK_MAX; i > NLU_CHUNK_MAX / 2; i--)
    if (s[i - 1] == ' ')
      return i;
  return NLU_CHUNK_MAX;
}

uint64_t nlu_classify_text(const struct nlu_model *m, const char *src, size_t len, float *p)
{
  struct nlu_doc d;
  float part[NLU_MAX_LABELS];
  uint64_t mask = 0;
  if (m == NULL)
    return 0;
  if (p != NULL)
    for (uint32_t k = 0; k < m->nlabels; k++)
      p[k] = 0.0f;
  size_t at = 0;
  do {
    size_t n = nlu_chunk_end(src + at, len - at);
    nlu_doc_parse(&d, src + at, n, nlu_lexicon_default());
    if (d.truncated && d.n > 0) { /* continue after the last token kept */
      size_t used = (size_t)d.tok[d.n - 1].src_off + d.tok[d.n - 1].src_len;
      if (used > 0 && used < n)
        n = used;
    }
    mask |= nlu_classify_doc(m, &d, part);
    if (p != NULL)
      for (uint32_t k = 0; k < m->nlabels; k++)
        if (part[k] > p[k])
          p[k] = part[k];
    at += n;
  } while (at < len);
  return mask;
}

/* ---- model metadata ---- */

const char *nlu_model_name(const struct nlu_model *m)
{
  return m == NULL ? NULL : m->name;
}

size_t nlu_model_nlabels(const struct nlu_model *m)
{
  return m == NULL ? 0 : m->nlabels;
}

const char *nlu_model_label_name(const struct nlu_model *m, size_t i)
{
  return m == NULL || i >= m->nlabels ? NULL : m->labels[i];
}

int nlu_model_label(const struct nlu_model *m, const char *name)
{
  if (m == NULL || name == NULL)
    return -1;
  for (uint32_t k = 0; k < m->nlabels; k++)
    if (strcmp(m->labels[k], name) == 0)
      return (int)k;
  return -1;
}

const struct nlu_model *nlu_model_find(const char *name)
{
  if (name == NULL)
    return NULL;
  for (size_t i = 0; i < nlu_model_count(); i++)
    if (strcmp(nlu_model_at(i)->name, name) == 0)
      return nlu_model_at(i);
  return NULL;
}
