/* quota.h — the tenant's monthly call quota: calls created since the
 * first instant of the current UTC month, against tenant.monthly_call_quota. */
#ifndef ATHOS_QUOTA_H
#define ATHOS_QUOTA_H

#include <stdint.h>

#include "errors.h"
#include "store/store.h"

/* ERR_NONE if tenant t may create another call now; otherwise
 * ERR_TENANT_QUOTA_EXCEEDED, or a store failure (ERR_SERVICE_UNAVAILABLE /
 * ERR_INTERNAL_ERROR, logged). */
enum athos_error quota_check(struct store *s, const struct tenant *t);

#endif
