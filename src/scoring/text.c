/* text.c — the scorer's text primitives: the word tokeniser shared by the
 * rubric compiler and the transcript scan, a bounded string builder, and
 * the {placeholder} template renderer used for summaries and feedback. */
#include "scoring/scoring_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dynbuf.h"

/* ------------------------------------------------------------------------
 * Tokeniser
 * ---------------------------------------------------------------------- */

/* Character classes for single bytes. Bytes >= 0x80 are word bytes except
 * the few UTF-8 sequences recognised in classify(). */
enum cc { CC_SEP = 0, CC_WORD, CC_APOS, CC_STOP, CC_QUESTION, CC_DOT };

/* Class of an ASCII byte. A switch rather than a lazily built table: no
 * shared mutable state between scoring threads. */
static enum cc ascii_class(unsigned char c)
{
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))
    return CC_WORD;
  switch (c) {
  case '\'': return CC_APOS;
  case '!':
  case ';': return CC_STOP;
  case '?': return CC_QUESTION;
  case '.': return CC_DOT;
  default: return CC_SEP;
  }
}

/* Class of the character at p and its length in bytes. */
static enum cc classify(const unsigned char *p, const unsigned char *end, size_t *n)
{
  *n = 1;
  if (*p < 0x80)
    return ascii_class(*p);
  if (*p == 0xC2 && p + 1 < end && p[1] == 0xA0) { /* NBSP */
    *n = 2;
    return CC_SEP;
  }
  if (*p == 0xE2 && p + 2 < end && (p[1] == 0x80 || p[1] == 0x81)) {
    *n = 3;
    if (p[1] == 0x80 && (p[2] == 0x98 || p[2] == 0x99))
      return CC_APOS; /* ‘ ’ */
    return CC_SEP;    /* spaces, dashes, quotes, ellipsis, … (U+2000..U+207F) */
  }
  if (*p == 0xEF && p + 2 < end && p[1] == 0xBC && p[2] == 0x9F) { /* fullwidth ? */
    *n = 3;
    return CC_QUESTION;
  }
  return CC_WORD;
}

static int is_ascii_alnum(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int sc_next_word(struct sc_cursor *c, char *buf, size_t *len, enum sc_mark *mark)
{
  enum sc_mark m = SC_MARK_NONE;
  const unsigned char *p = c->p, *end = c->end;
  size_t n;

  /* skip separators, remembering sentence terminators */
  while (p < end) {
    if (*p == ' ') { /* the common separator */
      p++;
      continue;
    }
    enum cc k = classify(p, end, &n);
    if (k == CC_WORD)
      break;
    if (k == CC_QUESTION)
      m = SC_MARK_QUESTION;
    else if ((k == CC_STOP || k == CC_DOT) && m == SC_MARK_NONE)
      m = SC_MARK_STOP;
    p += n;
  }
  *mark = m;
  if (p >= end) {
    c->p = p;
    *len = 0;
    return 0;
  }

  size_t l = 0;
  while (p < end) {
    /* the common case first: lowercase letters and digits, copied as they are */
    if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
      if (l < SC_MAX_TOKEN_BYTES)
        buf[l] = (char)*p;
      l++;
      p++;
      continue;
    }
    enum cc k = classify(p, end, &n);
    if (k == CC_WORD) {
      for (size_t i = 0; i < n; i++) {
        unsigned char ch = p[i];
        if (ch >= 'A' && ch <= 'Z')
          ch = (unsigned char)(ch + ('a' - 'A'));
        if (l < SC_MAX_TOKEN_BYTES)
          buf[l] = (char)ch;
        l++;
      }
      p += n;
      continue;
    }
    if (k == CC_APOS && p + n < end) {
      size_t n2;
      if (classify(p + n, end, &n2) == CC_WORD) { /* inside a word: drop it */
        p += n;
        continue;
      }
    }
    if (k == CC_DOT && p + 1 < end && is_ascii_alnum(p[1]) && p > c->p && is_ascii_alnum(p[-1])) {
      /* "medicare.gov", "3.5": a word break, not the end of a sentence */
      p += 1;
    }
    break;
  }
  c->p = p;
  *len = l;
  return 1;
}

uint64_t sc_hash(const char *s, size_t len)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h;
}

bool sc_is_digits(const char *s, size_t len)
{
  if (len == 0)
    return false;
  for (size_t i = 0; i < len; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

/* ------------------------------------------------------------------------
 * Bounded string builder: grows up to its limit, then drops the rest and
 * remembers that it did.
 * ---------------------------------------------------------------------- */

void sc_buf_init(struct sc_buf *b, size_t limit)
{
  dynbuf_init(&b->d, limit);
  b->overflow = false;
}

void sc_buf_release(struct sc_buf *b)
{
  if (!b)
    return;
  dynbuf_free(&b->d);
  b->overflow = false;
}

const char *sc_buf_str(const struct sc_buf *b)
{
  return dynbuf_ptr(&b->d);
}

size_t sc_buf_len(const struct sc_buf *b)
{
  return dynbuf_len(&b->d);
}

void sc_buf_fix_utf8(struct sc_buf *b)
{
  /* Same-length replacements in the buffer's own bytes (never the "" of
   * an empty one), so the dynbuf's length stays right. */
  if (dynbuf_len(&b->d) > 0)
    sc_utf8_fix((char *)dynbuf_ptr(&b->d));
}

/* Where to cut s[0..n) so that it fits in room bytes: at the last space
 * (a word boundary) that leaves room for the ellipsis, else 0. */
static size_t word_cut(const char *s, size_t n, size_t room)
{
  static const size_t ell = sizeof "\xE2\x80\xA6" - 1;
  if (n <= room)
    return n;
  if (room <= ell)
    return 0;
  size_t k = room - ell;
  while (k > 0 && s[k] != ' ')
    k--;
  while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == ',' || s[k - 1] == '('))
    k--;
  return k;
}

void sc_cut_words(char *out, size_t cap, const char *s, size_t n)
{
  if (cap == 0)
    return;
  size_t k = word_cut(s, n, cap - 1);
  memcpy(out, s, k);
  if (k < n && k + 4 <= cap) {
    memcpy(out + k, "\xE2\x80\xA6", 3); /* … */
    k += 3;
  }
  out[k] = '\0';
}

void sc_buf_add(struct sc_buf *b, const char *s, size_t n)
{
  bool ellipsis = false;
  if (b->overflow)
    return;
  size_t room = dynbuf_room(&b->d);
  if (n > room) {
    /* never mid-word: cut at the last word boundary that fits, then "…" */
    n = word_cut(s, n, room);
    ellipsis = room - n >= 3;
    b->overflow = true;
  }
  /* Within the ceiling, so only a failed malloc fails (and empties b). */
  if (dynbuf_addn(&b->d, s, n) != DYNBUF_OK ||
      (ellipsis && dynbuf_add(&b->d, "\xE2\x80\xA6") != DYNBUF_OK))
    b->overflow = true;
}

void sc_buf_adds(struct sc_buf *b, const char *s)
{
  sc_buf_add(b, s, strlen(s));
}

void sc_buf_addf(struct sc_buf *b, const char *fmt, ...)
{
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  sc_buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ------------------------------------------------------------------------
 * Templates
 * ---------------------------------------------------------------------- */

static const char *const known_vars[] = {
    "persona",      "difficulty", "duration",       "turns",     "repTurns",
    "personaTurns", "covered",    "missed",         "turn",      "objection",
    "openCount",    "strongest",  "strongestScore", "weakest",   "weakestScore",
    "phrase",       "advice",     "talkPct",        "questions", "openQuestions",
    "monologueSec", "score",      "claim",          "endTurn",   "firstName",
};

bool sc_var_known(const char *name, size_t len)
{
  for (size_t i = 0; i < sizeof known_vars / sizeof known_vars[0]; i++)
    if (strlen(known_vars[i]) == len && memcmp(known_vars[i], name, len) == 0)
      return true;
  return false;
}

bool sc_template_ok(const char *tmpl, const char **bad, size_t *badlen)
{
  for (const char *p = tmpl; *p; p++) {
    if (*p != '{')
      continue;
    const char *q = strchr(p + 1, '}');
    if (!q || !sc_var_known(p + 1, (size_t)(q - p - 1))) {
      *bad = p;
      *badlen = q ? (size_t)(q - p + 1) : strlen(p);
      return false;
    }
    p = q;
  }
  return true;
}

void sc_render(struct sc_buf *b, const char *tmpl, const struct sc_var *vars, size_t nvars)
{
  const char *p = tmpl;
  while (*p) {
    const char *open = strchr(p, '{');
    if (!open) {
      sc_buf_adds(b, p);
      return;
    }
    sc_buf_add(b, p, (size_t)(open - p));
    const char *close = strchr(open + 1, '}');
    if (!close) {
      sc_buf_adds(b, open);
      return;
    }
    size_t nl = (size_t)(close - open - 1);
    const char *val = NULL;
    for (size_t i = 0; i < nvars; i++) {
      if (vars[i].name && strlen(vars[i].name) == nl && memcmp(vars[i].name, open + 1, nl) == 0) {
        val = vars[i].value;
        break;
      }
    }
    if (val)
      sc_buf_adds(b, val);
    p = close + 1;
  }
}

/* ------------------------------------------------------------------------
 * UTF-8 hygiene: jansson refuses invalid UTF-8, and a bounded buffer may
 * cut a sequence in half. Invalid bytes become '?', in place.
 * ---------------------------------------------------------------------- */

void sc_utf8_fix(char *s)
{
  unsigned char *p = (unsigned char *)s;
  while (*p) {
    size_t n = 0;
    if (*p < 0x80)
      n = 1;
    else if ((*p & 0xE0) == 0xC0 && *p >= 0xC2)
      n = 2;
    else if ((*p & 0xF0) == 0xE0)
      n = 3;
    else if ((*p & 0xF8) == 0xF0 && *p <= 0xF4)
      n = 4;
    bool ok = n > 0;
    for (size_t i = 1; ok && i < n; i++)
      ok = (p[i] & 0xC0) == 0x80;
    if (ok && n == 3) { /* overlongs and surrogates */
      if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0))
        ok = false;
    }
    if (ok && n == 4) {
      if ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))
        ok = false;
    }
    if (!ok) {
      *p++ = '?';
      continue;
    }
    p += n;
  }
}
