/* errors.c — code, status and default sentence of each error in the
 * contract's taxonomy. */
#include "errors.h"

#include <assert.h>

#include "store/store.h"

static const struct {
  const char *code;
  unsigned status;
  const char *message;
} ERRORS[ERR_COUNT_] = {
    [ERR_NONE] = {"OK", 200, "OK"},
    [ERR_INVALID_API_KEY] = {"INVALID_API_KEY", 401, "Invalid API key"},
    [ERR_API_KEY_REVOKED] = {"API_KEY_REVOKED", 401, "This API key has been revoked"},
    [ERR_INVALID_TOKEN] = {"INVALID_TOKEN", 401, "Invalid session token"},
    [ERR_TOKEN_EXPIRED] = {"TOKEN_EXPIRED", 401, "Session token has expired; mint a new one"},
    [ERR_TOKEN_ALREADY_USED] = {"TOKEN_ALREADY_USED", 401, "Session token has already been used"},
    [ERR_IP_NOT_ALLOWED] = {"IP_NOT_ALLOWED", 403, "Requests from this IP address are not allowed"},
    [ERR_TENANT_INACTIVE] = {"TENANT_INACTIVE", 403, "This tenant is inactive"},
    [ERR_TENANT_QUOTA_EXCEEDED] = {"TENANT_QUOTA_EXCEEDED", 403,
                                   "This tenant has used its monthly call quota"},
    [ERR_INVALID_REQUEST] = {"INVALID_REQUEST", 400, "Invalid request"},
    [ERR_DRILL_NOT_FOUND] = {"DRILL_NOT_FOUND", 400, "Unknown drillKey"},
    [ERR_CALL_NOT_FOUND] = {"CALL_NOT_FOUND", 404, "Call not found"},
    [ERR_SERVICE_UNAVAILABLE] = {"SERVICE_UNAVAILABLE", 503,
                                 "The service is temporarily unavailable; retry shortly"},
    [ERR_INTERNAL_ERROR] = {"INTERNAL_ERROR", 500, "Internal error"},
    [ERR_RATE_LIMITED] = {"RATE_LIMITED", 429, "Too many requests; slow down"},
};

const char *athos_error_code(enum athos_error e)
{
  assert(e > ERR_NONE && e < ERR_COUNT_);
  return ERRORS[e].code;
}

unsigned athos_error_status(enum athos_error e)
{
  assert(e > ERR_NONE && e < ERR_COUNT_);
  return ERRORS[e].status;
}

const char *athos_error_message(enum athos_error e)
{
  assert(e > ERR_NONE && e < ERR_COUNT_);
  return ERRORS[e].message;
}

enum athos_error athos_error_from_store(int store_rc)
{
  assert(store_rc != STORE_OK);
  return store_rc == STORE_UNAVAILABLE ? ERR_SERVICE_UNAVAILABLE : ERR_INTERNAL_ERROR;
}
