/*
 * athos_voice.h — what the athos-voice commands (athos_voice.c: say, hear,
 * loop) share with its speech server (voice_serve.c: serve): a buffer of
 * synthesised audio, WAV reading and recognition through the VAD, and the
 * server's options.
 */
#ifndef ATHOS_TOOLS_VOICE_H
#define ATHOS_TOOLS_VOICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "voice/asr.h"
#include "voice/pcm.h"
#include "voice/tts.h"

#define MAX_SECONDS 120
#define MAX_SAMPLES ((size_t)TTS_RATE * MAX_SECONDS)

/* Synthesised audio, and when its first chunk came. */
struct pcmbuf {
  struct pcm_buf b;
  size_t chunks;
  double first_ms; /* now_ms clock */
};

/* Recognises the utterances in pcm (16 kHz) into text (space-joined), as
 * a call would: an open microphone before and after the speech. end_ms
 * (may be NULL) gets the time spent in the final passes. */
int recognise(struct asr *a, const int16_t *pcm, size_t n, char *text, size_t cap, double *end_ms);

/* Reads a WAV's first channel, resampled to 16 kHz, into out. */
int read_wav_fd(int fd, struct pcmbuf *out);

/* `athos-voice serve`: where to listen, the key to require, and the test
 * knobs that make it a slow or failing provider. */
struct serve_opts {
  const char *listen, *key;
  double realtime;      /* send speech at this many times real time; 0 = as made */
  long stall_ms;        /* pause after a line's first chunk */
  long fail;            /* answer the first `fail` speech/transcription requests ... */
  unsigned fail_status; /* ... with this status (503) */
  long retry_after;     /* ... and this Retry-After in seconds (< 0: none) */
};

/* Runs until SIGINT or SIGTERM. Prints "listening on HOST:PORT" once ready
 * (PORT 0 picks a free one, which the line names). Returns 0 or -1. */
int cmd_serve(struct tts *t, struct asr *a, const struct serve_opts *o);

#endif
