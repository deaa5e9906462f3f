/*
 * deliverer.h — the webhook deliverer: one thread driving a libcurl multi
 * handle that sends due outbox events to tenants' endpoints as Standard
 * Webhooks, records every attempt and schedules retries.
 */
#ifndef ATHOS_DELIVERER_H
#define ATHOS_DELIVERER_H

#include "config.h"
#include "store/store.h"

struct webhook_deliverer;

struct webhook_deliverer *webhook_deliverer_start(const struct athos_config *cfg, struct store *s);
/* Wakes the deliverer now (an event was just committed). */
void webhook_deliverer_kick(struct webhook_deliverer *d);
/* Waits for in-flight attempts (bounded) and joins. Accepts NULL. */
void webhook_deliverer_stop(struct webhook_deliverer *d);

#endif
