/*
 * store.c — opening and closing the store: store_open picks the driver by
 * the URL's scheme; migrations, background maintenance and the readiness
 * ping. The operations themselves are in tenants.c, calls.c, live.c and
 * outbox.c, each written once over db.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/migrations.h"
#include "store/store_internal.h"
#include "util/log.h"
#include "util/timefmt.h"

/* pg_advisory_xact_lock key of the migrations (4242 namespace). */
#define LOCK_MIGRATE 4242001

int store_open(const char *url, struct store **out, char *err, size_t errlen)
{
  const struct db_driver *drv = &db_sqlite_driver;
  const char *rest = url;
  *out = NULL;
  if (url == NULL) {
    snprintf(err, errlen, "no database URL");
    return STORE_ERROR;
  }
  if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
    drv = &db_postgres_driver;
  } else if (strncmp(url, "sqlite:", 7) == 0) {
    rest = url + 7;
  } else if (strstr(url, "://") != NULL) {
    snprintf(err, errlen, "unsupported database URL scheme (use sqlite:PATH or postgres://…)");
    return STORE_ERROR;
  } /* else a bare path: SQLite */
  struct store *s = calloc(1, sizeof *s);
  if (s == NULL)
    return STORE_ERROR;
  int rc = drv->open(rest, &s->db, err, errlen);
  if (rc != STORE_OK) {
    free(s);
    return rc;
  }
  pthread_mutex_init(&s->gen_mu, NULL);
  *out = s;
  return STORE_OK;
}

void store_close(struct store *s)
{
  if (s == NULL)
    return;
  s->db->drv->close(s->db);
  store_set_master_key(s, NULL);
  pthread_mutex_destroy(&s->gen_mu);
  free(s);
}

int store_backup(struct store *s, const char *path, char *err, size_t errlen)
{
  if (s->db->drv->backup == NULL) {
    snprintf(err, errlen,
             "%s databases are backed up with their own tools (pg_dump: see"
             " docs/internals/store.md)",
             s->db->drv->name);
    return STORE_ERROR;
  }
  return s->db->drv->backup(s->db, path, err, errlen);
}

int store_start_background(struct store *s)
{
  return s->db->drv->start_background(s->db);
}

static int row_seen(const struct db_row *r, void *arg)
{
  return STORE_OK;
}

int store_ping(struct store *s)
{
  /* Reads the file (SQLite), not just the connection. */
  static const char SQL[] = "SELECT count(*) FROM schema_migrations";
  int rc = db_get(s->db, SQL, NULL, row_seen, NULL);
  return rc == STORE_OK ? STORE_OK : STORE_UNAVAILABLE;
}

/* ----------------------------------------------------------- migrations */

static int row_flag(const struct db_row *r, void *found)
{
  *(bool *)found = true;
  return STORE_OK;
}

static int migration_apply(struct db_tx *tx, const struct migration *m)
{
  static const char APPLIED[] = "SELECT 1 FROM schema_migrations WHERE version = $1";
  static const char RECORD[] =
      "INSERT INTO schema_migrations(version, name, applied_at) VALUES ($1, $2, $3)";
  bool applied = false;
  struct db_params p = {0};
  db_p_i64(&p, m->version);
  int rc = db_query(tx, APPLIED, &p, row_flag, &applied);
  if (rc != STORE_OK || applied)
    return rc;
  const char *sql =
      db_dialect(tx->db) == DB_POSTGRES && m->sql_postgres != NULL ? m->sql_postgres : m->sql;
  if ((rc = db_script(tx, sql)) != STORE_OK)
    return rc;
  p = (struct db_params){0};
  db_p_i64(&p, m->version);
  db_p_text(&p, m->name);
  db_p_i64(&p, time_now_ms());
  if ((rc = db_exec(tx, RECORD, &p, NULL)) == STORE_OK)
    log_info("migration %d (%s) applied", m->version, m->name);
  return rc;
}

static int migrate_tx(struct db_tx *tx, void *arg)
{
  int rc = db_xact_lock(tx, LOCK_MIGRATE);
  if (rc != STORE_OK)
    return rc;
  rc = db_script(tx, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                     " name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
  for (size_t i = 0; rc == STORE_OK && i < store_migrations_count; i++)
    rc = migration_apply(tx, &store_migrations[i]);
  return rc;
}

/* All pending versions in one transaction (both dialects' DDL is
 * transactional) under a lock: two nodes starting together apply each
 * version once (the second waits, then finds it recorded). */
int store_migrate(struct store *s)
{
  int rc = db_run(s->db, DB_TRANSACTION, migrate_tx, NULL);
  if (rc == STORE_OK)
    rc = store_signing_key_ensure(s);
  return rc;
}
