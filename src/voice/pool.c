/*
 * pool.c — one mutex guards three intrusive FIFOs: `urgent` and `queue`
 * (submitted, not started; a worker takes from `urgent` first) and `ready`
 * (jobs with news for the loop). A job is on at most
 * one of them at a time and on `ready` at most once (ready_listed); the
 * eventfd is written whenever `ready` goes from empty to non-empty, and
 * drain empties it. Workers wait on a condition variable.
 */
#include "voice/pool.h"

#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct fifo {
  struct voice_job *head, *tail;
  size_t len;
};

struct worker {
  struct voice_pool *pool;
  pthread_t thread;
  unsigned index;
  bool urgent_only; /* one of the urgent_workers */
  bool started;
};

struct voice_pool {
  struct voice_pool_config cfg;
  pthread_mutex_t mu;
  pthread_cond_t cv;        /* work queued, or stopping */
  pthread_cond_t urgent_cv; /* urgent work queued, or stopping (urgent-only workers) */
  pthread_cond_t init_cv;   /* a worker finished worker_init */
  struct fifo urgent, queue, ready;
  bool stopping;
  unsigned inits_done, inits_failed;
  int efd;
  struct worker *workers;
};

static void fifo_push(struct fifo *f, struct voice_job *j)
{
  j->next = NULL;
  if (f->tail)
    f->tail->next = j;
  else
    f->head = j;
  f->tail = j;
  f->len++;
}

static struct voice_job *fifo_pop(struct fifo *f)
{
  struct voice_job *j = f->head;
  if (!j)
    return NULL;
  f->head = j->next;
  if (!f->head)
    f->tail = NULL;
  f->len--;
  j->next = NULL;
  return j;
}

void voice_job_init(struct voice_job *job, void (*run)(struct voice_job *, void *),
                    voice_job_fn progress, voice_job_fn done)
{
  job->run = run;
  job->progress = progress;
  job->done = done;
  atomic_store(&job->cancelled, false);
  job->finished = job->notified = job->ready_listed = false;
  job->next = NULL;
}

void voice_job_cancel(struct voice_job *job)
{
  atomic_store(&job->cancelled, true);
}

bool voice_job_cancelled(struct voice_job *job)
{
  return atomic_load(&job->cancelled);
}

static void signal_loop(struct voice_pool *p)
{
  uint64_t one = 1;
  ssize_t k;
  do
    k = write(p->efd, &one, sizeof one);
  while (k < 0 && errno == EINTR);
  /* EAGAIN: the counter is saturated, so it is readable anyway */
}

/* Lists job as having news; p->mu held. */
static void make_ready(struct voice_pool *p, struct voice_job *job)
{
  if (job->ready_listed)
    return;
  job->ready_listed = true;
  bool was_empty = p->ready.len == 0;
  fifo_push(&p->ready, job);
  if (was_empty)
    signal_loop(p);
}

void voice_pool_notify(struct voice_pool *p, struct voice_job *job)
{
  pthread_mutex_lock(&p->mu);
  job->notified = true;
  make_ready(p, job);
  pthread_mutex_unlock(&p->mu);
}

static void *worker_main(void *arg)
{
  struct worker *w = arg;
  struct voice_pool *p = w->pool;
  void *ctx = NULL;
  bool ok = true;
  /* Linux keeps a nice value per thread: the ordinary workers yield the
   * CPU to the urgent ones and to the loop (raising it needs no
   * privilege; failing to is harmless) */
  if (!w->urgent_only && p->cfg.background_nice > 0) {
    id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, tid);
    if (errno == 0)
      (void)setpriority(PRIO_PROCESS, tid, nice + p->cfg.background_nice);
  }
  if (p->cfg.worker_init) {
    ctx = p->cfg.worker_init(p->cfg.arg, w->index);
    ok = ctx != NULL;
  }
  pthread_mutex_lock(&p->mu);
  p->inits_done++;
  if (!ok)
    p->inits_failed++;
  pthread_cond_broadcast(&p->init_cv);
  while (ok) {
    while (!p->stopping && p->urgent.len + (w->urgent_only ? 0 : p->queue.len) == 0)
      pthread_cond_wait(w->urgent_only ? &p->urgent_cv : &p->cv, &p->mu);
    if (p->stopping)
      break;
    struct voice_job *job = p->urgent.len > 0 ? fifo_pop(&p->urgent) : fifo_pop(&p->queue);
    pthread_mutex_unlock(&p->mu);
    if (!voice_job_cancelled(job))
      job->run(job, ctx);
    pthread_mutex_lock(&p->mu);
    job->finished = true;
    make_ready(p, job);
  }
  pthread_mutex_unlock(&p->mu);
  if (ok && p->cfg.worker_fini)
    p->cfg.worker_fini(ctx);
  return NULL;
}

static void stop_workers(struct voice_pool *p)
{
  pthread_mutex_lock(&p->mu);
  p->stopping = true;
  pthread_cond_broadcast(&p->cv);
  pthread_cond_broadcast(&p->urgent_cv);
  pthread_mutex_unlock(&p->mu);
  for (unsigned i = 0; i < p->cfg.workers + p->cfg.urgent_workers; i++)
    if (p->workers[i].started)
      pthread_join(p->workers[i].thread, NULL);
}

struct voice_pool *voice_pool_new(const struct voice_pool_config *c)
{
  if (c->workers == 0 || c->max_queued == 0)
    return NULL;
  struct voice_pool *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->cfg = *c;
  p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  unsigned threads = c->workers + c->urgent_workers;
  p->workers = calloc(threads, sizeof *p->workers);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  pthread_cond_init(&p->urgent_cv, NULL);
  pthread_cond_init(&p->init_cv, NULL);
  if (p->efd < 0 || !p->workers)
    goto fail;
  unsigned started = 0;
  for (unsigned i = 0; i < threads; i++) {
    struct worker *w = &p->workers[i];
    w->pool = p;
    w->index = i;
    w->urgent_only = i >= c->workers;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
      break;
    w->started = true;
    started++;
  }
  pthread_mutex_lock(&p->mu);
  while (p->inits_done < started)
    pthread_cond_wait(&p->init_cv, &p->mu);
  bool ok = started == threads && p->inits_failed == 0;
  pthread_mutex_unlock(&p->mu);
  if (!ok)
    goto fail;
  return p;
fail:
  voice_pool_free(p);
  return NULL;
}

static int submit(struct voice_pool *p, struct fifo *lane, struct voice_job *job)
{
  int rc = -1;
  pthread_mutex_lock(&p->mu);
  if (!p->stopping && p->urgent.len + p->queue.len < p->cfg.max_queued) {
    fifo_push(lane, job);
    /* an urgent job goes to whichever kind of worker is idle */
    pthread_cond_signal(&p->cv);
    if (lane == &p->urgent)
      pthread_cond_signal(&p->urgent_cv);
    rc = 0;
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int voice_pool_submit(struct voice_pool *p, struct voice_job *job)
{
  return submit(p, &p->queue, job);
}

int voice_pool_submit_urgent(struct voice_pool *p, struct voice_job *job)
{
  return submit(p, &p->urgent, job);
}

/* Removes job from f if it is there; true if it was. */
static bool fifo_remove(struct fifo *f, struct voice_job *job)
{
  struct voice_job *prev = NULL;
  for (struct voice_job *j = f->head; j != NULL; prev = j, j = j->next) {
    if (j != job)
      continue;
    if (prev)
      prev->next = j->next;
    else
      f->head = j->next;
    if (f->tail == j)
      f->tail = prev;
    f->len--;
    j->next = NULL;
    return true;
  }
  return false;
}

void voice_pool_promote(struct voice_pool *p, struct voice_job *job)
{
  pthread_mutex_lock(&p->mu);
  if (fifo_remove(&p->queue, job)) {
    fifo_push(&p->urgent, job);
    pthread_cond_signal(&p->urgent_cv);
  }
  pthread_mutex_unlock(&p->mu);
}

int voice_pool_fd(const struct voice_pool *p)
{
  return p->efd;
}

size_t voice_pool_queued(struct voice_pool *p)
{
  pthread_mutex_lock(&p->mu);
  size_t n = p->urgent.len + p->queue.len;
  pthread_mutex_unlock(&p->mu);
  return n;
}

size_t voice_pool_drain(struct voice_pool *p)
{
  uint64_t v;
  size_t calls = 0;
  while (read(p->efd, &v, sizeof v) < 0 && errno == EINTR)
    ;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    struct voice_job *job = fifo_pop(&p->ready);
    bool notified = false, finished = false;
    if (job) {
      job->ready_listed = false;
      notified = job->notified;
      finished = job->finished;
      job->notified = false;
    }
    pthread_mutex_unlock(&p->mu);
    if (!job)
      break;
    /* after `finished` was seen, no worker touches the job again */
    if (notified && job->progress) {
      job->progress(job);
      calls++;
    }
    if (finished) {
      job->done(job);
      calls++;
    }
  }
  return calls;
}

void voice_pool_free(struct voice_pool *p)
{
  if (!p)
    return;
  if (p->workers)
    stop_workers(p);
  struct voice_job *job;
  while ((job = fifo_pop(&p->urgent)) || (job = fifo_pop(&p->queue))) { /* never started */
    voice_job_cancel(job);
    job->finished = true;
    fifo_push(&p->ready, job);
  }
  while ((job = fifo_pop(&p->ready))) {
    if (job->notified && job->progress && !voice_job_cancelled(job))
      job->progress(job);
    job->done(job);
  }
  if (p->efd >= 0)
    close(p->efd);
  pthread_cond_destroy(&p->init_cv);
  pthread_cond_destroy(&p->cv);
  pthread_cond_destroy(&p->urgent_cv);
  pthread_mutex_destroy(&p->mu);
  free(p->workers);
  free(p);
}
