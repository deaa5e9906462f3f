/* test_store_runner.c — the transaction runner of src/store/db.c over a
 * scripted fake driver: busy and serialization failures are retried
 * (bounded), each failed run rolled back; a run that already handed rows
 * to a callback is not retried; other failures are not retried; the
 * one-statement helpers keep their meaning; `$N` parameters and the
 * dialect pairs reach the driver as written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/db.h"
#include "util/log.h"

/* ------------------------------------------------------------ the fake */

struct db_conn {
  int unused;
};

struct fake {
  struct db base;
  struct db_conn conn;
  int script[8]; /* what query answers, call by call; then DB_OK */
  int nscript, calls;
  int rows;      /* rows each successful query delivers */
  int rows_then; /* when set, rows are delivered and then this is returned */
  int begins, commits, rollbacks;
  bool in_tx;
};

static struct fake F;

static int fake_ready(struct db *d, struct db_conn *c)
{
  return DB_OK;
}

static int fake_query(struct db_conn *c, const char *sql, const struct db_params *p, db_row_fn *row,
                      void *arg, int64_t *changes)
{
  int rc = F.calls < F.nscript ? F.script[F.calls] : DB_OK;
  F.calls++;
  if (rc != DB_OK && F.rows_then == 0)
    return rc;
  struct db_row r = {.drv = F.base.drv, .res = &F, .i = 0};
  for (int i = 0; row != NULL && i < F.rows; i++) {
    r.i = i;
    int rrc = row(&r, arg);
    if (rrc != DB_OK)
      return rrc;
  }
  if (changes != NULL)
    *changes = F.rows;
  return F.rows_then != 0 ? F.rows_then : DB_OK;
}

static int fake_script(struct db_conn *c, const char *sql)
{
  if (strcmp(sql, "COMMIT") == 0) {
    F.commits++;
    F.in_tx = false;
  }
  return DB_OK;
}

static int fake_begin(struct db_conn *c)
{
  F.begins++;
  F.in_tx = true;
  return DB_OK;
}

static void fake_rollback(struct db_conn *c)
{
  if (F.in_tx)
    F.rollbacks++;
  F.in_tx = false;
}

static int64_t fake_i64(const struct db_row *r, int col)
{
  return r->i * 10 + col;
}
static const char *fake_text(const struct db_row *r, int col)
{
  return col == 0 ? "text" : NULL;
}

static const struct db_driver fake_driver = {
    .name = "fake",
    .dialect = DB_POSTGRES,
    .ready = fake_ready,
    .query = fake_query,
    .script = fake_script,
    .begin = fake_begin,
    .rollback = fake_rollback,
    .col_i64 = fake_i64,
    .col_text = fake_text,
};

static int setup(void **state)
{
  static struct db_conn *pool[1];
  memset(&F, 0, sizeof F);
  pool[0] = &F.conn;
  db_pool_init(&F.base, &fake_driver, pool, 1);
  return 0;
}

static int teardown(void **state)
{
  db_pool_destroy(&F.base);
  return 0;
}

static void fail_with(int n, int rc)
{
  F.nscript = n;
  for (int i = 0; i < n; i++)
    F.script[i] = rc;
}

/* ---------------------------------------------------------------- cases */

static const char SQL[] = "UPDATE t SET a = $1 WHERE id = $2";

static int two_statements(struct db_tx *tx, void *arg)
{
  int *runs = arg;
  (*runs)++;
  int rc = db_exec(tx, SQL, NULL, NULL);
  return rc != DB_OK ? rc : db_exec(tx, SQL, NULL, NULL);
}

static void test_retries_busy_then_commits(void **state)
{
  int runs = 0;
  fail_with(2, DB_BUSY);
  assert_int_equal(db_run(&F.base, DB_TRANSACTION, two_statements, &runs), STORE_OK);
  assert_int_equal(runs, 3);
  assert_int_equal(F.begins, 3);
  assert_int_equal(F.rollbacks, 2); /* each failed run rolled back */
  assert_int_equal(F.commits, 1);
}

static void test_serialization_retried_then_gives_up(void **state)
{
  int runs = 0;
  fail_with(8, DB_SERIALIZATION);
  assert_int_equal(db_run(&F.base, DB_TRANSACTION, two_statements, &runs), STORE_UNAVAILABLE);
  assert_int_equal(runs, 4); /* bounded: four attempts */
  assert_int_equal(F.commits, 0);
  assert_int_equal(F.rollbacks, runs);
}

static void test_other_failures_not_retried(void **state)
{
  int runs = 0;
  fail_with(1, DB_CONFLICT);
  assert_int_equal(db_run(&F.base, DB_TRANSACTION, two_statements, &runs), STORE_CONFLICT);
  assert_int_equal(runs, 1);
  assert_int_equal(F.rollbacks, 1);
  teardown(state);
  setup(state);
  runs = 0;
  fail_with(1, DB_UNAVAILABLE);
  assert_int_equal(db_run(&F.base, DB_AUTOCOMMIT, two_statements, &runs), STORE_UNAVAILABLE);
  assert_int_equal(runs, 1);
  assert_int_equal(F.begins, 0); /* autocommit: no transaction */
}

static int count_row(const struct db_row *r, void *arg)
{
  (*(int *)arg)++;
  return DB_OK;
}

static void test_rows_seen_not_retried(void **state)
{
  /* a callback already saw rows when the failure came: running again
   * would show them twice */
  int seen = 0;
  F.rows = 2;
  F.rows_then = DB_BUSY;
  assert_int_equal(db_each(&F.base, SQL, NULL, count_row, &seen), STORE_UNAVAILABLE);
  assert_int_equal(seen, 2);
  assert_int_equal(F.calls, 1);
}

struct first {
  int64_t a;
  char t[8];
  const char *null_text;
};

static int read_first(const struct db_row *r, void *arg)
{
  struct first *f = arg;
  f->a = db_col_i64(r, 3);
  db_col_copy(r, 0, f->t, sizeof f->t);
  f->null_text = db_col_text(r, 1);
  return DB_OK;
}

static void test_one_statement_helpers(void **state)
{
  struct first f = {0};
  F.rows = 0;
  assert_int_equal(db_get(&F.base, SQL, NULL, read_first, &f), STORE_NOT_FOUND);
  F.rows = 3;
  assert_int_equal(db_get(&F.base, SQL, NULL, read_first, &f), STORE_OK);
  assert_int_equal(f.a, 3); /* row 0, column 3 */
  assert_string_equal(f.t, "text");
  assert_null(f.null_text);
  int64_t changes = 0;
  assert_int_equal(db_write(&F.base, SQL, NULL, &changes), STORE_OK);
  assert_int_equal(changes, 3);
  F.rows = 0;
  assert_int_equal(db_update_row(&F.base, SQL, NULL, STORE_CONFLICT), STORE_CONFLICT);
  F.rows = 1;
  assert_int_equal(db_update_row(&F.base, SQL, NULL, STORE_NOT_FOUND), STORE_OK);
  int seen = 0;
  F.rows = 5;
  assert_int_equal(db_each(&F.base, SQL, NULL, count_row, &seen), STORE_OK);
  assert_int_equal(seen, 5);
}

static void test_params_and_dialect(void **state)
{
  struct db_params p = {0};
  db_p_text(&p, "a");
  db_p_text(&p, NULL);
  db_p_text_or_null(&p, "");
  db_p_i64(&p, -7);
  db_p_null(&p);
  assert_int_equal(p.n, 5);
  assert_int_equal(p.v[0].type, DB_TEXT);
  assert_int_equal(p.v[1].type, DB_NULL);
  assert_int_equal(p.v[2].type, DB_NULL);
  assert_int_equal(p.v[3].type, DB_INT);
  assert_int_equal(p.v[3].i, -7);
  assert_int_equal(p.v[4].type, DB_NULL);
  static const char A[] = "sqlite", B[] = "postgres";
  assert_ptr_equal(db_sql(&F.base, A, B), B);
}

static void test_stmt_slots(void **state)
{
  static const char S1[] = "SELECT 1", S2[] = "SELECT 2";
  const char *keys[4] = {0};
  bool hit = true;
  int k1 = db_stmt_slot(keys, 4, S1, &hit);
  assert_true(k1 >= 0 && !hit);
  keys[k1] = S1;
  assert_int_equal(db_stmt_slot(keys, 4, S1, &hit), k1);
  assert_true(hit);
  int k2 = db_stmt_slot(keys, 4, S2, &hit);
  assert_true(k2 >= 0 && k2 != k1 && !hit);
  for (int i = 0; i < 4; i++)
    keys[i] = i == k1 ? S1 : "other";
  assert_int_equal(db_stmt_slot(keys, 4, S2, &hit), -1); /* full */
}

int main(void)
{
  log_set_level(LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_retries_busy_then_commits, setup, teardown),
      cmocka_unit_test_setup_teardown(test_serialization_retried_then_gives_up, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_failures_not_retried, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rows_seen_not_retried, setup, teardown),
      cmocka_unit_test_setup_teardown(test_one_statement_helpers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_params_and_dialect, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stmt_slots, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
