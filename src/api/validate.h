/*
 * validate.h — request-body and query validation shared by the handlers:
 * parse a JSON object body, read bounded string fields, parse integers.
 * Each function answers the client itself on bad input (INVALID_REQUEST
 * with a message naming the field) and returns API_REPLIED.
 */
#ifndef ATHOS_VALIDATE_H
#define ATHOS_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>

#include "http/request.h"

/* Parses r's body as a JSON object (new reference in *out). */
enum api_result validate_json_body(struct api_request *r, json_t **out);
/* The pure check behind validate_string(): returns 0, or -1 with the
 * client-facing reason in msg. */
int validate_string_member(json_t *obj, const char *name, bool required, size_t max, char *out,
                           size_t cap, char *msg, size_t msgcap);
/* Copies the string member `name` (1..max bytes of UTF-8, no control
 * characters) into out (cap > max). Absent: "" if !required, else 400. */
enum api_result validate_string(struct api_request *r, json_t *obj, const char *name, bool required,
                                size_t max, char *out, size_t cap);
/* True if s (NUL-terminated) has no C0 control characters. */
bool validate_printable(const char *s);

#endif
