/* keyfile.c — the master key file: permission check, then raw, hex or
 * base64 (see keyfile.h). */
#include "util/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "util/crypto.h"
#include "util/hex.h"

#define KEYFILE_MAX 256 /* longer than any accepted form */

/* The key from the file's text: exactly 32 raw bytes, else trimmed hex
 * or base64. */
static int key_decode(const uint8_t *buf, size_t n, uint8_t key[KEYFILE_KEY_LEN])
{
  if (n == KEYFILE_KEY_LEN) {
    memcpy(key, buf, KEYFILE_KEY_LEN);
    return 0;
  }
  while (n > 0 &&
         (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
    n--;
  char text[KEYFILE_MAX + 1];
  memcpy(text, buf, n);
  text[n] = '\0';
  int rc = -1;
  if (n == 2 * KEYFILE_KEY_LEN && hex_decode(text, key, KEYFILE_KEY_LEN) == 0)
    rc = 0;
  else if (b64_decode(text, n, key, KEYFILE_KEY_LEN) == KEYFILE_KEY_LEN)
    rc = 0;
  OPENSSL_cleanse(text, sizeof text);
  return rc;
}

int keyfile_load(const char *path, uint8_t key[KEYFILE_KEY_LEN], char *err, size_t errlen)
{
  uint8_t buf[KEYFILE_MAX + 1];
  struct stat st;
  ssize_t n = 0;
  int rc = -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open the master key file %s: %s", path, strerror(errno));
    return -1;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "the master key file %s is not a regular file", path);
    goto cleanup;
  }
  if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    snprintf(err, errlen,
             "the master key file %s is readable or writable by other users"
             " (chmod 600 it)",
             path);
    goto cleanup;
  }
  while ((size_t)n < sizeof buf) {
    ssize_t r = read(fd, buf + n, sizeof buf - (size_t)n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      n = r < 0 ? -1 : n;
      break;
    }
    n += r;
  }
  if (n < 0 || (size_t)n > KEYFILE_MAX || key_decode(buf, (size_t)n, key) != 0) {
    snprintf(err, errlen,
             "the master key file %s must hold 32 bytes: raw, as 64 hex digits"
             " or in base64",
             path);
    goto cleanup;
  }
  rc = 0;
cleanup:
  OPENSSL_cleanse(buf, sizeof buf);
  close(fd);
  return rc;
}
