/* test_dynbuf.c — the bounded growable buffer (src/util/dynbuf.h): the
 * ceiling is exact, a failure frees, take hands the memory over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/dynbuf.h"

static void test_empty(void **state)
{
  (void)state;
  struct dynbuf b;
  size_t len = 99;
  dynbuf_init(&b, 10);
  assert_string_equal(dynbuf_ptr(&b), "");
  assert_int_equal(dynbuf_len(&b), 0);
  assert_int_equal(dynbuf_room(&b), 10);
  assert_null(dynbuf_take(&b, &len));
  assert_int_equal(len, 0);
  dynbuf_free(&b);
  dynbuf_free(&b); /* twice is fine */
}

static void test_add_and_grow(void **state)
{
  (void)state;
  struct dynbuf b;
  dynbuf_init(&b, 100000);
  for (int i = 0; i < 1000; i++)
    assert_int_equal(dynbuf_add(&b, "0123456789"), DYNBUF_OK);
  assert_int_equal(dynbuf_len(&b), 10000);
  assert_int_equal(strlen(dynbuf_ptr(&b)), 10000);
  assert_memory_equal(dynbuf_ptr(&b) + 9990, "0123456789", 10);
  assert_int_equal(dynbuf_room(&b), 90000);
  /* embedded NULs are kept; the NUL after them too */
  dynbuf_reset(&b);
  assert_int_equal(dynbuf_addn(&b, "a\0b", 3), DYNBUF_OK);
  assert_int_equal(dynbuf_len(&b), 3);
  assert_memory_equal(dynbuf_ptr(&b), "a\0b\0", 4);
  dynbuf_free(&b);
}

static void test_ceiling_is_exact_and_frees(void **state)
{
  (void)state;
  struct dynbuf b;
  dynbuf_init(&b, 8);
  assert_int_equal(dynbuf_add(&b, "12345"), DYNBUF_OK);
  assert_int_equal(dynbuf_add(&b, "678"), DYNBUF_OK); /* exactly max */
  assert_string_equal(dynbuf_ptr(&b), "12345678");
  assert_int_equal(dynbuf_room(&b), 0);
  assert_int_equal(dynbuf_addn(&b, "", 0), DYNBUF_OK); /* nothing is not too much */
  /* one byte over: refused, and what was there is gone */
  assert_int_equal(dynbuf_add(&b, "9"), DYNBUF_TOOBIG);
  assert_int_equal(dynbuf_len(&b), 0);
  assert_null(b.mem);
  assert_string_equal(dynbuf_ptr(&b), "");
  /* still usable with the same ceiling */
  assert_int_equal(dynbuf_add(&b, "abcdefgh"), DYNBUF_OK);
  assert_int_equal(dynbuf_add(&b, "abcdefghi"), DYNBUF_TOOBIG);
  /* a huge length does not wrap around the check */
  assert_int_equal(dynbuf_add(&b, "x"), DYNBUF_OK);
  assert_int_equal(dynbuf_addn(&b, "x", SIZE_MAX), DYNBUF_TOOBIG);
  assert_int_equal(dynbuf_len(&b), 0);
  dynbuf_free(&b);
}

static void test_addf(void **state)
{
  (void)state;
  struct dynbuf b;
  char big[1001];
  memset(big, 'z', 1000);
  big[1000] = '\0';
  dynbuf_init(&b, 2000);
  assert_int_equal(dynbuf_addf(&b, "%s=%d;", "n", 42), DYNBUF_OK);
  assert_string_equal(dynbuf_ptr(&b), "n=42;");
  /* longer than addf's stack buffer: formatted straight into b */
  assert_int_equal(dynbuf_addf(&b, "[%s]", big), DYNBUF_OK);
  assert_int_equal(dynbuf_len(&b), 5 + 1002);
  assert_memory_equal(dynbuf_ptr(&b), "n=42;[zzz", 9);
  assert_string_equal(dynbuf_ptr(&b) + dynbuf_len(&b) - 2, "z]");
  /* over the ceiling: refused and freed */
  assert_int_equal(dynbuf_addf(&b, "%s", big), DYNBUF_TOOBIG);
  assert_int_equal(dynbuf_len(&b), 0);
  dynbuf_free(&b);
}

static void test_take(void **state)
{
  (void)state;
  struct dynbuf b;
  size_t len = 0;
  dynbuf_init(&b, 64);
  assert_int_equal(dynbuf_add(&b, "hello"), DYNBUF_OK);
  char *s = dynbuf_take(&b, &len);
  assert_non_null(s);
  assert_int_equal(len, 5);
  assert_string_equal(s, "hello");
  /* b is empty, unallocated and reusable with its ceiling */
  assert_null(b.mem);
  assert_int_equal(dynbuf_len(&b), 0);
  assert_int_equal(dynbuf_room(&b), 64);
  assert_int_equal(dynbuf_add(&b, "again"), DYNBUF_OK);
  assert_string_equal(dynbuf_ptr(&b), "again");
  assert_ptr_not_equal(dynbuf_ptr(&b), s);
  free(s);
  s = dynbuf_take(&b, NULL);
  assert_string_equal(s, "again");
  free(s);
}

static void test_drop_front(void **state)
{
  (void)state;
  struct dynbuf b;
  dynbuf_init(&b, 64);
  assert_int_equal(dynbuf_add(&b, "one\ntwo\n"), DYNBUF_OK);
  dynbuf_drop_front(&b, 4);
  assert_string_equal(dynbuf_ptr(&b), "two\n");
  assert_int_equal(dynbuf_room(&b), 60);
  dynbuf_drop_front(&b, 100);
  assert_int_equal(dynbuf_len(&b), 0);
  assert_string_equal(dynbuf_ptr(&b), "");
  dynbuf_drop_front(&b, 1); /* on an empty buffer: nothing */
  dynbuf_free(&b);
  dynbuf_drop_front(&b, 1); /* on a freed one too */
  assert_int_equal(dynbuf_len(&b), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_add_and_grow),
      cmocka_unit_test(test_ceiling_is_exact_and_frees),
      cmocka_unit_test(test_addf),
      cmocka_unit_test(test_take),
      cmocka_unit_test(test_drop_front),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
