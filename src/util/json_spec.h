/*
 * json_spec.h — a JSON object's expected members described as data and
 * read by one call, modelled on GNU Taler's GNUNET_JSON_Specification.
 * Request validation (src/api/), and the drill and rubric loaders, declare
 * what they read instead of each writing its own get_string/get_int/fail.
 *
 * A spec is an array of fields ended by JSON_SPEC_END. Each field names a
 * member, its kind and limits, and where the value goes:
 *
 *   char user[EXTERNAL_ID_MAX + 1] = "";
 *   int64_t age = 30;                       // the default, kept if absent
 *   struct json_spec spec[] = {
 *     json_spec_string("externalUserId", user, sizeof user, 1, EXTERNAL_ID_MAX),
 *     json_spec_optional(json_spec_int64("age", &age, 18, 120)),
 *     JSON_SPEC_END,
 *   };
 *   struct json_spec_error err;
 *   if (json_spec_parse(body, spec, &err) != 0)
 *     reply 400 with err.msg;             // "age must be an integer from 18 to 120"
 *
 * The rules, the same for every field:
 *
 *  - Members are checked in spec order; the first bad one stops the parse
 *    and is reported by name (err->field) with a sentence that starts with
 *    that name (err->msg). Members the spec does not name are ignored.
 *  - A required member that is absent is "<name> is required". An optional
 *    one (json_spec_optional) that is absent leaves its destination as it
 *    was: set defaults before parsing. JSON_SPEC_NULL_ABSENT makes a JSON
 *    null count as absent, JSON_SPEC_EMPTY_ABSENT an empty string.
 *  - Strings are checked in bytes (jansson has already checked the UTF-8):
 *    min..max bytes, no NUL, and no control character (C0 or DEL) unless
 *    the field has JSON_SPEC_CONTROL_OK.
 *  - Ownership: json_spec_string copies into the caller's buffer;
 *    json_spec_string_ref, json_spec_object and json_spec_array borrow from
 *    obj (valid while obj lives); json_spec_string_dup allocates, and the
 *    caller frees either with free() or by json_spec_free(spec).
 *  - On failure nothing the parse allocated remains (every _dup
 *    destination is freed and set back to NULL), but destinations of the
 *    members before the bad one may have been written.
 *  - A field's `expect` phrase ("an ISO 8601 date-time") replaces the
 *    kind's own words in every message of that field: "<name> must be
 *    <expect>", and "<name> is required (<expect>)".
 */
#ifndef ATHOS_UTIL_JSON_SPEC_H
#define ATHOS_UTIL_JSON_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_spec_kind {
  JSON_SPEC_KIND_END = 0,    /* the terminator */
  JSON_SPEC_KIND_STRING,     /* copied into char[cap] */
  JSON_SPEC_KIND_STRING_REF, /* const char *, borrowed from the JSON */
  JSON_SPEC_KIND_STRING_DUP, /* char *, malloc'd */
  JSON_SPEC_KIND_INT64,      /* int64_t in [min, max] */
  JSON_SPEC_KIND_INT,        /* int in [min, max] */
  JSON_SPEC_KIND_NUMBER,     /* double (integer or real) in [dmin, dmax] */
  JSON_SPEC_KIND_BOOL,       /* bool */
  JSON_SPEC_KIND_ENUM,       /* int: the index of the string in choices */
  JSON_SPEC_KIND_OBJECT,     /* json_t *, borrowed */
  JSON_SPEC_KIND_ARRAY,      /* json_t *, borrowed */
  JSON_SPEC_KIND_CUSTOM,     /* the field's own parse function */
};

/* Field flags. */
#define JSON_SPEC_OPTIONAL     0x1u /* absent is fine: the destination is left as is */
#define JSON_SPEC_NULL_ABSENT  0x2u /* a JSON null counts as absent */
#define JSON_SPEC_EMPTY_ABSENT 0x4u /* an empty string counts as absent */
#define JSON_SPEC_CONTROL_OK   0x8u /* strings may hold control characters (not NUL) */

/* A custom kind's parser: reads v into dst, returns 0, or -1 when v is not
 * what the field's `expect` phrase says. Must not allocate. */
typedef int (*json_spec_parse_fn)(const json_t *v, void *dst);

struct json_spec {
  const char *name; /* the member; NULL ends the spec */
  enum json_spec_kind kind;
  unsigned flags;
  void *dst;                  /* the destination; its type follows the kind */
  size_t cap;                 /* STRING: the size of the char buffer */
  size_t min_len, max_len;    /* string kinds: bytes */
  int64_t min, max;           /* INT64, INT */
  double dmin, dmax;          /* NUMBER */
  const char *const *choices; /* ENUM: NULL-terminated, borrowed */
  json_spec_parse_fn parse;   /* CUSTOM */
  const char *expect;         /* what a good value is, or NULL (see above) */
};

#define JSON_SPEC_END \
  {                   \
    .name = NULL      \
  }

struct json_spec_error {
  const char *field; /* the bad member's name (the spec's string), or NULL */
  char msg[192];     /* one sentence, starting with the member's name */
};

/* A string of min..max bytes copied NUL-terminated into dst (cap > max). */
struct json_spec json_spec_string(const char *name, char *dst, size_t cap, size_t min, size_t max);
/* A string of min..max bytes, borrowed from the JSON into *dst. */
struct json_spec json_spec_string_ref(const char *name, const char **dst, size_t min, size_t max);
/* A string of min..max bytes, malloc'd into *dst (see ownership above). */
struct json_spec json_spec_string_dup(const char *name, char **dst, size_t min, size_t max);
/* An integer in [min, max]. */
struct json_spec json_spec_int64(const char *name, int64_t *dst, int64_t min, int64_t max);
/* An integer in [min, max], into an int. */
struct json_spec json_spec_int(const char *name, int *dst, int min, int max);
/* A number (integer or real) in [min, max]. */
struct json_spec json_spec_number(const char *name, double *dst, double min, double max);
/* true or false. */
struct json_spec json_spec_bool(const char *name, bool *dst);
/* One of the strings in choices (NULL-terminated, borrowed for the spec's
 * life): *dst gets its index. */
struct json_spec json_spec_enum(const char *name, int *dst, const char *const *choices);
/* Any object, borrowed into *dst, for the caller to read (e.g. with a
 * second spec). */
struct json_spec json_spec_object(const char *name, json_t **dst);
/* Any array, borrowed into *dst. */
struct json_spec json_spec_array(const char *name, json_t **dst);
/* A value read by parse into dst; expect says what it must be ("an ISO
 * 8601 date-time") and is required. */
struct json_spec json_spec_custom(const char *name, json_spec_parse_fn parse, void *dst,
                                  const char *expect);

/* The field s, made optional. */
struct json_spec json_spec_optional(struct json_spec s);
/* The field s with more flags (JSON_SPEC_*). */
struct json_spec json_spec_flags(struct json_spec s, unsigned flags);
/* The field s with its own `expect` phrase (borrowed). */
struct json_spec json_spec_expect(struct json_spec s, const char *expect);

/* Reads obj's members into the spec's destinations. Returns 0, or -1 with
 * the first bad member in *err (see the rules above). obj that is not an
 * object is an error with err->field NULL. */
int json_spec_parse(const json_t *obj, const struct json_spec *spec, struct json_spec_error *err);

/* Frees what the spec's _dup fields hold and sets them to NULL; the other
 * fields are untouched. For a caller that does not keep the strings. */
void json_spec_free(const struct json_spec *spec);

/* True if the len bytes at s hold no NUL and no control character (C0 or
 * DEL): text safe to log and to show. */
bool json_spec_printable(const char *s, size_t len);

#endif
