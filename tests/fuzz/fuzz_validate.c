/*
 * fuzz_validate.c — libFuzzer driver for the JSON body parser
 * (src/api/validate.h) and the field spec behind it (src/util/json_spec.h):
 * validate_json_body() on the raw request body, then json_spec_parse()
 * with the fields our handlers declare (session.c, roleplay.c), and once
 * more with a spec of every kind over whatever members the body has.
 *
 * validate.c answers bad bodies through http_reply_error(); the driver
 * links a stub of it (no MHD, no socket) that only records the call.
 * Properties: a body is accepted iff it is one JSON object; an accepted
 * string member is min..max bytes, NUL-free, without control characters
 * and byte-identical to the JSON value; a refusal names the field, and
 * its message starts with that name; a refused parse leaves no _dup
 * string allocated (LeakSanitizer checks).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "util/json_spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int g_replies;

/* Stub of src/http/reply.c's error reply: validate.c's only server
 * dependency. */
enum api_result http_reply_error(struct api_request *r, enum athos_error e, const char *msg)
{
  (void)e;
  if (msg == NULL || msg[0] == '\0' || r->replied)
    abort(); /* an error needs a message, and a request is answered once */
  r->replied = true;
  g_replies++;
  return API_REPLIED;
}

/* Stub of the query-string lookup: the fuzzed body's string members play
 * the query's arguments. */
static const json_t *g_query;

const char *http_query(struct api_request *r, const char *name)
{
  (void)r;
  return json_string_value(json_object_get(g_query, name)); /* NULL unless a string */
}

/* A refusal: names a field of the spec, and the message starts with it. */
static void check_refusal(const struct json_spec *spec, const struct json_spec_error *err)
{
  if (err->field == NULL)
    abort();
  /* The message starts with the name (cut at the buffer, for a long one). */
  size_t nl = strlen(err->field);
  if (nl > sizeof err->msg - 1)
    nl = sizeof err->msg - 1;
  if (strncmp(err->msg, err->field, nl) != 0)
    abort();
  for (const struct json_spec *s = spec; s->name != NULL; s++)
    if (s->name == err->field)
      return;
  abort();
}

/* An accepted string: what the JSON holds, within the limits. */
static void check_string(const json_t *obj, const char *name, const char *out, size_t max)
{
  json_t *v = json_object_get(obj, name);
  size_t len = strlen(out);
  if (v == NULL) {
    if (len != 0)
      abort();
    return;
  }
  if (!json_is_string(v) || len == 0 || len > max || json_string_length(v) != len ||
      memcmp(out, json_string_value(v), len + 1) != 0 || !validate_printable(out))
    abort();
}

/* The handlers' own specs (src/api/session.c, roleplay.c). */
static void check_handler_fields(const json_t *obj)
{
  char user[257] = "", agency[257] = "", drill[65] = "";
  int diff = -1;
  json_t *filters = NULL;
  static const char *const DIFF[] = {"Beginner", "Advanced", "Elite", NULL};
  struct json_spec spec[] = {
      json_spec_optional(json_spec_string("externalUserId", user, sizeof user, 1, 256)),
      json_spec_optional(json_spec_string("externalAgencyId", agency, sizeof agency, 1, 256)),
      json_spec_optional(json_spec_string("drillKey", drill, sizeof drill, 1, 64)),
      json_spec_optional(json_spec_enum("difficulty", &diff, DIFF)),
      json_spec_flags(json_spec_object("filters", &filters),
                      JSON_SPEC_OPTIONAL | JSON_SPEC_NULL_ABSENT),
      JSON_SPEC_END,
  };
  struct json_spec_error err;
  if (json_spec_parse(obj, spec, &err) != 0) {
    check_refusal(spec, &err);
    return;
  }
  check_string(obj, "externalUserId", user, 256);
  check_string(obj, "externalAgencyId", agency, 256);
  check_string(obj, "drillKey", drill, 64);
  if (json_object_get(obj, "difficulty") != NULL &&
      (diff < 0 || diff > 2 ||
       strcmp(json_string_value(json_object_get(obj, "difficulty")), DIFF[diff]) != 0))
    abort();
  if (filters != NULL && !json_is_object(filters))
    abort();
}

/* Every kind, required, over one of the body's own member names: the
 * parse must fail cleanly or fill every destination consistently. */
static void check_every_kind(const json_t *obj, const char *name)
{
  static const char ABSENT[] = "\x01never a member";
  char buf[17] = "";
  const char *ref = NULL;
  char *dup = NULL;
  int64_t i64 = 0;
  double num = 0;
  bool b = false;
  static const char *const CHOICES[] = {"a", "b", NULL};
  int choice = -1;
  json_t *any = NULL;
  struct json_spec_error err;
  struct json_spec specs[][3] = {
      {json_spec_string(name, buf, sizeof buf, 1, 16), JSON_SPEC_END},
      {json_spec_string_ref(name, &ref, 0, 64), JSON_SPEC_END},
      {json_spec_string_dup(name, &dup, 2, 32), json_spec_string_dup(ABSENT, &dup, 1, 8),
       JSON_SPEC_END},
      {json_spec_int64(name, &i64, -5, 5), JSON_SPEC_END},
      {json_spec_number(name, &num, 0, 1), JSON_SPEC_END},
      {json_spec_bool(name, &b), JSON_SPEC_END},
      {json_spec_enum(name, &choice, CHOICES), JSON_SPEC_END},
      {json_spec_array(name, &any), JSON_SPEC_END},
  };
  bool absent = json_object_get(obj, ABSENT) == NULL;
  for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
    if (k == 2 && !absent)
      continue; /* a fuzzer spelled it: the second _dup would overwrite the first */
    if (json_spec_parse(obj, specs[k], &err) == 0)
      continue;
    check_refusal(specs[k], &err);
    if (k == 2 && dup != NULL)
      abort(); /* a failed parse frees what it allocated */
  }
  if (dup != NULL)
    abort(); /* spec 2 needs a member that is not there */
  /* The _dup field on its own. */
  specs[2][1] = (struct json_spec)JSON_SPEC_END;
  if (json_spec_parse(obj, specs[2], &err) != 0)
    check_refusal(specs[2], &err);
  if (dup != NULL && (strlen(dup) < 2 || strlen(dup) > 32 || !validate_printable(dup)))
    abort();
  if (i64 < -5 || i64 > 5 || num < 0 || num > 1 || choice > 1)
    abort();
  json_spec_free(specs[2]);
  if (dup != NULL)
    abort();
}

/* The list's query spec (src/api/calls.c's shape) through validate_query():
 * an accepted integer is the argument's exact decimal text. */
static void check_query(struct api_request *r, const json_t *obj)
{
  int64_t limit = -1;
  char user[257] = "";
  struct json_spec spec[] = {
      json_spec_optional(json_spec_int64("limit", &limit, 1, INT64_MAX)),
      json_spec_optional(json_spec_string("externalUserId", user, sizeof user, 1, 256)),
      JSON_SPEC_END,
  };
  g_query = obj;
  int before = g_replies;
  r->replied = false;
  enum api_result res = validate_query(r, spec);
  g_query = NULL;
  if (res == API_REPLIED) {
    if (g_replies != before + 1)
      abort();
    return;
  }
  if (res != API_OK || g_replies != before)
    abort();
  const char *text = json_string_value(json_object_get(obj, "limit"));
  if (text != NULL) {
    /* digits only (leading zeros are fine), and exactly that number */
    if (limit < 1 || text[0] == '\0' || strspn(text, "0123456789") != strlen(text) ||
        strtoll(text, NULL, 10) != limit)
      abort();
  } else if (limit != -1) {
    abort();
  }
  if (json_is_string(json_object_get(obj, "externalUserId")))
    check_string(obj, "externalUserId", user, 256);
  else if (user[0] != '\0')
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct api_request r;
  memset(&r, 0, sizeof r);
  dynbuf_init(&r.body, 64 * 1024);
  if (size > 0 && dynbuf_addn(&r.body, data, size) != DYNBUF_OK)
    return 0; /* over the route's ceiling: the server answers 413 */
  json_t *obj = NULL;
  g_replies = 0;
  enum api_result res = validate_json_body(&r, &obj);
  if (res == API_OK) {
    if (obj == NULL || !json_is_object(obj) || g_replies != 0)
      abort();
    check_handler_fields(obj);
    check_query(&r, obj);
    const char *key;
    json_t *val;
    size_t seen = 0;
    json_object_foreach(obj, key, val)
    {
      check_every_kind(obj, key);
      if (++seen == 8)
        break;
    }
    json_decref(obj);
  } else if (res != API_REPLIED || obj != NULL || g_replies != 1) {
    abort();
  }
  dynbuf_free(&r.body);
  return 0;
}
