/* quota.h — the tenant's monthly call quota: calls created since the
 * first instant of the current UTC month, against tenant.monthly_call_quota. */
#ifndef ATHOS_QUOTA_H
#define ATHOS_QUOTA_H

#include <stdint.h>

#include "http/request.h"

/* API_OK if r->tenant may create another call; otherwise answers 403
 * TENANT_QUOTA_EXCEEDED (or a store error). */
enum api_result quota_check(struct api_request *r);

#endif
