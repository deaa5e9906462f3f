/* log.c — JSON-lines logger on stderr; one write(2) per line so lines from
 * several threads never interleave. */
#include "util/log.h"

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

void log_set_level(enum log_level lvl) { min_level = lvl; }

int log_enabled(enum log_level lvl) { return lvl >= min_level; }

static const char *level_name(enum log_level lvl)
{
  switch (lvl) {
  case LOG_DEBUG: return "debug";
  case LOG_INFO: return "info";
  case LOG_WARN: return "warn";
  default: return "error";
  }
}

/* Appends s JSON-escaped to out[*pos..cap), truncating safely. */
static void append_escaped(char *out, size_t cap, size_t *pos, const char *s)
{
  for (; *s != '\0' && *pos + 7 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      out[(*pos)++] = '\\';
      out[(*pos)++] = (char)c;
    } else if (c < 0x20) {
      *pos += (size_t)snprintf(out + *pos, cap - *pos, "\\u%04x", c);
    } else {
      out[(*pos)++] = (char)c;
    }
  }
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
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);

  char ts[32];
  time_format_iso(time_now_ms(), ts, sizeof ts);
  char line[2300];
  size_t pos = (size_t)snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts,
                                level_name(lvl));
  append_escaped(line, sizeof line, &pos, msg);
  pos += (size_t)snprintf(line + pos, sizeof line - pos, "\"}\n");
  write_line(line, pos < sizeof line ? pos : sizeof line - 1);
}

void log_request(const char *request_id, const char *method, const char *route,
                 unsigned status, uint64_t micros)
{
  if (LOG_INFO < min_level)
    return;
  char ts[32];
  time_format_iso(time_now_ms(), ts, sizeof ts);
  char line[512];
  size_t pos = (size_t)snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"info\",\"requestId\":\"%s\",\"method\":\"",
                                ts, request_id);
  append_escaped(line, sizeof line, &pos, method);
  pos += (size_t)snprintf(line + pos, sizeof line - pos, "\",\"route\":\"");
  append_escaped(line, sizeof line, &pos, route);
  if (pos < sizeof line)
    pos += (size_t)snprintf(line + pos, sizeof line - pos, "\",\"status\":%u,\"us\":%llu}\n", status,
                            (unsigned long long)micros);
  write_line(line, pos < sizeof line ? pos : sizeof line - 1);
}
