/* validate.c — the shared input checks; every message names the field so
 * a reseller's engineer can fix the call from the error alone. */
#include "api/validate.h"

#include <stdio.h>
#include <string.h>

bool validate_printable(const char *s)
{
  for (; *s != '\0'; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return false;
  return true;
}

enum api_result validate_json_body(struct api_request *r, json_t **out)
{
  *out = NULL;
  if (r->body == NULL || r->body_len == 0)
    return http_reply_error(r, ERR_INVALID_REQUEST, "Request body is required (a JSON object)");
  json_error_t jerr;
  json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
  if (j == NULL)
    return http_reply_error(r, ERR_INVALID_REQUEST, "Request body is not valid JSON");
  if (!json_is_object(j)) {
    json_decref(j);
    return http_reply_error(r, ERR_INVALID_REQUEST, "Request body must be a JSON object");
  }
  *out = j;
  return API_OK;
}

int validate_string_member(json_t *obj, const char *name, bool required, size_t max, char *out,
                           size_t cap, char *msg, size_t msgcap)
{
  json_t *v = json_object_get(obj, name);
  out[0] = '\0';
  if (v == NULL) {
    if (!required)
      return 0;
    snprintf(msg, msgcap, "%s is required", name);
    return -1;
  }
  if (!json_is_string(v)) {
    snprintf(msg, msgcap, "%s must be a string", name);
    return -1;
  }
  size_t len = json_string_length(v);
  const char *s = json_string_value(v);
  if (len == 0) {
    snprintf(msg, msgcap, "%s must not be empty", name);
    return -1;
  }
  if (len > max || len >= cap) {
    snprintf(msg, msgcap, "%s must be at most %zu characters", name, max);
    return -1;
  }
  if (strlen(s) != len || !validate_printable(s)) {
    snprintf(msg, msgcap, "%s must not contain control characters", name);
    return -1;
  }
  memcpy(out, s, len + 1);
  return 0;
}

enum api_result validate_string(struct api_request *r, json_t *obj, const char *name, bool required,
                                size_t max, char *out, size_t cap)
{
  char msg[160];
  if (validate_string_member(obj, name, required, max, out, cap, msg, sizeof msg) != 0)
    return http_reply_error(r, ERR_INVALID_REQUEST, msg);
  return API_OK;
}
