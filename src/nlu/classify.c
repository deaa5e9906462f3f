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

#define SEED_WORD 0x01000193u
#define SEED_NEG_WORD 0x02000193u
#define SEED_BIGRAM 0x03000193u
#define SEED_NEG_BIGRAM 0x04000193u
#define SEED_CHAR 0x05000193u
#define SEED_NEG_CHAR 0x06000193u
#define SEED_SHAPE 0x07000193u

#define WINDOW_WORDS 24 /* long sentences are scored in windows of this many */
#define WINDOW_STRIDE 12

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
  if (n < 3 || n > NLU_WORD_MAX)
    return;
  pad[0] = '<';
  memcpy(pad + 1, w, n);
  pad[n + 1] = '>';
  size_t pn = n + 2;
  for (size_t g = 3; g <= 4; g++)
    for (size_t i = 0; i + g <= pn; i++)
      fput(f, nlu_hash(pad + i, g, seed + (uint32_t)g));
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

static void score_features(const struct nlu_model *m, const uint32_t *feat, size_t nf,
                           float *logit)
{
  float acc[NLU_MAX_LABELS] = {0};
  uint32_t L = m->nlabels;
  for (size_t i = 0; i < nf; i++) {
    uint32_t h = feat[i];
    for (uint32_t s = h & m->slot_mask;; s = (s + 1) & m->slot_mask) {
      uint32_t sh = m->slot_hash[s];
      if (sh == 0)
        break;
      if (sh != h)
        continue;
      const float *row = m->weights + (size_t)m->slot_row[s] * L;
      for (uint32_t k = 0; k < L; k++)
        acc[k] += row[k];
      break;
    }
  }
  /* every feature has the value 1/sqrt(nf): scale once at the end */
  float v = nf > 0 ? 1.0f / sqrtf((float)nf) : 0.0f;
  for (uint32_t k = 0; k < L; k++)
    logit[k] = m->bias[k] + v * acc[k];
}

static float sigmoid(float x)
{
  return 1.0f / (1.0f + expf(-x));
}

uint64_t nlu_classify_span(const struct nlu_model *m, const struct nlu_doc *d, size_t b,
                           size_t e, float *p)
{
  uint32_t feat[NLU_MAX_FEATURES];
  float logit[NLU_MAX_LABELS];
  if (m == NULL)
    return 0;
  size_t nf = nlu_features(d, b, e, feat, NLU_MAX_FEATURES);
  score_features(m, feat, nf, logit);
  uint64_t mask = 0;
  for (uint32_t k = 0; k < m->nlabels; k++) {
    float pk = sigmoid(logit[k]);
    if (p != NULL)
      p[k] = pk;
    if (nf > 0 && pk >= m->threshold[k])
      mask |= 1ull << k;
  }
  return mask;
}

/* Scores [b, e) and folds it into best/mask/sent_of. */
static void fold(const struct nlu_model *m, const struct nlu_doc *d, size_t b, size_t e,
                 size_t sent, float *best, uint64_t *mask, uint16_t *sent_of)
{
  float p[NLU_MAX_LABELS];
  uint64_t got = nlu_classify_span(m, d, b, e, p);
  for (uint32_t k = 0; k < m->nlabels; k++) {
    if (p[k] > best[k])
      best[k] = p[k];
    if ((got & (1ull << k)) && sent_of != NULL && sent_of[k] == UINT16_MAX)
      sent_of[k] = (uint16_t)sent;
  }
  *mask |= got;
}

uint64_t nlu_classify_doc_where(const struct nlu_model *m, const struct nlu_doc *d, float *p,
                                uint16_t *sent_of)
{
  float best[NLU_MAX_LABELS];
  uint64_t mask = 0;
  if (m == NULL)
    return 0;
  for (uint32_t k = 0; k < m->nlabels; k++) {
    best[k] = 0.0f;
    if (sent_of != NULL)
      sent_of[k] = UINT16_MAX;
  }
  size_t b = 0;
  for (size_t s = 0; s < d->nsent; s++) {
    size_t e = b;
    while (e < d->n && d->tok[e].sent == s)
      e++;
    size_t words = e - b;
    if (words <= WINDOW_WORDS + WINDOW_STRIDE) {
      fold(m, d, b, e, s, best, &mask, sent_of);
    } else {
      for (size_t w = b; w < e; w += WINDOW_STRIDE) {
        size_t we = w + WINDOW_WORDS < e ? w + WINDOW_WORDS : e;
        fold(m, d, w, we, s, best, &mask, sent_of);
        if (we == e)
          break;
      }
    }
    b = e;
  }
  if (p != NULL)
    memcpy(p, best, m->nlabels * sizeof *p);
  return mask;
}

uint64_t nlu_classify_doc(const struct nlu_model *m, const struct nlu_doc *d, float *p)
{
  return nlu_classify_doc_where(m, d, p, NULL);
}

/* Where to end a chunk of raw text that starts at s: after the last
 * sentence mark or newline before NLU_CHUNK_MAX, else the last space. */
static size_t chunk_end(const char *s, size_t len)
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
    size_t n = chunk_end(src + at, len - at);
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
