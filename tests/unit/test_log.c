/* test_log.c — unit tests of the JSON-lines logger (src/util/log.c): every
 * line it writes is one complete JSON object ending in a newline, whatever
 * the input — long routes and messages, invalid UTF-8, control characters,
 * quotes and backslashes. stderr is captured into a temporary file and
 * every line is parsed with jansson, which rejects invalid UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "util/log.h"

/* ------------------------------------------------------------- capture */

struct capture {
  FILE *file;
  int saved_fd;
};

static void capture_begin(struct capture *c)
{
  fflush(stderr);
  c->file = tmpfile();
  assert_non_null(c->file);
  c->saved_fd = dup(STDERR_FILENO);
  assert_true(c->saved_fd >= 0);
  assert_true(dup2(fileno(c->file), STDERR_FILENO) >= 0);
}

/* Restores stderr; returns what was written (caller frees). */
static char *capture_end(struct capture *c, size_t *len)
{
  assert_true(dup2(c->saved_fd, STDERR_FILENO) >= 0);
  close(c->saved_fd);
  long n = ftell(c->file);
  assert_true(n >= 0);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  rewind(c->file);
  assert_int_equal(fread(buf, 1, (size_t)n, c->file), (size_t)n);
  buf[n] = '\0';
  fclose(c->file);
  *len = (size_t)n;
  return buf;
}

#define LINES_MAX 8

/* What a test wrote to stderr: the raw bytes and each line, parsed. */
struct captured {
  char *out;
  size_t len;
  json_t *lines[LINES_MAX];
  size_t n;
};

/* Splits out into lines; each must end in '\n' and parse as a JSON object.
 * Returns them in lines[] (caller decrefs); the count in *n. */
static void parse_lines(const char *out, size_t len, json_t **lines, size_t max, size_t *n)
{
  *n = 0;
  size_t at = 0;
  while (at < len) {
    const char *nl = memchr(out + at, '\n', len - at);
    assert_non_null(nl); /* the last line too ends in a newline */
    size_t l = (size_t)(nl - (out + at));
    json_error_t err;
    json_t *j = json_loadb(out + at, l, 0, &err);
    if (j == NULL)
      fail_msg("line %zu is not JSON (%s): %.*s", *n + 1, err.text, (int)(l > 300 ? 300 : l),
               out + at);
    assert_true(json_is_object(j));
    assert_true(*n < max);
    lines[(*n)++] = j;
    at += l + 1;
  }
}

static const char *str_field(json_t *o, const char *name)
{
  json_t *v = json_object_get(o, name);
  assert_true(json_is_string(v));
  return json_string_value(v);
}

/* Restores stderr and parses every line written since capture_begin. */
static void capture_lines(struct capture *c, struct captured *got)
{
  got->out = capture_end(c, &got->len);
  parse_lines(got->out, got->len, got->lines, LINES_MAX, &got->n);
}

static void captured_free(struct captured *got)
{
  for (size_t i = 0; i < got->n; i++)
    json_decref(got->lines[i]);
  free(got->out);
}

/* --------------------------------------------------------------- tests */

static void test_access_line_long_route_is_cut_and_closed(void **state)
{
  (void)state;
  size_t big = 8192;
  char *route = malloc(big + 1);
  assert_non_null(route);
  memset(route, 'a', big);
  route[0] = '/';
  route[big] = '\0';

  struct capture c;
  log_set_level(LOG_INFO);
  capture_begin(&c);
  log_request("req_1", "GET", route, 404, 12);
  log_request("req_2", "GET", "/next", 200, 3);
  struct captured got;
  capture_lines(&c, &got);
  json_t **lines = got.lines;
  assert_int_equal(got.n, 2); /* the next request is not glued to the long one */
  const char *r = str_field(lines[0], "route");
  assert_true(strlen(r) > 1000 && strlen(r) < big);
  assert_int_equal(strncmp(r, "/aaa", 4), 0);
  assert_string_equal(r + strlen(r) - 3, "...");
  assert_int_equal(json_integer_value(json_object_get(lines[0], "status")), 404);
  assert_int_equal(json_integer_value(json_object_get(lines[0], "us")), 12);
  assert_string_equal(str_field(lines[1], "route"), "/next");
  assert_string_equal(str_field(lines[1], "requestId"), "req_2");
  captured_free(&got);
  free(route);
}

static void test_access_line_hostile_bytes(void **state)
{
  (void)state;
  /* invalid UTF-8 (a lone continuation, an overlong '/', a surrogate, a
   * truncated sequence, bytes that never start one), control characters,
   * DEL, quotes, backslashes, and fine multi-byte characters */
  static const char route[] = "/x\x80y\xc0\xaf\xed\xa0\x80z\xe2\x82"
                              "\xff\xfe\"q\"\\\x01\x1b[31m\x7f\n\r\té😀";
  static const char method[] = "G\"E\xffT";

  struct capture c;
  capture_begin(&c);
  log_request("req_3", method, route, 400, 1);
  struct captured got;
  capture_lines(&c, &got);
  json_t **lines = got.lines;
  assert_int_equal(got.n, 1);
  assert_string_equal(str_field(lines[0], "route"),
                      "/x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                      "z\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"q\"\\\x01\x1b[31m\x7f\n\r"
                      "\té😀");
  assert_string_equal(str_field(lines[0], "method"), "G\"E\xef\xbf\xbdT");
  /* no raw control byte reaches the file: they are all escaped */
  for (size_t i = 0; i + 1 < got.len; i++)
    assert_true((unsigned char)got.out[i] >= 0x20 && got.out[i] != 0x7f);
  captured_free(&got);
}

static void test_message_lines(void **state)
{
  (void)state;
  char big[6000];
  memset(big, 'm', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  /* a multi-byte character straddling the message cut */
  char straddle[2100];
  memset(straddle, 'x', sizeof straddle);
  for (size_t i = 2030; i + 1 < sizeof straddle; i += 2) {
    straddle[i] = (char)0xc3;
    straddle[i + 1] = (char)0xa9;
  }
  straddle[sizeof straddle - 1] = '\0';

  struct capture c;
  capture_begin(&c);
  log_warn("long: %s", big);
  log_error("straddle: %s", straddle);
  log_info("bad \xff\xfe and \"quoted\" %s", "\x01\\");
  log_debug("not written at info");
  struct captured got;
  capture_lines(&c, &got);
  json_t **lines = got.lines;
  assert_int_equal(got.n, 3);
  assert_string_equal(str_field(lines[0], "level"), "warn");
  assert_true(strlen(str_field(lines[0], "msg")) > 1000);
  assert_string_equal(str_field(lines[1], "level"), "error");
  const char *m = str_field(lines[1], "msg"); /* the cut character is U+FFFD */
  assert_string_equal(m + strlen(m) - 5, "\xc3\xa9\xef\xbf\xbd");
  assert_string_equal(str_field(lines[2], "msg"),
                      "bad \xef\xbf\xbd\xef\xbf\xbd and \"quoted\" \x01\\");
  for (size_t i = 0; i < got.n; i++)
    assert_non_null(json_object_get(lines[i], "ts"));
  captured_free(&got);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_access_line_long_route_is_cut_and_closed),
      cmocka_unit_test(test_access_line_hostile_bytes),
      cmocka_unit_test(test_message_lines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
