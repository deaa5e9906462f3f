/*
 * signer.h — Standard Webhooks signatures: "v1,<base64 HMAC-SHA256>" over
 * "<msg_id>.<timestamp>.<body>", keyed by the base64-decoded part of a
 * "whsec_…" secret. During a secret rotation several secrets are valid and
 * the header carries one signature per secret, separated by spaces, so a
 * receiver holding either secret verifies. (New secrets are made by
 * auth/webhook_secret.h.)
 */
#ifndef ATHOS_WEBHOOK_SIGNER_H
#define ATHOS_WEBHOOK_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_SECRET_KEY_MAX 64 /* decoded key bytes we accept */
#define WEBHOOK_SIG_ONE_MAX    48 /* "v1," + 44 base64 chars + NUL */

/* Decodes "whsec_<base64>" (the prefix is optional, as in the reference
 * libraries) into key. Returns the key length, or -1 for a malformed or
 * empty secret. */
long webhook_secret_decode(const char *secret, uint8_t *key, size_t cap);

/* Signs one message with each of the n secrets, writing the value of the
 * webhook-signature header into out (space-separated "v1,…" entries, in
 * the order given). Returns 0, or -1 if a secret is malformed, n is 0 or
 * out (cap bytes) is too small; out is then "". */
int webhook_sign(const char *const *secrets, size_t n, const char *msg_id, int64_t timestamp,
                 const char *body, size_t len, char *out, size_t cap);

#endif
