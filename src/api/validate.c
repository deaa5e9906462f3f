/* validate.c — the one door for request input: the body and the query
 * string go through a json_spec, and a bad field is answered here, with a
 * message naming it, so a reseller's engineer can fix the call from the
 * error alone. */
#include "api/validate.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool validate_printable(const char *s)
{
  return json_spec_printable(s, strlen(s));
}

enum api_result validate_json_body(struct api_request *r, json_t **out)
{
  *out = NULL;
  size_t len = dynbuf_len(&r->body);
  if (len == 0)
    return http_reply_error(r, ERR_INVALID_REQUEST, "Request body is required (a JSON object)");
  json_error_t jerr;
  json_t *j = json_loadb(dynbuf_ptr(&r->body), len, JSON_REJECT_DUPLICATES, &jerr);
  if (j == NULL)
    return http_reply_error(r, ERR_INVALID_REQUEST, "Request body is not valid JSON");
  if (!json_is_object(j)) {
    json_decref(j);
    return http_reply_error(r, ERR_INVALID_REQUEST, "Request body must be a JSON object");
  }
  *out = j;
  return API_OK;
}

enum api_result validate_fields(struct api_request *r, const json_t *obj,
                                const struct json_spec *spec)
{
  struct json_spec_error err;
  if (json_spec_parse(obj, spec, &err) != 0)
    return http_reply_error(r, ERR_INVALID_REQUEST, err.msg);
  return API_OK;
}

/* A query argument as JSON: an integer if the field wants one and the text
 * is exactly a decimal integer that fits, else the text itself (which an
 * integer field then refuses). */
static json_t *query_value(const struct json_spec *s, const char *text)
{
  bool integer = s->kind == JSON_SPEC_KIND_INT64 || s->kind == JSON_SPEC_KIND_INT;
  const char *digits = text[0] == '-' ? text + 1 : text;
  if (integer && digits[0] >= '0' && digits[0] <= '9' &&
      strspn(digits, "0123456789") == strlen(digits)) {
    errno = 0;
    long long n = strtoll(text, NULL, 10);
    if (errno == 0)
      return json_integer(n);
  }
  return json_string(text);
}

enum api_result validate_query(struct api_request *r, const struct json_spec *spec)
{
  json_t *args = json_object();
  if (args == NULL)
    return API_FAIL;
  for (const struct json_spec *s = spec; s->name != NULL; s++) {
    /* The values die with args: only copying kinds make sense here. */
    assert(s->kind != JSON_SPEC_KIND_STRING_REF && s->kind != JSON_SPEC_KIND_OBJECT &&
           s->kind != JSON_SPEC_KIND_ARRAY);
    const char *text = http_query(r, s->name);
    if (text != NULL && json_object_set_new(args, s->name, query_value(s, text)) != 0) {
      json_decref(args);
      return API_FAIL;
    }
  }
  enum api_result res = validate_fields(r, args, spec);
  json_decref(args);
  return res;
}
