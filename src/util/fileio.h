/* fileio.h — reading a whole file with a size ceiling; writing all of a
 * buffer to a file descriptor. */
#ifndef ATHOS_FILEIO_H
#define ATHOS_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads path into a malloc'd NUL-terminated buffer (*out, caller frees)
 * of *len bytes. Fails (-1) over max bytes. */
int file_read_all(const char *path, size_t max, char **out, size_t *len);

/* Writes all n bytes of buf to fd: at offset `at` (pwrite), or appended
 * at the file position when at < 0 (write). Retries short writes and
 * EINTR. Returns 0, or -1 with errno set. */
int file_write_all(int fd, const void *buf, size_t n, off_t at);

/* Reads exactly n bytes of fd at offset `at` (pread, EINTR retried).
 * Returns 0, or -1 on an error or a file that ends sooner. */
int file_read_at(int fd, void *buf, size_t n, uint64_t at);

#endif
