/*
 * strict.h — the strict HTTP edge, internal to http/: checks a request's
 * headers on the access handler's first call, before any body is read,
 * for what libmicrohttpd 0.9.75 lets through (request smuggling and
 * hangs): conflicting Content-Length values, a Transfer-Encoding other
 * than chunked, a header name with white space before its colon, HTTP/1.1
 * without Host, two Authorization headers, a declared body over the
 * ceiling. See docs/internals/http.md.
 */
#ifndef ATHOS_HTTP_STRICT_H
#define ATHOS_HTTP_STRICT_H

#include <stdbool.h>
#include <stddef.h>

struct MHD_Connection;

struct strict_verdict {
  unsigned status;  /* 0 = accept; else refuse with this status (400 or 413) */
  const char *msg;  /* the refusal's sentence (static) */
  bool close_after; /* accepted, but the connection must close after the reply */
};

/* Judges the headers of the request on conn (version as MHD gives it);
 * max_body is the largest body any route takes. */
struct strict_verdict strict_check(struct MHD_Connection *conn, const char *version,
                                   size_t max_body);

#endif
