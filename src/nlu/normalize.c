/*
 * normalize.c — turns an utterance into normalised tokens with positions
 * (nlu_doc_parse): the first step of everything the language layer does.
 *
 * Three passes over a struct nlu_doc: scan (raw words and punctuation, case
 * folding, curly quotes, hyphenated and dotted forms), expand (contractions
 * and chat spellings from the tables in expand.c), rewrite (number words,
 * phone numbers, web addresses, spelling correction). Negation scope is
 * marked last (negation.c).
 */
#include "nlu/nlu.h"
#include "nlu/nlu_internal.h"

#include <string.h>

static bool all_alpha(const char *s, size_t n);
static int number_word(const char *w, size_t n, long *v);

/* ---- emitting tokens ---------------------------------------------------- */

/* Appends word w[0..n) as a token of d; drops it when d is full. */
void nlu_emit(struct nlu_doc *d, const char *w, size_t n, size_t src_off, size_t src_len,
              unsigned flags)
{
  if (n == 0)
    return;
  if (n > NLU_WORD_MAX)
    n = NLU_WORD_MAX;
  if (d->n >= NLU_TOKENS_MAX || d->len + n + 2 > NLU_TEXT_MAX) {
    d->truncated = true;
    return;
  }
  if (d->len > 0)
    d->text[d->len++] = ' ';
  struct nlu_token *t = &d->tok[d->n++];
  t->off = (uint16_t)d->len;
  t->len = (uint16_t)n;
  t->src_off = (uint16_t)(src_off > UINT16_MAX ? UINT16_MAX : src_off);
  t->src_len = (uint16_t)(src_len > UINT16_MAX ? UINT16_MAX : src_len);
  t->flags = (uint16_t)flags;
  t->sent = 0;
  memcpy(d->text + d->len, w, n);
  d->len += n;
  d->text[d->len] = '\0';
  /* what the rewrite pass handles: number words, digits, "dot" of a web
   * address; most utterances have none and skip the pass */
  long v;
  if (!d->rewrite && ((w[0] >= '0' && w[0] <= '9') || number_word(w, n, &v) != 0 ||
                      (n == 3 && memcmp(w, "dot", 3) == 0)))
    d->rewrite = true;
}

/* Emits a plain word, spelling-corrected against d->lx when it is not a
 * lexicon word (nlu_expand_word's last step). */
void nlu_emit_word(struct nlu_doc *d, const char *w, size_t n, size_t so, size_t sl)
{
  size_t cn = 0;
  const char *fix = NULL;
  if (d->lx != NULL && n >= NLU_CORRECT_MIN && all_alpha(w, n))
    fix = nlu_lexicon_correct(d->lx, w, n, &cn);
  if (fix != NULL)
    nlu_emit(d, fix, cn, so, sl, NLU_TF_WORD | NLU_TF_CORRECTED);
  else
    nlu_emit(d, w, n, so, sl, NLU_TF_WORD);
}

static bool is_alpha(int c)
{
  return c >= 'a' && c <= 'z';
}

static bool is_digit(int c)
{
  return c >= '0' && c <= '9';
}

static bool all_digits(const char *s, size_t n)
{
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!is_digit((unsigned char)s[i]))
      return false;
  return true;
}

static bool all_alpha(const char *s, size_t n)
{
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!is_alpha((unsigned char)s[i]))
      return false;
  return true;
}

/* ---- pass 1: scan --------------------------------------------------------- */

/* Telephone keypad digit of a lowercase letter. */
static char keypad(char c)
{
  static const char map[] = "22233344455566677778889999";
  return map[c - 'a'];
}

/* A word holding '-' (raw, lowercase): digits and letters with hyphens
 * become one phone-style token ("1-800-medicare" -> "18006334227"); words
 * of letters split at the hyphens ("thirty-one" -> "thirty" "one"). */
static void emit_hyphenated(struct nlu_doc *d, const char *w, size_t n, size_t so)
{
  bool digits = false, letters = false;
  for (size_t i = 0; i < n; i++) {
    digits |= is_digit((unsigned char)w[i]);
    letters |= is_alpha((unsigned char)w[i]);
  }
  if (digits) {
    char buf[NLU_WORD_MAX + 1];
    size_t o = 0;
    for (size_t i = 0; i < n && o < NLU_WORD_MAX; i++) {
      char c = w[i];
      if (is_digit((unsigned char)c))
        buf[o++] = c;
      else if (is_alpha((unsigned char)c))
        buf[o++] = keypad(c);
    }
    /* a vanity number dials only its first ten digits (after a leading 1):
     * 1-800-MEDICARE is 1-800-633-4227 */
    size_t dial = buf[0] == '1' ? 11 : 10;
    if (letters && o > dial)
      o = dial;
    nlu_expand_word(d, buf, o, so, n);
    return;
  }
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i == n || w[i] == '-') {
      if (i > start)
        nlu_expand_word(d, w + start, i - start, so + start, i - start);
      start = i + 1;
    }
  }
}

static bool ends_with_tld(const char *w, size_t n)
{
  static const char *const tld[] = {".gov", ".com", ".org", ".net", ".us", ".edu"};
  for (size_t i = 0; i < sizeof tld / sizeof tld[0]; i++) {
    size_t l = strlen(tld[i]);
    if (n > l && memcmp(w + n - l, tld[i], l) == 0)
      return true;
  }
  return false;
}

/* A word holding '.': web addresses stay whole without "www."; decimals
 * stay whole; anything else splits at the dots ("e.g" -> "e" "g"). */
static void emit_dotted(struct nlu_doc *d, const char *w, size_t n, size_t so)
{
  if (ends_with_tld(w, n)) {
    if (n > 4 && memcmp(w, "www.", 4) == 0)
      nlu_emit(d, w + 4, n - 4, so, n, NLU_TF_WORD);
    else
      nlu_emit(d, w, n, so, n, NLU_TF_WORD);
    return;
  }
  const char *dot = memchr(w, '.', n);
  if (dot != NULL && all_digits(w, (size_t)(dot - w)) &&
      all_digits(dot + 1, n - (size_t)(dot - w) - 1)) {
    nlu_emit(d, w, n, so, n, NLU_TF_WORD | NLU_TF_NUMBER);
    return;
  }
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i == n || w[i] == '.') {
      if (i > start)
        nlu_expand_word(d, w + start, i - start, so + start, i - start);
      start = i + 1;
    }
  }
}

/* A scanned word; joins: the joiners it holds (JOIN_*), noted by scan(). */
#define JOIN_HYPHEN 1u
#define JOIN_DOT    2u
static void emit_raw_word(struct nlu_doc *d, const char *w, size_t n, size_t so, size_t sl,
                          unsigned joins)
{
  if (joins & JOIN_HYPHEN)
    emit_hyphenated(d, w, n, so);
  else if (joins & JOIN_DOT)
    emit_dotted(d, w, n, so);
  else
    nlu_expand_word(d, w, n, so, sl);
}

static void emit_punct(struct nlu_doc *d, char c, size_t so)
{
  unsigned f = 0;
  if (c == '.' || c == '!' || c == '?' || c == ';')
    f |= NLU_TF_SENT_END;
  if (c == '?')
    f |= NLU_TF_QMARK;
  /* Runs of the same mark ("??", "...") collapse; a '?' upgrades a '.'. */
  if (d->n > 0 && !(d->tok[d->n - 1].flags & NLU_TF_WORD)) {
    struct nlu_token *t = &d->tok[d->n - 1];
    if ((t->flags & NLU_TF_SENT_END) || !(f & NLU_TF_SENT_END)) {
      if (f & NLU_TF_QMARK) {
        t->flags |= NLU_TF_QMARK | NLU_TF_SENT_END;
        d->text[t->off] = '?';
      }
      return;
    }
    d->text[t->off] = c; /* a ',' followed by '.' becomes the '.' */
    t->flags = (uint16_t)f;
    return;
  }
  nlu_emit(d, &c, 1, so, 1, f);
}

/* Byte class of src[i]: returns the number of bytes consumed and writes
 * into *c a lowercase word byte, '\'' for an apostrophe, a punctuation mark
 * (. , ? ! ; :), '-' / '.' candidates, or ' ' for a separator. */
static size_t classify_byte(const unsigned char *s, size_t i, size_t len, char *c)
{
  unsigned char b = s[i];
  if (b >= 'A' && b <= 'Z') {
    *c = (char)(b - 'A' + 'a');
    return 1;
  }
  if ((b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')) {
    *c = (char)b;
    return 1;
  }
  if (b == '\'' || b == '`') {
    *c = '\'';
    return 1;
  }
  if (b == '.' || b == ',' || b == '?' || b == '!' || b == ';' || b == ':' || b == '-') {
    *c = (char)b;
    return 1;
  }
  if (b == 0xC2 && i + 1 < len && s[i + 1] == 0xA0) { /* NBSP */
    *c = ' ';
    return 2;
  }
  if (b == 0xE2 && i + 2 < len && (s[i + 1] == 0x80 || s[i + 1] == 0x81)) {
    unsigned char t = s[i + 2];
    if (s[i + 1] == 0x80 && (t == 0x98 || t == 0x99))
      *c = '\''; /* curly apostrophes */
    else if (s[i + 1] == 0x80 && t == 0xA6)
      *c = '.'; /* ellipsis */
    else
      *c = ' '; /* dashes, curly double quotes, other general punctuation */
    return 3;
  }
  if (b >= 0x80) { /* other UTF-8: part of a word */
    *c = (char)b;
    return 1;
  }
  *c = ' ';
  return 1;
}

/* Whether w[0..n) is a title or street abbreviation whose period does not
 * end the sentence ("Dr. Reyes", "Mrs. Lee", "Main St. pharmacy"). */
static bool is_abbreviation(const char *w, size_t n)
{
  static const char *const abbr[] = {"dr", "drs",  "mr", "mrs", "ms",  "st",   "jr",
                                     "sr", "prof", "mt", "ft",  "ave", "blvd", "rd"};
  for (size_t k = 0; k < sizeof abbr / sizeof abbr[0]; k++)
    if (strlen(abbr[k]) == n && memcmp(abbr[k], w, n) == 0)
      return true;
  return false;
}

/* Whether the period at s[i] closes an abbreviation that more words follow
 * (w[0..wn) is the word just before it). */
static bool abbreviation_period(const unsigned char *s, size_t i, size_t len, const char *w,
                                size_t wn)
{
  if (s[i] != '.' || !is_abbreviation(w, wn))
    return false;
  size_t j = i + 1;
  while (j < len && (s[j] == ' ' || s[j] == '\t'))
    j++;
  if (j == i + 1 || j >= len) /* "Dr.Reyes" is a web-ish word; "St." at the end ends */
    return false;
  char next = ' ';
  classify_byte(s, j, len, &next);
  return (next >= 'a' && next <= 'z') || (next >= '0' && next <= '9');
}

static void scan(struct nlu_doc *d, const char *src, size_t len)
{
  const unsigned char *s = (const unsigned char *)src;
  char w[NLU_WORD_MAX + 1];
  size_t wn = 0, wstart = 0;
  unsigned joins = 0;
  size_t i = 0;
  while (i <= len) {
    if (i < len && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))) {
      /* the common case, a plain word byte (what the general path below
       * does with it, without classifying) */
      if (wn == 0)
        wstart = i;
      if (wn < NLU_WORD_MAX)
        w[wn++] = (char)s[i];
      i++;
      if (d->truncated)
        return;
      continue;
    }
    char c = ' ';
    size_t adv = 1;
    if (i < len)
      adv = classify_byte(s, i, len, &c);
    bool word_byte = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c & 0x80);
    /* '\'', '-' and '.' stay inside a word when a word byte follows. */
    bool joiner = (c == '\'' || c == '-' || c == '.') && wn > 0 && i + adv < len;
    if (joiner) {
      char next = ' ';
      classify_byte(s, i + adv, len, &next);
      joiner = (next >= 'a' && next <= 'z') || (next >= '0' && next <= '9');
    }
    if (word_byte || joiner) {
      if (wn == 0)
        wstart = i;
      if (wn < NLU_WORD_MAX) {
        w[wn++] = c;
        joins |= c == '-' ? JOIN_HYPHEN : c == '.' ? JOIN_DOT : 0u;
      }
    } else {
      bool abbr = false;
      if (wn > 0) {
        abbr = i < len && abbreviation_period(s, i, len, w, wn);
        emit_raw_word(d, w, wn, wstart, i - wstart, joins);
        wn = 0;
        joins = 0;
      }
      if (c != ' ' && c != '\'' && c != '-' && !abbr)
        emit_punct(d, c, i);
    }
    i += adv;
    if (d->truncated)
      return;
  }
}

/* ---- pass 3: rewrite ---------------------------------------------------- */

struct rewriter {
  struct nlu_doc *d;
  char buf[NLU_TEXT_MAX];
  size_t len;
  size_t nout;
};

/* Writes token w[0..n) as output token number rw->nout (which is never past
 * the token being read), with the source span [so, se) and flags. */
static void rw_put(struct rewriter *rw, const char *w, size_t n, size_t so, size_t se,
                   unsigned flags)
{
  if (rw->len + n + 2 > NLU_TEXT_MAX) {
    rw->d->truncated = true;
    return;
  }
  if (rw->len > 0)
    rw->buf[rw->len++] = ' ';
  struct nlu_token *t = &rw->d->tok[rw->nout++];
  memmove(rw->buf + rw->len, w, n);
  t->off = (uint16_t)rw->len;
  t->len = (uint16_t)n;
  t->src_off = (uint16_t)so;
  t->src_len = (uint16_t)(se > so ? se - so : 0);
  t->flags = (uint16_t)flags;
  rw->len += n;
}

static const char *tok_text(const struct nlu_doc *d, size_t i, size_t *n)
{
  *n = d->tok[i].len;
  return d->text + d->tok[i].off;
}

static size_t src_end(const struct nlu_doc *d, size_t i)
{
  return (size_t)d->tok[i].src_off + d->tok[i].src_len;
}

/* Number words by length (a hot path: every token is looked up): text,
 * kind (1 unit 0-9, 2 teen, 3 tens, 4 hundred, 5 thousand, 6 million) and
 * value. by_len[n] .. by_len[n + 1] are the words of n letters. */
static const struct {
  const char *w;
  uint8_t kind;
  long v;
} numbers[] = {
    {"one", 1, 1},           {"two", 1, 2},         {"six", 1, 6},        {"ten", 2, 10},
    {"zero", 1, 0},          {"four", 1, 4},        {"five", 1, 5},       {"nine", 1, 9},
    {"three", 1, 3},         {"seven", 1, 7},       {"eight", 1, 8},      {"forty", 3, 40},
    {"fifty", 3, 50},        {"sixty", 3, 60},      {"eleven", 2, 11},    {"twelve", 2, 12},
    {"twenty", 3, 20},       {"thirty", 3, 30},     {"eighty", 3, 80},    {"ninety", 3, 90},
    {"fifteen", 2, 15},      {"sixteen", 2, 16},    {"seventy", 3, 70},   {"hundred", 4, 100},
    {"million", 6, 1000000}, {"thirteen", 2, 13},   {"fourteen", 2, 14},  {"eighteen", 2, 18},
    {"nineteen", 2, 19},     {"thousand", 5, 1000}, {"seventeen", 2, 17},
};
static const uint8_t by_len[11] = {0, 0, 0, 0, 4, 8, 14, 20, 25, 30, 31};

/* Kind of the number word w[0..n) (see numbers[]) with its value in *v, or 0. */
static int number_word(const char *w, size_t n, long *v)
{
  if (n < 3 || n > 9)
    return 0;
  for (size_t i = by_len[n]; i < by_len[n + 1]; i++)
    if (numbers[i].w[0] == w[0] && memcmp(numbers[i].w, w, n) == 0) {
      *v = numbers[i].v;
      return numbers[i].kind;
    }
  return 0;
}

/* Reads the longest number-word phrase at token i ("thirty one",
 * "two hundred fifty", "1 thousand"); returns the tokens used (0 if none)
 * and its value. */
static size_t read_number(const struct nlu_doc *d, size_t i, long *value)
{
  long total = 0, cur = 0;
  int prev = 0; /* kind of the previous word */
  size_t k = i;
  for (; k < d->n && k - i < 12; k++) {
    size_t n;
    const char *w = tok_text(d, k, &n);
    long v;
    int kind = number_word(w, n, &v);
    if (kind == 0 && k == i && all_digits(w, n) && n <= 6 && k + 1 < d->n) {
      /* "5 thousand", "2 hundred": digits then a multiplier */
      size_t n2;
      const char *w2 = tok_text(d, k + 1, &n2);
      long v2;
      int k2 = number_word(w2, n2, &v2);
      if (k2 >= 4) {
        cur = 0;
        for (size_t j = 0; j < n; j++)
          cur = cur * 10 + (w[j] - '0');
        prev = 1;
        continue;
      }
      break;
    }
    if (kind == 0)
      break;
    if (kind <= 3) {
      /* a unit after a unit/teen ("one eight") starts a new number */
      if (prev == 1 || prev == 2 || (prev == 3 && kind != 1))
        break;
      cur += v;
    } else if (kind == 4) {
      if (prev == 4 || prev == 0)
        cur = cur == 0 ? 100 : cur;
      else
        cur *= 100;
    } else {
      if (prev == 0)
        cur = 1;
      total += cur * v;
      cur = 0;
    }
    prev = kind;
  }
  *value = total + cur;
  return k - i;
}

static bool tok_eq(const struct nlu_doc *d, size_t i, const char *w)
{
  return nlu_tok_eq(d, i, w);
}

/* "800 medicare", "1 800 medicare", "1 800 633 4227", "18006334227": the
 * canonical ten digits "8006334227" of a toll-free or phone number.
 * Returns the tokens used, or 0. */
static size_t read_phone(const struct nlu_doc *d, size_t i, char *out)
{
  char digits[40];
  size_t nd = 0, k = i;
  while (k < d->n && (d->tok[k].flags & NLU_TF_NUMBER) && k - i < 5) {
    size_t n;
    const char *w = tok_text(d, k, &n);
    if (!all_digits(w, n) || nd + n >= sizeof digits)
      break;
    memcpy(digits + nd, w, n);
    nd += n;
    k++;
    if (nd >= 10)
      break;
  }
  size_t used = k - i;
  if (used == 0)
    return 0;
  if (tok_eq(d, k, "medicare") && (nd == 3 || nd == 4) && memcmp(digits + nd - 3, "800", 3) == 0) {
    memcpy(out, "8006334227", 11);
    return used + 1;
  }
  const char *p = digits;
  if (nd == 11 && digits[0] == '1') {
    p++;
    nd--;
  }
  if (nd == 10 && (used > 1 || d->tok[i].len >= 10)) {
    memcpy(out, p, 10);
    out[10] = '\0';
    return used;
  }
  return 0;
}

/* "medicare dot gov", "www dot medicare dot gov" -> "medicare.gov". Returns
 * the tokens used, or 0. */
static size_t read_web(const struct nlu_doc *d, size_t i, char *out, size_t cap)
{
  static const char *const tld[] = {"gov", "com", "org", "net", "edu"};
  size_t k = i;
  if (tok_eq(d, k, "www") && tok_eq(d, k + 1, "dot"))
    k += 2;
  if (k + 2 >= d->n || !(d->tok[k].flags & NLU_TF_WORD) || !tok_eq(d, k + 1, "dot"))
    return 0;
  for (size_t t = 0; t < sizeof tld / sizeof tld[0]; t++) {
    if (!tok_eq(d, k + 2, tld[t]))
      continue;
    size_t n;
    const char *w = tok_text(d, k, &n);
    size_t tl = strlen(tld[t]);
    if (n + 1 + tl + 1 > cap)
      return 0;
    memcpy(out, w, n);
    out[n] = '.';
    memcpy(out + n + 1, tld[t], tl + 1);
    return k + 3 - i;
  }
  return 0;
}

/* One round over the tokens; returns whether it rewrote any (a round that
 * rewrites nothing gives back its input, so a second round would too). */
static bool rewrite(struct nlu_doc *d)
{
  struct rewriter rw;
  bool changed = false;
  rw.d = d;
  rw.len = 0;
  rw.nout = 0;
  char tmp[NLU_WORD_MAX + 24];
  for (size_t i = 0; i < d->n;) {
    struct nlu_token t = d->tok[i];
    size_t n;
    const char *w = tok_text(d, i, &n);
    size_t used;
    long v;
    if ((t.flags & NLU_TF_WORD) && (used = read_web(d, i, tmp, sizeof tmp)) > 0) {
      rw_put(&rw, tmp, strlen(tmp), t.src_off, src_end(d, i + used - 1), NLU_TF_WORD);
    } else if ((used = read_number(d, i, &v)) > 0) {
      int l = 0;
      char num[24];
      long x = v;
      char rev[24];
      do {
        rev[l++] = (char)('0' + x % 10);
        x /= 10;
      } while (x > 0 && l < 20);
      for (int k = 0; k < l; k++)
        num[k] = rev[l - 1 - k];
      /* mark as a number, then let the phone reader see it on the next round */
      rw_put(&rw, num, (size_t)l, t.src_off, src_end(d, i + used - 1), NLU_TF_WORD | NLU_TF_NUMBER);
    } else if ((t.flags & NLU_TF_NUMBER) && (used = read_phone(d, i, tmp)) > 0) {
      rw_put(&rw, tmp, 10, t.src_off, src_end(d, i + used - 1), NLU_TF_WORD | NLU_TF_NUMBER);
    } else {
      used = 0; /* kept as it is */
      rw_put(&rw, w, n, t.src_off, src_end(d, i), t.flags);
    }
    changed = changed || used > 0;
    if (used == 0)
      used = 1;
    if (d->truncated)
      break;
    i += used;
  }
  memcpy(d->text, rw.buf, rw.len);
  d->text[rw.len] = '\0';
  d->len = rw.len;
  d->n = rw.nout;
  return changed || d->truncated; /* a cut doc: keep the second round, as before */
}

/* Numbers written as words become number tokens before the phone pass sees
 * them: "one eight hundred medicare" -> "1" "800" "medicare" -> phone. */
static size_t flag_digits(struct nlu_doc *d)
{
  size_t n = 0;
  for (size_t i = 0; i < d->n; i++) {
    struct nlu_token *t = &d->tok[i];
    if ((t->flags & NLU_TF_WORD) && all_digits(d->text + t->off, t->len)) {
      t->flags |= NLU_TF_NUMBER;
      n++;
    }
  }
  return n; /* number tokens */
}

static void assign_sentences(struct nlu_doc *d)
{
  uint16_t s = 0;
  for (size_t i = 0; i < d->n; i++) {
    d->tok[i].sent = s;
    if ((d->tok[i].flags & NLU_TF_SENT_END) && i + 1 < d->n)
      s++;
  }
  d->nsent = d->n == 0 ? 0 : (size_t)s + 1;
}

void nlu_doc_parse(struct nlu_doc *d, const char *src, size_t len, const struct nlu_lexicon *lx)
{
  d->len = 0;
  d->n = 0;
  d->nsent = 0;
  d->truncated = false;
  d->text[0] = '\0';
  if (src == NULL)
    return;
  if (len > UINT16_MAX) { /* token source offsets are 16-bit */
    len = UINT16_MAX;
    d->truncated = true;
  }
  d->lx = lx;
  d->rewrite = false;
  scan(d, src, len); /* words, expansions, spelling */
  if (d->rewrite) {  /* only when there may be numbers or web addresses */
    (void)flag_digits(d);
    /* number words -> digits, web addresses; then phone numbers from the
     * digits just made (only when the first round rewrote something: an
     * unchanged round would give the same tokens again) */
    if (rewrite(d) && flag_digits(d) > 0)
      rewrite(d);
  }
  assign_sentences(d);
  nlu_negation_mark(d);
}

size_t nlu_normalize(const char *src, char *out, size_t cap)
{
  struct nlu_doc d;
  if (cap == 0)
    return 0;
  nlu_doc_parse(&d, src, src == NULL ? 0 : strlen(src), nlu_lexicon_default());
  size_t n = d.len < cap - 1 ? d.len : cap - 1;
  memcpy(out, d.text, n);
  out[n] = '\0';
  return n;
}

void nlu_sentence_range(const struct nlu_doc *d, size_t s, size_t *b, size_t *e)
{
  size_t i = 0;
  while (i < d->n && d->tok[i].sent < s)
    i++;
  *b = i;
  while (i < d->n && d->tok[i].sent == s)
    i++;
  *e = i;
}

bool nlu_tok_is(const struct nlu_doc *d, size_t i, const char *w)
{
  return nlu_tok_eq(d, i, w);
}
