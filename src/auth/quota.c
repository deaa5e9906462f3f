/* quota.c — the monthly call quota check. */
#include "auth/quota.h"

#include "http/server.h"
#include "util/timefmt.h"

enum api_result quota_check(struct api_request *r)
{
  if (r->tenant.monthly_call_quota < 0)
    return API_OK;
  int64_t used = 0;
  int rc = store_calls_created_since(r->server->store, r->tenant.id,
                                     time_month_start(time_now_ms()), &used);
  if (rc != STORE_OK)
    return http_reply_store_error(r, rc);
  if (used >= r->tenant.monthly_call_quota)
    return http_reply_error(r, ERR_TENANT_QUOTA_EXCEEDED,
                            "This tenant has used its monthly call quota");
  return API_OK;
}
