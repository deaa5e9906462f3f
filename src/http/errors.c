/* errors.c — code and status of each error in the contract's taxonomy. */
#include "http/errors.h"

static const struct {
  const char *code;
  unsigned status;
} ERRORS[] = {
    [ERR_INVALID_API_KEY] = {"INVALID_API_KEY", 401},
    [ERR_API_KEY_REVOKED] = {"API_KEY_REVOKED", 401},
    [ERR_INVALID_TOKEN] = {"INVALID_TOKEN", 401},
    [ERR_TOKEN_EXPIRED] = {"TOKEN_EXPIRED", 401},
    [ERR_TOKEN_ALREADY_USED] = {"TOKEN_ALREADY_USED", 401},
    [ERR_IP_NOT_ALLOWED] = {"IP_NOT_ALLOWED", 403},
    [ERR_TENANT_INACTIVE] = {"TENANT_INACTIVE", 403},
    [ERR_TENANT_QUOTA_EXCEEDED] = {"TENANT_QUOTA_EXCEEDED", 403},
    [ERR_INVALID_REQUEST] = {"INVALID_REQUEST", 400},
    [ERR_DRILL_NOT_FOUND] = {"DRILL_NOT_FOUND", 400},
    [ERR_CALL_NOT_FOUND] = {"CALL_NOT_FOUND", 404},
    [ERR_SERVICE_UNAVAILABLE] = {"SERVICE_UNAVAILABLE", 503},
    [ERR_INTERNAL_ERROR] = {"INTERNAL_ERROR", 500},
};

const char *athos_error_code(enum athos_error e) { return ERRORS[e].code; }

unsigned athos_error_status(enum athos_error e) { return ERRORS[e].status; }
