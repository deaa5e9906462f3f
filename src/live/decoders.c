/*
 * decoders.c — the bounded set of recognisers the live loop binds to
 * utterances (decoders.h): a spare stack, a count, and a FIFO of waiters.
 */
#include "live/decoders.h"

#include <stdlib.h>

#include "metrics.h"
#include "voice/asr.h"

static struct live_decoder_wait *pop_waiter(struct live_decoders *d)
{
  struct live_decoder_wait *w = d->head;
  if (w != NULL) {
    d->head = w->next;
    if (d->head == NULL)
      d->tail = NULL;
    w->next = NULL;
  }
  return w;
}

static void count(struct live_decoders *d, long delta)
{
  d->alive = (size_t)((long)d->alive + delta);
  metrics_gauge_set(G_VOICE_DECODERS, (int64_t)d->alive);
}

struct asr *live_decoders_take(struct live_decoders *d)
{
  return d->n_spare > 0 ? d->spare[--d->n_spare] : NULL;
}

bool live_decoders_reserve(struct live_decoders *d)
{
  if (d->max > 0 && d->alive >= d->max)
    return false;
  count(d, +1);
  return true;
}

void live_decoders_give(struct live_decoders *d, struct asr *a)
{
  struct live_decoder_wait *w = pop_waiter(d);
  if (w != NULL) {
    w->granted(w, a);
    return;
  }
  if (d->n_spare == d->cap_spare) {
    size_t cap = d->cap_spare ? d->cap_spare * 2 : 8;
    struct asr **grown = realloc(d->spare, cap * sizeof *grown);
    if (grown == NULL) {
      live_decoders_drop(d, a);
      return;
    }
    d->spare = grown;
    d->cap_spare = cap;
  }
  d->spare[d->n_spare++] = a;
}

void live_decoders_drop(struct live_decoders *d, struct asr *a)
{
  asr_free(a);
  struct live_decoder_wait *w = pop_waiter(d);
  if (w != NULL)
    w->granted(w, NULL); /* the room freed is the waiter's: it makes one */
  else
    count(d, -1);
}

void live_decoders_wait(struct live_decoders *d, struct live_decoder_wait *w)
{
  w->next = NULL;
  if (d->tail != NULL)
    d->tail->next = w;
  else
    d->head = w;
  d->tail = w;
}

void live_decoders_unwait(struct live_decoders *d, struct live_decoder_wait *w)
{
  struct live_decoder_wait *prev = NULL;
  for (struct live_decoder_wait *it = d->head; it != NULL; prev = it, it = it->next) {
    if (it != w)
      continue;
    if (prev != NULL)
      prev->next = it->next;
    else
      d->head = it->next;
    if (d->tail == it)
      d->tail = prev;
    it->next = NULL;
    return;
  }
}

void live_decoders_clear(struct live_decoders *d)
{
  while (d->n_spare > 0) {
    asr_free(d->spare[--d->n_spare]);
    count(d, -1);
  }
  free(d->spare);
  d->spare = NULL;
  d->cap_spare = 0;
}
