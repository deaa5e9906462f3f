/*
 * keys_cmd.h — the master key that seals secrets at rest: loading it at
 * every start (ATHOS_MASTER_KEY_FILE), and `athos keys rotate-master`.
 *
 *   athos keys rotate-master --new-key-file F -> {"rotated":true,"secrets":N}
 */
#ifndef ATHOS_CLI_KEYS_CMD_H
#define ATHOS_CLI_KEYS_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* At start-up, after migrations: loads the master key from path ("" =
 * none) into s, checks that every stored secret opens with it, and seals
 * legacy plaintext secrets under it. Without a key, warns when `warn` (the
 * server) and leaves the values as they are. Returns 0, or -1 with err set
 * (an unreadable or world-readable key file, the wrong key, sealed values
 * and no key). */
int keys_master_start(struct store *s, const char *path, bool warn, char *err, size_t errlen);

/* argv[0] is "keys". Exit status of cli.h. */
int cli_keys(struct store *s, int argc, char **argv);

#endif
