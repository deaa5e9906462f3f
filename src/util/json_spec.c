/* json_spec.c — the declarative JSON member reader (see json_spec.h): one
 * loop over the spec, one reader per kind, and every message built in
 * one place so that each names its member the same way. */
#include "util/json_spec.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ constructors */

static struct json_spec field(const char *name, enum json_spec_kind kind, void *dst)
{
  assert(name != NULL && dst != NULL);
  return (struct json_spec){.name = name, .kind = kind, .dst = dst};
}

/* A string kind of min..max bytes. */
static struct json_spec text_field(const char *name, enum json_spec_kind kind, void *dst,
                                   size_t min, size_t max)
{
  assert(min <= max);
  struct json_spec s = field(name, kind, dst);
  s.min_len = min;
  s.max_len = max;
  return s;
}

/* An integer kind in [min, max]. */
static struct json_spec int_field(const char *name, enum json_spec_kind kind, void *dst,
                                  int64_t min, int64_t max)
{
  assert(min <= max);
  struct json_spec s = field(name, kind, dst);
  s.min = min;
  s.max = max;
  return s;
}

struct json_spec json_spec_string(const char *name, char *dst, size_t cap, size_t min, size_t max)
{
  assert(max < cap);
  struct json_spec s = text_field(name, JSON_SPEC_KIND_STRING, dst, min, max);
  s.cap = cap;
  return s;
}

struct json_spec json_spec_string_ref(const char *name, const char **dst, size_t min, size_t max)
{
  return text_field(name, JSON_SPEC_KIND_STRING_REF, (void *)dst, min, max);
}

struct json_spec json_spec_string_dup(const char *name, char **dst, size_t min, size_t max)
{
  return text_field(name, JSON_SPEC_KIND_STRING_DUP, dst, min, max);
}

struct json_spec json_spec_int64(const char *name, int64_t *dst, int64_t min, int64_t max)
{
  return int_field(name, JSON_SPEC_KIND_INT64, dst, min, max);
}

struct json_spec json_spec_int(const char *name, int *dst, int min, int max)
{
  return int_field(name, JSON_SPEC_KIND_INT, dst, min, max);
}

struct json_spec json_spec_number(const char *name, double *dst, double min, double max)
{
  assert(min <= max);
  struct json_spec s = field(name, JSON_SPEC_KIND_NUMBER, dst);
  s.dmin = min;
  s.dmax = max;
  return s;
}

struct json_spec json_spec_bool(const char *name, bool *dst)
{
  return field(name, JSON_SPEC_KIND_BOOL, dst);
}

struct json_spec json_spec_enum(const char *name, int *dst, const char *const *choices)
{
  assert(choices != NULL && choices[0] != NULL);
  struct json_spec s = field(name, JSON_SPEC_KIND_ENUM, dst);
  s.choices = choices;
  return s;
}

struct json_spec json_spec_object(const char *name, json_t **dst)
{
  return field(name, JSON_SPEC_KIND_OBJECT, dst);
}

struct json_spec json_spec_array(const char *name, json_t **dst)
{
  return field(name, JSON_SPEC_KIND_ARRAY, dst);
}

struct json_spec json_spec_custom(const char *name, json_spec_parse_fn parse, void *dst,
                                  const char *expect)
{
  assert(parse != NULL && expect != NULL);
  struct json_spec s = field(name, JSON_SPEC_KIND_CUSTOM, dst);
  s.parse = parse;
  s.expect = expect;
  return s;
}

struct json_spec json_spec_optional(struct json_spec s)
{
  s.flags |= JSON_SPEC_OPTIONAL;
  return s;
}

struct json_spec json_spec_flags(struct json_spec s, unsigned flags)
{
  s.flags |= flags;
  return s;
}

struct json_spec json_spec_expect(struct json_spec s, const char *expect)
{
  s.expect = expect;
  return s;
}

/* ------------------------------------------------------------ messages */

/* Fills err with "<name> <sentence>" and returns -1. */
static int fail(struct json_spec_error *err, const struct json_spec *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct json_spec_error *err, const struct json_spec *s, const char *fmt, ...)
{
  err->field = s->name;
  int n = snprintf(err->msg, sizeof err->msg, "%s ", s->name);
  if (n < 0 || (size_t)n >= sizeof err->msg)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

/* A bad value: the field's own phrase if it has one, else the kind's. */
static int fail_value(struct json_spec_error *err, const struct json_spec *s, const char *what)
{
  return fail(err, s, "must be %s", s->expect != NULL ? s->expect : what);
}

/* "must be one of A, B, C", cut at the message's size. */
static int fail_enum(struct json_spec_error *err, const struct json_spec *s)
{
  if (s->expect != NULL)
    return fail_value(err, s, NULL);
  char list[160];
  size_t used = 0;
  list[0] = '\0';
  for (size_t i = 0; s->choices[i] != NULL; i++) {
    int n = snprintf(list + used, sizeof list - used, "%s%s", i > 0 ? ", " : "", s->choices[i]);
    if (n < 0 || used + (size_t)n >= sizeof list) {
      list[used] = '\0'; /* whole names only */
      break;
    }
    used += (size_t)n;
  }
  return fail(err, s, "must be one of %s", list);
}

static int fail_int_range(struct json_spec_error *err, const struct json_spec *s)
{
  if (s->expect != NULL || (s->min == INT64_MIN && s->max == INT64_MAX))
    return fail_value(err, s, "an integer");
  return fail(err, s, "must be an integer from %" PRId64 " to %" PRId64, s->min, s->max);
}

/* ------------------------------------------------------------ readers */

bool json_spec_printable(const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return false;
  return true;
}

/* Checks a string member against the field's limits; *out borrows it. */
static int read_text(const json_t *v, const struct json_spec *s, struct json_spec_error *err,
                     const char **out, size_t *len)
{
  if (!json_is_string(v))
    return fail_value(err, s, "a string");
  const char *str = json_string_value(v);
  size_t n = json_string_length(v);
  bool sized = n >= s->min_len && n <= s->max_len;
  bool clean =
      strlen(str) == n && ((s->flags & JSON_SPEC_CONTROL_OK) != 0 || json_spec_printable(str, n));
  if (s->expect != NULL && !(sized && clean))
    return fail_value(err, s, NULL);
  if (n < s->min_len)
    return s->min_len == 1 ? fail(err, s, "must not be empty")
                           : fail(err, s, "must be at least %zu bytes", s->min_len);
  if (n > s->max_len)
    return fail(err, s, "must be at most %zu bytes", s->max_len);
  if (!clean)
    return fail(err, s, "must not contain control characters");
  *out = str;
  *len = n;
  return 0;
}

static int read_string(const json_t *v, const struct json_spec *s, struct json_spec_error *err)
{
  const char *str = NULL;
  size_t n = 0;
  if (read_text(v, s, err, &str, &n) != 0)
    return -1;
  switch (s->kind) {
  case JSON_SPEC_KIND_STRING: memcpy(s->dst, str, n + 1); return 0;
  case JSON_SPEC_KIND_STRING_REF: *(const char **)s->dst = str; return 0;
  default: {
    char *copy = strdup(str);
    if (copy == NULL)
      return fail(err, s, "could not be stored (out of memory)");
    *(char **)s->dst = copy;
    return 0;
  }
  }
}

static int read_integer(const json_t *v, const struct json_spec *s, struct json_spec_error *err)
{
  if (!json_is_integer(v))
    return fail_int_range(err, s);
  json_int_t x = json_integer_value(v);
  if (x < s->min || x > s->max)
    return fail_int_range(err, s);
  if (s->kind == JSON_SPEC_KIND_INT)
    *(int *)s->dst = (int)x;
  else
    *(int64_t *)s->dst = (int64_t)x;
  return 0;
}

static int read_number(const json_t *v, const struct json_spec *s, struct json_spec_error *err)
{
  double d = json_number_value(v);
  if (!json_is_number(v) || !(d >= s->dmin && d <= s->dmax)) {
    if (s->expect != NULL)
      return fail_value(err, s, NULL);
    return fail(err, s, "must be a number from %g to %g", s->dmin, s->dmax);
  }
  *(double *)s->dst = d;
  return 0;
}

static int read_enum(const json_t *v, const struct json_spec *s, struct json_spec_error *err)
{
  if (json_is_string(v)) {
    const char *str = json_string_value(v);
    size_t n = json_string_length(v);
    for (int i = 0; s->choices[i] != NULL; i++)
      if (strlen(s->choices[i]) == n && memcmp(s->choices[i], str, n) == 0) {
        *(int *)s->dst = i;
        return 0;
      }
  }
  return fail_enum(err, s);
}

/* Reads one present member v into the field's destination. */
static int read_member(const json_t *v, const struct json_spec *s, struct json_spec_error *err)
{
  switch (s->kind) {
  case JSON_SPEC_KIND_STRING:
  case JSON_SPEC_KIND_STRING_REF:
  case JSON_SPEC_KIND_STRING_DUP: return read_string(v, s, err);
  case JSON_SPEC_KIND_INT64:
  case JSON_SPEC_KIND_INT: return read_integer(v, s, err);
  case JSON_SPEC_KIND_NUMBER: return read_number(v, s, err);
  case JSON_SPEC_KIND_BOOL:
    if (!json_is_boolean(v))
      return fail_value(err, s, "true or false");
    *(bool *)s->dst = json_is_true(v);
    return 0;
  case JSON_SPEC_KIND_ENUM: return read_enum(v, s, err);
  case JSON_SPEC_KIND_OBJECT:
  case JSON_SPEC_KIND_ARRAY:
    if (s->kind == JSON_SPEC_KIND_OBJECT ? !json_is_object(v) : !json_is_array(v))
      return fail_value(err, s, s->kind == JSON_SPEC_KIND_OBJECT ? "an object" : "an array");
    *(json_t **)s->dst = (json_t *)v;
    return 0;
  case JSON_SPEC_KIND_CUSTOM: return s->parse(v, s->dst) == 0 ? 0 : fail_value(err, s, NULL);
  case JSON_SPEC_KIND_END: break;
  }
  assert(!"unknown json_spec kind");
  return -1;
}

/* The member the field reads, or NULL when it counts as absent. */
static const json_t *member(const json_t *obj, const struct json_spec *s)
{
  const json_t *v = json_object_get(obj, s->name);
  if (v == NULL)
    return NULL;
  if ((s->flags & JSON_SPEC_NULL_ABSENT) != 0 && json_is_null(v))
    return NULL;
  if ((s->flags & JSON_SPEC_EMPTY_ABSENT) != 0 && json_is_string(v) && json_string_length(v) == 0)
    return NULL;
  return v;
}

/* Frees a _dup field's string; other kinds own nothing. */
static void free_dup(const struct json_spec *s)
{
  if (s->kind != JSON_SPEC_KIND_STRING_DUP)
    return;
  char **dst = s->dst;
  free(*dst);
  *dst = NULL;
}

int json_spec_parse(const json_t *obj, const struct json_spec *spec, struct json_spec_error *err)
{
  assert(spec != NULL && err != NULL);
  err->field = NULL;
  err->msg[0] = '\0';
  if (!json_is_object(obj)) {
    snprintf(err->msg, sizeof err->msg, "the value must be a JSON object");
    return -1;
  }
  for (size_t i = 0; spec[i].name != NULL; i++) {
    const struct json_spec *s = &spec[i];
    const json_t *v = member(obj, s);
    int rc = 0;
    if (v != NULL)
      rc = read_member(v, s, err);
    else if ((s->flags & JSON_SPEC_OPTIONAL) == 0)
      rc = s->expect != NULL ? fail(err, s, "is required (%s)", s->expect)
                             : fail(err, s, "is required");
    if (rc != 0) {
      /* Free what this parse copied: the _dup members before the bad one. */
      for (size_t j = 0; j < i; j++)
        if (member(obj, &spec[j]) != NULL)
          free_dup(&spec[j]);
      return -1;
    }
  }
  return 0;
}

void json_spec_free(const struct json_spec *spec)
{
  for (size_t i = 0; spec != NULL && spec[i].name != NULL; i++)
    free_dup(&spec[i]);
}
