/*
 * scoring_worker.h — background scoring: claims `ended` calls (and
 * `scoring` ones whose lease ran out after a crash), runs the pure scorer
 * on the stored transcript, and commits the score together with the
 * call.scored outbox event in one transaction.
 */
#ifndef ATHOS_SCORING_WORKER_H
#define ATHOS_SCORING_WORKER_H

#include "config.h"
#include "drills/catalog.h"
#include "store/store.h"

struct scoring_worker;
struct webhook_deliverer;

/* Starts cfg->scoring_workers threads. deliverer (may be NULL) is kicked
 * after each commit so the webhook goes out at once. */
struct scoring_worker *scoring_worker_start(const struct athos_config *cfg, struct store *s,
                                            const struct drill_catalog *cat,
                                            struct webhook_deliverer *deliverer);
/* Wakes a worker now (a call just ended) instead of at its next poll. */
void scoring_worker_kick(struct scoring_worker *w);
/* Finishes the call in hand and joins the threads. Accepts NULL. */
void scoring_worker_stop(struct scoring_worker *w);

#endif
