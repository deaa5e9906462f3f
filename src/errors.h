/*
 * errors.h — the contract's error taxonomy, and the one type every layer
 * uses for a decision: auth/ returns one, live/ sends one in a frame,
 * http/ turns one into the error envelope (http_reply_error). Codes,
 * statuses and default sentences sit in one table (errors.c), so they
 * cannot drift apart. A leaf: it includes nothing of ours, so any layer
 * may include it.
 */
#ifndef ATHOS_ERRORS_H
#define ATHOS_ERRORS_H

enum athos_error {
  ERR_NONE = 0, /* not an error: the decision is "go on" */
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
  ERR_RATE_LIMITED,
  ERR_COUNT_ /* not a code: the size of the table */
};

/* The wire code ("INVALID_API_KEY", …). e must not be ERR_NONE. */
const char *athos_error_code(enum athos_error e);
/* The HTTP status the contract pairs with the code. */
unsigned athos_error_status(enum athos_error e);
/* The default client-facing sentence ("Invalid API key"), for answers
 * that need no detail beyond the code. */
const char *athos_error_message(enum athos_error e);
/* The decision for a failed store call (a STORE_* code other than
 * STORE_OK): ERR_SERVICE_UNAVAILABLE when the database is unreachable or
 * busy, ERR_INTERNAL_ERROR otherwise. */
enum athos_error athos_error_from_store(int store_rc);

#endif
