/* fileio.h — reading a whole file with a size ceiling. */
#ifndef ATHOS_FILEIO_H
#define ATHOS_FILEIO_H

#include <stddef.h>

/* Reads path into a malloc'd NUL-terminated buffer (*out, caller frees)
 * of *len bytes. Fails (-1) over max bytes. */
int file_read_all(const char *path, size_t max, char **out, size_t *len);

#endif
