/*
 * sqlite_stamp.c — the wal-index header as a commit stamp.
 *
 * In WAL mode every commit, by any connection of any process, rewrites the
 * 48-byte wal-index header at the start of the "-shm" file (its change
 * counter and frame count move; a WAL restart changes its salts). SQLite
 * itself reads that header without a lock: two copies, the second written
 * first, equal only when no write was in progress. Reading them the same
 * way costs a few loads, where a read transaction costs file locks — so a
 * value derived from the database (the auth generation) is re-read only
 * when the stamp moved, and a commit that returned before a request began
 * is always seen by that request.
 *
 * The mapping is made lazily, once the file exists at its first 32 KiB
 * region: SQLite truncates the -shm file only when no connection on the
 * machine has it open, and this process keeps its pool open.
 */
#include "store/sqlite_stamp.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHM_REGION 32768 /* the size SQLite grows the -shm file by */
#define HDR_LEN    48    /* one copy of the WalIndexHdr */
#define HDR_ISINIT 12    /* its isInit byte */

_Static_assert(DB_STAMP_LEN == HDR_LEN, "the stamp is one header copy");

void sqlite_stamp_init(struct sqlite_stamp *st)
{
  memset(st, 0, sizeof *st);
  pthread_mutex_init(&st->mu, NULL);
}

void sqlite_stamp_close(struct sqlite_stamp *st)
{
  if (st->hdr != NULL)
    munmap((void *)st->hdr, st->maplen);
  st->hdr = NULL;
  pthread_mutex_destroy(&st->mu);
}

static void map_shm(struct sqlite_stamp *st, const char *db_path)
{
  char path[1100];
  if (snprintf(path, sizeof path, "%s-shm", db_path) >= (int)sizeof path)
    return;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  struct stat sb;
  long page = sysconf(_SC_PAGESIZE);
  size_t len = page > 0 ? (size_t)page : 4096;
  if (fstat(fd, &sb) == 0 && sb.st_size >= SHM_REGION && (size_t)sb.st_size >= len) {
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) {
      st->maplen = len;
      __atomic_store_n(&st->hdr, (const volatile unsigned char *)p, __ATOMIC_RELEASE);
    }
  }
  close(fd);
}

static void copy_hdr(unsigned char *out, const volatile unsigned char *in)
{
  for (size_t i = 0; i < HDR_LEN; i++)
    out[i] = in[i];
}

bool sqlite_stamp_read(struct sqlite_stamp *st, const char *db_path,
                       unsigned char out[DB_STAMP_LEN])
{
  const volatile unsigned char *hdr = __atomic_load_n(&st->hdr, __ATOMIC_ACQUIRE);
  if (hdr == NULL) {
    pthread_mutex_lock(&st->mu);
    if (st->hdr == NULL)
      map_shm(st, db_path);
    hdr = st->hdr;
    pthread_mutex_unlock(&st->mu);
    if (hdr == NULL)
      return false;
  }
  unsigned char second[HDR_LEN];
  /* as walIndexTryHdr: the first copy, a barrier, then the second */
  copy_hdr(out, hdr);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  copy_hdr(second, hdr + HDR_LEN);
  return out[HDR_ISINIT] != 0 && memcmp(out, second, HDR_LEN) == 0;
}
