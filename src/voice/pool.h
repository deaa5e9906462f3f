/*
 * pool.h — the bounded worker pool that runs speech work (recognition,
 * synthesis) off the live loop's thread.
 *
 * The loop never blocks on it: voice_pool_submit() refuses when the queue
 * is full (answer "busy", or drop the utterance), and results come back
 * through an eventfd that the loop polls with its other descriptors. When
 * it is readable the loop calls voice_pool_drain(), which runs each
 * finished (or progressing) job's callbacks on the loop's thread, so the
 * call state they touch needs no lock.
 *
 * A job is a struct voice_job embedded in the caller's own struct (the
 * pool allocates nothing per job; use container_of-style casts). Life of
 * a job: submit -> run(job, worker_ctx) on a worker, which may call
 * voice_pool_notify() to hand over partial results (streamed synthesis)
 * -> progress(job) on the loop for each notify (coalesced) -> done(job)
 * on the loop, exactly once, after which the pool never touches the job:
 * done() may free it. A cancelled job (the call hung up, the rep barged
 * in) still gets done(); run() is skipped if it had not started, and
 * may poll voice_job_cancelled() to stop early.
 *
 * Each worker owns a context made by worker_init (say, a recogniser
 * decoder, which is not thread-safe and is expensive to build), so a job
 * uses whichever worker picked it up.
 */
#ifndef ATHOS_VOICE_POOL_H
#define ATHOS_VOICE_POOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct voice_pool;
struct voice_job;

typedef void (*voice_job_fn)(struct voice_job *job);

struct voice_job {
  void (*run)(struct voice_job *job, void *worker_ctx); /* on a worker */
  voice_job_fn progress;                                /* on the loop; may be NULL */
  voice_job_fn done;                                    /* on the loop; required */
  /* the pool's, zeroed by voice_job_init() */
  atomic_bool cancelled;
  bool finished, notified, ready_listed;
  struct voice_job *next;
};

/* Prepares a job before each submit. */
void voice_job_init(struct voice_job *job, void (*run)(struct voice_job *, void *),
                    voice_job_fn progress, voice_job_fn done);
/* Any thread. */
void voice_job_cancel(struct voice_job *job);
bool voice_job_cancelled(struct voice_job *job);

struct voice_pool_config {
  unsigned workers; /* threads, >= 1 */
  /* more threads that take urgent jobs only, so those never wait for a
   * worker busy with ordinary ones; may be 0 */
  unsigned urgent_workers;
  /* added to the ordinary workers' threads' nice value (0 = none): under
   * load, the CPU goes to the urgent work and the loop first */
  int background_nice;
  size_t max_queued; /* jobs waiting for a worker, >= 1 */
  /* Per worker, on that worker's thread before it takes jobs; NULL
   * result = failure (voice_pool_new() then fails). May be NULL. */
  void *(*worker_init)(void *arg, unsigned index);
  void (*worker_fini)(void *worker_ctx); /* on the worker's thread; may be NULL */
  void *arg;
};

/* Owned; free with voice_pool_free(). NULL if a worker failed to start. */
struct voice_pool *voice_pool_new(const struct voice_pool_config *c);

/* Stops the workers after their current jobs, then calls done() (on the
 * caller's thread) for every job not yet completed through drain, queued
 * ones marked cancelled. Accepts NULL. */
void voice_pool_free(struct voice_pool *p);

/* Queues job (prepared with voice_job_init). Returns 0, or -1 when
 * max_queued jobs are already waiting: never blocks. Loop thread. */
int voice_pool_submit(struct voice_pool *p, struct voice_job *job);
/* The same, ahead of every ordinary job (FIFO among urgent ones): work a
 * person is waiting for now (the last pass over an utterance, a reply's
 * synthesis), not work that can lag (recognition while the rep talks).
 * Both lanes share max_queued. */
int voice_pool_submit_urgent(struct voice_pool *p, struct voice_job *job);
/* Moves a submitted job that no worker has taken yet to the urgent lane
 * (the chunk an urgent job must wait for); nothing otherwise. */
void voice_pool_promote(struct voice_pool *p, struct voice_job *job);

/* From run(): partial results are ready; progress() will run on the loop. */
void voice_pool_notify(struct voice_pool *p, struct voice_job *job);

/* The eventfd to poll for reading (EPOLLIN). Stays valid until free. */
int voice_pool_fd(const struct voice_pool *p);

/* Clears the eventfd and runs progress()/done() for every job that has
 * news. Returns the number of callbacks run. Loop thread. */
size_t voice_pool_drain(struct voice_pool *p);

/* Jobs queued and not yet picked up by a worker. */
size_t voice_pool_queued(struct voice_pool *p);

#endif
