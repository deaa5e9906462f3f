/*
 * lexicon.c — spelling correction against the drill's own vocabulary:
 * the words of drills/nlu/<labelset>.tsv and the drill files, with their counts,
 * compiled in by the trainer together with a SymSpell deletion index, so
 * that a lookup costs one hash probe per letter instead of a scan.
 *
 * Only alphabetic words of NLU_CORRECT_MIN+ letters that are not lexicon
 * words are corrected, and only to a word at Damerau-Levenshtein distance
 * 1; character n-grams in the classifier absorb the rest.
 */
#include "nlu/nlu.h"

#include <string.h>

static const char *word_at(const struct nlu_lexicon *lx, uint32_t i, size_t *n)
{
  *n = lx->word_len[i];
  return lx->pool + lx->word_off[i];
}

/* Word index of w, or UINT32_MAX. */
static uint32_t find_word(const struct nlu_lexicon *lx, const char *w, size_t len)
{
  if (lx == NULL || lx->nwords == 0)
    return UINT32_MAX;
  uint32_t h = nlu_hash(w, len, NLU_WORD_SEED);
  for (uint32_t s = h & lx->word_mask;; s = (s + 1) & lx->word_mask) {
    uint32_t v = lx->word_slot[s];
    if (v == 0)
      return UINT32_MAX;
    size_t n;
    const char *cand = word_at(lx, v - 1, &n);
    if (n == len && memcmp(cand, w, len) == 0)
      return v - 1;
  }
}

bool nlu_lexicon_has(const struct nlu_lexicon *lx, const char *w, size_t len)
{
  return find_word(lx, w, len) != UINT32_MAX;
}

/* Whether a and b are within optimal-string-alignment distance 1. */
static bool within_one(const char *a, size_t na, const char *b, size_t nb)
{
  if (na > nb + 1 || nb > na + 1)
    return false;
  size_t i = 0;
  while (i < na && i < nb && a[i] == b[i])
    i++;
  if (i == na && i == nb)
    return true;
  if (na == nb) {
    if (strncmp(a + i + 1, b + i + 1, na - i - 1) == 0)
      return true; /* substitution */
    return i + 1 < na && a[i] == b[i + 1] && a[i + 1] == b[i] &&
           strncmp(a + i + 2, b + i + 2, na - i - 2) == 0; /* transposition */
  }
  if (na > nb)
    return memcmp(a + i + 1, b + i, na - i - 1) == 0;
  return memcmp(a + i, b + i + 1, nb - i - 1) == 0;
}

struct best {
  uint32_t word;
  uint32_t count;
};

static void consider(const struct nlu_lexicon *lx, uint32_t wi, const char *w, size_t n,
                     struct best *b)
{
  size_t cn;
  const char *c = word_at(lx, wi, &cn);
  if (cn < NLU_CORRECT_MIN - 1 || !within_one(w, n, c, cn))
    return;
  uint32_t cnt = lx->word_count[wi];
  if (b->word == UINT32_MAX || cnt > b->count || (cnt == b->count && wi < b->word)) {
    b->word = wi;
    b->count = cnt;
  }
}

/* Every lexicon word one of whose deletions hashes to h. */
static void probe_deletes(const struct nlu_lexicon *lx, uint32_t h, const char *w, size_t n,
                          struct best *b)
{
  for (uint32_t s = h & lx->del_mask;; s = (s + 1) & lx->del_mask) {
    uint32_t sh = lx->del_hash[s];
    if (sh == 0)
      return;
    if (sh != h)
      continue;
    for (uint32_t k = lx->del_off[s]; k < lx->del_off[s + 1]; k++)
      consider(lx, lx->del_word[k], w, n, b);
    return;
  }
}

const char *nlu_lexicon_correct(const struct nlu_lexicon *lx, const char *w, size_t len,
                                size_t *outlen)
{
  if (lx == NULL || lx->nwords == 0 || len < NLU_CORRECT_MIN || len > NLU_WORD_MAX)
    return NULL;
  for (size_t i = 0; i < len; i++)
    if (w[i] < 'a' || w[i] > 'z')
      return NULL;
  if (find_word(lx, w, len) != UINT32_MAX)
    return NULL;
  struct best b = {UINT32_MAX, 0};
  /* a letter missing in w: w is a deletion of the word */
  probe_deletes(lx, nlu_hash(w, len, NLU_DEL_SEED), w, len, &b);
  char del[NLU_WORD_MAX];
  for (size_t i = 0; i < len; i++) {
    memcpy(del, w, i);
    memcpy(del + i, w + i + 1, len - i - 1);
    /* an extra letter in w */
    uint32_t wi = find_word(lx, del, len - 1);
    if (wi != UINT32_MAX)
      consider(lx, wi, w, len, &b);
    /* a wrong or swapped letter: both lose one letter to the same string */
    probe_deletes(lx, nlu_hash(del, len - 1, NLU_DEL_SEED), w, len, &b);
  }
  if (b.word == UINT32_MAX)
    return NULL;
  return word_at(lx, b.word, outlen);
}
