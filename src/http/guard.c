/*
 * guard.c — the connection deadlines of guard.h: a doubly linked list of
 * open connections under one mutex, and a thread that walks it four
 * times a second. See guard.h for the contract and docs/internals/http.md
 * for why this exists beside MHD's own timeout.
 */
#include "http/guard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "metrics.h"
#include "util/log.h"
#include "util/timefmt.h"

#define SWEEP_MS 250

struct guard_conn {
  struct guard_conn *prev, *next;
  int fd;
  atomic_int phase;
  atomic_uint_fast64_t since_us;
  bool shut; /* shut down once already (under the list lock) */
};

struct guard {
  int64_t header_us, body_us;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  bool stopping;
  struct guard_conn *head;
  pthread_t thread;
};

/* Shuts down every connection past its phase's deadline. Called with
 * g->lock held, so every fd in the list is still open (guard_close()
 * unlinks before libmicrohttpd closes the socket). */
static void sweep(struct guard *g, uint64_t now)
{
  for (struct guard_conn *c = g->head; c != NULL; c = c->next) {
    int phase = atomic_load_explicit(&c->phase, memory_order_relaxed);
    uint64_t since = atomic_load_explicit(&c->since_us, memory_order_relaxed);
    int64_t limit = phase == GUARD_HEADERS ? g->header_us : phase == GUARD_BODY ? g->body_us : 0;
    if (limit <= 0 || c->shut || now < since || now - since <= (uint64_t)limit)
      continue;
    shutdown(c->fd, SHUT_RDWR);
    c->shut = true;
    metrics_inc(M_HTTP_CONN_DEADLINE);
  }
}

static void *sweeper(void *arg)
{
  struct guard *g = arg;
  pthread_mutex_lock(&g->lock);
  while (!g->stopping) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += SWEEP_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&g->wake, &g->lock, &ts);
    if (!g->stopping)
      sweep(g, time_mono_us());
  }
  pthread_mutex_unlock(&g->lock);
  return NULL;
}

struct guard *guard_start(int64_t header_ms, int64_t body_ms)
{
  struct guard *g = calloc(1, sizeof *g);
  if (g == NULL)
    return NULL;
  g->header_us = header_ms * 1000;
  g->body_us = body_ms * 1000;
  pthread_mutex_init(&g->lock, NULL);
  pthread_cond_init(&g->wake, NULL);
  if (pthread_create(&g->thread, NULL, sweeper, g) != 0) {
    log_error("http: cannot start the connection deadline thread");
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g);
    return NULL;
  }
  return g;
}

void guard_stop(struct guard *g)
{
  if (g == NULL)
    return;
  pthread_mutex_lock(&g->lock);
  g->stopping = true;
  pthread_cond_signal(&g->wake);
  pthread_mutex_unlock(&g->lock);
  pthread_join(g->thread, NULL);
  while (g->head != NULL) {
    struct guard_conn *c = g->head;
    g->head = c->next;
    free(c);
  }
  pthread_cond_destroy(&g->wake);
  pthread_mutex_destroy(&g->lock);
  free(g);
}

struct guard_conn *guard_open(struct guard *g, int fd)
{
  struct guard_conn *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  c->fd = fd;
  atomic_init(&c->phase, GUARD_HEADERS);
  atomic_init(&c->since_us, time_mono_us());
  pthread_mutex_lock(&g->lock);
  c->next = g->head;
  if (g->head != NULL)
    g->head->prev = c;
  g->head = c;
  pthread_mutex_unlock(&g->lock);
  return c;
}

void guard_close(struct guard *g, struct guard_conn *c)
{
  if (c == NULL)
    return;
  pthread_mutex_lock(&g->lock);
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    g->head = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  pthread_mutex_unlock(&g->lock);
  free(c);
}

void guard_phase(struct guard_conn *c, enum guard_phase p)
{
  if (c == NULL || atomic_load_explicit(&c->phase, memory_order_relaxed) == GUARD_UPGRADED)
    return;
  atomic_store_explicit(&c->since_us, time_mono_us(), memory_order_relaxed);
  atomic_store_explicit(&c->phase, (int)p, memory_order_relaxed);
}
