/*
 * validate.h — request input read through a declarative field spec
 * (util/json_spec.h): the JSON body and the query string. Each handler
 * declares its fields as data and makes one call; on bad input the call
 * answers the client itself (400 INVALID_REQUEST with a sentence naming
 * the field) and returns API_REPLIED.
 */
#ifndef ATHOS_VALIDATE_H
#define ATHOS_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>

#include "http/request.h"
#include "util/json_spec.h"

/* Parses r's body as a JSON object (new reference in *out). */
enum api_result validate_json_body(struct api_request *r, json_t **out);
/* Reads obj's members into spec's destinations (json_spec_parse()). */
enum api_result validate_fields(struct api_request *r, const json_t *obj,
                                const struct json_spec *spec);
/* Reads the query-string arguments spec names, as JSON strings (an
 * integer kind takes the argument's decimal text, e.g. "?limit=20").
 * String destinations must be copies (json_spec_string): the values only
 * live for the call. */
enum api_result validate_query(struct api_request *r, const struct json_spec *spec);
/* True if s (NUL-terminated) has no control character (C0 or DEL). */
bool validate_printable(const char *s);

#endif
