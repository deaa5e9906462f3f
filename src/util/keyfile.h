/*
 * keyfile.h — reading the master key (ATHOS_MASTER_KEY_FILE): 32 random
 * bytes, as raw bytes, 64 hex digits or standard base64, with optional
 * trailing whitespace. A file other users can read is refused.
 */
#ifndef ATHOS_KEYFILE_H
#define ATHOS_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#define KEYFILE_KEY_LEN 32

/* Returns 0 with key filled, or -1 with err set (never the key's bytes). */
int keyfile_load(const char *path, uint8_t key[KEYFILE_KEY_LEN], char *err, size_t errlen);

#endif
