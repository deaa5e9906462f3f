/* test_ws_util.c — the WebSocket transport's pure helpers: the RFC 6455
 * accept key, handshake header tokens and UTF-8 character counting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ws/ws_util.h"

static void test_accept_key_rfc_example(void **state)
{
  (void)state;
  char out[WS_ACCEPT_LEN];
  /* RFC 6455 §1.3's worked example. */
  assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out, sizeof out), 0);
  assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out, WS_ACCEPT_LEN - 1), -1);
}

static void test_key_valid(void **state)
{
  (void)state;
  assert_true(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=="));
  assert_false(ws_key_valid(NULL));
  assert_false(ws_key_valid(""));
  assert_false(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ"));    /* 22 chars */
  assert_false(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ===")); /* 25 chars */
  assert_false(ws_key_valid("dGhlIHNhbXBsZSBub25j!Q=="));  /* not base64 */
  assert_false(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ1x"));  /* 18 bytes */
}

static void test_header_tokens(void **state)
{
  (void)state;
  assert_true(ws_header_has_token("Upgrade", "upgrade"));
  assert_true(ws_header_has_token("keep-alive, Upgrade", "upgrade"));
  assert_true(ws_header_has_token("  websocket  ", "websocket"));
  assert_true(ws_header_has_token("h2c,WebSocket", "websocket"));
  assert_false(ws_header_has_token("websocketx", "websocket"));
  assert_false(ws_header_has_token("keep-alive", "upgrade"));
  assert_false(ws_header_has_token("", "upgrade"));
  assert_false(ws_header_has_token(NULL, "upgrade"));
  assert_false(ws_header_has_token(",,,", "upgrade"));
}

static void test_utf8_chars(void **state)
{
  (void)state;
  assert_int_equal(ws_utf8_chars("", 0), 0);
  assert_int_equal(ws_utf8_chars("hello", 5), 5);
  assert_int_equal(ws_utf8_chars("caf\xc3\xa9", 5), 4);       /* é: 2 bytes */
  assert_int_equal(ws_utf8_chars("\xe2\x80\xa6", 3), 1);      /* …: 3 bytes */
  assert_int_equal(ws_utf8_chars("\xf0\x9f\x98\x80!", 5), 2); /* emoji + ! */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accept_key_rfc_example),
      cmocka_unit_test(test_key_valid),
      cmocka_unit_test(test_header_tokens),
      cmocka_unit_test(test_utf8_chars),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
