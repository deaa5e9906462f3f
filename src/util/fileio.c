/* fileio.c — bounded whole-file reads. */
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>

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
