/*
 * ogg_opus.c — libopus encodes 20 ms packets, libogg frames them into
 * pages, and each page goes to the file with write(2) (util/fileio) as it
 * comes out: a crash of the process loses only the page being filled.
 * Granule positions count 48 kHz samples from the stream's start, the
 * pre-skip included (RFC 7845 §4); the last packet's is the exact end of
 * the input, so decoders trim the silence that padded it.
 */
#include "voice/ogg_opus.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ogg/ogg.h>
#include <opus.h>

#include "util/crypto.h"
#include "util/fileio.h"
#include "voice/pcm.h"

#define RATE_48K        48000u
#define OPUS_HEAD_BYTES 19
#define MAX_PACKET      1500 /* a 20 ms frame is at most 1275 bytes */
#define MAX_VENDOR      64
/* Encoder effort, 0..10. The live loop's thread encodes every call's
 * recording: on a real call 5 costs 6 ms of CPU per second of audio, 10
 * twice that, 0 2.7 ms, for files within 3% of one size
 * (docs/internals/voice.md "Ogg Opus"). */
#define OGG_OPUS_COMPLEXITY 5

struct ogg_opus_writer {
  int fd;
  OpusEncoder *enc;
  ogg_stream_state os;
  bool os_ready;
  unsigned channels;
  unsigned frame;    /* frames per packet: 20 ms at the input rate */
  unsigned scale;    /* 48 kHz samples per input frame */
  unsigned pre_skip; /* 48 kHz samples */
  int16_t *pending;  /* frame * channels samples: the packet being gathered */
  size_t npending;   /* frames in it */
  uint64_t frames;   /* frames taken */
  int64_t packetno;
  int64_t granule;      /* 48 kHz samples in the packets encoded so far */
  int64_t page_granule; /* the granule position of the last page written */
  bool failed;
};

static bool opus_rate(unsigned rate)
{
  return rate == 8000 || rate == 12000 || rate == 16000 || rate == 24000 || rate == 48000;
}

/* ------------------------------------------------------------ pages */

static int write_page(struct ogg_opus_writer *w, const ogg_page *og)
{
  if (file_write_all(w->fd, og->header, (size_t)og->header_len, -1) < 0 ||
      file_write_all(w->fd, og->body, (size_t)og->body_len, -1) < 0) {
    w->failed = true;
    return -1;
  }
  if (ogg_page_granulepos(og) >= 0)
    w->page_granule = ogg_page_granulepos(og);
  return 0;
}

/* Writes the pages libogg has filled; with force, or once the page being
 * filled holds OGG_OPUS_PAGE_MS of audio, that one too. */
static int drain(struct ogg_opus_writer *w, bool force)
{
  ogg_page og;
  while (ogg_stream_pageout(&w->os, &og) != 0)
    if (write_page(w, &og) < 0)
      return -1;
  if (!force && w->granule - w->page_granule < (int64_t)OGG_OPUS_PAGE_MS * (RATE_48K / 1000))
    return 0;
  while (ogg_stream_flush(&w->os, &og) != 0)
    if (write_page(w, &og) < 0)
      return -1;
  return 0;
}

static int put_packet(struct ogg_opus_writer *w, const uint8_t *data, size_t len, int64_t granule,
                      bool eos)
{
  ogg_packet op = {
      .packet = (unsigned char *)data,
      .bytes = (long)len,
      .b_o_s = w->packetno == 0,
      .e_o_s = eos,
      .granulepos = granule,
      .packetno = w->packetno,
  };
  w->packetno++;
  if (ogg_stream_packetin(&w->os, &op) != 0) {
    w->failed = true;
    return -1;
  }
  return 0;
}

/* The identification and comment headers, each on its own page. */
static int write_headers(struct ogg_opus_writer *w, unsigned rate)
{
  uint8_t head[OPUS_HEAD_BYTES] = "OpusHead";
  head[8] = 1; /* version */
  head[9] = (uint8_t)w->channels;
  head[10] = (uint8_t)w->pre_skip;
  head[11] = (uint8_t)(w->pre_skip >> 8);
  pcm_put_le32(head + 12, rate);
  /* output gain 0, channel mapping family 0: the zeros already there */
  if (put_packet(w, head, sizeof head, 0, false) < 0 || drain(w, true) < 0)
    return -1;
  const char *vendor = opus_get_version_string();
  size_t vlen = strnlen(vendor, MAX_VENDOR);
  uint8_t tags[8 + 4 + MAX_VENDOR + 4];
  memcpy(tags, "OpusTags", 8);
  pcm_put_le32(tags + 8, (uint32_t)vlen);
  memcpy(tags + 12, vendor, vlen);
  pcm_put_le32(tags + 12 + vlen, 0); /* no user comments */
  if (put_packet(w, tags, 16 + vlen, 0, false) < 0 || drain(w, true) < 0)
    return -1;
  return 0;
}

/* Encodes one whole packet of pending samples. The last one ends the
 * stream at the input's exact length. */
static int encode(struct ogg_opus_writer *w, bool last)
{
  uint8_t out[MAX_PACKET];
  opus_int32 len = opus_encode(w->enc, w->pending, (int)w->frame, out, sizeof out);
  if (len < 0) {
    w->failed = true;
    return -1;
  }
  w->granule += (int64_t)w->frame * w->scale;
  int64_t gp = last ? (int64_t)w->pre_skip + (int64_t)(w->frames * w->scale) : w->granule;
  if (put_packet(w, out, (size_t)len, gp, last) < 0)
    return -1;
  return drain(w, last);
}

/* ------------------------------------------------------------ lifetime */

static void destroy(struct ogg_opus_writer *w)
{
  if (w->os_ready)
    ogg_stream_clear(&w->os);
  if (w->enc != NULL)
    opus_encoder_destroy(w->enc);
  free(w->pending);
  free(w);
}

/* The encoder, set up for speech; w->pre_skip from its lookahead. */
static int make_encoder(struct ogg_opus_writer *w, unsigned rate)
{
  int err = 0;
  opus_int32 lookahead = 0;
  w->enc = opus_encoder_create((opus_int32)rate, (int)w->channels, OPUS_APPLICATION_VOIP, &err);
  if (w->enc == NULL || err != OPUS_OK ||
      opus_encoder_ctl(w->enc, OPUS_SET_BITRATE(OGG_OPUS_BITRATE_PER_CHANNEL *
                                                (opus_int32)w->channels)) != OPUS_OK ||
      opus_encoder_ctl(w->enc, OPUS_SET_COMPLEXITY(OGG_OPUS_COMPLEXITY)) != OPUS_OK ||
      opus_encoder_ctl(w->enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)) != OPUS_OK ||
      opus_encoder_ctl(w->enc, OPUS_GET_LOOKAHEAD(&lookahead)) != OPUS_OK || lookahead < 0) {
    errno = err == OPUS_ALLOC_FAIL ? ENOMEM : EINVAL;
    return -1;
  }
  w->pre_skip = (unsigned)lookahead * w->scale; /* the lookahead is at the input rate */
  return 0;
}

struct ogg_opus_writer *ogg_opus_writer_open(const char *path, unsigned rate, unsigned channels)
{
  if (!opus_rate(rate) || channels == 0 || channels > 2) {
    errno = EINVAL;
    return NULL;
  }
  struct ogg_opus_writer *w = calloc(1, sizeof *w);
  if (w == NULL)
    return NULL;
  w->fd = -1;
  w->channels = channels;
  w->frame = rate / 1000 * OGG_OPUS_FRAME_MS;
  w->scale = RATE_48K / rate;
  w->pending = calloc((size_t)w->frame * channels, sizeof *w->pending);
  if (w->pending == NULL || make_encoder(w, rate) < 0)
    goto fail;
  uint32_t serial;
  if (crypto_random(&serial, sizeof serial) != 0) /* streams are told apart by it */
    serial = (uint32_t)getpid();
  if (ogg_stream_init(&w->os, (int)serial) != 0) {
    errno = ENOMEM;
    goto fail;
  }
  w->os_ready = true;
  w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (w->fd < 0 || write_headers(w, rate) < 0)
    goto fail;
  return w;
fail:;
  int saved = errno ? errno : ENOMEM;
  if (w->fd >= 0)
    close(w->fd);
  destroy(w);
  errno = saved;
  return NULL;
}

int ogg_opus_writer_write(struct ogg_opus_writer *w, const int16_t *frames, size_t n)
{
  if (w->failed)
    return -1;
  while (n > 0) {
    size_t take = w->frame - w->npending;
    if (take > n)
      take = n;
    memcpy(w->pending + w->npending * w->channels, frames, take * w->channels * sizeof *frames);
    w->npending += take;
    w->frames += take;
    frames += take * w->channels;
    n -= take;
    if (w->npending == w->frame) {
      w->npending = 0;
      if (encode(w, false) < 0)
        return -1;
    }
  }
  return 0;
}

int ogg_opus_writer_sync(struct ogg_opus_writer *w)
{
  if (w->failed || drain(w, true) < 0 || fdatasync(w->fd) < 0) {
    w->failed = true;
    return -1;
  }
  return 0;
}

/* Encodes the rest: the partial packet padded with silence, then silent
 * packets until they cover the encoder's delay; the last ends the stream. */
static int finish(struct ogg_opus_writer *w)
{
  int64_t end = (int64_t)w->pre_skip + (int64_t)(w->frames * w->scale);
  int64_t step = (int64_t)w->frame * w->scale;
  if (w->failed)
    return -1;
  for (;;) {
    memset(w->pending + w->npending * w->channels, 0,
           (w->frame - w->npending) * w->channels * sizeof *w->pending);
    w->npending = 0;
    bool last = w->granule + step >= end;
    if (encode(w, last) < 0)
      return -1;
    if (last)
      return 0;
  }
}

int ogg_opus_writer_close(struct ogg_opus_writer *w)
{
  if (w == NULL)
    return 0;
  int rc = finish(w);
  if (close(w->fd) < 0)
    rc = -1;
  destroy(w);
  return rc;
}

uint64_t ogg_opus_writer_frames(const struct ogg_opus_writer *w)
{
  return w->frames;
}

/* ------------------------------------------------------------ reading */

int ogg_opus_read_info(int fd, uint64_t file_size, struct ogg_opus_info *out)
{
  uint8_t h[27], lacing[255], head[OPUS_HEAD_BYTES];
  if (file_size < sizeof h + 1 + sizeof head || file_read_at(fd, h, sizeof h, 0) < 0 ||
      memcmp(h, "OggS", 4) != 0 || h[4] != 0 || (h[5] & 0x02) == 0 || h[26] == 0)
    return -1;
  size_t nseg = h[26], len = 0, i = 0;
  if (file_read_at(fd, lacing, nseg, sizeof h) < 0)
    return -1;
  while (i < nseg && lacing[i] == 255) /* the first packet's length */
    len += lacing[i++];
  if (i == nseg) /* OpusHead must end on the first page */
    return -1;
  len += lacing[i];
  if (len < sizeof head || file_read_at(fd, head, sizeof head, sizeof h + nseg) < 0 ||
      memcmp(head, "OpusHead", 8) != 0 || (head[8] & 0xf0) != 0 || head[9] == 0)
    return -1;
  out->channels = head[9];
  out->pre_skip = (unsigned)(head[10] | head[11] << 8);
  out->input_rate = pcm_get_le32(head + 12);
  return 0;
}
