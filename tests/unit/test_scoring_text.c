/* test_scoring_text.c — the scorer's bounded text builder (sc_buf in
 * src/scoring/text.c, a util/dynbuf with a ceiling): what fits is kept
 * whole, what does not is cut at a word with "…", and the text never
 * passes its limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scoring/scoring_internal.h"

#define ELLIPSIS "\xE2\x80\xA6"

static void test_fits(void **state)
{
  (void)state;
  struct sc_buf b;
  sc_buf_init(&b, 32);
  assert_string_equal(sc_buf_str(&b), "");
  assert_int_equal(sc_buf_len(&b), 0);
  sc_buf_adds(&b, "Good call.");
  sc_buf_addf(&b, " %d of %d.", 3, 4);
  assert_string_equal(sc_buf_str(&b), "Good call. 3 of 4.");
  assert_int_equal(sc_buf_len(&b), strlen("Good call. 3 of 4."));
  assert_false(b.overflow);
  sc_buf_release(&b);
  sc_buf_release(&b); /* twice is fine */
  assert_string_equal(sc_buf_str(&b), "");
}

static void test_cut_at_a_word(void **state)
{
  (void)state;
  struct sc_buf b;
  sc_buf_init(&b, 20);
  sc_buf_adds(&b, "The rep asked about doctors and drugs.");
  /* "The rep asked" + "…" is 16 bytes: the last word that fits whole */
  assert_string_equal(sc_buf_str(&b), "The rep asked" ELLIPSIS);
  assert_true(b.overflow);
  assert_true(sc_buf_len(&b) <= 20);
  /* once cut, nothing more is added */
  sc_buf_adds(&b, "x");
  assert_string_equal(sc_buf_str(&b), "The rep asked" ELLIPSIS);
  sc_buf_release(&b);
}

static void test_exact_limit(void **state)
{
  (void)state;
  struct sc_buf b;
  sc_buf_init(&b, 10);
  sc_buf_adds(&b, "0123456789");
  assert_string_equal(sc_buf_str(&b), "0123456789");
  assert_false(b.overflow);
  sc_buf_adds(&b, "a"); /* no room left, not even for the ellipsis */
  assert_string_equal(sc_buf_str(&b), "0123456789");
  assert_true(b.overflow);
  sc_buf_release(&b);
}

static void test_fix_utf8(void **state)
{
  (void)state;
  struct sc_buf b;
  sc_buf_init(&b, 16);
  sc_buf_fix_utf8(&b);          /* empty: nothing to do, nothing written */
  sc_buf_add(&b, "ok \xC3", 4); /* a cut two-byte sequence */
  sc_buf_fix_utf8(&b);
  assert_string_equal(sc_buf_str(&b), "ok ?");
  assert_int_equal(sc_buf_len(&b), 4);
  sc_buf_release(&b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fits),
      cmocka_unit_test(test_cut_at_a_word),
      cmocka_unit_test(test_exact_limit),
      cmocka_unit_test(test_fix_utf8),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
