/*
 * fair.c — per-tenant and per-host counts of transfers in flight, and the
 * admission decision the deliverer takes for each event (see fair.h).
 */
#include "webhooks/fair.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void webhook_host_key(const char *url, char *out, size_t cap)
{
  const char *p = strstr(url, "://");
  p = p != NULL ? p + 3 : url;
  size_t n = strcspn(p, "/?#");
  const char *at = memchr(p, '@', n);
  if (at != NULL) {
    n -= (size_t)(at + 1 - p);
    p = at + 1;
  }
  if (n >= cap)
    n = cap - 1;
  for (size_t i = 0; i < n; i++)
    out[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] - 'A' + 'a' : p[i]);
  out[n] = '\0';
}

void fair_reset(struct fair *f)
{
  f->ntenants = f->nhosts = f->inflight = 0;
}

/* The index of tenant_id's (or host's) group, or the count if it has none. */
static size_t tenant_index(const struct fair *f, int64_t tenant_id)
{
  size_t i = 0;
  while (i < f->ntenants && f->tenants[i].tenant_id != tenant_id)
    i++;
  return i;
}

static size_t host_index(const struct fair *f, const char *host)
{
  size_t i = 0;
  while (i < f->nhosts && strncmp(f->hosts[i].host, host, FAIR_HOST_KEY_MAX - 1) != 0)
    i++;
  return i;
}

static void group_add(struct fair_group *g, int64_t started_at)
{
  g->n++;
  if (started_at > g->newest)
    g->newest = started_at;
}

void fair_count(struct fair *f, int64_t tenant_id, const char *host, int64_t started_at)
{
  size_t t = tenant_index(f, tenant_id);
  if (t == f->ntenants && t < FAIR_GROUPS_MAX) {
    memset(&f->tenants[t], 0, sizeof f->tenants[t]);
    f->tenants[t].tenant_id = tenant_id;
    f->ntenants++;
  }
  size_t h = host_index(f, host);
  if (h == f->nhosts && h < FAIR_GROUPS_MAX) {
    memset(&f->hosts[h], 0, sizeof f->hosts[h]);
    snprintf(f->hosts[h].host, sizeof f->hosts[h].host, "%s", host);
    f->nhosts++;
  }
  if (t < f->ntenants)
    group_add(&f->tenants[t], started_at);
  if (h < f->nhosts)
    group_add(&f->hosts[h], started_at);
  f->inflight++;
}

static bool full(const struct fair_group *g, size_t cap)
{
  return g != NULL && g->n >= cap;
}

static bool stalled(const struct fair_group *g, size_t cap, int64_t now, int64_t stall_ms)
{
  return full(g, cap) && now - g->newest >= stall_ms;
}

enum fair_verdict fair_admit(const struct fair *f, int64_t tenant_id, const char *host, int64_t now)
{
  size_t ti = tenant_index(f, tenant_id), hi = host_index(f, host);
  const struct fair_group *t = ti < f->ntenants ? &f->tenants[ti] : NULL;
  const struct fair_group *h = hi < f->nhosts ? &f->hosts[hi] : NULL;
  if (stalled(t, f->lim.per_tenant, now, f->lim.stall_ms) ||
      stalled(h, f->lim.per_host, now, f->lim.stall_ms))
    return FAIR_STALLED;
  if (f->inflight >= f->lim.total || full(t, f->lim.per_tenant) || full(h, f->lim.per_host))
    return FAIR_WAIT;
  return FAIR_GO;
}
