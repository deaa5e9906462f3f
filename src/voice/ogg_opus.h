/*
 * ogg_opus.h — a streaming Ogg Opus (RFC 7845) writer for call recordings,
 * the compact alternative to wav.h (ATHOS_RECORDING_FORMAT=ogg), and the
 * header check the recording endpoint uses.
 *
 * 16-bit interleaved PCM at an Opus rate (8, 12, 16, 24 or 48 kHz) goes in;
 * 20 ms Opus packets (VOIP mode, OGG_OPUS_BITRATE_PER_CHANNEL) come out in
 * Ogg pages: OpusHead (with the encoder's pre-skip) and OpusTags on their
 * own pages, then audio pages whose granule positions count 48 kHz
 * samples, the last one trimmed to the exact input length and flagged end
 * of stream by close.
 *
 * Crash safety: a page is written with write(2) as soon as it fills
 * (libogg's ~4 kB) or holds OGG_OPUS_PAGE_MS of audio, so a killed server
 * leaves a stream that decoders play up to its last whole page: at most
 * that much of what was handed to the writer is lost (plus the 20 ms
 * packet being gathered). ogg_opus_writer_sync() writes the partial page
 * at once and fdatasyncs.
 */
#ifndef ATHOS_VOICE_OGG_OPUS_H
#define ATHOS_VOICE_OGG_OPUS_H

#include <stddef.h>
#include <stdint.h>

#define OGG_OPUS_FRAME_MS            20
#define OGG_OPUS_PAGE_MS             1000
#define OGG_OPUS_BITRATE_PER_CHANNEL 16000 /* 32 kbit/s for the two-channel call */

struct ogg_opus_writer;

/* Creates (truncating) path, mode 0640, and writes the two header pages.
 * rate must be one Opus accepts, channels 1 or 2. Owned; end it with
 * ogg_opus_writer_close(). NULL with errno set on failure (EINVAL for a
 * rate or channel count Opus refuses). */
struct ogg_opus_writer *ogg_opus_writer_open(const char *path, unsigned rate, unsigned channels);

/* Appends n frames of interleaved samples (n * channels values), encoding
 * every whole 20 ms packet. Returns 0, or -1 on an encoder or write error
 * (the writer then refuses everything, and close reports the failure). */
int ogg_opus_writer_write(struct ogg_opus_writer *w, const int16_t *frames, size_t n);

/* Writes the page being filled (whatever packets it holds) and flushes
 * to disk. Returns 0 or -1. */
int ogg_opus_writer_sync(struct ogg_opus_writer *w);

/* Encodes the last partial packet (padded with silence, then trimmed by
 * the final granule position), writes the end-of-stream page, closes and
 * frees w (NULL accepted: returns 0). Returns -1 if this or any earlier
 * write failed. */
int ogg_opus_writer_close(struct ogg_opus_writer *w);

/* Frames (per channel, at the input rate) taken so far. */
uint64_t ogg_opus_writer_frames(const struct ogg_opus_writer *w);

struct ogg_opus_info {
  unsigned channels;
  unsigned input_rate; /* the rate the audio was recorded at, informational */
  unsigned pre_skip;   /* 48 kHz samples to drop at the start */
};

/* Reads the first page of the open file fd (with pread) of file_size
 * bytes: an Ogg beginning-of-stream page holding a whole OpusHead.
 * Returns 0, or -1 for anything else. */
int ogg_opus_read_info(int fd, uint64_t file_size, struct ogg_opus_info *out);

#endif
