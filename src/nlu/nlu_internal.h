/*
 * nlu_internal.h — what the language layer's files share and nothing else
 * uses: the token emitter (normalize.c) and the word expander (expand.c).
 */
#ifndef ATHOS_NLU_INTERNAL_H
#define ATHOS_NLU_INTERNAL_H

#include "nlu/nlu.h"

#include <string.h>

/* nlu_tok_is() for the layer's own hot loops (inlined): whether token i of
 * d is the word w. */
static inline bool nlu_tok_eq(const struct nlu_doc *d, size_t i, const char *w)
{
  if (i >= d->n)
    return false;
  const char *t = d->text + d->tok[i].off;
  size_t n = d->tok[i].len;
  for (size_t k = 0; k < n; k++) /* stops at w's NUL: t has none inside */
    if (t[k] != w[k])
      return false;
  return w[n] == '\0';
}

/* Appends word w[0..n) (lowercase) as a token of d covering source bytes
 * [src_off, src_off + src_len); drops it and sets d->truncated when d is
 * full. */
void nlu_emit(struct nlu_doc *d, const char *w, size_t n, size_t src_off, size_t src_len,
              unsigned flags);

/* Emits plain word w[0..n) (no expansion applies), spelling-corrected
 * against d->lx when it is not a lexicon word. */
void nlu_emit_word(struct nlu_doc *d, const char *w, size_t n, size_t src_off, size_t src_len);

/* Emits raw word w[0..n) (lowercase, may hold apostrophes) as one or more
 * tokens: contractions and chat spellings expanded. */
void nlu_expand_word(struct nlu_doc *d, const char *w, size_t n, size_t src_off, size_t src_len);

#endif
