/*
 * recorder.h — a call's time-aligned two-channel recording (left: the rep,
 * right: the persona) on top of the WAV writer (wav.h) or the Ogg Opus
 * one (ogg_opus.h), with the waveform peaks (of both channels together)
 * computed on the way to disk.
 *
 * Both sides are placed by the call's sample clock (samples since the
 * call's audio started, at the recording rate): the rep's audio at the
 * position it arrived, the persona's at the position it was sent. A ring
 * of window_ms holds what may still be written to; voice_rec_flush()
 * moves the older part to the file, filling gaps with silence. The window
 * must hold the longest persona line sent ahead of its playing (35 s is
 * ample: 2.2 MB at 16 kHz); a put past it writes the oldest part out at
 * once, and rep audio for that time arriving later is lost. Persona
 * audio sent ahead of time can be cut when the rep barges in, so the file
 * holds what was really heard. One thread (the call's) owns a recorder.
 */
#ifndef ATHOS_VOICE_RECORDER_H
#define ATHOS_VOICE_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum voice_rec_channel { VOICE_REC_REP = 0, VOICE_REC_PERSONA = 1 };

/* The file's format: 16-bit PCM WAV (any rate), or Ogg Opus (an Opus
 * rate: 8, 12, 16, 24 or 48 kHz). */
enum voice_rec_format { VOICE_REC_WAV = 0, VOICE_REC_OGG = 1 };

struct voice_rec;

/* Opens path for a rate-Hz recording in that format. window_ms bounds the
 * memory (window_ms * rate * 4 bytes); max_seconds bounds the waveform.
 * Owned; end with voice_rec_close(). NULL with errno on failure. */
struct voice_rec *voice_rec_open(const char *path, enum voice_rec_format format, unsigned rate,
                                 unsigned window_ms, unsigned max_seconds);

/* Places n samples of one side at clock position `at`. Audio before the
 * flushed part is dropped (it came too late); audio past the window
 * flushes the oldest part first. A side's newer audio overwrites what it
 * had there. Returns 0, or -1 once writing the file failed. */
int voice_rec_put(struct voice_rec *r, enum voice_rec_channel ch, uint64_t at, const int16_t *pcm,
                  size_t n);

/* Silences one side from `at` on (what is still in the window): the rest
 * of the persona's line after a barge-in. */
void voice_rec_cut(struct voice_rec *r, enum voice_rec_channel ch, uint64_t at);

/* Writes every frame before `until` (at most the window) to the file.
 * Returns 0 or -1 (write failure: the recording is lost, the call is not). */
int voice_rec_flush(struct voice_rec *r, uint64_t until);

/* Flushes everything placed, patches the header, closes, frees (NULL
 * accepted). Returns -1 if any write failed. */
int voice_rec_close(struct voice_rec *r);

/* Frames written so far; and {"peaksPerSecond": 10, "peaks": [...]} of
 * them as a new reference (NULL on allocation failure). */
uint64_t voice_rec_frames(const struct voice_rec *r);
json_t *voice_rec_waveform(struct voice_rec *r);

#endif
