/*
 * admin.c — `athos tenant …` and `athos key …`: provisioning resellers.
 * Every input is validated before anything is written, and a failed
 * command changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "auth/api_key.h"
#include "auth/cidr.h"
#include "auth/webhook_secret.h"
#include "cli/cli.h"
#include "util/ids.h"
#include "util/timefmt.h"

static json_t *tenant_json(const struct tenant *t)
{
  char created[32];
  time_format_iso(t->created_at, created, sizeof created);
  json_t *j =
      json_pack("{s:s, s:s, s:b, s:b, s:s}", "tenantId", t->public_id, "name", t->name, "active",
                t->active, "webhookEnabled", t->webhook_enabled, "createdAt", created);
  json_object_set_new(j, "webhookUrl",
                      t->webhook_url[0] != '\0' ? json_string(t->webhook_url) : json_null());
  json_object_set_new(j, "ipAllow",
                      t->ip_allow[0] != '\0' ? json_string(t->ip_allow) : json_null());
  json_object_set_new(j, "monthlyCallQuota",
                      t->monthly_call_quota >= 0 ? json_integer(t->monthly_call_quota)
                                                 : json_null());
  /* requests a second; "none" = unmetered, null = the server's default */
  json_object_set_new(j, "rateLimit",
                      t->rate_limit > 0    ? json_integer(t->rate_limit)
                      : t->rate_limit == 0 ? json_string("none")
                                           : json_null());
  return j;
}

/* Reports a store failure as a CLI error. */
static int store_failed(int rc, const char *what)
{
  if (rc == STORE_NOT_FOUND)
    return cli_error(CLI_FAILED, "%s not found", what);
  if (rc == STORE_UNAVAILABLE)
    return cli_error(CLI_FAILED, "database unavailable");
  return cli_error(CLI_FAILED, "database error");
}

static int check_webhook_url(const char *url)
{
  if (url[0] == '\0')
    return 0; /* "" clears it */
  if (strlen(url) > WEBHOOK_URL_MAX || !validate_printable(url) || strchr(url, ' ') != NULL)
    return -1;
  if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
    return -1;
  const char *host = strstr(url, "://") + 3;
  return host[0] == '\0' || host[0] == '/' ? -1 : 0;
}

static int parse_bool(const char *v, bool *out)
{
  if (strcmp(v, "true") == 0)
    *out = true;
  else if (strcmp(v, "false") == 0)
    *out = false;
  else
    return -1;
  return 0;
}

static int tenant_create(struct store *s, int argc, char **argv)
{
  struct tenant t;
  memset(&t, 0, sizeof t);
  t.active = true;
  t.webhook_enabled = true;
  t.monthly_call_quota = -1;
  t.rate_limit = -1;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
      snprintf(t.name, sizeof t.name, "%s", argv[++i]);
    else if (strcmp(argv[i], "--webhook-url") == 0 && i + 1 < argc)
      snprintf(t.webhook_url, sizeof t.webhook_url, "%s", argv[++i]);
    else
      return cli_error(CLI_USAGE, "usage: athos tenant create --name NAME [--webhook-url URL]");
  }
  if (t.name[0] == '\0' || !validate_printable(t.name))
    return cli_error(CLI_USAGE, "--name is required (1 to %d printable characters)",
                     TENANT_NAME_MAX);
  if (check_webhook_url(t.webhook_url) != 0)
    return cli_error(CLI_USAGE, "--webhook-url must be an http(s) URL");
  id_new("ten_", 16, t.public_id, sizeof t.public_id);
  char key[API_KEY_MAX], secret[SECRET_MAX];
  struct api_key_new rec;
  api_key_generate(key, &rec);
  if (webhook_secret_new(secret) != 0)
    return cli_error(CLI_FAILED, "no randomness available");
  int rc = store_tenant_create(s, &t, &rec, secret);
  if (rc != STORE_OK)
    return store_failed(rc, "tenant");
  cli_print(json_pack("{s:s, s:s, s:s, s:s}", "tenantId", t.public_id, "apiKey", key, "keyId",
                      rec.public_id, "webhookSecret", secret));
  return CLI_OK;
}

/* A whole number >= min, all of v. */
static int parse_whole(const char *v, long long min, int64_t *out)
{
  char *end = NULL;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (v[0] == '\0' || *end != '\0' || errno != 0 || n < min)
    return -1;
  *out = n;
  return 0;
}

static int tenant_update(struct store *s, int argc, char **argv)
{
  static const char USAGE[] = "usage: athos tenant update TENANT_ID [--webhook-url URL]"
                              " [--active true|false] [--ip-allow CIDR[,CIDR…]]"
                              " [--monthly-call-quota N|none] [--rate-limit N|none|default]";
  if (argc < 3 || argv[2][0] == '-')
    return cli_error(CLI_USAGE, USAGE);
  struct tenant t;
  int rc = store_tenant_get(s, argv[2], &t);
  if (rc != STORE_OK)
    return store_failed(rc, "tenant");
  for (int i = 3; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v == NULL)
      return cli_error(CLI_USAGE, USAGE);
    if (strcmp(argv[i], "--webhook-url") == 0) {
      if (check_webhook_url(v) != 0)
        return cli_error(CLI_USAGE, "--webhook-url must be an http(s) URL");
      snprintf(t.webhook_url, sizeof t.webhook_url, "%s", v);
      t.webhook_enabled = true; /* a new URL re-enables a 410-disabled endpoint */
    } else if (strcmp(argv[i], "--active") == 0) {
      if (parse_bool(v, &t.active) != 0)
        return cli_error(CLI_USAGE, "--active takes true or false");
    } else if (strcmp(argv[i], "--webhook-enabled") == 0) {
      if (parse_bool(v, &t.webhook_enabled) != 0)
        return cli_error(CLI_USAGE, "--webhook-enabled takes true or false");
    } else if (strcmp(argv[i], "--ip-allow") == 0) {
      if (strlen(v) > IP_ALLOW_MAX || !cidr_list_valid(v))
        return cli_error(CLI_USAGE, "--ip-allow takes a comma-separated list of CIDR blocks");
      snprintf(t.ip_allow, sizeof t.ip_allow, "%s", v);
    } else if (strcmp(argv[i], "--monthly-call-quota") == 0) {
      if (strcmp(v, "none") == 0)
        t.monthly_call_quota = -1;
      else if (parse_whole(v, 0, &t.monthly_call_quota) != 0)
        return cli_error(CLI_USAGE, "--monthly-call-quota takes a whole number or none");
    } else if (strcmp(argv[i], "--rate-limit") == 0) {
      if (strcmp(v, "none") == 0)
        t.rate_limit = 0;
      else if (strcmp(v, "default") == 0)
        t.rate_limit = -1;
      else if (parse_whole(v, 1, &t.rate_limit) != 0)
        return cli_error(CLI_USAGE,
                         "--rate-limit takes requests a second (1 or more), none or default");
    } else {
      return cli_error(CLI_USAGE, USAGE);
    }
    i++;
  }
  if ((rc = store_tenant_update(s, &t)) != STORE_OK)
    return store_failed(rc, "tenant");
  cli_print(tenant_json(&t));
  return CLI_OK;
}

static void append_tenant(const struct tenant *t, void *arg)
{
  json_array_append_new(arg, tenant_json(t));
}

static int tenant_list(struct store *s)
{
  json_t *arr = json_array();
  int rc = store_tenant_list(s, append_tenant, arr);
  if (rc != STORE_OK) {
    json_decref(arr);
    return store_failed(rc, "tenants");
  }
  cli_print(json_pack("{s:o}", "tenants", arr));
  return CLI_OK;
}

int cli_tenant(struct store *s, int argc, char **argv)
{
  if (argc >= 2 && strcmp(argv[1], "create") == 0)
    return tenant_create(s, argc, argv);
  if (argc >= 2 && strcmp(argv[1], "update") == 0)
    return tenant_update(s, argc, argv);
  if (argc == 2 && strcmp(argv[1], "list") == 0)
    return tenant_list(s);
  return cli_error(CLI_USAGE, "usage: athos tenant create|update|list …");
}

int cli_key(struct store *s, int argc, char **argv)
{
  if (argc == 3 && strcmp(argv[1], "create") == 0) {
    struct tenant t;
    int rc = store_tenant_get(s, argv[2], &t);
    if (rc != STORE_OK)
      return store_failed(rc, "tenant");
    char key[API_KEY_MAX];
    struct api_key_new rec;
    api_key_generate(key, &rec);
    if ((rc = store_key_create(s, t.id, &rec)) != STORE_OK)
      return store_failed(rc, "tenant");
    cli_print(json_pack("{s:s, s:s}", "keyId", rec.public_id, "apiKey", key));
    return CLI_OK;
  }
  if (argc == 3 && strcmp(argv[1], "revoke") == 0) {
    int rc = store_key_revoke(s, argv[2], time_now_ms());
    if (rc != STORE_OK)
      return store_failed(rc, "key");
    cli_print(json_pack("{s:s, s:b}", "keyId", argv[2], "revoked", 1));
    return CLI_OK;
  }
  return cli_error(CLI_USAGE, "usage: athos key create TENANT_ID | athos key revoke KEY_ID");
}
