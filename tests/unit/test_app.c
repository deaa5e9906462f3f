/* test_app.c — unit tests of the application plumbing: settings (one
 * parser per setting, shared by environment variables and `serve` flags),
 * the route table (404 / 405 with Allow / CORS preflight from the route
 * flag) and the error table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/routes.h"
#include "config.h"
#include "errors.h"
#include "store/store.h"

static void test_flags_parse_like_env(void **state)
{
  struct athos_config c;
  char err[256];
  unsetenv("ATHOS_THREADS");
  assert_int_equal(config_from_env(&c, err, sizeof err), 0);
  assert_int_equal(config_set_flag(&c, "--threads", "8", err, sizeof err), 0);
  assert_int_equal(c.threads, 8);
  /* atoi would have taken all of these */
  const char *bad[] = {"abc", "8x", "", "-1", "65", "99999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    assert_int_equal(config_set_flag(&c, "--threads", bad[i], err, sizeof err), -1);
    assert_non_null(strstr(err, "--threads"));
    assert_int_equal(c.threads, 8);
  }
  /* the same value is refused the same way from the environment */
  setenv("ATHOS_THREADS", "65", 1);
  assert_int_equal(config_from_env(&c, err, sizeof err), -1);
  assert_non_null(strstr(err, "ATHOS_THREADS must be an integer from 0 to 64"));
  unsetenv("ATHOS_THREADS");
}

/* A setting with a few allowed words: exactly one of them, or a startup
 * error naming them. */
static void test_recording_format(void **state)
{
  struct athos_config c;
  char err[256];
  unsetenv("ATHOS_RECORDING_FORMAT");
  assert_int_equal(config_from_env(&c, err, sizeof err), 0);
  assert_string_equal(c.recording_format, "wav");
  setenv("ATHOS_RECORDING_FORMAT", "ogg", 1);
  assert_int_equal(config_from_env(&c, err, sizeof err), 0);
  assert_string_equal(c.recording_format, "ogg");
  const char *bad[] = {"mp3", "OGG", "og", "oggx", "wav ogg", " wav", "wa"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    setenv("ATHOS_RECORDING_FORMAT", bad[i], 1);
    assert_int_equal(config_from_env(&c, err, sizeof err), -1);
    assert_string_equal(err, "ATHOS_RECORDING_FORMAT must be one of: wav ogg");
  }
  unsetenv("ATHOS_RECORDING_FORMAT");
}

static void test_flags_refuse_truncation(void **state)
{
  struct athos_config c;
  char err[256], url[sizeof c.public_url + 16];
  assert_int_equal(config_from_env(&c, err, sizeof err), 0);
  memset(url, 'a', sizeof url - 1);
  url[sizeof url - 1] = '\0';
  memcpy(url, "https://", 8);
  assert_int_equal(config_set_flag(&c, "--public-url", url, err, sizeof err), -1);
  assert_non_null(strstr(err, "too long"));
  assert_string_equal(c.public_url, "");
  url[sizeof c.public_url - 1] = '\0'; /* exactly the capacity: fits */
  assert_int_equal(config_set_flag(&c, "--public-url", url, err, sizeof err), 0);
  assert_int_equal(strlen(c.public_url), sizeof c.public_url - 1);
  assert_int_equal(config_set_flag(&c, "--listen", "[::1]:9090", err, sizeof err), 0);
  assert_string_equal(c.listen_host, "::1");
  assert_int_equal(c.listen_port, 9090);
  assert_int_equal(config_set_flag(&c, "--listen", "host:", err, sizeof err), -1);
  assert_int_equal(config_set_flag(&c, "--listen", "host:70000", err, sizeof err), -1);
  assert_int_equal(config_set_flag(&c, "--nope", "1", err, sizeof err), -1);
  assert_string_equal(err, "unknown flag --nope");
  /* environment-only settings have no flag */
  assert_int_equal(config_set_flag(&c, "--idle-sec", "5", err, sizeof err), -1);
}

static void test_routes(void **state)
{
  const struct route *r = NULL;
  const char *param = NULL;
  char allow[64];
  assert_int_equal(
      routes_match("GET", API_PREFIX "/calls/athos_call_x", &r, &param, allow, sizeof allow),
      ROUTE_FOUND);
  assert_string_equal(param, "athos_call_x");
  assert_string_equal(r->name, "calls.get");
  assert_int_equal(r->auth, AUTH_API_KEY);
  assert_int_equal(routes_match("GET", API_PREFIX "/calls/a/b", &r, &param, allow, sizeof allow),
                   ROUTE_NO_PATH);
  assert_int_equal(routes_match("GET", "/nope", &r, &param, allow, sizeof allow), ROUTE_NO_PATH);
  /* 405: Allow lists the path's methods; OPTIONS only where CORS is on */
  assert_int_equal(routes_match("DELETE", API_PREFIX "/session", &r, &param, allow, sizeof allow),
                   ROUTE_NO_METHOD);
  assert_string_equal(allow, "POST");
  assert_int_equal(routes_match("OPTIONS", API_PREFIX "/session", &r, &param, allow, sizeof allow),
                   ROUTE_NO_METHOD);
  assert_int_equal(
      routes_match("GET", API_PREFIX "/roleplay/session", &r, &param, allow, sizeof allow),
      ROUTE_NO_METHOD);
  assert_string_equal(allow, "POST, OPTIONS");
  /* the preflight comes from the route's cors flag */
  r = NULL;
  assert_int_equal(
      routes_match("OPTIONS", API_PREFIX "/roleplay/session", &r, &param, allow, sizeof allow),
      ROUTE_PREFLIGHT);
  assert_non_null(r);
  assert_true(r->cors);
  assert_string_equal(allow, "POST, OPTIONS");
  /* HEAD is answered by every GET route, and listed beside it */
  assert_int_equal(routes_match("HEAD", "/healthz", &r, &param, allow, sizeof allow), ROUTE_FOUND);
  assert_string_equal(r->name, "healthz");
  assert_int_equal(routes_match("POST", "/healthz", &r, &param, allow, sizeof allow),
                   ROUTE_NO_METHOD);
  assert_string_equal(allow, "GET, HEAD");
  assert_int_equal(routes_match("HEAD", API_PREFIX "/session", &r, &param, allow, sizeof allow),
                   ROUTE_NO_METHOD);
  assert_true(routes_max_body() >= BODY_LIMIT_DEFAULT);
  /* the body ceiling the server reads with is the route's own limit */
  assert_int_equal(routes_body_limit("POST", API_PREFIX "/session"), BODY_LIMIT_DEFAULT);
  assert_int_equal(routes_body_limit("GET", API_PREFIX "/calls"), 0);
  assert_int_equal(routes_body_limit("POST", API_PREFIX "/calls"), 0);
  assert_int_equal(routes_body_limit("OPTIONS", API_PREFIX "/roleplay/session"), 0);
  assert_int_equal(routes_body_limit("POST", "/nope"), 0);
}

static void test_errors(void **state)
{
  assert_string_equal(athos_error_code(ERR_TOKEN_EXPIRED), "TOKEN_EXPIRED");
  assert_int_equal(athos_error_status(ERR_TOKEN_EXPIRED), 401);
  assert_int_equal(athos_error_status(ERR_TENANT_INACTIVE), 403);
  assert_int_equal(athos_error_status(ERR_CALL_NOT_FOUND), 404);
  for (int e = ERR_NONE + 1; e < ERR_COUNT_; e++) {
    assert_non_null(athos_error_code(e));
    assert_true(athos_error_message(e)[0] != '\0');
    assert_true(athos_error_status(e) >= 400);
  }
  assert_int_equal(athos_error_from_store(STORE_UNAVAILABLE), ERR_SERVICE_UNAVAILABLE);
  assert_int_equal(athos_error_from_store(STORE_ERROR), ERR_INTERNAL_ERROR);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_flags_parse_like_env),
      cmocka_unit_test(test_recording_format),
      cmocka_unit_test(test_flags_refuse_truncation),
      cmocka_unit_test(test_routes),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
