/*
 * backup_cmd.h — `athos backup PATH`: a consistent copy of the live SQLite
 * database (the online backup API) taken while servers keep serving. On
 * PostgreSQL it refuses and points at pg_dump (docs/internals/store.md).
 *
 *   athos backup PATH -> {"backup":"PATH"}
 */
#ifndef ATHOS_CLI_BACKUP_CMD_H
#define ATHOS_CLI_BACKUP_CMD_H

#include "store/store.h"

/* argv[0] is "backup". Exit status of cli.h. */
int cli_backup(struct store *s, int argc, char **argv);

#endif
