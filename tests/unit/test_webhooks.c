/* test_webhooks.c — unit tests of the webhook pieces: Standard Webhooks
 * signatures against reference values computed outside this code base,
 * the SSRF address classes, the retry policy, the deliverer's fairness
 * bookkeeping (host keys, per-tenant and per-host caps, stalls), the
 * call.scored payload, and the outbox tables (scoring claim/commit, event
 * claim/record/replay) on a temporary SQLite database. */
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

#include "store/store.h"
#include "util/crypto.h"
#include "util/timefmt.h"
#include "webhooks/fair.h"
#include "webhooks/payload.h"
#include "webhooks/retry.h"
#include "webhooks/signer.h"
#include "webhooks/target.h"

/* ------------------------------------------------------------ signatures */

/* The Standard Webhooks reference vector (the spec's and svix's example);
 * the expected value was recomputed independently with
 *   openssl dgst -sha256 -mac HMAC -macopt hexkey:<key> -binary | base64 */
#define REF_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define REF_MSG_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define REF_TS     1614265330
#define REF_BODY   "{\"test\": 2432232314}"
#define REF_SIG    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
/* A second secret: base64("athos-second-secret-0123456789ab"), same
 * message, expected value from the same openssl command. */
#define SECOND_SECRET "whsec_YXRob3Mtc2Vjb25kLXNlY3JldC0wMTIzNDU2Nzg5YWI="
#define SECOND_SIG    "v1,hDolWj7D5t2zK7MFRgjWI85P2+mZZ4XVU/p/SKCA8bQ="

static void test_sign_reference_vector(void **state)
{
  const char *secrets[] = {REF_SECRET};
  char out[256];
  assert_int_equal(
      webhook_sign(secrets, 1, REF_MSG_ID, REF_TS, REF_BODY, strlen(REF_BODY), out, sizeof out), 0);
  assert_string_equal(out, REF_SIG);

  /* The prefix is optional, as in the reference libraries. */
  const char *bare[] = {REF_SECRET + 6};
  assert_int_equal(
      webhook_sign(bare, 1, REF_MSG_ID, REF_TS, REF_BODY, strlen(REF_BODY), out, sizeof out), 0);
  assert_string_equal(out, REF_SIG);

  /* Any change to id, timestamp or body changes the signature. */
  assert_int_equal(
      webhook_sign(secrets, 1, REF_MSG_ID, REF_TS + 1, REF_BODY, strlen(REF_BODY), out, sizeof out),
      0);
  assert_string_not_equal(out, REF_SIG);
  assert_int_equal(
      webhook_sign(secrets, 1, REF_MSG_ID, REF_TS, REF_BODY, strlen(REF_BODY) - 1, out, sizeof out),
      0);
  assert_string_not_equal(out, REF_SIG);
}

static void test_sign_rotation_and_errors(void **state)
{
  const char *two[] = {SECOND_SECRET, REF_SECRET};
  char out[256];
  assert_int_equal(
      webhook_sign(two, 2, REF_MSG_ID, REF_TS, REF_BODY, strlen(REF_BODY), out, sizeof out), 0);
  assert_string_equal(out, SECOND_SIG " " REF_SIG);

  /* Too small an output, no secret, a malformed secret: refused, "" out. */
  char small[40];
  assert_int_equal(
      webhook_sign(two, 2, REF_MSG_ID, REF_TS, REF_BODY, strlen(REF_BODY), small, sizeof small),
      -1);
  assert_string_equal(small, "");
  assert_int_equal(webhook_sign(two, 0, REF_MSG_ID, REF_TS, REF_BODY, 0, out, sizeof out), -1);
  const char *bad[] = {"whsec_not*base64"};
  assert_int_equal(webhook_sign(bad, 1, REF_MSG_ID, REF_TS, REF_BODY, 3, out, sizeof out), -1);
  assert_string_equal(out, "");
  const char *empty[] = {"whsec_"};
  assert_int_equal(webhook_sign(empty, 1, REF_MSG_ID, REF_TS, REF_BODY, 3, out, sizeof out), -1);

  uint8_t key[WEBHOOK_SECRET_KEY_MAX];
  assert_int_equal(webhook_secret_decode(SECOND_SECRET, key, sizeof key), 32);
  assert_memory_equal(key, "athos-second-secret-0123456789ab", 32);
}

/* ----------------------------------------------------- address classes */

static void test_address_classes(void **state)
{
  static const struct {
    const char *ip;
    enum webhook_addr_class want;
  } cases[] = {
      {"0.0.0.0", ADDR_UNSPECIFIED},
      {"0.1.2.3", ADDR_UNSPECIFIED},
      {"127.0.0.1", ADDR_LOOPBACK},
      {"127.255.255.254", ADDR_LOOPBACK},
      {"10.0.0.1", ADDR_PRIVATE},
      {"10.255.255.255", ADDR_PRIVATE},
      {"172.16.0.1", ADDR_PRIVATE},
      {"172.31.255.255", ADDR_PRIVATE},
      {"172.15.255.255", ADDR_PUBLIC},
      {"172.32.0.0", ADDR_PUBLIC},
      {"192.168.1.1", ADDR_PRIVATE},
      {"192.169.0.1", ADDR_PUBLIC},
      {"169.254.169.254", ADDR_LINK_LOCAL}, /* cloud metadata */
      {"100.64.0.1", ADDR_CGNAT},
      {"100.127.255.255", ADDR_CGNAT},
      {"100.63.255.255", ADDR_PUBLIC},
      {"100.128.0.0", ADDR_PUBLIC},
      {"224.0.0.1", ADDR_MULTICAST},
      {"239.255.255.255", ADDR_MULTICAST},
      {"240.0.0.1", ADDR_RESERVED},
      {"255.255.255.255", ADDR_RESERVED},
      {"192.0.0.8", ADDR_RESERVED},
      {"198.18.0.1", ADDR_RESERVED},
      {"198.19.255.255", ADDR_RESERVED},
      {"198.20.0.0", ADDR_PUBLIC},
      {"8.8.8.8", ADDR_PUBLIC},
      {"93.184.216.34", ADDR_PUBLIC},
      {"::", ADDR_UNSPECIFIED},
      {"::1", ADDR_LOOPBACK},
      {"fc00::1", ADDR_PRIVATE},
      {"fdff:ffff::1", ADDR_PRIVATE},
      {"fe80::1", ADDR_LINK_LOCAL},
      {"febf::1", ADDR_LINK_LOCAL},
      {"fec0::1", ADDR_PRIVATE},
      {"ff02::1", ADDR_MULTICAST},
      {"::ffff:127.0.0.1", ADDR_LOOPBACK}, /* v4-mapped */
      {"::ffff:169.254.169.254", ADDR_LINK_LOCAL},
      {"::ffff:10.1.2.3", ADDR_PRIVATE},
      {"::ffff:8.8.8.8", ADDR_PUBLIC},
      {"::127.0.0.1", ADDR_LOOPBACK},          /* v4-compatible */
      {"64:ff9b::a9fe:a9fe", ADDR_LINK_LOCAL}, /* NAT64 of 169.254.169.254 */
      {"2002:c0a8:0101::1", ADDR_PRIVATE},     /* 6to4 of 192.168.1.1 */
      /* IANA special-purpose IPv4 blocks and their edges */
      {"192.0.2.1", ADDR_RESERVED},     /* TEST-NET-1 */
      {"198.51.100.7", ADDR_RESERVED},  /* TEST-NET-2 */
      {"203.0.113.255", ADDR_RESERVED}, /* TEST-NET-3 */
      {"203.0.112.255", ADDR_PUBLIC},
      {"203.0.114.0", ADDR_PUBLIC},
      {"192.88.99.1", ADDR_RESERVED}, /* 6to4 relay anycast */
      {"192.0.1.255", ADDR_PUBLIC},
      {"198.17.255.255", ADDR_PUBLIC},
      /* IPv4-translated (SIIT), ::ffff:0:0:0/96: judged by the IPv4 address */
      {"::ffff:0:127.0.0.1", ADDR_LOOPBACK},
      {"::ffff:0:7f00:1", ADDR_LOOPBACK},
      {"::ffff:0:a9fe:a9fe", ADDR_LINK_LOCAL},
      {"::ffff:0:10.0.0.1", ADDR_PRIVATE},
      {"::ffff:0:8.8.8.8", ADDR_PUBLIC},
      {"::ffff:1:8.8.8.8", ADDR_PUBLIC}, /* outside both /96s: an ordinary address */
      /* NAT64 with a private embedded IPv4, and the local-use prefix */
      {"64:ff9b::10.1.2.3", ADDR_PRIVATE},
      {"64:ff9b::127.0.0.1", ADDR_LOOPBACK},
      {"64:ff9b::100.64.0.1", ADDR_CGNAT},
      {"64:ff9b::198.18.0.1", ADDR_RESERVED},
      {"64:ff9b::8.8.8.8", ADDR_PUBLIC},
      {"64:ff9b:1::8.8.8.8", ADDR_PRIVATE},
      {"::ffff:100.64.0.1", ADDR_CGNAT},
      {"::ffff:198.18.0.1", ADDR_RESERVED},
      {"2002:6440:0001::1", ADDR_CGNAT}, /* 6to4 of 100.64.0.1 */
      /* IANA special-purpose IPv6 blocks */
      {"100::1", ADDR_RESERVED},       /* discard-only */
      {"100:0:0:1::1", ADDR_RESERVED}, /* dummy prefix */
      {"100:0:0:2::1", ADDR_PUBLIC},
      {"2001::1", ADDR_RESERVED},    /* Teredo */
      {"2001:2::1", ADDR_RESERVED},  /* benchmarking */
      {"2001:10::1", ADDR_RESERVED}, /* ORCHID */
      {"2001:1ff:ffff::1", ADDR_RESERVED},
      {"2001:200::1", ADDR_PUBLIC},   /* just past 2001::/23 */
      {"2001:db8::1", ADDR_RESERVED}, /* documentation */
      {"2001:db9::1", ADDR_PUBLIC},
      {"3fff:fff::1", ADDR_RESERVED}, /* documentation (RFC 9637) */
      {"3fff:1000::1", ADDR_PUBLIC},
      {"5f00::1", ADDR_RESERVED}, /* SRv6 SIDs */
      {"2001:4860:4860::8888", ADDR_PUBLIC},
      {"2606:4700::1111", ADDR_PUBLIC},
      {"not-an-ip", ADDR_RESERVED},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    enum webhook_addr_class got = webhook_addr_classify_text(cases[i].ip);
    if (got != cases[i].want)
      fail_msg("%s: got %s, want %s", cases[i].ip, webhook_addr_class_name(got),
               webhook_addr_class_name(cases[i].want));
  }
}

static void test_target_check(void **state)
{
  struct webhook_target t;
  char err[256];
  /* https is required unless private targets are allowed. */
  assert_int_equal(webhook_target_check("http://93.184.216.34/hook", false, &t, err, sizeof err),
                   -1);
  assert_non_null(strstr(err, "https"));
  assert_int_equal(webhook_target_check("ftp://93.184.216.34/", true, &t, err, sizeof err), -1);
  assert_int_equal(webhook_target_check("not a url", true, &t, err, sizeof err), -1);

  /* A public literal passes and needs no pin (curl does not resolve it). */
  assert_int_equal(webhook_target_check("https://93.184.216.34/hook", false, &t, err, sizeof err),
                   0);
  assert_string_equal(t.addr, "93.184.216.34");
  assert_int_equal(t.port, 443);
  assert_string_equal(t.resolve, "");

  /* Private literals are refused, in every spelling curl accepts. */
  static const char *refused[] = {
      "https://127.0.0.1/",       "https://127.1/",         "https://2130706433/",
      "https://0x7f000001/",      "https://[::1]/",         "https://[::ffff:127.0.0.1]/",
      "https://169.254.169.254/", "https://10.0.0.1:8443/", "https://0.0.0.0/",
      "https://[fd00::1]/",       "https://100.64.1.1/",    "https://localhost/",
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    if (webhook_target_check(refused[i], false, &t, err, sizeof err) != -1)
      fail_msg("%s was allowed", refused[i]);
  }

  /* With the flag: http and loopback are fine; a name is pinned. */
  assert_int_equal(webhook_target_check("http://127.0.0.1:9/x", true, &t, err, sizeof err), 0);
  assert_int_equal(t.port, 9);
  assert_string_equal(t.resolve, "");
  assert_int_equal(webhook_target_check("http://localhost:8080/x", true, &t, err, sizeof err), 0);
  assert_string_equal(t.host, "localhost");
  assert_true(strncmp(t.resolve, "localhost:8080:", 15) == 0);
  assert_true(strcmp(t.addr, "127.0.0.1") == 0 || strcmp(t.addr, "::1") == 0);
}

/* --------------------------------------------------------------- retries */

static void test_retry_delay_and_jitter(void **state)
{
  const int64_t schedule[] = {0, 5, 300, 1800};
  assert_int_equal(webhook_retry_delay_ms(schedule, 4, 0, 12345), 0);
  assert_int_equal(webhook_retry_delay_ms(schedule, 4, 4, 0), -1);
  for (uint64_t i = 0; i < 2000; i++) {
    uint64_t rnd = crypto_random_u64();
    int64_t d1 = webhook_retry_delay_ms(schedule, 4, 1, rnd);
    int64_t d3 = webhook_retry_delay_ms(schedule, 4, 3, rnd);
    assert_in_range(d1, 4500, 5500);
    assert_in_range(d3, 1620000, 1980000);
  }
  /* The extremes of rnd reach the edges, and nothing beyond. */
  assert_int_equal(webhook_retry_delay_ms(schedule, 4, 1, 0), 4500);
  assert_int_equal(webhook_retry_delay_ms(schedule, 4, 1, 1000), 5500);
}

static void test_retry_decisions(void **state)
{
  const int64_t schedule[] = {0, 1, 1};
  const int64_t now = 1700000000000;
  int64_t next = 0;
  assert_int_equal(webhook_decide(200, -1, 1, schedule, 3, now, 0, &next), WEBHOOK_DELIVERED);
  assert_int_equal(webhook_decide(204, -1, 3, schedule, 3, now, 0, &next), WEBHOOK_DELIVERED);
  assert_int_equal(webhook_decide(299, -1, 1, schedule, 3, now, 0, &next), WEBHOOK_DELIVERED);
  assert_int_equal(webhook_decide(410, -1, 1, schedule, 3, now, 0, &next), WEBHOOK_ENDPOINT_GONE);

  /* Failures retry on the schedule: attempt 2 waits schedule[1] ± 10 %. */
  static const int retried[] = {0, 100, 301, 302, 400, 401, 404, 429, 500, 502, 503, 504};
  for (size_t i = 0; i < sizeof retried / sizeof retried[0]; i++) {
    next = 0;
    assert_int_equal(
        webhook_decide(retried[i], -1, 1, schedule, 3, now, crypto_random_u64(), &next),
        WEBHOOK_RETRY);
    assert_in_range(next - now, 900, 1100);
  }
  /* After the last attempt of the schedule: failed. */
  assert_int_equal(webhook_decide(500, -1, 3, schedule, 3, now, 0, &next), WEBHOOK_FAILED);
  assert_int_equal(webhook_decide(0, -1, 3, schedule, 3, now, 0, &next), WEBHOOK_FAILED);

  /* Retry-After is honoured on 429 and 503 only. */
  assert_int_equal(webhook_decide(429, 7, 1, schedule, 3, now, 0, &next), WEBHOOK_RETRY);
  assert_int_equal(next, now + 7000);
  assert_int_equal(webhook_decide(503, 0, 1, schedule, 3, now, 0, &next), WEBHOOK_RETRY);
  assert_int_equal(next, now);
  assert_int_equal(webhook_decide(500, 7, 1, schedule, 3, now, 0, &next), WEBHOOK_RETRY);
  assert_in_range(next - now, 900, 1100);
  /* …but does not extend the schedule. */
  assert_int_equal(webhook_decide(429, 7, 3, schedule, 3, now, 0, &next), WEBHOOK_FAILED);
}

static void test_retry_after_parse(void **state)
{
  const int64_t now = 1700000000000; /* 2023-11-14T22:13:20Z */
  assert_int_equal(webhook_retry_after_parse("120", now), 120);
  assert_int_equal(webhook_retry_after_parse(" 5\r\n", now), 5);
  assert_int_equal(webhook_retry_after_parse("0", now), 0);
  assert_int_equal(webhook_retry_after_parse("99999999", now), WEBHOOK_RETRY_AFTER_MAX_SEC);
  assert_int_equal(webhook_retry_after_parse("", now), -1);
  assert_int_equal(webhook_retry_after_parse(NULL, now), -1);
  assert_int_equal(webhook_retry_after_parse("-3", now), -1);
  assert_int_equal(webhook_retry_after_parse("5s", now), -1);
  assert_int_equal(webhook_retry_after_parse("soon", now), -1);
  assert_int_equal(webhook_retry_after_parse("Tue, 14 Nov 2023 22:14:00 GMT", now), 40);
  assert_int_equal(webhook_retry_after_parse("Tue, 14 Nov 2023 22:00:00 GMT", now), 0);
}

/* -------------------------------------------------------------- fairness */

static void test_host_key(void **state)
{
  (void)state;
  static const struct {
    const char *url, *key;
  } cases[] = {
      {"https://hooks.example.com/athos", "hooks.example.com"},
      {"https://User:Secret@Hooks.Example.COM:8443/p?q=1#f", "hooks.example.com:8443"},
      {"http://127.0.0.1:4000", "127.0.0.1:4000"},
      {"http://[::1]:8080/x", "[::1]:8080"},
      {"https://a.test?x=/y", "a.test"},
      {"https://a.test#/y", "a.test"},
      {"https://u@a.test/x@y", "a.test"}, /* an '@' in the path is not user info */
  };
  char key[FAIR_HOST_KEY_MAX];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    webhook_host_key(cases[i].url, key, sizeof key);
    assert_string_equal(key, cases[i].key);
  }
  char small[6];
  webhook_host_key("https://abcdefghij/", small, sizeof small);
  assert_string_equal(small, "abcde");
}

static void test_fair_admission(void **state)
{
  (void)state;
  static struct fair f; /* large: not on the stack */
  f.lim = (struct fair_limits){.per_tenant = 2, .per_host = 3, .total = 5, .stall_ms = 1000};
  fair_reset(&f);
  assert_int_equal(fair_admit(&f, 1, "a", 0), FAIR_GO);

  /* tenant 1 reaches its cap on host a at t=100 and t=200 */
  fair_count(&f, 1, "a", 100);
  assert_int_equal(fair_admit(&f, 1, "a", 200), FAIR_GO);
  fair_count(&f, 1, "a", 200);
  assert_int_equal(fair_admit(&f, 1, "a", 300), FAIR_WAIT);
  assert_int_equal(fair_admit(&f, 1, "b", 300), FAIR_WAIT); /* the cap is the tenant's */
  assert_int_equal(fair_admit(&f, 1, "a", 1199), FAIR_WAIT);
  /* nothing started since t=200: stalled from t=1200, whatever the host */
  assert_int_equal(fair_admit(&f, 1, "a", 1200), FAIR_STALLED);
  assert_int_equal(fair_admit(&f, 1, "b", 1200), FAIR_STALLED);

  /* another tenant on the same host: the host has room for one more */
  assert_int_equal(fair_admit(&f, 2, "a", 300), FAIR_GO);
  fair_count(&f, 2, "a", 300);
  assert_int_equal(fair_admit(&f, 3, "a", 400), FAIR_WAIT); /* host a is full */
  assert_int_equal(fair_admit(&f, 3, "a", 1299), FAIR_WAIT);
  assert_int_equal(fair_admit(&f, 3, "a", 1300), FAIR_STALLED); /* host a stalled */
  assert_int_equal(fair_admit(&f, 3, "b", 400), FAIR_GO);       /* another host is fine */
  assert_int_equal(fair_admit(&f, 2, "b", 400), FAIR_GO);       /* tenant 2 has 1 of 2 */

  /* the total: 5 in flight, then everyone waits, and nobody is stalled by it */
  fair_count(&f, 3, "b", 400);
  fair_count(&f, 4, "c", 500);
  assert_int_equal(f.inflight, 5);
  assert_int_equal(fair_admit(&f, 5, "d", 600), FAIR_WAIT);
  assert_int_equal(fair_admit(&f, 5, "d", 60000), FAIR_WAIT);

  /* a reset forgets the counts, not the limits */
  fair_reset(&f);
  assert_int_equal(fair_admit(&f, 1, "a", 60000), FAIR_GO);
  assert_int_equal(f.lim.per_host, 3);
}

/* --------------------------------------------------------------- payload */

static void fill_call(struct call_row *c, const char *agency)
{
  memset(c, 0, sizeof *c);
  snprintf(c->public_id, sizeof c->public_id, "athos_call_GZ1DjOkZv_VEPoE-CJ8mp");
  snprintf(c->source, sizeof c->source, "roleplay");
  snprintf(c->external_user_id, sizeof c->external_user_id, "rep_8842");
  snprintf(c->external_agency_id, sizeof c->external_agency_id, "%s", agency);
  snprintf(c->drill_key, sizeof c->drill_key, "ma-full-sale");
}

static void test_payload_shape(void **state)
{
  struct call_row c;
  fill_call(&c, "agency_chicago");
  const int64_t scored_at = 1780670417536; /* 2026-06-05T14:40:17.536Z */
  char *body = webhook_payload_call_scored(&c, scored_at);
  assert_non_null(body);
  assert_true(strlen(body) < 20 * 1024);
  json_error_t jerr;
  json_t *j = json_loads(body, 0, &jerr);
  assert_non_null(j);
  assert_int_equal(json_object_size(j), 3);
  assert_string_equal(json_string_value(json_object_get(j, "type")), "call.scored");
  assert_string_equal(json_string_value(json_object_get(j, "timestamp")),
                      "2026-06-05T14:40:17.536Z");
  json_t *d = json_object_get(j, "data");
  assert_int_equal(json_object_size(d), 6);
  assert_string_equal(json_string_value(json_object_get(d, "callId")), c.public_id);
  assert_string_equal(json_string_value(json_object_get(d, "source")), "roleplay");
  assert_string_equal(json_string_value(json_object_get(d, "externalUserId")), "rep_8842");
  assert_string_equal(json_string_value(json_object_get(d, "externalAgencyId")), "agency_chicago");
  assert_string_equal(json_string_value(json_object_get(d, "drillKey")), "ma-full-sale");
  assert_string_equal(json_string_value(json_object_get(d, "scoredAt")),
                      "2026-06-05T14:40:17.536Z");
  json_decref(j);
  free(body);

  /* No agency: null, not "". Escaping is jansson's. */
  fill_call(&c, "");
  snprintf(c.external_user_id, sizeof c.external_user_id, "rep \"quoted\"\n");
  body = webhook_payload_call_scored(&c, scored_at);
  j = json_loads(body, 0, &jerr);
  assert_non_null(j);
  d = json_object_get(j, "data");
  assert_true(json_is_null(json_object_get(d, "externalAgencyId")));
  assert_string_equal(json_string_value(json_object_get(d, "externalUserId")), "rep \"quoted\"\n");
  json_decref(j);
  free(body);
}

/* ---------------------------------------------------------------- outbox */

struct fixture {
  char path[64];
  struct store *s;
  struct tenant t;
};

static int setup_store(void **state)
{
  struct fixture *f = calloc(1, sizeof *f);
  char err[256];
  snprintf(f->path, sizeof f->path, "/tmp/athos-test-webhooks-XXXXXX");
  int fd = mkstemp(f->path);
  if (fd < 0)
    return -1;
  close(fd);
  if (store_open(f->path, &f->s, err, sizeof err) != STORE_OK || store_migrate(f->s) != STORE_OK)
    return -1;
  snprintf(f->t.public_id, sizeof f->t.public_id, "ten_test");
  snprintf(f->t.name, sizeof f->t.name, "Test");
  snprintf(f->t.webhook_url, sizeof f->t.webhook_url, "http://127.0.0.1:9/hook");
  f->t.active = true;
  f->t.webhook_enabled = true;
  f->t.monthly_call_quota = -1;
  struct api_key_new key = {.public_id = "key_test", .prefix = "ath_live_x"};
  memset(key.hash_hex, 'a', 64);
  if (store_tenant_create(f->s, &f->t, &key, REF_SECRET) != STORE_OK)
    return -1;
  *state = f;
  return 0;
}

static int teardown_store(void **state)
{
  struct fixture *f = *state;
  char p[80];
  store_close(f->s);
  unlink(f->path);
  snprintf(p, sizeof p, "%s-wal", f->path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", f->path);
  unlink(p);
  free(f);
  return 0;
}

/* Creates a call and walks it to `ended`; returns its internal id. */
static int64_t ended_call(struct fixture *f, const char *suffix, int64_t ended_at)
{
  struct call_new n;
  memset(&n, 0, sizeof n);
  n.tenant_id = f->t.id;
  snprintf(n.jti, sizeof n.jti, "jti_%s", suffix);
  n.token_expires_at = ended_at + 300000;
  snprintf(n.public_id, sizeof n.public_id, "athos_call_%s", suffix);
  snprintf(n.session_id, sizeof n.session_id, "ext_%s", suffix);
  snprintf(n.external_user_id, sizeof n.external_user_id, "rep_1");
  snprintf(n.drill_key, sizeof n.drill_key, "ma-full-sale");
  snprintf(n.difficulty, sizeof n.difficulty, "Advanced");
  snprintf(n.persona_name, sizeof n.persona_name, "James");
  memset(n.ticket_hash_hex, '0', 64);
  memcpy(n.ticket_hash_hex, suffix, strlen(suffix));
  n.ticket_expires_at = ended_at + 60000;
  n.created_at = ended_at - 60000;
  assert_int_equal(store_call_create(f->s, &n), STORE_OK);
  struct call_row row;
  assert_int_equal(store_ticket_consume(f->s, n.ticket_hash_hex, n.created_at, &row), STORE_OK);
  assert_int_equal(store_call_mark_live(f->s, row.id, n.created_at), STORE_OK);
  assert_int_equal(store_call_append_turn(f->s, row.id, 0, "assistant", "Hello?", 0), STORE_OK);
  assert_int_equal(store_call_end(f->s, row.id, ended_at, 60, "rep_hangup"), STORE_OK);
  return row.id;
}

static void test_scoring_claim_and_commit(void **state)
{
  struct fixture *f = *state;
  const int64_t t0 = 1780000000000;
  int64_t a = ended_call(f, "aaaa", t0);
  int64_t b = ended_call(f, "bbbb", t0 + 1000);
  struct call_row row;

  /* Oldest first; a leased call is not claimed twice. */
  assert_int_equal(store_scoring_claim(f->s, t0 + 2000, t0 + 62000, &row), STORE_OK);
  assert_int_equal(row.id, a);
  assert_string_equal(row.status, "scoring");
  assert_int_equal(store_scoring_claim(f->s, t0 + 2000, t0 + 62000, &row), STORE_OK);
  assert_int_equal(row.id, b);
  assert_int_equal(store_scoring_claim(f->s, t0 + 3000, t0 + 63000, &row), STORE_NOT_FOUND);

  /* a's lease runs out: another worker takes it over with a new lease,
   * and the first worker's late commit is refused. */
  assert_int_equal(store_scoring_claim(f->s, t0 + 62001, t0 + 122001, &row), STORE_OK);
  assert_int_equal(row.id, a);
  struct webhook_event_new ev = {
      .msg_id = "msg_one", .payload = "{\"x\":1}", .next_attempt_at = t0 + 62002};
  assert_int_equal(
      store_scoring_complete_leased(f->s, a, t0 + 62000, "{\"overallScore\":1}", t0 + 62002, &ev),
      STORE_CONFLICT);
  assert_int_equal(
      store_scoring_complete_leased(f->s, a, t0 + 122001, "{\"overallScore\":1}", t0 + 62002, &ev),
      STORE_OK);
  /* Scored once: a second commit (any lease) conflicts and adds nothing. */
  struct webhook_event_new ev2 = {.msg_id = "msg_two", .payload = "{}", .next_attempt_at = 0};
  assert_int_equal(store_scoring_complete(f->s, a, "{}", t0 + 62003, &ev2), STORE_CONFLICT);

  char *score = NULL;
  assert_int_equal(store_call_get_scored(f->s, f->t.id, "athos_call_aaaa", &row, &score), STORE_OK);
  assert_string_equal(score, "{\"overallScore\":1}");
  assert_int_equal(row.scored_at, t0 + 62002);
  free(score);

  /* Exactly one event, for a; due at once. */
  struct webhook_event evs[4];
  size_t n = 0;
  assert_int_equal(store_outbox_claim(f->s, t0 + 70000, t0 + 100000, evs, 4, &n), STORE_OK);
  assert_int_equal(n, 1);
  assert_string_equal(evs[0].msg_id, "msg_one");
  assert_string_equal(evs[0].payload, "{\"x\":1}");
  assert_string_equal(evs[0].url, "http://127.0.0.1:9/hook");
  assert_int_equal(evs[0].attempts, 0);
  webhook_event_clear(&evs[0]);
  webhook_event_clear(&evs[0]); /* idempotent */
  webhook_event_clear(NULL);

  /* A tenant without a webhook URL gets its score but no event. */
  f->t.webhook_url[0] = '\0';
  assert_int_equal(store_tenant_update(f->s, &f->t), STORE_OK);
  struct webhook_event_new ev3 = {.msg_id = "msg_three", .payload = "{}", .next_attempt_at = 0};
  assert_int_equal(store_scoring_complete(f->s, b, "{}", t0 + 5000, &ev3), STORE_OK);
  snprintf(f->t.webhook_url, sizeof f->t.webhook_url, "http://127.0.0.1:9/hook");
  assert_int_equal(store_tenant_update(f->s, &f->t), STORE_OK);
  assert_int_equal(store_outbox_claim(f->s, t0 + 99999, t0 + 300000, evs, 4, &n), STORE_OK);
  assert_int_equal(n, 0); /* msg_one is leased until t0+100000… */
  assert_int_equal(store_outbox_claim(f->s, t0 + 100001, t0 + 300000, evs, 4, &n), STORE_OK);
  assert_int_equal(n, 1); /* …and comes back when the lease runs out */
  assert_string_equal(evs[0].msg_id, "msg_one");
  webhook_event_clear(&evs[0]);
}

static void test_outbox_record_and_replay(void **state)
{
  struct fixture *f = *state;
  const int64_t t0 = 1780000000000;
  int64_t a = ended_call(f, "cccc", t0);
  struct call_row row;
  assert_int_equal(store_scoring_claim(f->s, t0, t0 + 60000, &row), STORE_OK);
  struct webhook_event_new ev = {.msg_id = "msg_c", .payload = "{}", .next_attempt_at = t0};
  assert_int_equal(store_scoring_complete(f->s, a, "{}", t0, &ev), STORE_OK);

  struct webhook_event e;
  size_t n = 0;
  assert_int_equal(store_outbox_claim(f->s, t0, t0 + 30000, &e, 1, &n), STORE_OK);
  assert_int_equal(n, 1);
  /* A retry: not due before next_attempt_at, then due with attempts 1. */
  struct webhook_attempt at = {.event_id = e.id,
                               .attempted_at = t0,
                               .http_status = 500,
                               .latency_ms = 3,
                               .error = "HTTP 500",
                               .outcome = WEBHOOK_RETRY,
                               .next_attempt_at = t0 + 5000};
  webhook_event_clear(&e);
  assert_int_equal(store_outbox_record(f->s, &at), STORE_OK);
  assert_int_equal(store_outbox_claim(f->s, t0 + 4999, t0 + 30000, &e, 1, &n), STORE_OK);
  assert_int_equal(n, 0);
  assert_int_equal(store_outbox_claim(f->s, t0 + 5000, t0 + 30000, &e, 1, &n), STORE_OK);
  assert_int_equal(n, 1);
  assert_int_equal(e.attempts, 1);
  webhook_event_clear(&e);

  /* A 410: the event fails and the tenant's endpoint is disabled. */
  struct webhook_attempt gone = {.event_id = e.id,
                                 .attempted_at = t0 + 5000,
                                 .http_status = 410,
                                 .outcome = WEBHOOK_ENDPOINT_GONE};
  assert_int_equal(store_outbox_record(f->s, &gone), STORE_OK);
  struct tenant t;
  assert_int_equal(store_tenant_get(f->s, "ten_test", &t), STORE_OK);
  assert_false(t.webhook_enabled);
  assert_int_equal(store_outbox_claim(f->s, t0 + 999999, t0 + 1999999, &e, 1, &n), STORE_OK);
  assert_int_equal(n, 0);

  /* Replay: re-queued with the same id, attempts reset, endpoint back on.
   * A --since after the event replays nothing. */
  int64_t replayed = -1;
  assert_int_equal(store_outbox_replay(f->s, t.id, t0 + 1, t0 + 6000, &replayed), STORE_OK);
  assert_int_equal(replayed, 0);
  assert_int_equal(store_outbox_replay(f->s, t.id, t0 - 1000, t0 + 6000, &replayed), STORE_OK);
  assert_int_equal(replayed, 1);
  assert_int_equal(store_tenant_get(f->s, "ten_test", &t), STORE_OK);
  assert_true(t.webhook_enabled);
  assert_int_equal(store_outbox_claim(f->s, t0 + 6000, t0 + 36000, &e, 1, &n), STORE_OK);
  assert_int_equal(n, 1);
  assert_string_equal(e.msg_id, "msg_c");
  assert_int_equal(e.attempts, 0);

  /* Delivered, in a batch with nothing else: not claimable again. */
  struct webhook_attempt ok = {.event_id = e.id,
                               .attempted_at = t0 + 6000,
                               .http_status = 204,
                               .latency_ms = 1,
                               .outcome = WEBHOOK_DELIVERED};
  webhook_event_clear(&e);
  assert_int_equal(store_outbox_record_many(f->s, &ok, 1), STORE_OK);
  assert_int_equal(store_outbox_claim(f->s, t0 + 99999999, t0 + 199999999, &e, 1, &n), STORE_OK);
  assert_int_equal(n, 0);

  /* The secret rotation the signer relies on: newest first, both valid
   * during the overlap, only the new one after it. */
  char secrets[WEBHOOK_SECRETS_MAX][SECRET_MAX];
  size_t ns = WEBHOOK_SECRETS_MAX;
  assert_int_equal(store_webhook_secret_rotate(f->s, t.id, SECOND_SECRET, t0, t0 + 1000), STORE_OK);
  assert_int_equal(store_webhook_secrets(f->s, t.id, t0 + 10, secrets, &ns), STORE_OK);
  assert_int_equal(ns, 2);
  assert_string_equal(secrets[0], SECOND_SECRET);
  assert_string_equal(secrets[1], REF_SECRET);
  ns = WEBHOOK_SECRETS_MAX;
  assert_int_equal(store_webhook_secrets(f->s, t.id, t0 + 1000, secrets, &ns), STORE_OK);
  assert_int_equal(ns, 1);
  assert_string_equal(secrets[0], SECOND_SECRET);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sign_reference_vector),
      cmocka_unit_test(test_sign_rotation_and_errors),
      cmocka_unit_test(test_address_classes),
      cmocka_unit_test(test_target_check),
      cmocka_unit_test(test_retry_delay_and_jitter),
      cmocka_unit_test(test_retry_decisions),
      cmocka_unit_test(test_retry_after_parse),
      cmocka_unit_test(test_host_key),
      cmocka_unit_test(test_fair_admission),
      cmocka_unit_test(test_payload_shape),
      cmocka_unit_test_setup_teardown(test_scoring_claim_and_commit, setup_store, teardown_store),
      cmocka_unit_test_setup_teardown(test_outbox_record_and_replay, setup_store, teardown_store),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
