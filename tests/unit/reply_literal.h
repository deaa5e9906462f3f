/*
 * reply_literal.h — how the persona tests and bench/persona_eval.c tell
 * which reply template a line came from: the template's longest literal
 * run between placeholders, trimmed of the spaces and punctuation around
 * them, must occur in the line. Header-only (static), for test programs.
 */
#ifndef ATHOS_TESTS_REPLY_LITERAL_H
#define ATHOS_TESTS_REPLY_LITERAL_H

#include <stdbool.h>
#include <string.h>

/* Whether line carries template tmpl; a template with no literal run of 4+
 * bytes ("{fact}") never matches. */
static inline bool reply_carries_template(const char *line, const char *tmpl)
{
  char best[640] = "";
  for (const char *s = tmpl; *s != '\0';) {
    size_t n = strcspn(s, "{");
    if (n > strlen(best) && n < sizeof best) {
      memcpy(best, s, n);
      best[n] = '\0';
    }
    s += n;
    if (*s == '{')
      s = strchr(s, '}') != NULL ? strchr(s, '}') + 1 : s + strlen(s);
  }
  size_t bl = strlen(best);
  while (bl > 0 && (best[bl - 1] == ' ' || best[bl - 1] == ','))
    best[--bl] = '\0';
  const char *b = best;
  while (*b == ' ' || *b == ',' || *b == '.')
    b++;
  return strlen(b) >= 4 && strstr(line, b) != NULL;
}

#endif
