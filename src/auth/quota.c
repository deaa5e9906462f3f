/* quota.c — the monthly call quota check. */
#include "auth/quota.h"

#include <assert.h>

#include "util/log.h"
#include "util/timefmt.h"

enum athos_error quota_check(struct store *s, const struct tenant *t)
{
  assert(s != NULL && t != NULL);
  if (t->monthly_call_quota < 0)
    return ERR_NONE;
  int64_t used = 0;
  int rc = store_calls_created_since(s, t->id, time_month_start(time_now_ms()), &used);
  if (rc != STORE_OK) {
    if (rc != STORE_UNAVAILABLE)
      log_error("quota check: store error %d", rc);
    return athos_error_from_store(rc);
  }
  return used >= t->monthly_call_quota ? ERR_TENANT_QUOTA_EXCEEDED : ERR_NONE;
}
