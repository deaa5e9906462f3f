/* dynbuf.c — the bounded growable buffer (see dynbuf.h): grows by
 * doubling from a small first allocation, never past its ceiling, and
 * frees itself on any failure. */
#include "util/dynbuf.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first allocation: small, since most buffers hold a short value. */
#define DYNBUF_FIRST_ALLOC 32

void dynbuf_init(struct dynbuf *b, size_t max)
{
  assert(max > 0);
  b->mem = NULL;
  b->len = b->alloc = 0;
  b->max = max;
}

void dynbuf_free(struct dynbuf *b)
{
  free(b->mem);
  b->mem = NULL;
  b->len = b->alloc = 0;
}

void dynbuf_reset(struct dynbuf *b)
{
  assert(b->mem != NULL || b->len == 0);
  b->len = 0;
  if (b->mem != NULL)
    b->mem[0] = '\0';
}

/* Makes room for len more bytes and their NUL, or frees b. */
static enum dynbuf_rc reserve(struct dynbuf *b, size_t len)
{
  assert(b->max > 0 && b->len <= b->max);
  if (len > b->max - b->len) {
    dynbuf_free(b);
    return DYNBUF_TOOBIG;
  }
  size_t need = b->len + len + 1; /* ≤ max + 1: no overflow */
  if (need <= b->alloc)
    return DYNBUF_OK;
  size_t a = b->alloc != 0 ? b->alloc : DYNBUF_FIRST_ALLOC;
  while (a < need)
    a = a > (b->max + 1) / 2 ? b->max + 1 : a * 2;
  if (a > b->max + 1)
    a = b->max + 1;
  char *m = realloc(b->mem, a);
  if (m == NULL) {
    dynbuf_free(b);
    return DYNBUF_NOMEM;
  }
  b->mem = m;
  b->alloc = a;
  return DYNBUF_OK;
}

enum dynbuf_rc dynbuf_addn(struct dynbuf *b, const void *mem, size_t len)
{
  enum dynbuf_rc rc = reserve(b, len);
  if (rc != DYNBUF_OK)
    return rc;
  if (len > 0)
    memcpy(b->mem + b->len, mem, len);
  b->len += len;
  b->mem[b->len] = '\0';
  return DYNBUF_OK;
}

enum dynbuf_rc dynbuf_add(struct dynbuf *b, const char *str)
{
  return dynbuf_addn(b, str, strlen(str));
}

enum dynbuf_rc dynbuf_addf(struct dynbuf *b, const char *fmt, ...)
{
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    dynbuf_free(b);
    return DYNBUF_NOMEM;
  }
  if ((size_t)n < sizeof small)
    return dynbuf_addn(b, small, (size_t)n);
  /* Longer than the stack buffer: format again straight into b. */
  enum dynbuf_rc rc = reserve(b, (size_t)n);
  if (rc != DYNBUF_OK)
    return rc;
  va_start(ap, fmt);
  vsnprintf(b->mem + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return DYNBUF_OK;
}

void dynbuf_drop_front(struct dynbuf *b, size_t n)
{
  if (n >= b->len) {
    dynbuf_reset(b);
    return;
  }
  memmove(b->mem, b->mem + n, b->len - n);
  b->len -= n;
  b->mem[b->len] = '\0';
}

const char *dynbuf_ptr(const struct dynbuf *b)
{
  return b->mem != NULL ? b->mem : "";
}

size_t dynbuf_len(const struct dynbuf *b)
{
  return b->len;
}

size_t dynbuf_room(const struct dynbuf *b)
{
  return b->max - b->len;
}

char *dynbuf_take(struct dynbuf *b, size_t *len)
{
  char *mem = b->mem;
  if (len != NULL)
    *len = b->len;
  b->mem = NULL;
  b->len = b->alloc = 0;
  return mem;
}
