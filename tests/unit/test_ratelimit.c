/* test_ratelimit.c — the token buckets (src/auth/ratelimit.h): a bucket
 * allows its size at once, then refuses with a Retry-After until it has
 * refilled; buckets are independent; a full table reuses the idlest;
 * IPv6 clients are metered by their /64. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/ratelimit.h"

static void test_bucket(void **state)
{
  (void)state;
  struct ratelimit *rl = ratelimit_new(64);
  struct rate_result r;
  assert_non_null(rl);
  int64_t t = 1000;
  for (int i = 0; i < 3; i++) {
    ratelimit_take(rl, "tenant:a", 3, t, &r);
    assert_true(r.allowed);
    assert_int_equal(r.limit, 3);
    assert_int_equal(r.remaining, 2 - i);
    assert_int_equal(r.reset_sec, 1);
  }
  ratelimit_take(rl, "tenant:a", 3, t, &r);
  assert_false(r.allowed);
  assert_int_equal(r.remaining, 0);
  assert_int_equal(r.retry_after, 1);
  ratelimit_take(rl, "tenant:b", 3, t, &r); /* another bucket */
  assert_true(r.allowed);
  ratelimit_take(rl, "tenant:a", 3, t + 340, &r); /* 3/s: one token after 334 ms */
  assert_true(r.allowed);
  assert_int_equal(r.remaining, 0);
  ratelimit_take(rl, "tenant:a", 3, t + 341, &r);
  assert_false(r.allowed);
  ratelimit_take(rl, "tenant:a", 3, t + 60000, &r); /* refilled, never beyond its size */
  assert_true(r.allowed);
  assert_int_equal(r.remaining, 2);
  ratelimit_take(rl, "tenant:a", 1, t + 60000, &r); /* a lowered limit applies at once */
  assert_true(r.allowed);
  assert_int_equal(r.remaining, 0);
  ratelimit_take(rl, "tenant:a", 1, t + 60000, &r);
  assert_false(r.allowed);
  ratelimit_free(rl);
}

static void test_full_table(void **state)
{
  (void)state;
  struct ratelimit *rl = ratelimit_new(16); /* a few slots per shard */
  struct rate_result r;
  char key[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(key, sizeof key, "ip:%d", i);
    ratelimit_take(rl, key, 1, 1000 + i, &r);
    assert_true(r.allowed); /* fresh buckets are full */
  }
  ratelimit_take(rl, "ip:4999", 1, 6000, &r); /* the latest is still there */
  assert_false(r.allowed);
  ratelimit_free(rl);
}

static void test_tighter_and_ip_key(void **state)
{
  (void)state;
  struct rate_result a = {.allowed = true, .remaining = 5}, b = {.allowed = true, .remaining = 2};
  struct rate_result no = {.allowed = false, .remaining = 0};
  assert_ptr_equal(ratelimit_tighter(&a, &b), &b);
  assert_ptr_equal(ratelimit_tighter(&no, &b), &no);
  assert_ptr_equal(ratelimit_tighter(&a, &no), &no);

  char k1[RATE_KEY_MAX], k2[RATE_KEY_MAX];
  struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
  inet_pton(AF_INET6, "2001:db8:1:2:aaaa::1", &s6.sin6_addr);
  ratelimit_ip_key((struct sockaddr *)&s6, "redeem", k1);
  inet_pton(AF_INET6, "2001:db8:1:2:bbbb::9", &s6.sin6_addr);
  ratelimit_ip_key((struct sockaddr *)&s6, "redeem", k2);
  assert_string_equal(k1, k2); /* one /64 */
  assert_string_equal(k1, "redeem:2001:db8:1:2::");
  inet_pton(AF_INET6, "::ffff:192.0.2.7", &s6.sin6_addr);
  ratelimit_ip_key((struct sockaddr *)&s6, "live", k1);
  struct sockaddr_in s4 = {.sin_family = AF_INET};
  inet_pton(AF_INET, "192.0.2.7", &s4.sin_addr);
  ratelimit_ip_key((struct sockaddr *)&s4, "live", k2);
  assert_string_equal(k1, k2); /* mapped = plain IPv4 */
  assert_string_equal(k1, "live:192.0.2.7");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bucket),
      cmocka_unit_test(test_full_table),
      cmocka_unit_test(test_tighter_and_ip_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
