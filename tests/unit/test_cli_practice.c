/* test_cli_practice.c — the pure pieces of `athos practice`: the rep's
 * lines read from a pipe (src/cli/term.h: splitting, the last line without
 * a newline, over-long lines dropped up to their newline, clean output)
 * and the connection URL split (src/cli/api_client.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/api_client.h"
#include "cli/term.h"

/* Feeds text through a non-blocking pipe into t, reading as a poll()
 * loop would (closing the pipe first if close_after). Returns how many
 * times term_input_read() said an over-long line began to be dropped. */
static int feed(struct term_input *t, const char *text, size_t len, int fds[2], bool close_after)
{
  int dropped = 0;
  assert_int_equal(write(fds[1], text, len), (ssize_t)len);
  if (close_after)
    close(fds[1]);
  for (int i = 0; i < 64 && !t->eof; i++) {
    int rc = term_input_read(t, fds[0]);
    assert_true(rc >= 0);
    dropped += rc;
  }
  return dropped;
}

static void test_lines_and_last_line(void **state)
{
  (void)state;
  struct term_input t;
  int fds[2];
  char line[64];
  assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
  term_input_init(&t, sizeof line - 1);
  feed(&t, "hello\nsecond li", 15, fds, false);
  assert_true(term_input_next_line(&t, line, sizeof line));
  assert_string_equal(line, "hello");
  assert_false(term_input_next_line(&t, line, sizeof line)); /* incomplete, no EOF yet */
  assert_false(term_input_done(&t));
  feed(&t, "ne\n\nlast", 8, fds, true);
  assert_true(term_input_next_line(&t, line, sizeof line));
  assert_string_equal(line, "second line");
  assert_true(term_input_next_line(&t, line, sizeof line));
  assert_string_equal(line, ""); /* an empty line is a line */
  assert_false(term_input_done(&t));
  assert_true(term_input_next_line(&t, line, sizeof line)); /* EOF: no newline needed */
  assert_string_equal(line, "last");
  assert_false(term_input_next_line(&t, line, sizeof line));
  assert_true(term_input_done(&t));
  term_input_free(&t);
  close(fds[0]);
}

static void test_over_long_line_is_dropped(void **state)
{
  (void)state;
  struct term_input t;
  int fds[2];
  char line[17];
  char text[64];
  assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
  term_input_init(&t, 16);
  /* 40 bytes without a newline, then the rest of that line and a good one. */
  memset(text, 'x', 40);
  memcpy(text + 40, "yy\nok\n", 6);
  int dropped = feed(&t, text, 46, fds, true);
  assert_int_equal(dropped, 1); /* said once per line, not per read */
  assert_true(term_input_next_line(&t, line, sizeof line));
  assert_string_equal(line, "ok");
  assert_false(term_input_next_line(&t, line, sizeof line));
  assert_true(term_input_done(&t));
  term_input_free(&t);
  close(fds[0]);

  /* Exactly max_line bytes is still a line, and a full buffer of whole
   * lines waits to be taken rather than being dropped. */
  assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
  term_input_init(&t, 16);
  dropped = feed(&t, "0123456789abcdef\nnext\n", 22, fds, false);
  assert_int_equal(dropped, 0);
  assert_true(term_input_next_line(&t, line, sizeof line));
  assert_string_equal(line, "0123456789abcdef");
  dropped = feed(&t, "", 0, fds, true);
  assert_int_equal(dropped, 0);
  assert_true(term_input_next_line(&t, line, sizeof line));
  assert_string_equal(line, "next");
  assert_true(term_input_done(&t));
  term_input_free(&t);
  close(fds[0]);
}

static void test_put_clean(void **state)
{
  (void)state;
  char out[64] = "";
  FILE *f = fmemopen(out, sizeof out, "w");
  assert_non_null(f);
  term_put_clean(f, "a\x1b[2Jb\tc\x7f"
                    "d\xc3\xa9");
  term_put_clean(f, NULL);
  fclose(f);
  assert_string_equal(out, "a [2Jb c d\xc3\xa9"); /* controls blanked, UTF-8 kept */
}

static void test_ws_url(void **state)
{
  (void)state;
  struct ws_target t;
  assert_int_equal(api_client_parse_ws_url("ws://127.0.0.1:8080/api/external/v1/roleplay/live", &t),
                   0);
  assert_string_equal(t.host, "127.0.0.1");
  assert_string_equal(t.port, "8080");
  assert_string_equal(t.host_header, "127.0.0.1:8080");
  assert_string_equal(t.path, "/api/external/v1/roleplay/live");

  assert_int_equal(api_client_parse_ws_url("WS://example.com?x=1#frag", &t), 0);
  assert_string_equal(t.host, "example.com");
  assert_string_equal(t.port, "80");
  assert_string_equal(t.path, "/?x=1");

  assert_int_equal(api_client_parse_ws_url("ws://[::1]:9/live", &t), 0);
  assert_string_equal(t.host, "::1");
  assert_string_equal(t.port, "9");
  assert_string_equal(t.host_header, "[::1]:9");

  assert_int_equal(api_client_parse_ws_url("wss://example.com/live", &t), -1); /* no TLS */
  assert_int_equal(api_client_parse_ws_url("http://example.com/live", &t), -1);
  assert_int_equal(api_client_parse_ws_url("ws://user@example.com/", &t), -1);
  assert_int_equal(api_client_parse_ws_url("ws://example.com:80x/", &t), -1);
  assert_int_equal(api_client_parse_ws_url("ws:///live", &t), -1);
  assert_int_equal(api_client_parse_ws_url("ws://[::1/live", &t), -1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lines_and_last_line),
      cmocka_unit_test(test_over_long_line_is_dropped),
      cmocka_unit_test(test_put_clean),
      cmocka_unit_test(test_ws_url),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
