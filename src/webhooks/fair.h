/*
 * fair.h — the webhook deliverer's fairness bookkeeping: how many
 * transfers each tenant and each receiver host has in flight, and whether
 * one more may start now, must wait, or belongs to a stalled group (at its
 * cap with nothing started for a while: a receiver that hangs). Pure: no
 * I/O and no clock of its own (callers pass now), so it is unit-tested
 * alone (tests/unit/test_webhooks.c). The policy built on it is in
 * deliverer.c and docs/internals/outbox.md.
 */
#ifndef ATHOS_WEBHOOK_FAIR_H
#define ATHOS_WEBHOOK_FAIR_H

#include <stddef.h>
#include <stdint.h>

#define FAIR_GROUPS_MAX   256 /* distinct tenants (or hosts) counted at once */
#define FAIR_HOST_KEY_MAX 256 /* "host:port", as a grouping key */

struct fair_limits {
  size_t per_tenant; /* transfers in flight for one tenant */
  size_t per_host;   /* … to one receiver host */
  size_t total;      /* … in all */
  int64_t stall_ms;  /* a group at its cap with no start for this long is stalled */
};

struct fair_group {
  int64_t tenant_id;            /* tenant groups */
  char host[FAIR_HOST_KEY_MAX]; /* host groups */
  size_t n;                     /* transfers in flight */
  int64_t newest;               /* the latest start among them (ms) */
};

struct fair {
  struct fair_limits lim;
  struct fair_group tenants[FAIR_GROUPS_MAX], hosts[FAIR_GROUPS_MAX];
  size_t ntenants, nhosts;
  size_t inflight;
};

enum fair_verdict { FAIR_GO, FAIR_WAIT, FAIR_STALLED };

/* The "host:port" part of url, lowercased, without user info, cut to
 * cap - 1 bytes: the key curl groups connections by (near enough: two
 * spellings of one host are two keys, which only makes a transfer wait). */
void webhook_host_key(const char *url, char *out, size_t cap);

/* Forgets every count; keeps the limits. */
void fair_reset(struct fair *f);
/* Counts one transfer in flight, started at started_at (ms). More than
 * FAIR_GROUPS_MAX distinct groups are not counted (callers never have more
 * transfers than that). */
void fair_count(struct fair *f, int64_t tenant_id, const char *host, int64_t started_at);
/* May a transfer of tenant_id to host start at now? FAIR_STALLED if its
 * tenant or host is at its cap and started nothing for stall_ms; else
 * FAIR_WAIT if a cap (or the total) is reached; else FAIR_GO. */
enum fair_verdict fair_admit(const struct fair *f, int64_t tenant_id, const char *host,
                             int64_t now);

#endif
