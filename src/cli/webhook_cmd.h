/*
 * webhook_cmd.h — `athos webhook …`: the operator's commands on a tenant's
 * webhooks, run against the same database as the server.
 *
 *   athos webhook rotate-secret TENANT_ID          -> {"webhookSecret":"whsec_…"}
 *   athos webhook replay TENANT_ID --since ISO8601 -> {"replayed":N}
 */
#ifndef ATHOS_CLI_WEBHOOK_CMD_H
#define ATHOS_CLI_WEBHOOK_CMD_H

#include "store/store.h"

/* Old secrets keep signing this long after a rotation. */
#define WEBHOOK_ROTATION_OVERLAP_MS (24LL * 3600 * 1000)

/* argv[0] is "webhook". Prints one JSON object on stdout; on failure an
 * {"error":{"message":…}} object there and the message on stderr. Returns
 * the exit status of cli.h: CLI_OK, CLI_FAILED (unknown tenant, database
 * error) or CLI_USAGE. */
int cli_webhook(struct store *s, int argc, char **argv);

#endif
