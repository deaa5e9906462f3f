/*
 * keys_cmd.c — the master key at start-up and `athos keys rotate-master`.
 * The store seals and opens the values (store/secrets.c); this file reads
 * the key files and reports. After a rotation every server must restart
 * with ATHOS_MASTER_KEY_FILE naming the new file: a server still holding
 * the old key can no longer open the re-encrypted values.
 */
#include "cli/keys_cmd.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "util/keyfile.h"
#include "util/log.h"

int keys_master_start(struct store *s, const char *path, bool warn, char *err, size_t errlen)
{
  uint8_t key[MASTER_KEY_LEN];
  struct secrets_count count;
  size_t sealed = 0;
  int rc = -1;
  if (path[0] != '\0') {
    if (keyfile_load(path, key, err, errlen) != 0)
      goto cleanup;
    store_set_master_key(s, key);
  } else if (warn) {
    log_warn("ATHOS_MASTER_KEY_FILE is not set: webhook secrets and JWT signing keys are stored"
             " in plaintext (see README.md, \"Secrets at rest\")");
  }
  if (store_secrets_check(s, &count, err, errlen) != STORE_OK)
    goto cleanup;
  if (path[0] != '\0' && count.plain > 0) {
    if (store_secrets_rekey(s, key, &sealed, err, errlen) != STORE_OK)
      goto cleanup;
    log_info("sealed %zu plaintext secret(s) under the master key", count.plain);
  }
  rc = 0;
cleanup:
  OPENSSL_cleanse(key, sizeof key);
  return rc;
}

static const char USAGE[] = "usage: athos keys rotate-master --new-key-file FILE\n";

static int rotate_master(struct store *s, int argc, char **argv)
{
  uint8_t key[MASTER_KEY_LEN];
  char err[512];
  size_t n = 0;
  int rc = CLI_FAILED;
  if (argc != 4 || strcmp(argv[2], "--new-key-file") != 0) {
    fputs(USAGE, stderr);
    return cli_error(CLI_USAGE, "usage: athos keys rotate-master --new-key-file FILE");
  }
  if (keyfile_load(argv[3], key, err, sizeof err) != 0 ||
      store_secrets_rekey(s, key, &n, err, sizeof err) != STORE_OK) {
    fprintf(stderr, "athos keys: %s\n", err);
    rc = cli_error(CLI_FAILED, "%s", err);
    goto cleanup;
  }
  cli_print(json_pack("{s:b, s:I}", "rotated", 1, "secrets", (json_int_t)n));
  rc = CLI_OK;
cleanup:
  OPENSSL_cleanse(key, sizeof key);
  return rc;
}

int cli_keys(struct store *s, int argc, char **argv)
{
  if (argc >= 2 && strcmp(argv[1], "rotate-master") == 0)
    return rotate_master(s, argc, argv);
  fputs(USAGE, stderr);
  return cli_error(CLI_USAGE, "usage: athos keys rotate-master --new-key-file FILE");
}
