/* test_store.c — the store's dispatch: store_open picks the backend by the
 * URL's scheme, a PostgreSQL error never echoes the URL (it may hold a
 * password), and the migration list is well formed for both dialects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/migrations.h"
#include "store/store.h"

static void test_sqlite_urls(void **state)
{
  char dir[] = "/tmp/athos-store-XXXXXX";
  char url[300], path[64], err[256] = "";
  struct store *s = NULL;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/a.db", dir);
  snprintf(url, sizeof url, "sqlite:%s", path);
  assert_int_equal(store_open(url, &s, err, sizeof err), STORE_OK);
  assert_int_equal(store_migrate(s), STORE_OK);
  assert_int_equal(store_migrate(s), STORE_OK); /* idempotent */
  assert_int_equal(store_ping(s), STORE_OK);
  store_close(s);
  /* a bare path is SQLite too, and sees the same database */
  s = NULL;
  assert_int_equal(store_open(path, &s, err, sizeof err), STORE_OK);
  struct signing_key keys[4];
  size_t n = 4;
  assert_int_equal(store_signing_keys(s, keys, &n), STORE_OK);
  assert_int_equal(n, 1);
  store_close(s);
  char side[96];
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  unlink(path);
  rmdir(dir);
}

static void test_unknown_scheme(void **state)
{
  struct store *s = (struct store *)&s; /* must be reset to NULL */
  char err[256] = "";
  assert_int_equal(store_open("mysql://u:p@h/db", &s, err, sizeof err), STORE_ERROR);
  assert_null(s);
  assert_true(strlen(err) > 0);
  assert_int_equal(store_open("sqlite:", &s, err, sizeof err), STORE_ERROR);
  assert_null(s);
  store_close(NULL);
}

static void test_postgres_unreachable(void **state)
{
  /* Port 1 on loopback refuses at once: STORE_UNAVAILABLE, and the
   * message names neither the password nor the user's URL. */
  const char *urls[] = {"postgres://athos:s3cret-pw@127.0.0.1:1/athos",
                        "postgresql://athos:s3cret-pw@127.0.0.1:1/athos?connect_timeout=2"};
  for (size_t i = 0; i < 2; i++) {
    struct store *s = NULL;
    char err[512] = "";
    assert_int_equal(store_open(urls[i], &s, err, sizeof err), STORE_UNAVAILABLE);
    assert_null(s);
    assert_non_null(strstr(err, "PostgreSQL"));
    assert_null(strstr(err, "s3cret"));
  }
}

static void test_migrations(void **state)
{
  assert_true(store_migrations_count >= 2);
  for (size_t i = 0; i < store_migrations_count; i++) {
    const struct migration *m = &store_migrations[i];
    assert_int_equal(m->version, (int)i + 1); /* append-only, dense */
    assert_non_null(m->name);
    assert_non_null(m->sql);
    const char *pg = m->sql_postgres != NULL ? m->sql_postgres : m->sql;
    /* SQLite's rowid alias means nothing to PostgreSQL: ids need an identity */
    assert_null(strstr(pg, "INTEGER PRIMARY KEY,"));
  }
  assert_non_null(strstr(store_migrations[0].sql, "id INTEGER PRIMARY KEY,"));
  assert_non_null(strstr(store_migrations[0].sql_postgres, "id BIGSERIAL PRIMARY KEY,"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sqlite_urls),
      cmocka_unit_test(test_unknown_scheme),
      cmocka_unit_test(test_postgres_unreachable),
      cmocka_unit_test(test_migrations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
