/*
 * main.c — the `athos` command line: `serve` runs the whole system in one
 * process (HTTP API, live WebSocket loop, scoring workers, webhook
 * deliverer); `migrate`, `tenant`, `key`, `webhook`, `keys` and `backup`
 * are the admin CLI on the same database. Every command but `backup`
 * loads the master key that seals secrets at rest (cli/keys_cmd.c).
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/routes.h"
#include "app.h"
#include "cli/backup_cmd.h"
#include "cli/cli.h"
#include "cli/keys_cmd.h"
#include "cli/practice.h"
#include "cli/webhook_cmd.h"
#include "config.h"
#include "http/server.h"
#include "store/store.h"
#include "util/log.h"

static const char USAGE[] =
    "usage: athos COMMAND [ARGS]\n"
    "  serve [--listen HOST:PORT] [--database-url URL] [--public-url URL] [--drills-dir DIR]\n"
    "        [--threads N]\n"
    "  migrate\n"
    "  tenant create --name NAME [--webhook-url URL]\n"
    "  tenant update TENANT_ID [--webhook-url URL] [--active true|false]\n"
    "        [--ip-allow CIDR[,CIDR...]] [--monthly-call-quota N|none]\n"
    "  tenant list\n"
    "  key create TENANT_ID\n"
    "  key revoke KEY_ID\n"
    "  webhook rotate-secret TENANT_ID\n"
    "  webhook replay TENANT_ID --since ISO8601\n"
    "  keys rotate-master --new-key-file FILE\n"
    "  backup PATH\n"
    "  practice --api-key KEY [--url URL] [--difficulty Beginner|Advanced|Elite] [--state ST]\n"
    "        [--drill KEY] [--user-id ID]\n"
    "Settings come from ATHOS_* environment variables (see README.md).\n";

/* Applies `serve` flags over the environment: each flag goes through the
 * same parser as its environment variable (config.c). */
static int serve_flags(struct athos_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) {
      snprintf(err, errlen, "%s needs a value", argv[i]);
      return -1;
    }
    if (config_set_flag(cfg, argv[i], argv[i + 1], err, errlen) != 0)
      return -1;
  }
  return 0;
}

static int wait_for_signal(void)
{
  sigset_t set;
  int sig = 0;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigwait(&set, &sig);
  return sig;
}

/* Blocks the stop signals in every thread started from here on; main
 * waits for them with sigwait(). */
static void block_stop_signals(void)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
}

static int serve(const struct athos_config *cfg, struct store *s)
{
  struct app app;
  struct server srv = {0};
  int rc = 1;

  block_stop_signals();
  if (app_start(&app, cfg, s) != 0)
    goto stop;
  struct server_config http = {.host = cfg->listen_host,
                               .port = cfg->listen_port,
                               .threads = cfg->threads,
                               .max_connections = cfg->max_connections,
                               .max_connections_per_ip = cfg->max_connections_per_ip,
                               .header_timeout_ms = cfg->header_timeout_sec * 1000,
                               .body_timeout_ms = cfg->body_timeout_sec * 1000,
                               .max_body = routes_max_body(),
                               .body_limit = routes_body_limit,
                               .dispatch = api_dispatch,
                               .app = &app};
  if (server_start(&srv, &http) != 0)
    goto stop;
  log_info("athos listening on %s:%u (public %s, %zu drill(s))", cfg->listen_host, cfg->listen_port,
           cfg->public_url, app.drills->n);
  int sig = wait_for_signal();
  log_info("received %s, draining", sig == SIGINT ? "SIGINT" : "SIGTERM");
  rc = 0;
stop:
  /* Stop accepting; WebSocket calls end next (MHD_stop_daemon frees the
   * handles of upgraded connections still open); then drain and stop. */
  server_quiesce(&srv);
  app_stop_live(&app);
  server_stop(&srv);
  app_stop(&app);
  return rc;
}

int main(int argc, char **argv)
{
  struct athos_config cfg;
  struct store *s = NULL;
  char err[512];
  int rc = CLI_USAGE;

  log_init();
  /* libcurl's global state is set up once, before any thread exists. */
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_USAGE : CLI_OK;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "practice") == 0) /* a client of the public API: no database */
    return cli_practice(argc - 1, argv + 1);
  if (config_from_env(&cfg, err, sizeof err) != 0 ||
      (strcmp(cmd, "serve") == 0 && serve_flags(&cfg, argc - 1, argv + 1, err, sizeof err) != 0)) {
    fprintf(stderr, "athos: %s\n", err);
    return CLI_USAGE;
  }
  config_finish(&cfg);
  bool is_serve = strcmp(cmd, "serve") == 0;
  if (!is_serve && strcmp(cmd, "migrate") != 0 && strcmp(cmd, "tenant") != 0 &&
      strcmp(cmd, "key") != 0 && strcmp(cmd, "webhook") != 0 && strcmp(cmd, "keys") != 0 &&
      strcmp(cmd, "backup") != 0) {
    fputs(USAGE, stderr);
    return CLI_USAGE;
  }
  if (!is_serve)
    log_set_level(LOG_WARN); /* the CLI's stdout is JSON; keep stderr quiet */
  if (store_open(cfg.database_url, &s, err, sizeof err) != STORE_OK) {
    if (is_serve)
      log_error("database: %s", err);
    else
      cli_error(CLI_FAILED, "database: %s", err);
    return CLI_FAILED;
  }
  /* Migrations run at every start, so an upgraded binary never meets an
   * old schema. */
  if (store_migrate(s) != STORE_OK) {
    if (!is_serve)
      cli_error(CLI_FAILED, "migration failed");
    rc = CLI_FAILED;
    goto out;
  }
  if (strcmp(cmd, "backup") != 0 &&
      keys_master_start(s, cfg.master_key_file, is_serve, err, sizeof err) != 0) {
    if (is_serve)
      log_error("secrets at rest: %s", err);
    else
      cli_error(CLI_FAILED, "%s", err);
    rc = CLI_FAILED;
    goto out;
  }
  if (is_serve)
    rc = serve(&cfg, s);
  else if (strcmp(cmd, "migrate") == 0) {
    cli_print(json_pack("{s:b}", "migrated", 1));
    rc = CLI_OK;
  } else if (strcmp(cmd, "tenant") == 0)
    rc = cli_tenant(s, argc - 1, argv + 1);
  else if (strcmp(cmd, "key") == 0)
    rc = cli_key(s, argc - 1, argv + 1);
  else if (strcmp(cmd, "keys") == 0)
    rc = cli_keys(s, argc - 1, argv + 1);
  else if (strcmp(cmd, "backup") == 0)
    rc = cli_backup(s, argc - 1, argv + 1);
  else
    rc = cli_webhook(s, argc - 1, argv + 1);
out:
  store_close(s);
  curl_global_cleanup();
  return rc;
}
