/*
 * wav.c — the RIFF header, written with write(2)/pwrite(2) so that what a
 * write call returned is in the kernel (a crash of the process loses
 * nothing written; wav_writer_sync() adds fdatasync for power loss).
 */
#include "voice/wav.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fileio.h"
#include "voice/pcm.h"

#define WAV_UNKNOWN 0xFFFFFFFFu

struct wav_writer {
  int fd;
  unsigned channels;
  uint64_t bytes; /* data bytes written */
  bool failed;
};

static void put_le16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static uint16_t get_le16(const uint8_t *p)
{
  return (uint16_t)(p[0] | p[1] << 8);
}

static void header(uint8_t h[WAV_HEADER_BYTES], unsigned rate, unsigned channels,
                   uint32_t data_bytes)
{
  uint32_t riff = data_bytes == WAV_UNKNOWN ? WAV_UNKNOWN : data_bytes + 36u;
  memcpy(h, "RIFF", 4);
  pcm_put_le32(h + 4, riff);
  memcpy(h + 8, "WAVEfmt ", 8);
  pcm_put_le32(h + 16, 16);
  put_le16(h + 20, 1); /* PCM */
  put_le16(h + 22, (uint16_t)channels);
  pcm_put_le32(h + 24, rate);
  pcm_put_le32(h + 28, rate * channels * 2);
  put_le16(h + 32, (uint16_t)(channels * 2));
  put_le16(h + 34, 16);
  memcpy(h + 36, "data", 4);
  pcm_put_le32(h + 40, data_bytes);
}

struct wav_writer *wav_writer_open(const char *path, unsigned rate, unsigned channels)
{
  if (rate == 0 || channels == 0 || channels > 8) {
    errno = EINVAL;
    return NULL;
  }
  struct wav_writer *w = calloc(1, sizeof *w);
  if (!w)
    return NULL;
  w->channels = channels;
  w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (w->fd < 0)
    goto fail;
  uint8_t h[WAV_HEADER_BYTES];
  header(h, rate, channels, WAV_UNKNOWN);
  if (file_write_all(w->fd, h, sizeof h, -1) < 0)
    goto fail;
  return w;
fail:;
  int saved = errno;
  if (w->fd >= 0)
    close(w->fd);
  free(w);
  errno = saved;
  return NULL;
}

int wav_writer_write(struct wav_writer *w, const int16_t *frames, size_t n)
{
  uint8_t buf[4096];
  size_t values = n * w->channels;
  if (w->failed)
    return -1;
  if (w->bytes + (uint64_t)values * 2 > WAV_MAX_DATA_BYTES) {
    w->failed = true;
    return -1;
  }
  while (values > 0) {
    size_t take = values < sizeof buf / 2 ? values : sizeof buf / 2;
    pcm_to_le(frames, take, buf);
    if (file_write_all(w->fd, buf, take * 2, -1) < 0) {
      w->failed = true;
      return -1;
    }
    w->bytes += take * 2;
    frames += take;
    values -= take;
  }
  return 0;
}

static int patch_sizes(struct wav_writer *w)
{
  uint8_t b[4];
  pcm_put_le32(b, (uint32_t)w->bytes + 36u);
  if (file_write_all(w->fd, b, 4, 4) < 0)
    return -1;
  pcm_put_le32(b, (uint32_t)w->bytes);
  return file_write_all(w->fd, b, 4, 40);
}

int wav_writer_sync(struct wav_writer *w)
{
  if (w->failed || patch_sizes(w) < 0 || fdatasync(w->fd) < 0) {
    w->failed = true;
    return -1;
  }
  return 0;
}

int wav_writer_close(struct wav_writer *w)
{
  if (!w)
    return 0;
  int rc = w->failed ? -1 : 0;
  if (rc == 0 && patch_sizes(w) < 0)
    rc = -1;
  if (close(w->fd) < 0)
    rc = -1;
  free(w);
  return rc;
}

uint64_t wav_writer_frames(const struct wav_writer *w)
{
  return w->bytes / (2u * w->channels);
}

/* True if a chunk header (a printable four-letter id) sits at `at`. */
static bool chunk_follows(int fd, uint64_t at, uint64_t file_size)
{
  uint8_t id[4];
  if (at + 8 > file_size || file_read_at(fd, id, 4, at) < 0)
    return false;
  for (int i = 0; i < 4; i++)
    if (id[i] < 0x20 || id[i] > 0x7e)
      return false;
  return true;
}

int wav_read_info(int fd, uint64_t file_size, struct wav_info *out)
{
  uint8_t h[12], ck[8], fmt[16];
  bool have_fmt = false;
  if (file_size < WAV_HEADER_BYTES || file_read_at(fd, h, 12, 0) < 0 || memcmp(h, "RIFF", 4) != 0 ||
      memcmp(h + 8, "WAVE", 4) != 0)
    return -1;
  memset(out, 0, sizeof *out);
  for (uint64_t at = 12; at + 8 <= file_size;) {
    if (file_read_at(fd, ck, 8, at) < 0)
      return -1;
    uint64_t len = pcm_get_le32(ck + 4), body = at + 8;
    if (memcmp(ck, "fmt ", 4) == 0) {
      if (len < 16 || file_read_at(fd, fmt, 16, body) < 0)
        return -1;
      out->channels = get_le16(fmt + 2);
      out->rate = pcm_get_le32(fmt + 4);
      out->bits = get_le16(fmt + 14);
      if (get_le16(fmt) != 1 || out->bits != 16 || out->channels == 0 || out->rate == 0)
        return -1;
      have_fmt = true;
    } else if (memcmp(ck, "data", 4) == 0) {
      if (!have_fmt)
        return -1;
      uint64_t frame = 2u * out->channels, avail = file_size - body;
      /* unpatched (0xFFFFFFFF or 0), stale (patched at a sync, then more
       * written) or cut short: the samples run to the end of the file */
      if (len == WAV_UNKNOWN || len == 0 || len > avail ||
          (len < avail && !chunk_follows(fd, body + len + (len & 1), file_size)))
        len = avail;
      out->data_offset = body;
      out->data_bytes = len - len % frame;
      return 0;
    }
    at = body + len + (len & 1);
  }
  return -1;
}
