/*
 * dynbuf.h — a growable byte buffer with a ceiling fixed when it is
 * created (STYLE habit 3), modelled on curl's lib/curlx/dynbuf.c.
 *
 * The rules, the same for every user:
 *
 *  - dynbuf_init(b, max) sets the ceiling: the buffer never holds more
 *    than max bytes (the NUL terminator kept after them is not counted).
 *    It allocates nothing; memory comes with the first add.
 *  - An add that would go over max, or that cannot allocate, FREES the
 *    buffer (length 0, nothing allocated) and returns DYNBUF_TOOBIG or
 *    DYNBUF_NOMEM. A caller that fails never has to clean up, and never
 *    goes on with half a value. A caller that wants to keep what fits
 *    instead (a truncating log or transcript) asks dynbuf_room() first.
 *  - The contents are always NUL-terminated once anything was added, so
 *    dynbuf_ptr() can be used as a C string when the bytes have no NUL.
 *  - Ownership: dynbuf_ptr() borrows (valid until the next add, reset,
 *    drop or take); dynbuf_take() hands the memory over to the caller,
 *    who free()s it, and leaves the buffer empty and reusable.
 *
 * Usage:
 *
 *   struct dynbuf b;
 *   dynbuf_init(&b, 64 * 1024);
 *   if (dynbuf_add(&b, "a") != DYNBUF_OK || dynbuf_addf(&b, "%d", n) != DYNBUF_OK)
 *     goto out;                      // b is already freed
 *   size_t len;
 *   char *s = dynbuf_take(&b, &len); // owned: free(s)
 *
 * Not thread-safe: one owner at a time.
 */
#ifndef ATHOS_UTIL_DYNBUF_H
#define ATHOS_UTIL_DYNBUF_H

#include <stddef.h>

enum dynbuf_rc {
  DYNBUF_OK = 0,
  DYNBUF_NOMEM = -1,  /* malloc failed; the buffer was freed */
  DYNBUF_TOOBIG = -2, /* the add would pass the ceiling; the buffer was freed */
};

struct dynbuf {
  char *mem;    /* NULL until the first add */
  size_t len;   /* bytes held, not counting the NUL */
  size_t alloc; /* bytes allocated, the NUL included */
  size_t max;   /* the ceiling on len, fixed by dynbuf_init() */
};

/* Makes b an empty buffer that will refuse to hold more than max bytes.
 * Allocates nothing. max must be > 0. */
void dynbuf_init(struct dynbuf *b, size_t max);
/* Frees b's memory; b stays usable (empty, same ceiling). Accepts an
 * initialised or zeroed b. */
void dynbuf_free(struct dynbuf *b);
/* Empties b but keeps its memory for reuse. */
void dynbuf_reset(struct dynbuf *b);

/* Appends len bytes of mem (which may hold NULs). Returns DYNBUF_OK, or
 * DYNBUF_TOOBIG / DYNBUF_NOMEM after freeing b (see the rules above). */
enum dynbuf_rc dynbuf_addn(struct dynbuf *b, const void *mem, size_t len);
/* Appends the C string str. Same returns as dynbuf_addn(). */
enum dynbuf_rc dynbuf_add(struct dynbuf *b, const char *str);
/* Appends printf-formatted text (any length up to the ceiling). Same
 * returns as dynbuf_addn(); a formatting error is DYNBUF_NOMEM. */
enum dynbuf_rc dynbuf_addf(struct dynbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Removes the first n bytes (all of them if n >= the length), keeping
 * the rest in order: for a buffer read as a queue (lines of input). */
void dynbuf_drop_front(struct dynbuf *b, size_t n);

/* The contents, NUL-terminated; "" while empty. Borrowed: valid until
 * the next call that changes b. */
const char *dynbuf_ptr(const struct dynbuf *b);
/* Bytes held. */
size_t dynbuf_len(const struct dynbuf *b);
/* How many more bytes an add may bring before DYNBUF_TOOBIG. */
size_t dynbuf_room(const struct dynbuf *b);

/* Hands the contents over: returns them NUL-terminated (the caller
 * free()s them), with the length in *len if len is not NULL, and leaves
 * b empty with its ceiling. Returns NULL (and *len = 0) if nothing was
 * ever added, or if b was emptied by a failure. */
char *dynbuf_take(struct dynbuf *b, size_t *len);

#endif
