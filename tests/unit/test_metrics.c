/* test_metrics.c — the counters and request histogram of src/metrics.h
 * and their Prometheus text: cumulative buckets, +Inf = count, one series
 * per (route, status), the counter families with their TYPE lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

/* The value on the line that starts with prefix (followed by a space). */
static double value_of(const char *text, const char *prefix)
{
  size_t n = strlen(prefix);
  const char *p = text;
  while (p != NULL) {
    if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
      return strtod(p + n + 1, NULL);
    p = strchr(p, '\n');
    if (p != NULL)
      p++;
  }
  fail_msg("no line %s in:\n%s", prefix, text);
  return -1;
}

static char *render(void)
{
  struct dynbuf b;
  dynbuf_init(&b, 1 << 20);
  assert_int_equal(metrics_render(&b), DYNBUF_OK);
  char *s = dynbuf_take(&b, NULL);
  assert_non_null(s);
  return s;
}

static void test_requests(void **state)
{
  (void)state;
  static const char ROUTE[] = "unit.route";
  metrics_observe_request(ROUTE, 200, 500);      /* 0.5 ms */
  metrics_observe_request(ROUTE, 200, 30000);    /* 30 ms */
  metrics_observe_request(ROUTE, 200, 60000000); /* 60 s: only +Inf */
  metrics_observe_request(ROUTE, 404, 2000);
  metrics_observe_request(NULL, 404, 2000);
  char *s = render();
  assert_true(value_of(s, "athos_http_requests_total{route=\"unit.route\",status=\"200\"}") == 3);
  assert_true(value_of(s, "athos_http_requests_total{route=\"unit.route\",status=\"404\"}") == 1);
  assert_true(value_of(s, "athos_http_requests_total{route=\"unmatched\",status=\"404\"}") == 1);
  const char *b = "athos_http_request_duration_seconds_bucket{route=\"unit.route\",status=\"200\",";
  char name[256];
  snprintf(name, sizeof name, "%sle=\"0.001\"}", b);
  assert_true(value_of(s, name) == 1);
  snprintf(name, sizeof name, "%sle=\"0.05\"}", b);
  assert_true(value_of(s, name) == 2); /* cumulative */
  snprintf(name, sizeof name, "%sle=\"10\"}", b);
  assert_true(value_of(s, name) == 2);
  snprintf(name, sizeof name, "%sle=\"+Inf\"}", b);
  assert_true(value_of(s, name) == 3);
  double sum =
      value_of(s, "athos_http_request_duration_seconds_sum{route=\"unit.route\",status=\"200\"}");
  assert_true(sum > 60.03 && sum < 60.031);
  /* each family's TYPE line comes once */
  assert_non_null(strstr(s, "# TYPE athos_http_request_duration_seconds histogram\n"));
  const char *t = strstr(s, "# TYPE athos_webhook_deliveries_total counter\n");
  assert_non_null(t);
  assert_null(strstr(t + 1, "# TYPE athos_webhook_deliveries_total"));
  free(s);
}

static void test_counters_and_gauges(void **state)
{
  (void)state;
  metrics_inc(M_STORE_ERRORS);
  metrics_add(M_WEBHOOK_FAILED, 4);
  metrics_gauge_add(G_LIVE_CALLS, 3);
  metrics_gauge_add(G_LIVE_CALLS, -1);
  char *s = render();
  assert_true(value_of(s, "athos_store_errors_total") == 1);
  assert_true(value_of(s, "athos_webhook_deliveries_total{outcome=\"failed\"}") == 4);
  assert_true(value_of(s, "athos_live_calls") == 2);
  assert_true(value_of(s, "athos_rate_limited_total") == 0);
  free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_requests),
      cmocka_unit_test(test_counters_and_gauges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
