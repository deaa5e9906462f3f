/* fileio.c — bounded whole-file reads; whole-buffer writes. */
#include "util/fileio.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int file_read_all(const char *path, size_t max, char **out, size_t *len)
{
  int rc = -1;
  char *buf = NULL;
  FILE *f = fopen(path, "rb");
  *out = NULL;
  *len = 0;
  if (f == NULL)
    return -1;
  if (fseek(f, 0, SEEK_END) != 0)
    goto out;
  long size = ftell(f);
  if (size < 0 || (size_t)size > max || fseek(f, 0, SEEK_SET) != 0)
    goto out;
  buf = malloc((size_t)size + 1);
  if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size)
    goto out;
  buf[size] = '\0';
  *out = buf;
  *len = (size_t)size;
  buf = NULL;
  rc = 0;
out:
  free(buf);
  fclose(f);
  return rc;
}

int file_write_all(int fd, const void *buf, size_t n, off_t at)
{
  const uint8_t *p = buf;
  while (n > 0) {
    ssize_t k = at >= 0 ? pwrite(fd, p, n, at) : write(fd, p, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0) {
      if (k == 0)
        errno = EIO;
      return -1;
    }
    p += k;
    n -= (size_t)k;
    if (at >= 0)
      at += k;
  }
  return 0;
}

int file_read_at(int fd, void *buf, size_t n, uint64_t at)
{
  ssize_t k;
  do
    k = pread(fd, buf, n, (off_t)at);
  while (k < 0 && errno == EINTR);
  return k == (ssize_t)n ? 0 : -1;
}
