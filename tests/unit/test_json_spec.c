/* test_json_spec.c — the declarative JSON field spec (src/util/json_spec.h):
 * each kind fills its destination, and every way a member can be wrong is
 * reported by name with its sentence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/json_spec.h"

static json_t *load(const char *text)
{
  json_error_t jerr;
  json_t *j = json_loads(text, JSON_ALLOW_NUL, &jerr);
  assert_non_null(j);
  return j;
}

/* Parses text with spec; expects a refusal of `field` saying msg. */
static void expect_refusal(const char *text, struct json_spec *spec, const char *field,
                           const char *msg)
{
  json_t *o = load(text);
  struct json_spec_error err;
  assert_int_equal(json_spec_parse(o, spec, &err), -1);
  if (field == NULL)
    assert_null(err.field);
  else
    assert_string_equal(err.field, field);
  assert_string_equal(err.msg, msg);
  json_decref(o);
}

static int parse_text(const char *text, struct json_spec *spec)
{
  json_t *o = load(text);
  struct json_spec_error err;
  int rc = json_spec_parse(o, spec, &err);
  json_decref(o);
  return rc;
}

/* ------------------------------------------------------------ strings */

static void test_string_copy(void **state)
{
  (void)state;
  char out[8] = "x";
  struct json_spec spec[] = {json_spec_string("id", out, sizeof out, 1, 7), JSON_SPEC_END};
  assert_int_equal(parse_text("{\"id\":\"rep_1\",\"other\":5}", spec), 0);
  assert_string_equal(out, "rep_1");
  /* exactly max bytes; multi-byte UTF-8 counts in bytes */
  assert_int_equal(parse_text("{\"id\":\"1234567\"}", spec), 0);
  assert_string_equal(out, "1234567");
  expect_refusal("{\"id\":\"\\u00e9\\u00e9\\u00e9\\u00e9\"}", spec, "id",
                 "id must be at most 7 bytes");
}

static void test_string_errors(void **state)
{
  (void)state;
  char out[8];
  struct json_spec spec[] = {json_spec_string("id", out, sizeof out, 1, 7), JSON_SPEC_END};
  expect_refusal("{}", spec, "id", "id is required");
  expect_refusal("{\"id\":null}", spec, "id", "id must be a string");
  expect_refusal("{\"id\":5}", spec, "id", "id must be a string");
  expect_refusal("{\"id\":\"\"}", spec, "id", "id must not be empty");
  expect_refusal("{\"id\":\"12345678\"}", spec, "id", "id must be at most 7 bytes");
  expect_refusal("{\"id\":\"a\\nb\"}", spec, "id", "id must not contain control characters");
  expect_refusal("{\"id\":\"a\\u007fb\"}", spec, "id", "id must not contain control characters");
  expect_refusal("{\"id\":\"a\\u0000b\"}", spec, "id", "id must not contain control characters");

  struct json_spec two[] = {json_spec_string("pin", out, sizeof out, 4, 6), JSON_SPEC_END};
  expect_refusal("{\"pin\":\"123\"}", two, "pin", "pin must be at least 4 bytes");
  assert_int_equal(parse_text("{\"pin\":\"1234\"}", two), 0);
}

static void test_string_control_ok(void **state)
{
  (void)state;
  char out[16];
  struct json_spec spec[] = {
      json_spec_flags(json_spec_string("line", out, sizeof out, 0, 15), JSON_SPEC_CONTROL_OK),
      JSON_SPEC_END};
  assert_int_equal(parse_text("{\"line\":\"a\\nb\\tc\"}", spec), 0);
  assert_string_equal(out, "a\nb\tc");
  assert_int_equal(parse_text("{\"line\":\"\"}", spec), 0); /* min 0 */
  assert_string_equal(out, "");
  /* a NUL is never text */
  expect_refusal("{\"line\":\"a\\u0000b\"}", spec, "line",
                 "line must not contain control characters");
}

static void test_string_ref(void **state)
{
  (void)state;
  const char *ref = NULL;
  struct json_spec spec[] = {json_spec_string_ref("k", &ref, 1, 10), JSON_SPEC_END};
  json_t *o = load("{\"k\":\"value\"}");
  struct json_spec_error err;
  assert_int_equal(json_spec_parse(o, spec, &err), 0);
  /* borrowed: the very bytes jansson holds */
  assert_ptr_equal(ref, json_string_value(json_object_get(o, "k")));
  json_decref(o);
  expect_refusal("{\"k\":\"12345678901\"}", spec, "k", "k must be at most 10 bytes");
}

static void test_string_dup(void **state)
{
  (void)state;
  char *a = NULL, *b = NULL;
  int n = 0;
  struct json_spec spec[] = {json_spec_string_dup("a", &a, 1, 10),
                             json_spec_string_dup("b", &b, 1, 10), json_spec_int("n", &n, 0, 9),
                             JSON_SPEC_END};
  assert_int_equal(parse_text("{\"a\":\"one\",\"b\":\"two\",\"n\":3}", spec), 0);
  assert_string_equal(a, "one");
  assert_string_equal(b, "two");
  assert_int_equal(n, 3);
  json_spec_free(spec);
  assert_null(a);
  assert_null(b);
  json_spec_free(spec); /* twice is fine */
  json_spec_free(NULL);

  /* a failure after two copies frees both (ASan's leak check agrees) */
  expect_refusal("{\"a\":\"one\",\"b\":\"two\",\"n\":10}", spec, "n",
                 "n must be an integer from 0 to 9");
  assert_null(a);
  assert_null(b);
  /* a failure on the second copy frees the first */
  expect_refusal("{\"a\":\"one\",\"b\":\"\"}", spec, "b", "b must not be empty");
  assert_null(a);
}

/* ------------------------------------------------------------ absence */

static void test_optional_and_absent(void **state)
{
  (void)state;
  char s[8] = "dflt";
  int64_t i = 42;
  struct json_spec spec[] = {json_spec_optional(json_spec_string("s", s, sizeof s, 1, 7)),
                             json_spec_optional(json_spec_int64("i", &i, 0, 100)), JSON_SPEC_END};
  /* absent: the defaults stay */
  assert_int_equal(parse_text("{}", spec), 0);
  assert_string_equal(s, "dflt");
  assert_int_equal(i, 42);
  /* optional is not "anything goes": a present member is checked */
  expect_refusal("{\"s\":\"\"}", spec, "s", "s must not be empty");
  expect_refusal("{\"s\":null}", spec, "s", "s must be a string");

  struct json_spec loose[] = {
      json_spec_flags(json_spec_string("s", s, sizeof s, 1, 7),
                      JSON_SPEC_OPTIONAL | JSON_SPEC_NULL_ABSENT | JSON_SPEC_EMPTY_ABSENT),
      JSON_SPEC_END};
  assert_int_equal(parse_text("{\"s\":null}", loose), 0);
  assert_int_equal(parse_text("{\"s\":\"\"}", loose), 0);
  assert_string_equal(s, "dflt");

  /* null/empty counting as absent does not make a field optional */
  struct json_spec strict[] = {
      json_spec_flags(json_spec_string("s", s, sizeof s, 1, 7), JSON_SPEC_NULL_ABSENT),
      JSON_SPEC_END};
  expect_refusal("{\"s\":null}", strict, "s", "s is required");
}

static void test_not_an_object(void **state)
{
  (void)state;
  bool b = false;
  struct json_spec spec[] = {json_spec_bool("b", &b), JSON_SPEC_END};
  expect_refusal("[1,2]", spec, NULL, "the value must be a JSON object");
  struct json_spec_error err;
  assert_int_equal(json_spec_parse(NULL, spec, &err), -1);
  assert_null(err.field);
}

static void test_first_bad_field_wins(void **state)
{
  (void)state;
  char a[4], b[4];
  struct json_spec spec[] = {json_spec_string("a", a, sizeof a, 1, 3),
                             json_spec_string("b", b, sizeof b, 1, 3), JSON_SPEC_END};
  /* spec order, not the body's order */
  expect_refusal("{\"b\":5,\"a\":6}", spec, "a", "a must be a string");
  expect_refusal("{\"a\":\"ok\"}", spec, "b", "b is required");
  /* an empty spec accepts any object */
  struct json_spec none[] = {JSON_SPEC_END};
  assert_int_equal(parse_text("{\"x\":1}", none), 0);
}

/* ------------------------------------------------------------ numbers */

static void test_int64(void **state)
{
  (void)state;
  int64_t v = 0;
  struct json_spec spec[] = {json_spec_int64("n", &v, -5, 5), JSON_SPEC_END};
  assert_int_equal(parse_text("{\"n\":-5}", spec), 0);
  assert_int_equal(v, -5);
  assert_int_equal(parse_text("{\"n\":5}", spec), 0);
  assert_int_equal(v, 5);
  expect_refusal("{\"n\":6}", spec, "n", "n must be an integer from -5 to 5");
  expect_refusal("{\"n\":-6}", spec, "n", "n must be an integer from -5 to 5");
  expect_refusal("{\"n\":1.5}", spec, "n", "n must be an integer from -5 to 5");
  expect_refusal("{\"n\":\"3\"}", spec, "n", "n must be an integer from -5 to 5");
  expect_refusal("{\"n\":true}", spec, "n", "n must be an integer from -5 to 5");

  struct json_spec any[] = {json_spec_int64("n", &v, INT64_MIN, INT64_MAX), JSON_SPEC_END};
  assert_int_equal(parse_text("{\"n\":9223372036854775807}", any), 0);
  assert_true(v == INT64_MAX);
  expect_refusal("{\"n\":\"x\"}", any, "n", "n must be an integer");

  struct json_spec said[] = {
      json_spec_expect(json_spec_int64("limit", &v, 1, INT64_MAX), "an integer from 1 to 100"),
      JSON_SPEC_END};
  expect_refusal("{\"limit\":0}", said, "limit", "limit must be an integer from 1 to 100");
  assert_int_equal(parse_text("{\"limit\":1000}", said), 0); /* the range is the spec's */
  assert_int_equal(v, 1000);
}

static void test_int(void **state)
{
  (void)state;
  int v = -1;
  struct json_spec spec[] = {json_spec_int("age", &v, 18, 120), JSON_SPEC_END};
  assert_int_equal(parse_text("{\"age\":18}", spec), 0);
  assert_int_equal(v, 18);
  expect_refusal("{\"age\":121}", spec, "age", "age must be an integer from 18 to 120");
  /* far outside int: refused, not truncated */
  expect_refusal("{\"age\":4294967314}", spec, "age", "age must be an integer from 18 to 120");
  assert_int_equal(v, 18);
}

static void test_number(void **state)
{
  (void)state;
  double d = -1;
  struct json_spec spec[] = {json_spec_number("w", &d, 0, 2.5), JSON_SPEC_END};
  assert_int_equal(parse_text("{\"w\":2}", spec), 0); /* an integer is a number */
  assert_true(d == 2.0);
  assert_int_equal(parse_text("{\"w\":2.5}", spec), 0);
  assert_true(d == 2.5);
  expect_refusal("{\"w\":2.6}", spec, "w", "w must be a number from 0 to 2.5");
  expect_refusal("{\"w\":-0.1}", spec, "w", "w must be a number from 0 to 2.5");
  expect_refusal("{\"w\":\"1\"}", spec, "w", "w must be a number from 0 to 2.5");
}

/* ------------------------------------------------------------ the rest */

static void test_bool(void **state)
{
  (void)state;
  bool b = false;
  struct json_spec spec[] = {json_spec_bool("on", &b), JSON_SPEC_END};
  assert_int_equal(parse_text("{\"on\":true}", spec), 0);
  assert_true(b);
  assert_int_equal(parse_text("{\"on\":false}", spec), 0);
  assert_false(b);
  expect_refusal("{\"on\":1}", spec, "on", "on must be true or false");
  expect_refusal("{\"on\":\"true\"}", spec, "on", "on must be true or false");
}

static void test_enum(void **state)
{
  (void)state;
  static const char *const LEVELS[] = {"Beginner", "Advanced", "Elite", NULL};
  int v = -1;
  struct json_spec spec[] = {json_spec_enum("difficulty", &v, LEVELS), JSON_SPEC_END};
  assert_int_equal(parse_text("{\"difficulty\":\"Elite\"}", spec), 0);
  assert_int_equal(v, 2);
  assert_int_equal(parse_text("{\"difficulty\":\"Beginner\"}", spec), 0);
  assert_int_equal(v, 0);
  const char *msg = "difficulty must be one of Beginner, Advanced, Elite";
  expect_refusal("{\"difficulty\":\"elite\"}", spec, "difficulty", msg);
  expect_refusal("{\"difficulty\":\"Elit\"}", spec, "difficulty", msg);
  expect_refusal("{\"difficulty\":\"Elite\\u0000x\"}", spec, "difficulty", msg);
  expect_refusal("{\"difficulty\":2}", spec, "difficulty", msg);
  assert_int_equal(v, 0);

  /* a list too long for the message keeps whole names only */
  char names[12][24];
  const char *many[13];
  for (int i = 0; i < 12; i++) {
    snprintf(names[i], sizeof names[i], "choice_number_%02d", i);
    many[i] = names[i];
  }
  many[12] = NULL;
  struct json_spec lots[] = {json_spec_enum("k", &v, many), JSON_SPEC_END};
  json_t *o = load("{\"k\":\"x\"}");
  struct json_spec_error err;
  assert_int_equal(json_spec_parse(o, lots, &err), -1);
  json_decref(o);
  /* 8 names fill 142 of the list's 160 bytes; the 9th would not fit whole */
  size_t len = strlen(err.msg);
  assert_true(len > 16);
  assert_string_equal(err.msg + len - 16, "choice_number_07");
  assert_null(strstr(err.msg, "choice_number_08"));
  assert_int_equal(strncmp(err.msg, "k must be one of choice_number_00, ", 35), 0);

  struct json_spec said[] = {json_spec_expect(json_spec_enum("source", &v, LEVELS), "roleplay"),
                             JSON_SPEC_END};
  expect_refusal("{\"source\":\"x\"}", said, "source", "source must be roleplay");
}

static void test_object_and_array(void **state)
{
  (void)state;
  json_t *obj = NULL, *arr = NULL;
  struct json_spec spec[] = {json_spec_object("filters", &obj), json_spec_array("items", &arr),
                             JSON_SPEC_END};
  json_t *o = load("{\"filters\":{\"state\":\"CA\"},\"items\":[1,2]}");
  struct json_spec_error err;
  assert_int_equal(json_spec_parse(o, spec, &err), 0);
  assert_ptr_equal(obj, json_object_get(o, "filters")); /* borrowed */
  assert_int_equal(json_array_size(arr), 2);
  json_decref(o);
  expect_refusal("{\"filters\":\"CA\",\"items\":[]}", spec, "filters", "filters must be an object");
  expect_refusal("{\"filters\":{},\"items\":{}}", spec, "items", "items must be an array");
}

/* A custom kind: an even integer. */
static int parse_even(const json_t *v, void *dst)
{
  if (!json_is_integer(v) || json_integer_value(v) % 2 != 0)
    return -1;
  *(long long *)dst = json_integer_value(v);
  return 0;
}

static void test_custom(void **state)
{
  (void)state;
  long long v = 0;
  struct json_spec spec[] = {json_spec_custom("n", parse_even, &v, "an even integer"),
                             JSON_SPEC_END};
  assert_int_equal(parse_text("{\"n\":4}", spec), 0);
  assert_int_equal(v, 4);
  expect_refusal("{\"n\":3}", spec, "n", "n must be an even integer");
  expect_refusal("{}", spec, "n", "n is required (an even integer)");
  /* expect replaces a string kind's own words too */
  char s[4];
  struct json_spec said[] = {
      json_spec_expect(json_spec_string("code", s, sizeof s, 3, 3), "three letters"),
      JSON_SPEC_END};
  expect_refusal("{\"code\":\"ab\"}", said, "code", "code must be three letters");
  expect_refusal("{\"code\":\"a\\tb\"}", said, "code", "code must be three letters");
  expect_refusal("{\"code\":1}", said, "code", "code must be three letters");
}

static void test_long_names_are_cut(void **state)
{
  (void)state;
  char name[400];
  memset(name, 'n', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  bool b;
  struct json_spec spec[] = {json_spec_bool(name, &b), JSON_SPEC_END};
  json_t *o = json_object();
  struct json_spec_error err;
  assert_int_equal(json_spec_parse(o, spec, &err), -1);
  assert_ptr_equal(err.field, name);
  assert_int_equal(strlen(err.msg), sizeof err.msg - 1); /* cut, still terminated */
  json_decref(o);
}

static void test_printable(void **state)
{
  (void)state;
  assert_true(json_spec_printable("", 0));
  assert_true(json_spec_printable("caf\xc3\xa9 ok", 8));
  assert_false(json_spec_printable("a\x1f", 2));
  assert_false(json_spec_printable("a\x7f", 2));
  assert_false(json_spec_printable("a\0b", 3));
  assert_true(json_spec_printable("a\0b", 1)); /* only len bytes are looked at */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_string_copy),
      cmocka_unit_test(test_string_errors),
      cmocka_unit_test(test_string_control_ok),
      cmocka_unit_test(test_string_ref),
      cmocka_unit_test(test_string_dup),
      cmocka_unit_test(test_optional_and_absent),
      cmocka_unit_test(test_not_an_object),
      cmocka_unit_test(test_first_bad_field_wins),
      cmocka_unit_test(test_int64),
      cmocka_unit_test(test_int),
      cmocka_unit_test(test_number),
      cmocka_unit_test(test_bool),
      cmocka_unit_test(test_enum),
      cmocka_unit_test(test_object_and_array),
      cmocka_unit_test(test_custom),
      cmocka_unit_test(test_long_names_are_cut),
      cmocka_unit_test(test_printable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
