/*
 * term.h — the terminal side of `athos practice`: the rep's lines read
 * from stdin (a terminal or a pipe) into a bounded buffer, over-long lines
 * dropped up to their newline, and text from the server written with its
 * control characters blanked. No network, no protocol: practice.c decides
 * when a line may be taken.
 */
#ifndef ATHOS_CLI_TERM_H
#define ATHOS_CLI_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/dynbuf.h"

/* Lines typed but not yet taken; owned by the caller, on its stack or
 * inside its state. */
struct term_input {
  struct dynbuf buf; /* bytes read, not yet taken; ceiling: max_line + 1 */
  bool eof;          /* the input ended (or failed): nothing more will come */
  bool discarding;   /* dropping an over-long line up to its newline */
};

/* Makes t empty; a line (newline excluded) may be at most max_line
 * bytes. Allocates nothing yet. */
void term_input_init(struct term_input *t, size_t max_line);
/* Frees t's buffer. Accepts a freed t. */
void term_input_free(struct term_input *t);

/* Reads what fd has, once (call when poll() says it is readable); reads
 * nothing while the buffer is full of complete lines not yet taken.
 * Returns 0; 1 when a line over max_line has just begun to be dropped
 * (the caller says so to the user, once per line); -1 on a read error,
 * after which t->eof is set. EOF sets t->eof. */
int term_input_read(struct term_input *t, int fd);

/* Copies the next complete line, without its newline and NUL-terminated,
 * into out (cap > max_line) and returns true; false if no complete line
 * is there yet. At EOF a last line without a newline is a line too. */
bool term_input_next_line(struct term_input *t, char *out, size_t cap);

/* True once the input has ended and every line was taken. */
bool term_input_done(const struct term_input *t);

/* Writes s (NULL = nothing) to f with control characters blanked, so a
 * hostile or broken server cannot drive the terminal. */
void term_put_clean(FILE *f, const char *s);

#endif
