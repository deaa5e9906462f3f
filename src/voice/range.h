/*
 * range.h — the HTTP Range request header (RFC 9110 §14) for one byte
 * range over a representation of known size, as the recording endpoint
 * (GET /calls/{id}/recording) needs for <audio> seeking. Pure.
 *
 * Forms: "bytes=first-last", "bytes=first-" (open-ended), "bytes=-n" (the
 * last n bytes). Several ranges, another unit or a malformed value are
 * ignored, as the RFC allows: the whole file is served with 200.
 */
#ifndef ATHOS_VOICE_RANGE_H
#define ATHOS_VOICE_RANGE_H

#include <stddef.h>
#include <stdint.h>

enum range_result {
  RANGE_NONE,          /* 200 with the whole representation */
  RANGE_PARTIAL,       /* 206 with out->first..out->last */
  RANGE_UNSATISFIABLE, /* 416, Content-Range: bytes * / size */
};

struct byte_range {
  uint64_t first, last; /* inclusive, last < size */
};

/* header may be NULL (no Range header). */
enum range_result range_parse(const char *header, uint64_t size, struct byte_range *out);

/* The Content-Range value for a 206 ("bytes 0-99/1000") or, for
 * RANGE_UNSATISFIABLE, a 416 ("bytes * /1000", without the space).
 * Returns the length written, or -1 if cap is too small. */
int range_content_range(enum range_result res, const struct byte_range *r, uint64_t size, char *buf,
                        size_t cap);

#endif
