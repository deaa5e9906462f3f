/*
 * strict.c — the header checks of strict.h: one pass over the request's
 * headers with MHD_get_connection_values(), counting what must appear at
 * most once, then one decision.
 */
#include "http/strict.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct tally {
  unsigned content_length; /* Content-Length headers seen */
  const char *first_length;
  bool lengths_differ;
  bool bad_length;
  unsigned transfer_encoding;
  bool bad_coding; /* a coding other than "chunked" */
  unsigned host;
  unsigned authorization;
  bool bad_name; /* white space (or nothing) in a header name */
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
  (void)kind;
  struct tally *t = cls;
  if (key == NULL || key[0] == '\0' || strpbrk(key, " \t") != NULL) {
    t->bad_name = true;
    return MHD_YES;
  }
  if (value == NULL)
    value = "";
  if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
    if (t->content_length++ == 0)
      t->first_length = value;
    else if (strcmp(t->first_length, value) != 0)
      t->lengths_differ = true;
  } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
    t->transfer_encoding++;
    if (strcasecmp(value, "chunked") != 0)
      t->bad_coding = true;
  } else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
    t->host++;
  } else if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0) {
    t->authorization++;
  }
  return MHD_YES;
}

/* The declared length, or -1 when it is not a plain decimal number. */
static long long parse_length(const char *v)
{
  if (v[0] < '0' || v[0] > '9')
    return -1;
  char *end = NULL;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  return errno != 0 || *end != '\0' ? -1 : n;
}

static struct strict_verdict refuse(unsigned status, const char *msg)
{
  return (struct strict_verdict){.status = status, .msg = msg};
}

struct strict_verdict strict_check(struct MHD_Connection *conn, const char *version,
                                   size_t max_body)
{
  struct tally t = {0};
  MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &t);
  if (t.bad_name)
    return refuse(400, "Malformed header name");
  if (t.lengths_differ)
    return refuse(400, "Conflicting Content-Length headers");
  if (t.transfer_encoding > 1 || t.bad_coding)
    return refuse(400, "Unsupported Transfer-Encoding: only chunked is accepted");
  if (t.host == 0 && version != NULL && strcmp(version, MHD_HTTP_VERSION_1_1) == 0)
    return refuse(400, "Missing Host header");
  if (t.host > 1)
    return refuse(400, "More than one Host header");
  if (t.authorization > 1)
    return refuse(400, "More than one Authorization header");
  if (t.content_length > 0) {
    long long n = parse_length(t.first_length);
    if (n < 0)
      return refuse(400, "Malformed Content-Length");
    if ((unsigned long long)n > max_body)
      return refuse(413, "Request body too large");
  }
  return (struct strict_verdict){.close_after = t.content_length > 0 && t.transfer_encoding > 0};
}
