/*
 * errors.h — the contract's error taxonomy. Every error body the server
 * sends is built from this enum by one function (http_reply_error), so
 * codes and statuses cannot drift apart.
 */
#ifndef ATHOS_ERRORS_H
#define ATHOS_ERRORS_H

enum athos_error {
  ERR_INVALID_API_KEY,
  ERR_API_KEY_REVOKED,
  ERR_INVALID_TOKEN,
  ERR_TOKEN_EXPIRED,
  ERR_TOKEN_ALREADY_USED,
  ERR_IP_NOT_ALLOWED,
  ERR_TENANT_INACTIVE,
  ERR_TENANT_QUOTA_EXCEEDED,
  ERR_INVALID_REQUEST,
  ERR_DRILL_NOT_FOUND,
  ERR_CALL_NOT_FOUND,
  ERR_SERVICE_UNAVAILABLE,
  ERR_INTERNAL_ERROR,
};

/* The wire code ("INVALID_API_KEY", …). */
const char *athos_error_code(enum athos_error e);
/* The HTTP status the contract pairs with the code. */
unsigned athos_error_status(enum athos_error e);

#endif
