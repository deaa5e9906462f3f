/* term.c — stdin lines and clean terminal output for `athos practice`
 * (see term.h). The buffer is a dynbuf whose ceiling is the longest line
 * and its newline, so an endless line costs max_line + 1 bytes and no
 * more: once the buffer is full without a newline, the line is dropped. */
#include "cli/term.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void term_input_init(struct term_input *t, size_t max_line)
{
  dynbuf_init(&t->buf, max_line + 1); /* the line and its newline */
  t->eof = false;
  t->discarding = false;
}

void term_input_free(struct term_input *t)
{
  dynbuf_free(&t->buf);
}

int term_input_read(struct term_input *t, int fd)
{
  char chunk[4096];
  int rc = 0;
  size_t room = dynbuf_room(&t->buf);
  if (room == 0 && memchr(dynbuf_ptr(&t->buf), '\n', dynbuf_len(&t->buf)) != NULL)
    return 0; /* full of whole lines: take them first */
  if (room == 0) {
    /* A line longer than the buffer: drop it up to its newline. */
    rc = t->discarding ? 0 : 1;
    t->discarding = true;
    dynbuf_reset(&t->buf);
    room = dynbuf_room(&t->buf);
  }
  ssize_t n = read(fd, chunk, room < sizeof chunk ? room : sizeof chunk);
  if (n > 0) {
    /* n ≤ room: cannot pass the ceiling; only an allocation can fail. */
    if (dynbuf_addn(&t->buf, chunk, (size_t)n) != DYNBUF_OK) {
      t->eof = true;
      return -1;
    }
    return rc;
  }
  if (n == 0) {
    t->eof = true;
    return rc;
  }
  if (errno == EINTR || errno == EAGAIN)
    return rc;
  t->eof = true;
  return -1;
}

bool term_input_next_line(struct term_input *t, char *out, size_t cap)
{
  for (;;) {
    const char *p = dynbuf_ptr(&t->buf);
    size_t len = dynbuf_len(&t->buf);
    const char *nl = memchr(p, '\n', len);
    size_t line_len, used;
    if (nl != NULL) {
      line_len = (size_t)(nl - p);
      used = line_len + 1;
    } else if (t->eof && len > 0) {
      line_len = used = len; /* the last line has no newline: still a line */
    } else {
      return false;
    }
    bool dropped = t->discarding;
    t->discarding = false;
    if (!dropped && line_len < cap) {
      memcpy(out, p, line_len);
      out[line_len] = '\0';
    }
    dynbuf_drop_front(&t->buf, used);
    if (!dropped && line_len < cap)
      return true;
  }
}

bool term_input_done(const struct term_input *t)
{
  return t->eof && dynbuf_len(&t->buf) == 0;
}

void term_put_clean(FILE *f, const char *s)
{
  for (; s != NULL && *s != '\0'; s++) {
    unsigned char ch = (unsigned char)*s;
    fputc(ch < 0x20 || ch == 0x7f ? ' ' : ch, f);
  }
}
