/*
 * expand.c — contractions and chat spellings: one raw word in, one or more
 * normalised tokens out (normalize.c calls it for every word it scans).
 *
 * The tables are data kept sorted for a binary search (test_nlu checks the
 * order); an entry's expansion is a space-separated word list.
 */
#include "nlu/nlu_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct expansion {
  const char *from, *to;
};

#define LONGEST_FROM 8 /* no entry is longer: longer words skip the search */

/* Words written without their apostrophe, and chat / text-speak spellings.
 * Sorted by `from` (strcmp order). Ambiguous forms are left out on purpose:
 * "ill", "id", "were", "wed", "hell", "its" (possessive), "lets". */
static const struct expansion table[] = {
    {"2day", "today"},
    {"2morrow", "tomorrow"},
    {"2nite", "tonight"},
    {"abt", "about"},
    {"aint", "is not"},
    {"appt", "appointment"},
    {"arent", "are not"},
    {"b4", "before"},
    {"bc", "because"},
    {"bcuz", "because"},
    {"btw", "by the way"},
    {"cannot", "can not"},
    {"cant", "can not"},
    {"cos", "because"},
    {"couldnt", "could not"},
    {"cuz", "because"},
    {"didnt", "did not"},
    {"doc", "doctor"},
    {"docs", "doctors"},
    {"doesnt", "does not"},
    {"dont", "do not"},
    {"dr", "doctor"},
    {"drs", "doctors"},
    {"gimme", "give me"},
    {"gonna", "going to"},
    {"gotta", "got to"},
    {"hadnt", "had not"},
    {"hasnt", "has not"},
    {"havent", "have not"},
    {"hows", "how is"},
    {"idk", "i do not know"},
    {"im", "i am"},
    {"info", "information"},
    {"isnt", "is not"},
    {"itll", "it will"},
    {"ive", "i have"},
    {"k", "ok"},
    {"kk", "ok"},
    {"lemme", "let me"},
    {"meds", "medications"},
    {"mightnt", "might not"},
    {"msg", "message"},
    {"mustnt", "must not"},
    {"n", "and"},
    {"neednt", "need not"},
    {"nope", "no"},
    {"okay", "ok"},
    {"pls", "please"},
    {"plz", "please"},
    {"pplz", "please"},
    {"r", "are"},
    {"rn", "right now"},
    {"rx", "prescription"},
    {"rxs", "prescriptions"},
    {"shouldnt", "should not"},
    {"tbh", "to be honest"},
    {"thanx", "thanks"},
    {"thats", "that is"},
    {"theres", "there is"},
    {"theyll", "they will"},
    {"theyre", "they are"},
    {"theyve", "they have"},
    {"thnx", "thanks"},
    {"tho", "though"},
    {"thru", "through"},
    {"thx", "thanks"},
    {"tmr", "tomorrow"},
    {"tmrw", "tomorrow"},
    {"tnx", "thanks"},
    {"txt", "text"},
    {"ty", "thank you"},
    {"u", "you"},
    {"ur", "your"},
    {"urs", "yours"},
    {"w", "with"},
    {"wanna", "want to"},
    {"wasnt", "was not"},
    {"wat", "what"},
    {"watcha", "what are you"},
    {"werent", "were not"},
    {"whats", "what is"},
    {"wheres", "where is"},
    {"whos", "who is"},
    {"wht", "what"},
    {"wont", "will not"},
    {"wot", "what"},
    {"wouldnt", "would not"},
    {"wud", "would"},
    {"wut", "what"},
    {"y", "why"},
    {"ya", "you"},
    {"yall", "you all"},
    {"youd", "you would"},
    {"youll", "you will"},
    {"youre", "you are"},
    {"youve", "you have"},
    {"yr", "your"},
    {"yrs", "years"},
    {"yu", "you"},
};

/* Stems whose "'s" is "is" ("it's" -> "it is"); other "'s" are possessive
 * and dropped ("medicare's" -> "medicare"). */
static const char *const s_is[] = {"everyone", "everything", "he",   "here",  "how",  "it",
                                   "nothing",  "she",        "that", "there", "this", "what",
                                   "when",     "where",      "who",  "why"};

/* by_first[c] .. by_first[c + 1]: the entries whose `from` opens with letter
 * c ('a' = 1 .. 'z' = 26; 0 = anything before 'a', the digits). Derived from
 * the table: nlu_expand_table_check() verifies it. */
static const uint8_t by_first[28] = {0,  3,  7,  11, 16, 23, 23, 23, 26, 30, 36, 36, 38, 39,
                                     43, 46, 47, 50, 50, 54, 55, 71, 74, 74, 89, 89, 99, 99};

/* The by_first class of a word's first byte; -1 when no entry opens with a
 * byte after 'z' (UTF-8). */
static int first_class(unsigned char c)
{
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 1;
  return c < 'a' ? 0 : -1;
}

size_t nlu_expand_table_check(void);

/* Index of the first out-of-order (or too long) entry, or 0 when the table
 * is sorted and within LONGEST_FROM (used by the unit tests). */
size_t nlu_expand_table_check(void)
{
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    int c = first_class((unsigned char)table[i].from[0]);
    if ((i > 0 && strcmp(table[i - 1].from, table[i].from) >= 0) ||
        strlen(table[i].from) > LONGEST_FROM || c < 0 || i < by_first[c] || i >= by_first[c + 1])
      return i == 0 ? SIZE_MAX : i;
  }
  if (by_first[27] != sizeof table / sizeof table[0])
    return SIZE_MAX;
  return 0;
}

/* strcmp(f, w[0..n)) for a NUL-terminated f and a word that is not. */
static int cmp_word(const char *f, const char *w, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (f[i] != w[i])
      return (unsigned char)f[i] < (unsigned char)w[i] ? -1 : 1;
  }
  return f[n] != '\0';
}

static const char *lookup(const char *w, size_t n)
{
  int fc = n > 0 ? first_class((unsigned char)w[0]) : -1;
  if (n > LONGEST_FROM || fc < 0)
    return NULL;
  size_t lo = by_first[fc], hi = by_first[fc + 1];
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = cmp_word(table[mid].from, w, n);
    if (c == 0)
      return table[mid].to;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* Emits each space-separated word of words (static text). */
static void emit_words(struct nlu_doc *d, const char *words, size_t so, size_t sl)
{
  const char *p = words;
  while (*p != '\0') {
    const char *sp = strchr(p, ' ');
    size_t n = sp == NULL ? strlen(p) : (size_t)(sp - p);
    nlu_emit(d, p, n, so, sl, NLU_TF_WORD | NLU_TF_EXPANDED);
    p += n;
    while (*p == ' ')
      p++;
  }
}

static bool eq(const char *w, size_t n, const char *lit)
{
  return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

/* A word with an apostrophe: stem + suffix. */
static void expand_apostrophe(struct nlu_doc *d, const char *w, size_t n, const char *ap, size_t so,
                              size_t sl)
{
  size_t sn = (size_t)(ap - w);
  const char *suf = ap + 1;
  size_t fn = n - sn - 1;
  unsigned f = NLU_TF_WORD | NLU_TF_EXPANDED;
  if (fn == 1 && suf[0] == 't' && sn > 0 && w[sn - 1] == 'n') { /* n't */
    size_t stem = sn - 1;
    if (eq(w, stem, "ca"))
      emit_words(d, "can", so, sl);
    else if (eq(w, stem, "wo"))
      emit_words(d, "will", so, sl);
    else if (eq(w, stem, "sha"))
      emit_words(d, "shall", so, sl);
    else if (eq(w, stem, "ai"))
      emit_words(d, "is", so, sl);
    else
      nlu_emit(d, w, stem, so, sl, f);
    emit_words(d, "not", so, sl);
    return;
  }
  static const struct expansion suffixes[] = {
      {"m", "am"}, {"re", "are"}, {"ve", "have"}, {"ll", "will"}, {"d", "would"}};
  for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
    if (eq(suf, fn, suffixes[i].from)) {
      nlu_expand_word(d, w, sn, so, sl);
      emit_words(d, suffixes[i].to, so, sl);
      return;
    }
  }
  if (eq(suf, fn, "s")) {
    if (eq(w, sn, "let")) {
      emit_words(d, "let us", so, sl);
      return;
    }
    nlu_expand_word(d, w, sn, so, sl);
    for (size_t i = 0; i < sizeof s_is / sizeof s_is[0]; i++)
      if (eq(w, sn, s_is[i])) {
        emit_words(d, "is", so, sl);
        break;
      }
    return;
  }
  /* o'clock, y'all, ma'am: drop the apostrophe */
  char buf[NLU_WORD_MAX + 1];
  size_t o = 0;
  for (size_t i = 0; i < n && o < NLU_WORD_MAX; i++)
    if (w[i] != '\'')
      buf[o++] = w[i];
  nlu_expand_word(d, buf, o, so, sl);
}

void nlu_expand_word(struct nlu_doc *d, const char *w, size_t n, size_t so, size_t sl)
{
  if (n == 0)
    return;
  const char *ap = memchr(w, '\'', n);
  if (ap != NULL) {
    expand_apostrophe(d, w, n, ap, so, sl);
    return;
  }
  const char *to = lookup(w, n);
  if (to != NULL) {
    emit_words(d, to, so, sl);
    return;
  }
  nlu_emit_word(d, w, n, so, sl);
}
