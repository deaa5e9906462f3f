/*
 * decoders.h — the live loop's recognisers (issue 10): PocketSphinx
 * decoders are not thread-safe and cost ~70 MB each, so one is bound to an
 * utterance while it is spoken (voice.c) and goes back to a spare list at
 * its end. At most `max` exist at once (ATHOS_VOICE_DECODERS): an
 * utterance that starts when all are bound waits in a FIFO and gets the
 * next one freed; its audio is kept meanwhile and recognised in one go.
 *
 * Loop thread only. A decoder is counted from its reservation (it may be
 * made later, on a pool worker) until it is dropped.
 */
#ifndef ATHOS_LIVE_DECODERS_H
#define ATHOS_LIVE_DECODERS_H

#include <stdbool.h>
#include <stddef.h>

struct asr;

/* A waiter, embedded in its owner. granted() runs on the loop with a
 * spare decoder, or with NULL: a reservation, the waiter makes one. */
struct live_decoder_wait {
  struct live_decoder_wait *next;
  void (*granted)(struct live_decoder_wait *w, struct asr *a);
};

struct live_decoders {
  struct asr **spare;
  size_t n_spare, cap_spare;
  size_t alive; /* spare + bound + reserved */
  size_t max;   /* 0 = no bound */
  struct live_decoder_wait *head, *tail;
};

/* A spare decoder, or NULL. */
struct asr *live_decoders_take(struct live_decoders *d);
/* Room for one more: counts it (the caller makes it, or drops NULL). */
bool live_decoders_reserve(struct live_decoders *d);
/* A decoder back (made for a reservation, or done with an utterance): to
 * the first waiter, else to the spare list. */
void live_decoders_give(struct live_decoders *d, struct asr *a);
/* Frees a (failed, or abandoned mid-utterance; NULL: a reservation never
 * made) and lets the first waiter reserve in its place. */
void live_decoders_drop(struct live_decoders *d, struct asr *a);
/* Joins the queue for the next decoder; leave it with _unwait (a call
 * that ends first). */
void live_decoders_wait(struct live_decoders *d, struct live_decoder_wait *w);
void live_decoders_unwait(struct live_decoders *d, struct live_decoder_wait *w);
/* Frees the spare ones (bound ones are freed by their jobs). */
void live_decoders_clear(struct live_decoders *d);

#endif
