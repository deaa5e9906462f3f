/*
 * fuzz_nlu.c — libFuzzer driver for the language layer (src/nlu/nlu.h):
 * whatever bytes an utterance holds, the normaliser, the negation and
 * question readers and every compiled-in classifier must stay inside their
 * buffers and keep their documented invariants.
 *
 * Input: the utterance (any bytes; a NUL ends it for nlu_normalize()).
 * Checks: the normalised text is NUL-terminated and shorter than
 * NLU_TEXT_MAX; every token lies inside it and its source span inside the
 * input; sentence numbers never decrease; every probability is in [0, 1];
 * nlu_normalize() never writes past a small buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/nlu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct nlu_doc g_doc;

static void check_doc(const struct nlu_doc *d, size_t size)
{
  if (d->len >= NLU_TEXT_MAX || d->text[d->len] != '\0' || d->n > NLU_TOKENS_MAX)
    abort();
  uint16_t prev = 0;
  for (size_t i = 0; i < d->n; i++) {
    const struct nlu_token *t = &d->tok[i];
    if ((size_t)t->off + t->len > d->len || t->len == 0)
      abort();
    if ((size_t)t->src_off + t->src_len > size)
      abort();
    if (t->sent < prev || (d->nsent > 0 && t->sent >= d->nsent))
      abort();
    prev = t->sent;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = (const char *)data;
  nlu_doc_parse(&g_doc, text, size, nlu_lexicon_default());
  check_doc(&g_doc, size);
  size_t open_q = 0;
  if (nlu_doc_count_questions(&g_doc, &open_q) < open_q)
    abort();
  (void)nlu_doc_question(&g_doc);
  (void)nlu_span_negated(&g_doc, 0, g_doc.n);
  for (size_t m = 0; m < nlu_model_count(); m++) {
    float p[NLU_MAX_LABELS];
    const struct nlu_model *model = nlu_model_at(m);
    uint64_t mask = nlu_classify_doc(model, &g_doc, p);
    for (size_t k = 0; k < nlu_model_nlabels(model); k++)
      if (!(p[k] >= 0.0f && p[k] <= 1.0f))
        abort();
    if (nlu_model_nlabels(model) < 64 && (mask >> nlu_model_nlabels(model)) != 0)
      abort();
    (void)nlu_classify_text(model, text, size, NULL);
  }
  /* the convenience form: a NUL-terminated copy, a small output buffer */
  char *z = malloc(size + 1);
  if (z == NULL)
    return 0;
  memcpy(z, data, size);
  z[size] = '\0';
  char out[17];
  memset(out, 'x', sizeof out);
  size_t n = nlu_normalize(z, out, 16);
  if (n > 15 || out[n] != '\0' || out[16] != 'x')
    abort();
  free(z);
  return 0;
}
