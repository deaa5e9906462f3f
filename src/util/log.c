/* log.c — JSON-lines logger on stderr; one write(2) per line so lines from
 * several threads never interleave, and every line is one valid JSON
 * object whatever bytes the caller hands in (see line_escaped). */
#include "util/log.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/timefmt.h"

static enum log_level min_level = LOG_INFO;

void log_init(void)
{
  const char *v = getenv("ATHOS_LOG_LEVEL");
  if (v == NULL)
    return;
  if (strcmp(v, "debug") == 0)
    min_level = LOG_DEBUG;
  else if (strcmp(v, "warn") == 0)
    min_level = LOG_WARN;
  else if (strcmp(v, "error") == 0)
    min_level = LOG_ERROR;
  else
    min_level = LOG_INFO;
}

void log_set_level(enum log_level lvl)
{
  min_level = lvl;
}

int log_enabled(enum log_level lvl)
{
  return lvl >= min_level;
}

static const char *level_name(enum log_level lvl)
{
  switch (lvl) {
  case LOG_DEBUG: return "debug";
  case LOG_INFO: return "info";
  case LOG_WARN: return "warn";
  default: return "error";
  }
}

/* ---------------------------------------------------------- line builder */

/* Every line is built in one fixed buffer. Strings from outside (a URL, a
 * message that quotes client input) are escaped, checked as UTF-8 and cut
 * to leave LOG_TAIL_RESERVE bytes for the line's closing fields, so a line
 * is always one complete, valid JSON object ending in a newline. A line is
 * shorter than LOG_LINE_MAX = PIPE_BUF (4096 on Linux), so its one write(2)
 * to a pipe is atomic too. */
#define LOG_LINE_MAX     4096
#define LOG_TAIL_RESERVE 96
#define LOG_MSG_MAX      2048
#define LOG_METHOD_MAX   32

struct log_line {
  char buf[LOG_LINE_MAX];
  size_t pos;
};

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0. Never reads past a
 * NUL: a NUL is not a continuation byte. */
static size_t utf8_seq_len(const unsigned char *s)
{
  unsigned char c = s[0];
  unsigned char lo = 0x80, hi = 0xBF;
  size_t n;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4;
  else
    return 0;
  if (c == 0xE0)
    lo = 0xA0;
  else if (c == 0xED)
    hi = 0x9F;
  else if (c == 0xF0)
    lo = 0x90;
  else if (c == 0xF4)
    hi = 0x8F;
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (s[i] < 0x80 || s[i] > 0xBF)
      return 0;
  return n;
}

static void line_raw(struct log_line *l, const char *s, size_t n)
{
  assert(l->pos + n < sizeof l->buf); /* callers keep to their limits */
  if (n >= sizeof l->buf - l->pos)
    n = sizeof l->buf - l->pos - 1;
  memcpy(l->buf + l->pos, s, n);
  l->pos += n;
}

/* Appends s as the inside of a JSON string, stopping (with "...") before
 * the line would pass limit. A byte that does not begin well-formed UTF-8
 * becomes U+FFFD; '"', '\\', control characters and DEL are escaped. */
static void line_escaped(struct log_line *l, const char *s, size_t limit)
{
  static const char cut[] = "...";
  assert(limit <= sizeof l->buf);
  const unsigned char *p = (const unsigned char *)s;
  while (*p != '\0') {
    char esc[8];
    const char *unit = esc;
    size_t in = utf8_seq_len(p), out;
    if (in == 0) {
      in = 1;
      out = (size_t)snprintf(esc, sizeof esc, "\\ufffd");
    } else if (*p == '"' || *p == '\\') {
      out = (size_t)snprintf(esc, sizeof esc, "\\%c", *p);
    } else if (*p < 0x20 || *p == 0x7f) {
      out = (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p);
    } else {
      unit = (const char *)p;
      out = in;
    }
    if (l->pos + out + sizeof cut > limit) {
      line_raw(l, cut, sizeof cut - 1);
      return;
    }
    line_raw(l, unit, out);
    p += in;
  }
}

/* Appends a formatted, trusted piece (field names, numbers). */
static void line_printf(struct log_line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void line_printf(struct log_line *l, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(l->buf + l->pos, sizeof l->buf - l->pos, fmt, ap);
  va_end(ap);
  assert(n >= 0 && (size_t)n < sizeof l->buf - l->pos); /* pieces fit by construction */
  if (n > 0)
    l->pos += (size_t)n < sizeof l->buf - l->pos ? (size_t)n : sizeof l->buf - l->pos - 1;
}

/* {"ts":"…","level":"…", */
static void line_begin(struct log_line *l, enum log_level lvl)
{
  char ts[32];
  time_format_iso(time_now_ms(), ts, sizeof ts);
  l->pos = 0;
  line_printf(l, "{\"ts\":\"%s\",\"level\":\"%s\",", ts, level_name(lvl));
}

static void write_line(const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t n = write(STDERR_FILENO, buf, len);
    if (n <= 0)
      return;
    buf += n;
    len -= (size_t)n;
  }
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
  if (lvl < min_level)
    return;
  char msg[LOG_MSG_MAX]; /* a longer message is cut; a split character becomes U+FFFD */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);

  struct log_line l;
  line_begin(&l, lvl);
  line_printf(&l, "\"msg\":\"");
  line_escaped(&l, msg, sizeof l.buf - LOG_TAIL_RESERVE);
  line_printf(&l, "\"}\n");
  write_line(l.buf, l.pos);
}

void log_request(const char *request_id, const char *method, const char *route, unsigned status,
                 uint64_t micros)
{
  if (LOG_INFO < min_level)
    return;
  struct log_line l;
  line_begin(&l, LOG_INFO);
  line_printf(&l, "\"requestId\":\"");
  line_escaped(&l, request_id, l.pos + 64);
  line_printf(&l, "\",\"method\":\"");
  line_escaped(&l, method, l.pos + LOG_METHOD_MAX);
  line_printf(&l, "\",\"route\":\"");
  line_escaped(&l, route, sizeof l.buf - LOG_TAIL_RESERVE);
  line_printf(&l, "\",\"status\":%u,\"us\":%llu}\n", status, (unsigned long long)micros);
  write_line(l.buf, l.pos);
}
