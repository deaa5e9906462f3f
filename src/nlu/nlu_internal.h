/*
 * nlu_internal.h — what the language layer's files share and nothing else
 * uses: the token emitter (normalize.c) and the word expander (expand.c).
 */
#ifndef ATHOS_NLU_INTERNAL_H
#define ATHOS_NLU_INTERNAL_H

#include "nlu/nlu.h"

/* Appends word w[0..n) (lowercase) as a token of d covering source bytes
 * [src_off, src_off + src_len); drops it and sets d->truncated when d is
 * full. */
void nlu_emit(struct nlu_doc *d, const char *w, size_t n, size_t src_off, size_t src_len,
              unsigned flags);

/* Emits raw word w[0..n) (lowercase, may hold apostrophes) as one or more
 * tokens: contractions and chat spellings expanded. */
void nlu_expand_word(struct nlu_doc *d, const char *w, size_t n, size_t src_off,
                     size_t src_len);

#endif
