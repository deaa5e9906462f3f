/*
 * db_sqlite.c — the SQLite driver of db.h: eight connections in WAL mode,
 * a per-connection cache of prepared statements (keyed by the address of
 * each call site's static SQL; `$N` is rewritten to `?N` once, when the
 * statement is prepared), and a background checkpoint thread.
 *
 * WAL mode lets readers run beside the one writer; every transaction runs
 * in BEGIN IMMEDIATE so two writers never deadlock on a lock upgrade, and
 * busy_timeout turns contention into a short wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/db.h"
#include "util/log.h"

#define POOL_SIZE              DB_POOL_MAX
#define BUSY_TIMEOUT_MS        5000
#define STMT_CACHE             64
#define SQL_MAX                4096 /* the longest statement text the rewrite accepts */
#define CHECKPOINT_INTERVAL_MS 1000
/* The WAL's bound (issue 9): past WAL_TRUNCATE_FRAMES pages (64 MiB at the
 * default 4 KiB page) the checkpointer copies everything and truncates the
 * file; journal_size_limit shrinks it to the same size whenever SQLite
 * itself restarts the log. */
#define WAL_TRUNCATE_FRAMES   16384
#define WAL_SIZE_LIMIT_PRAGMA "PRAGMA journal_size_limit=67108864;"

struct db_conn {
  sqlite3 *db;
  const char *keys[STMT_CACHE];
  sqlite3_stmt *stmts[STMT_CACHE];
};

struct sq_db {
  struct db base; /* first: a struct db * is a struct sq_db * */
  char path[1024];
  struct db_conn conns[POOL_SIZE];
  size_t nconns; /* opened */
  /* background checkpointer (start_background) */
  pthread_mutex_t ckpt_mu;
  pthread_cond_t ckpt_cv; /* wakes the checkpointer early (stop) */
  pthread_t ckpt_thread;
  bool ckpt_running, ckpt_stop;
  sqlite3 *ckpt_db;
};

static struct sq_db *sq_db(struct db *d)
{
  return (struct sq_db *)d;
}

/* ------------------------------------------------------------- errors */

/* The error class of an SQLite result code. */
static int sq_rc(sqlite3 *db, int rc)
{
  const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_DONE:
  case SQLITE_ROW: return DB_OK;
  case SQLITE_CONSTRAINT: return DB_CONFLICT;
  case SQLITE_BUSY:
  case SQLITE_LOCKED: log_warn("sqlite busy: %s", msg); return DB_BUSY;
  case SQLITE_IOERR:
  case SQLITE_CANTOPEN:
  case SQLITE_FULL:
  case SQLITE_READONLY: log_error("sqlite unavailable: %s", msg); return DB_UNAVAILABLE;
  default: log_error("sqlite error: %s", msg); return DB_ERROR;
  }
}

/* --------------------------------------------------------- statements */

/* Copies sql into out with every `$N` outside quotes as `?N`: SQLite
 * reads `$1` as a named parameter numbered by first appearance, `?1` as
 * parameter 1. false if it does not fit. */
static bool rewrite_params(const char *sql, char *out, size_t cap)
{
  char quote = 0;
  size_t n = 0;
  for (const char *p = sql; *p != '\0'; p++) {
    char ch = *p;
    if (quote != 0 && ch == quote)
      quote = 0;
    else if (quote == 0 && (ch == '\'' || ch == '"'))
      quote = ch;
    else if (quote == 0 && ch == '$' && p[1] >= '0' && p[1] <= '9')
      ch = '?';
    if (n + 1 >= cap)
      return false;
    out[n++] = ch;
  }
  out[n] = '\0';
  return true;
}

/* The cached statement for sql (a string with static storage), reset and
 * with bindings cleared. NULL on a prepare error (logged). */
static sqlite3_stmt *stmt_get(struct db_conn *c, const char *sql)
{
  bool hit = false;
  int k = db_stmt_slot(c->keys, STMT_CACHE, sql, &hit);
  if (k < 0) {
    log_error("sqlite statement cache full");
    return NULL;
  }
  if (hit) {
    sqlite3_reset(c->stmts[k]);
    sqlite3_clear_bindings(c->stmts[k]);
    return c->stmts[k];
  }
  char text[SQL_MAX];
  sqlite3_stmt *st = NULL;
  if (!rewrite_params(sql, text, sizeof text)) {
    log_error("sqlite statement too long");
    return NULL;
  }
  if (sqlite3_prepare_v3(c->db, text, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
    log_error("sqlite prepare failed: %s", sqlite3_errmsg(c->db));
    return NULL;
  }
  c->keys[k] = sql;
  c->stmts[k] = st;
  return st;
}

/* Binds p from ?1 on (a cached statement's bindings start cleared, so a
 * NULL needs no call). */
static void bind(sqlite3_stmt *st, const struct db_params *p)
{
  for (int i = 0; p != NULL && i < p->n; i++) {
    if (p->v[i].type == DB_INT)
      sqlite3_bind_int64(st, i + 1, p->v[i].i);
    else if (p->v[i].type == DB_TEXT)
      sqlite3_bind_text(st, i + 1, p->v[i].t, -1, SQLITE_STATIC);
  }
}

static int sq_query(struct db_conn *c, const char *sql, const struct db_params *p, db_row_fn *row,
                    void *arg, int64_t *changes)
{
  sqlite3_stmt *st = stmt_get(c, sql);
  if (st == NULL)
    return DB_ERROR;
  bind(st, p);
  struct db_row r = {.drv = &db_sqlite_driver, .res = st};
  int rc = DB_OK, step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW)
    if (row != NULL && (rc = row(&r, arg)) != DB_OK)
      break;
  if (step != SQLITE_ROW && step != SQLITE_DONE)
    rc = sq_rc(c->db, step);
  if (rc == DB_OK && changes != NULL)
    *changes = sqlite3_changes64(c->db);
  sqlite3_reset(st);
  return rc;
}

static int sq_script(struct db_conn *c, const char *sql)
{
  int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? DB_OK : sq_rc(c->db, rc);
}

static int sq_begin(struct db_conn *c)
{
  return sq_script(c, "BEGIN IMMEDIATE");
}

static void sq_rollback(struct db_conn *c)
{
  if (!sqlite3_get_autocommit(c->db))
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* BEGIN IMMEDIATE already holds the database's one write lock. */
static int sq_xact_lock(struct db_conn *c, int64_t key)
{
  return DB_OK;
}

/* One process, one node: live calls carry no node id. */
static int sq_node(struct db *d, int64_t *node)
{
  *node = 0;
  return STORE_NOT_FOUND;
}

static int sq_ready(struct db *d, struct db_conn *c)
{
  return DB_OK;
}

/* sq_open's first read keeps the -shm file open until sq_close. */
static int64_t sq_col_i64(const struct db_row *r, int col)
{
  sqlite3_stmt *st = r->res;
  return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, col);
}

static const char *sq_col_text(const struct db_row *r, int col)
{
  return (const char *)sqlite3_column_text(r->res, col);
}

/* ----------------------------------------------------------- open/close */

static int open_conn(struct sq_db *s, sqlite3 **db, char *err, size_t errlen)
{
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(s->path, db, flags, NULL);
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "cannot open %s: %s", s->path,
             *db != NULL ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
    return DB_UNAVAILABLE;
  }
  sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
  const char *pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                        "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;" WAL_SIZE_LIMIT_PRAGMA;
  if (sqlite3_exec(*db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot configure %s: %s", s->path, sqlite3_errmsg(*db));
    return DB_UNAVAILABLE;
  }
  return DB_OK;
}

static void checkpoint_stop(struct sq_db *s);

static void sq_close(struct db *d)
{
  struct sq_db *s = sq_db(d);
  checkpoint_stop(s);
  for (size_t i = 0; i < s->nconns; i++) {
    for (size_t k = 0; k < STMT_CACHE; k++)
      sqlite3_finalize(s->conns[i].stmts[k]);
    sqlite3_close(s->conns[i].db);
  }
  db_pool_destroy(&s->base);
  pthread_mutex_destroy(&s->ckpt_mu);
  pthread_cond_destroy(&s->ckpt_cv);
  free(s);
}

/* Creates the database file with mode 0600 before SQLite opens it (SQLite
 * would use 0644): its WAL and SHM files take the main file's mode. An
 * existing file keeps its mode. ":memory:" and URIs are left alone. */
static int create_private(const char *path, char *err, size_t errlen)
{
  if (strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
    return DB_OK;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return DB_UNAVAILABLE;
  }
  close(fd);
  return DB_OK;
}

/* path: the file (the part after "sqlite:"). */
static int sq_open(const char *path, struct db **out, char *err, size_t errlen)
{
  *out = NULL;
  if (path[0] == '\0' || strlen(path) >= sizeof((struct sq_db *)0)->path) {
    snprintf(err, errlen, "invalid database path");
    return DB_ERROR;
  }
  if (create_private(path, err, errlen) != DB_OK)
    return DB_UNAVAILABLE;
  struct sq_db *s = calloc(1, sizeof *s);
  if (s == NULL)
    return DB_ERROR;
  snprintf(s->path, sizeof s->path, "%s", path);
  pthread_mutex_init(&s->ckpt_mu, NULL);
  pthread_cond_init(&s->ckpt_cv, NULL);
  struct db_conn *pool[POOL_SIZE];
  int rc = DB_OK;
  for (size_t i = 0; i < POOL_SIZE && rc == DB_OK; i++) {
    rc = open_conn(s, &s->conns[i].db, err, errlen);
    s->nconns = i + 1;
    pool[i] = &s->conns[i];
  }
  /* A first read proves the file is a database we can read. */
  if (rc == DB_OK && sqlite3_exec(s->conns[0].db, "SELECT count(*) FROM sqlite_master", NULL, NULL,
                                  NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot read %s: %s", s->path, sqlite3_errmsg(s->conns[0].db));
    rc = DB_UNAVAILABLE;
  }
  db_pool_init(&s->base, &db_sqlite_driver, pool, rc == DB_OK ? POOL_SIZE : 0);
  if (rc != DB_OK) {
    sq_close(&s->base);
    return DB_UNAVAILABLE;
  }
  *out = &s->base;
  return DB_OK;
}

/* ---------------------------------------------------------------- backup */

/* The whole database in one backup step: one read transaction, so the
 * copy is a consistent snapshot, and in WAL mode writers go on meanwhile. */
static int sq_backup(struct db *d, const char *path, char *err, size_t errlen)
{
  struct sq_db *s = sq_db(d);
  sqlite3 *src = NULL, *dst = NULL;
  int rc = DB_UNAVAILABLE;
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
    return DB_ERROR;
  }
  close(fd);
  if (open_conn(s, &src, err, errlen) != DB_OK)
    goto cleanup;
  if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot open %s: %s", path, sqlite3_errmsg(dst));
    goto cleanup;
  }
  sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
  if (b == NULL) {
    snprintf(err, errlen, "backup: %s", sqlite3_errmsg(dst));
    goto cleanup;
  }
  int step = sqlite3_backup_step(b, -1);
  int fin = sqlite3_backup_finish(b);
  if (step != SQLITE_DONE || fin != SQLITE_OK) {
    snprintf(err, errlen, "backup: %s", sqlite3_errstr(step != SQLITE_DONE ? step : fin));
    goto cleanup;
  }
  rc = DB_OK;
cleanup:
  sqlite3_close(dst);
  sqlite3_close(src);
  if (rc != DB_OK)
    unlink(path);
  return rc;
}

/* ---------------------------------------------------------- checkpoints */

static void *checkpoint_main(void *arg)
{
  struct sq_db *s = arg;
  pthread_mutex_lock(&s->ckpt_mu);
  while (!s->ckpt_stop) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += CHECKPOINT_INTERVAL_MS % 1000 * 1000000L;
    until.tv_sec += CHECKPOINT_INTERVAL_MS / 1000 + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&s->ckpt_cv, &s->ckpt_mu, &until);
    if (s->ckpt_stop)
      break;
    pthread_mutex_unlock(&s->ckpt_mu);
    /* PASSIVE never blocks writers or readers: it copies what it can. A
     * WAL grown past its bound (a burst of writes that readers kept from
     * being reset) is then copied whole and truncated: TRUNCATE holds new
     * writers back only while the last readers finish. */
    int log_frames = 0;
    int rc =
        sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames, NULL);
    if (rc == SQLITE_OK && log_frames > WAL_TRUNCATE_FRAMES)
      rc = sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
      log_warn("sqlite checkpoint failed: %s", sqlite3_errmsg(s->ckpt_db));
    pthread_mutex_lock(&s->ckpt_mu);
  }
  pthread_mutex_unlock(&s->ckpt_mu);
  return NULL;
}

/* WAL checkpoints move to their own thread and connection, so no request
 * or live call ever waits on the checkpoint's fsyncs. */
static int sq_start_background(struct db *d)
{
  struct sq_db *s = sq_db(d);
  char err[1400]; /* room for the path in open_conn's messages */
  sqlite3 *db = NULL;
  if (s->ckpt_running)
    return DB_OK;
  if (open_conn(s, &db, err, sizeof err) != DB_OK) {
    log_error("checkpointer: %s", err);
    sqlite3_close(db);
    return DB_UNAVAILABLE;
  }
  /* The pool's connections stop checkpointing on commit; all pooled
   * connections are idle here (start-up, before any thread uses them). */
  for (size_t i = 0; i < s->nconns; i++)
    sqlite3_exec(s->conns[i].db, "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL);
  s->ckpt_db = db;
  s->ckpt_stop = false;
  if (pthread_create(&s->ckpt_thread, NULL, checkpoint_main, s) != 0) {
    sqlite3_close(s->ckpt_db);
    s->ckpt_db = NULL;
    return DB_ERROR;
  }
  s->ckpt_running = true;
  return DB_OK;
}

static void checkpoint_stop(struct sq_db *s)
{
  if (!s->ckpt_running)
    return;
  pthread_mutex_lock(&s->ckpt_mu);
  s->ckpt_stop = true;
  pthread_cond_signal(&s->ckpt_cv);
  pthread_mutex_unlock(&s->ckpt_mu);
  pthread_join(s->ckpt_thread, NULL);
  sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  sqlite3_close(s->ckpt_db);
  s->ckpt_db = NULL;
  s->ckpt_running = false;
}

const struct db_driver db_sqlite_driver = {
    .name = "sqlite",
    .dialect = DB_SQLITE,
    .open = sq_open,
    .close = sq_close,
    .start_background = sq_start_background,
    .ready = sq_ready,
    .query = sq_query,
    .script = sq_script,
    .begin = sq_begin,
    .rollback = sq_rollback,
    .xact_lock = sq_xact_lock,
    .node = sq_node,
    .col_i64 = sq_col_i64,
    .col_text = sq_col_text,
    .backup = sq_backup,
};
