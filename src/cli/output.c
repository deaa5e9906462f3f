/* output.c — the CLI's one-JSON-object-per-command output. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

void cli_print(json_t *j)
{
  char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (s != NULL) {
    puts(s);
    free(s);
  }
  fflush(stdout);
}

int cli_error(int status, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cli_print(json_pack("{s:{s:s}}", "error", "message", msg));
  return status;
}
