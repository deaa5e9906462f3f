/* test_core.c — unit tests of the core's pure pieces: ids, base64, ISO
 * times, the list cursor, CIDR allow-lists and the HS256 session token. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/cursor.h"
#include "auth/cidr.h"
#include "auth/session_token.h"
#include "util/crypto.h"
#include "util/ids.h"
#include "util/lru.h"
#include "util/timefmt.h"

static void test_ids(void **state)
{
  char a[ID_MAX], b[ID_MAX], req[48];
  id_new(CALL_ID_PREFIX, CALL_ID_RANDOM_CHARS, a, sizeof a);
  id_new(CALL_ID_PREFIX, CALL_ID_RANDOM_CHARS, b, sizeof b);
  assert_int_equal(strlen(a), strlen(CALL_ID_PREFIX) + 21);
  assert_true(id_valid(a, CALL_ID_PREFIX, 21));
  assert_string_not_equal(a, b);
  assert_false(id_valid("athos_call_", CALL_ID_PREFIX, 21));
  assert_false(id_valid("athos_call_abc/def", CALL_ID_PREFIX, 21));
  assert_false(id_valid("ext_abc", CALL_ID_PREFIX, 21));
  id_request(req, sizeof req);
  assert_int_equal(strlen(req), 40);
  assert_memory_equal(req, "req_", 4);
  assert_int_equal(req[4 + 14], '4'); /* version nibble */
  assert_true(strchr("89ab", req[4 + 19]) != NULL);
  /* the UUID's shape, and distinct ids across more than one random batch */
  char seen[40][48];
  for (int i = 0; i < 40; i++) {
    id_request(seen[i], sizeof seen[i]);
    assert_int_equal(strlen(seen[i]), 40);
    for (int j = 4; j < 40; j++)
      assert_true(j == 12 || j == 17 || j == 22 || j == 27
                      ? seen[i][j] == '-'
                      : strchr("0123456789abcdef", seen[i][j]) != NULL);
    for (int k = 0; k < i; k++)
      assert_string_not_equal(seen[i], seen[k]);
  }
}

static void test_base64(void **state)
{
  char out[64];
  uint8_t back[64];
  assert_int_equal(b64_encode("foobar", 6, out, sizeof out), 8);
  assert_string_equal(out, "Zm9vYmFy");
  b64_encode("fo", 2, out, sizeof out);
  assert_string_equal(out, "Zm8=");
  b64url_encode("\xfb\xff", 2, out, sizeof out);
  assert_string_equal(out, "-_8");
  assert_int_equal(b64url_decode("-_8", 3, back, sizeof back), 2);
  assert_int_equal(back[0], 0xfb);
  assert_int_equal(b64_decode("Zm8=", 4, back, sizeof back), 2);
  assert_int_equal(b64_decode("Zm9$", 4, back, sizeof back), -1);
  assert_int_equal(b64url_decode("Zm8", 3, back, 1), -1); /* too small */
  assert_int_equal(b64url_decode("Zm8", 3, back, 2), 2);
  assert_int_equal(b64url_decode("Zm-", 3, back, sizeof back), -1); /* non-canonical bits */
  /* one spelling per value: no stray or partial padding */
  assert_int_equal(b64_decode("Zm8", 3, back, sizeof back), 2);
  assert_int_equal(b64_decode("Zm8==", 5, back, sizeof back), -1);
  assert_int_equal(b64_decode("Zg==", 4, back, sizeof back), 1);
  assert_int_equal(b64_decode("Zg===", 5, back, sizeof back), -1);
  assert_int_equal(b64url_decode("Zm8=", 4, back, sizeof back), -1);
}

static void test_time(void **state)
{
  int64_t ms;
  char buf[32];
  assert_int_equal(time_parse_iso("2026-06-05T14:39:40.295Z", &ms), 0);
  time_format_iso(ms, buf, sizeof buf);
  assert_string_equal(buf, "2026-06-05T14:39:40.295Z");
  assert_int_equal(time_parse_iso("2026-06-01T00:00:00Z", &ms), 0);
  assert_int_equal(ms, 1780272000000LL);
  assert_int_equal(time_parse_iso("2026-06-01T02:00:00+02:00", &ms), 0);
  assert_int_equal(ms, 1780272000000LL);
  assert_int_equal(time_parse_iso("2026-06-01", &ms), 0);
  assert_int_equal(ms, 1780272000000LL);
  assert_int_equal(time_parse_iso("1969-12-31T23:59:59.5Z", &ms), 0);
  assert_int_equal(ms, -500);
  time_format_iso(-500, buf, sizeof buf);
  assert_string_equal(buf, "1969-12-31T23:59:59.500Z");
  assert_int_equal(time_parse_iso("2026-02-30T00:00:00Z", &ms), -1);
  assert_int_equal(time_parse_iso("2026-06-01T25:00:00Z", &ms), -1);
  assert_int_equal(time_parse_iso("2026-06-01T00:00:00", &ms), -1); /* no zone */
  assert_int_equal(time_parse_iso("yesterday", &ms), -1);
  assert_int_equal(time_parse_iso("2026-06-01T00:00:00Zjunk", &ms), -1);
  assert_int_equal(time_month_start(1780272000000LL + 86400000LL * 10 + 5), 1780272000000LL);
}

static void test_cursor(void **state)
{
  uint8_t secret[32];
  memset(secret, 3, sizeof secret);
  struct cursor_key ka = {.secret = secret, .len = sizeof secret, .tenant = "ten_A"};
  struct cursor_key kb = {.secret = secret, .len = sizeof secret, .tenant = "ten_B"};
  struct cursor c = {.ended_at = 1780272000123LL}, d;
  char buf[CURSOR_MAX + 1];
  snprintf(c.public_id, sizeof c.public_id, "athos_call_GZ1DjOkZv_VEPoE-CJ8mp");
  assert_int_equal(cursor_encode(&ka, &c, buf, sizeof buf), 0);
  assert_int_equal(cursor_decode(&ka, buf, &d), 0);
  assert_int_equal(d.ended_at, c.ended_at);
  assert_string_equal(d.public_id, c.public_id);
  /* another tenant's cursor is refused */
  assert_int_equal(cursor_decode(&kb, buf, &d), -1);
  /* garbage and truncated cursors are refused */
  assert_int_equal(cursor_decode(&ka, "", &d), -1);
  assert_int_equal(cursor_decode(&ka, "!!!", &d), -1);
  assert_int_equal(cursor_decode(&ka, "eyJ0IjoxNzQ5", &d), -1);
  char cut[CURSOR_MAX + 1];
  snprintf(cut, sizeof cut, "%.*s", (int)strlen(buf) - 3, buf);
  assert_int_equal(cursor_decode(&ka, cut, &d), -1);
  /* an edited position under the old seal is refused */
  char raw[160], enc[CURSOR_MAX + 1];
  long n = b64url_decode(buf, strlen(buf), raw, sizeof raw - 1);
  assert_true(n > 0);
  raw[n] = '\0';
  raw[3] = raw[3] == '1' ? '2' : '1';
  b64url_encode(raw, (size_t)n, enc, sizeof enc);
  assert_int_equal(cursor_decode(&ka, enc, &d), -1);
  /* an unsealed cursor of the right shape is refused */
  snprintf(raw, sizeof raw, "c1.1.athos_call_GZ1DjOkZv_VEPoE-CJ8mp");
  b64url_encode(raw, strlen(raw), enc, sizeof enc);
  assert_int_equal(cursor_decode(&ka, enc, &d), -1);
}

static struct sockaddr_in6 v6(const char *s)
{
  struct sockaddr_in6 a = {.sin6_family = AF_INET6};
  inet_pton(AF_INET6, s, &a.sin6_addr);
  return a;
}

static void test_cidr(void **state)
{
  struct sockaddr_in a = {.sin_family = AF_INET};
  inet_pton(AF_INET, "10.1.2.3", &a.sin_addr);
  const struct sockaddr *sa = (const struct sockaddr *)&a;
  assert_true(cidr_list_allows("", sa));
  assert_true(cidr_list_allows("10.0.0.0/8", sa));
  assert_true(cidr_list_allows("192.168.0.0/16, 10.1.2.3", sa));
  assert_false(cidr_list_allows("10.1.2.4/32", sa));
  assert_true(cidr_list_allows("10.1.2.0/23", sa));
  assert_false(cidr_list_allows("11.0.0.0/8", sa));
  struct sockaddr_in6 m = v6("::ffff:10.1.2.3");
  assert_true(cidr_list_allows("10.0.0.0/8", (const struct sockaddr *)&m));
  struct sockaddr_in6 l = v6("2001:db8::1");
  assert_true(cidr_list_allows("2001:db8::/32", (const struct sockaddr *)&l));
  assert_false(cidr_list_allows("10.0.0.0/8", (const struct sockaddr *)&l));
  assert_true(cidr_list_valid("10.0.0.0/8,::1/128"));
  assert_false(cidr_list_valid("10.0.0.0/33"));
  assert_false(cidr_list_valid("10.0.0.0/"));
  assert_false(cidr_list_valid("example.com"));
  assert_false(cidr_list_valid("10.0.0.0/8,"));
  assert_false(cidr_list_valid("10.0.0.0/+8"));
  assert_false(cidr_list_valid("10.0.0.0/ 8"));
  assert_false(cidr_list_valid("10.0.0.0/0008"));
}

static void test_session_token(void **state)
{
  struct token_keys keys = {.n = 2};
  snprintf(keys.keys[0].kid, sizeof keys.keys[0].kid, "sk_new");
  memset(keys.keys[0].secret, 7, SIGNING_KEY_LEN);
  snprintf(keys.keys[1].kid, sizeof keys.keys[1].kid, "sk_old");
  memset(keys.keys[1].secret, 9, SIGNING_KEY_LEN);
  struct session_claims c = {.iat = 1000, .exp = 1300}, out;
  snprintf(c.tenant, sizeof c.tenant, "ten_x");
  snprintf(c.external_user_id, sizeof c.external_user_id, "rep_8842");
  snprintf(c.jti, sizeof c.jti, "jti_1");
  char tok[TOKEN_MAX];
  assert_int_equal(session_token_mint(&keys, &c, tok, sizeof tok), 0);
  assert_int_equal(session_token_verify(&keys, tok, 1100, &out), ERR_NONE);
  assert_string_equal(out.external_user_id, "rep_8842");
  assert_string_equal(out.external_agency_id, "");
  assert_int_equal(session_token_verify(&keys, tok, 1300, &out), ERR_TOKEN_EXPIRED);
  /* a flipped signature character */
  char bad[TOKEN_MAX];
  snprintf(bad, sizeof bad, "%s", tok);
  char *last = bad + strlen(bad) - 2;
  *last = *last == 'A' ? 'B' : 'A';
  assert_int_equal(session_token_verify(&keys, bad, 1100, &out), ERR_INVALID_TOKEN);
  /* alg "none" with an empty signature */
  char hdr[128], body[TOKEN_MAX];
  const char *none = "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"sk_new\"}";
  b64url_encode(none, strlen(none), hdr, sizeof hdr);
  const char *dot = strchr(tok, '.');
  const char *dot2 = strchr(dot + 1, '.');
  snprintf(body, sizeof body, "%s%.*s.", hdr, (int)(dot2 - dot), dot);
  assert_int_equal(session_token_verify(&keys, body, 1100, &out), ERR_INVALID_TOKEN);
  /* an alg with an escaped NUL is not HS256 */
  const char *nul = "{\"alg\":\"HS256\\u0000x\",\"typ\":\"JWT\",\"kid\":\"sk_new\"}";
  b64url_encode(nul, strlen(nul), hdr, sizeof hdr);
  char signing[TOKEN_MAX];
  snprintf(signing, sizeof signing, "%s%.*s", hdr, (int)(dot2 - dot), dot);
  uint8_t mac[SHA256_LEN];
  crypto_hmac_sha256(keys.keys[0].secret, SIGNING_KEY_LEN, signing, strlen(signing), mac);
  char sig[64], whole[TOKEN_MAX + 80];
  b64url_encode(mac, sizeof mac, sig, sizeof sig);
  snprintf(whole, sizeof whole, "%s.%s", signing, sig);
  assert_int_equal(session_token_verify(&keys, whole, 1100, &out), ERR_INVALID_TOKEN);
  /* a key that is not ours */
  struct token_keys other = {.n = 1};
  snprintf(other.keys[0].kid, sizeof other.keys[0].kid, "sk_new");
  memset(other.keys[0].secret, 1, SIGNING_KEY_LEN);
  assert_int_equal(session_token_verify(&other, tok, 1100, &out), ERR_INVALID_TOKEN);
  assert_int_equal(session_token_verify(&keys, "a.b", 1100, &out), ERR_INVALID_TOKEN);
  assert_int_equal(session_token_verify(&keys, "a.b.c.d", 1100, &out), ERR_INVALID_TOKEN);
}

static void test_lru(void **state)
{
  struct lru *c = lru_new(2, 100);
  void *v = NULL;
  size_t len = 0;
  assert_non_null(c);
  assert_int_equal(lru_put(c, "a", "one", 3, 0), 0);
  assert_int_equal(lru_put(c, "b", "two", 3, 0), 0);
  assert_true(lru_get(c, "a", 0, &v, &len)); /* a is now most recent */
  assert_memory_equal(v, "one", 3);
  free(v);
  assert_int_equal(lru_put(c, "c", "three", 5, 0), 0); /* evicts b, the least recent */
  assert_false(lru_get(c, "b", 0, &v, &len));
  assert_true(lru_get(c, "c", 0, &v, &len));
  assert_int_equal(len, 5);
  free(v);
  /* replacing a key keeps one entry */
  assert_int_equal(lru_put(c, "c", "3", 1, 0), 0);
  assert_true(lru_get(c, "c", 0, &v, &len));
  assert_int_equal(len, 1);
  free(v);
  /* expiry */
  assert_int_equal(lru_put(c, "t", "x", 1, 1000), 0);
  assert_true(lru_get(c, "t", 999, &v, &len));
  free(v);
  assert_false(lru_get(c, "t", 1000, &v, &len));
  /* the byte ceiling: a value over it is not stored, others are evicted to fit */
  char big[101] = {0};
  assert_int_equal(lru_put(c, "big", big, sizeof big, 0), 0);
  assert_false(lru_get(c, "big", 0, &v, &len));
  assert_int_equal(lru_put(c, "ninety", big, 90, 0), 0);
  assert_int_equal(lru_put(c, "twenty", big, 20, 0), 0);
  assert_false(lru_get(c, "ninety", 0, &v, &len));
  assert_true(lru_get(c, "twenty", 0, &v, &len));
  free(v);
  lru_free(c);
  lru_free(NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ids),  cmocka_unit_test(test_base64),
      cmocka_unit_test(test_time), cmocka_unit_test(test_cursor),
      cmocka_unit_test(test_cidr), cmocka_unit_test(test_session_token),
      cmocka_unit_test(test_lru),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
