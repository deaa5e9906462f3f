/*
 * cli.h — the admin command line (DESIGN.md "Admin CLI"): each command
 * talks to the same database as the server and prints exactly one JSON
 * object on stdout. Secrets are printed once, at creation. Exit status:
 * 0 success, 1 a refused operation (unknown tenant…), 2 bad usage.
 */
#ifndef ATHOS_CLI_H
#define ATHOS_CLI_H

#include <jansson.h>

#include "store/store.h"

#define CLI_OK     0
#define CLI_FAILED 1
#define CLI_USAGE  2

/* athos tenant create|update|list … (argv[0] = "tenant") */
int cli_tenant(struct store *s, int argc, char **argv);
/* athos key create|revoke … (argv[0] = "key") */
int cli_key(struct store *s, int argc, char **argv);

/* Prints j (stolen) as one line on stdout. */
void cli_print(json_t *j);
/* Prints {"error":{"message":msg}} on stdout and returns status. */
int cli_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
