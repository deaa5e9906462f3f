/* webhook_secret.h — tenants' webhook signing secrets: "whsec_" + the
 * base64 of 32 random bytes, as Standard Webhooks libraries expect. */
#ifndef ATHOS_WEBHOOK_SECRET_H
#define ATHOS_WEBHOOK_SECRET_H

#include "store/store.h"

#define WEBHOOK_SECRET_PREFIX "whsec_"
#define WEBHOOK_SECRET_BYTES  32

/* A fresh secret in out (SECRET_MAX bytes). Returns 0 or -1. */
int webhook_secret_new(char out[SECRET_MAX]);

#endif
