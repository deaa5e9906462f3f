/* backup_cmd.c — `athos backup PATH` over store_backup (see backup_cmd.h). */
#include "cli/backup_cmd.h"

#include <stdio.h>

#include "cli/cli.h"

int cli_backup(struct store *s, int argc, char **argv)
{
  char err[1400];
  if (argc != 2 || argv[1][0] == '\0') {
    fputs("usage: athos backup PATH\n", stderr);
    return cli_error(CLI_USAGE, "usage: athos backup PATH");
  }
  if (store_backup(s, argv[1], err, sizeof err) != STORE_OK) {
    fprintf(stderr, "athos backup: %s\n", err);
    return cli_error(CLI_FAILED, "%s", err);
  }
  cli_print(json_pack("{s:s}", "backup", argv[1]));
  return CLI_OK;
}
