/*
 * wav.h — a streaming WAV (RIFF, PCM s16le) writer for call recordings,
 * and the header reader the recording endpoint and tools use.
 *
 * Crash safety: the header is written first with "unknown" sizes
 * (0xFFFFFFFF, the streaming convention), patched by wav_writer_sync()
 * and wav_writer_close(). wav_read_info() accepts a file whose sizes were
 * never patched, or patched at an earlier sync: the data then runs to
 * the end of the file (whole frames only). A killed server leaves a
 * playable recording of everything written.
 */
#ifndef ATHOS_VOICE_WAV_H
#define ATHOS_VOICE_WAV_H

#include <stddef.h>
#include <stdint.h>

#define WAV_HEADER_BYTES   44
#define WAV_MAX_DATA_BYTES (0xFFFFFFFFu - 36u - 1u) /* RIFF's 32-bit sizes */

struct wav_writer;

/* Creates (truncating) path, mode 0640, and writes the header. Owned;
 * end it with wav_writer_close(). NULL with errno set on failure. */
struct wav_writer *wav_writer_open(const char *path, unsigned rate, unsigned channels);

/* Appends n frames of interleaved samples (n * channels values). Returns
 * 0, or -1 on a write error or past WAV_MAX_DATA_BYTES (the writer then
 * refuses everything, and close reports the failure). */
int wav_writer_write(struct wav_writer *w, const int16_t *frames, size_t n);

/* Patches the header's sizes to what was written and flushes to disk.
 * Returns 0 or -1. */
int wav_writer_sync(struct wav_writer *w);

/* Patches the header, closes and frees w (NULL accepted: returns 0).
 * Returns -1 if this or any earlier write failed. */
int wav_writer_close(struct wav_writer *w);

uint64_t wav_writer_frames(const struct wav_writer *w);

struct wav_info {
  unsigned rate, channels, bits;
  uint64_t data_offset; /* where the samples start */
  uint64_t data_bytes;  /* how many bytes of them (whole frames) */
};

/* Reads the header of the open file fd (from offset 0, with pread) of
 * file_size bytes. Skips unknown chunks before "data". Returns 0, or -1
 * for a file that is not 16-bit PCM WAV. */
int wav_read_info(int fd, uint64_t file_size, struct wav_info *out);

#endif
