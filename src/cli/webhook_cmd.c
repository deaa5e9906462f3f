/*
 * webhook_cmd.c — `athos webhook rotate-secret` and `athos webhook replay`.
 * The running server needs no signal: its deliverer reads the valid
 * secrets for every attempt and finds replayed events at its next poll.
 */
#include "cli/webhook_cmd.h"

#include <stdio.h>
#include <string.h>

#include "auth/webhook_secret.h"
#include "cli/cli.h"
#include "util/timefmt.h"

static const char USAGE[] = "usage: athos webhook rotate-secret TENANT_ID\n"
                            "       athos webhook replay TENANT_ID --since ISO8601\n";

/* The error object on stdout (cli_error) and the same words on stderr. */
static int fail(int status, const char *message)
{
  fprintf(stderr, "athos webhook: %s\n", message);
  if (status == CLI_USAGE)
    fputs(USAGE, stderr);
  return cli_error(status, "%s", message);
}

static int load_tenant(struct store *s, const char *public_id, struct tenant *t)
{
  int rc = store_tenant_get(s, public_id, t);
  if (rc == STORE_NOT_FOUND)
    return fail(CLI_FAILED, "tenant not found");
  if (rc != STORE_OK)
    return fail(CLI_FAILED, rc == STORE_UNAVAILABLE ? "database unavailable" : "database error");
  return CLI_OK;
}

static int rotate_secret(struct store *s, int argc, char **argv)
{
  struct tenant t;
  char secret[SECRET_MAX];
  if (argc != 3 || argv[2][0] == '-')
    return fail(CLI_USAGE, "rotate-secret takes exactly one TENANT_ID");
  int rc = load_tenant(s, argv[2], &t);
  if (rc != CLI_OK)
    return rc;
  if (webhook_secret_new(secret) != 0)
    return fail(CLI_FAILED, "cannot generate a secret");
  int64_t now = time_now_ms();
  if (store_webhook_secret_rotate(s, t.id, secret, now, now + WEBHOOK_ROTATION_OVERLAP_MS) !=
      STORE_OK) {
    rc = fail(CLI_FAILED, "cannot store the new secret");
  } else {
    cli_print(json_pack("{s:s}", "webhookSecret", secret)); /* shown once, here */
    rc = CLI_OK;
  }
  memset(secret, 0, sizeof secret);
  return rc;
}

static int replay(struct store *s, int argc, char **argv)
{
  struct tenant t;
  const char *tenant_id = NULL, *since_text = NULL;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--since") == 0 && i + 1 < argc)
      since_text = argv[++i];
    else if (strncmp(argv[i], "--since=", 8) == 0)
      since_text = argv[i] + 8;
    else if (argv[i][0] != '-' && tenant_id == NULL)
      tenant_id = argv[i];
    else
      return fail(CLI_USAGE, "unexpected argument to replay");
  }
  if (tenant_id == NULL || since_text == NULL)
    return fail(CLI_USAGE, "replay takes TENANT_ID and --since ISO8601");
  int64_t since = 0;
  if (time_parse_iso(since_text, &since) != 0)
    return fail(CLI_USAGE, "--since must be an ISO 8601 date or date-time");
  int rc = load_tenant(s, tenant_id, &t);
  if (rc != CLI_OK)
    return rc;
  int64_t n = 0;
  if (store_outbox_replay(s, t.id, since, time_now_ms(), &n) != STORE_OK)
    return fail(CLI_FAILED, "cannot re-queue the events");
  cli_print(json_pack("{s:I}", "replayed", (json_int_t)n));
  return CLI_OK;
}

int cli_webhook(struct store *s, int argc, char **argv)
{
  if (argc >= 2 && strcmp(argv[1], "rotate-secret") == 0)
    return rotate_secret(s, argc, argv);
  if (argc >= 2 && strcmp(argv[1], "replay") == 0)
    return replay(s, argc, argv);
  return fail(CLI_USAGE, "unknown webhook command (rotate-secret, replay)");
}
