/*
 * lru.c — chained hash table plus a doubly linked recency list, under one
 * mutex. Lookups copy the value out while holding the lock, so callers
 * never hold a pointer into an entry that another thread may evict.
 */
#include "util/lru.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
  struct entry *hnext;       /* bucket chain */
  struct entry *prev, *next; /* recency list: head = most recent */
  uint64_t hash;
  int64_t expires_ms;
  size_t len;
  char *key;
  unsigned char *val;
};

struct lru {
  pthread_mutex_t mu;
  struct entry **buckets;
  size_t nbuckets; /* a power of two */
  struct entry *head, *tail;
  size_t count, bytes, max_entries, max_bytes;
};

static uint64_t hash_str(const char *s)
{
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s != '\0'; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

struct lru *lru_new(size_t max_entries, size_t max_bytes)
{
  struct lru *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  c->nbuckets = 64;
  while (c->nbuckets < max_entries)
    c->nbuckets <<= 1;
  c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
  if (c->buckets == NULL) {
    free(c);
    return NULL;
  }
  c->max_entries = max_entries > 0 ? max_entries : 1;
  c->max_bytes = max_bytes;
  pthread_mutex_init(&c->mu, NULL);
  return c;
}

static void list_unlink(struct lru *c, struct entry *e)
{
  if (e->prev != NULL)
    e->prev->next = e->next;
  else
    c->head = e->next;
  if (e->next != NULL)
    e->next->prev = e->prev;
  else
    c->tail = e->prev;
  e->prev = e->next = NULL;
}

static void list_push_front(struct lru *c, struct entry *e)
{
  e->prev = NULL;
  e->next = c->head;
  if (c->head != NULL)
    c->head->prev = e;
  c->head = e;
  if (c->tail == NULL)
    c->tail = e;
}

/* Unlinks e from its bucket and the list, and frees it. */
static void remove_entry(struct lru *c, struct entry *e)
{
  struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
  while (*pp != e)
    pp = &(*pp)->hnext;
  *pp = e->hnext;
  list_unlink(c, e);
  c->count--;
  c->bytes -= e->len;
  free(e->key);
  free(e->val);
  free(e);
}

static struct entry *find(struct lru *c, const char *key, uint64_t h)
{
  for (struct entry *e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->hnext)
    if (e->hash == h && strcmp(e->key, key) == 0)
      return e;
  return NULL;
}

void lru_free(struct lru *c)
{
  if (c == NULL)
    return;
  while (c->head != NULL)
    remove_entry(c, c->head);
  free(c->buckets);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

int lru_put(struct lru *c, const char *key, const void *val, size_t len, int64_t expires_ms)
{
  if (len > c->max_bytes)
    return 0;
  struct entry *e = calloc(1, sizeof *e);
  if (e == NULL)
    return -1;
  e->key = strdup(key);
  e->val = malloc(len > 0 ? len : 1);
  if (e->key == NULL || e->val == NULL) {
    free(e->key);
    free(e->val);
    free(e);
    return -1;
  }
  memcpy(e->val, val, len);
  e->len = len;
  e->hash = hash_str(key);
  e->expires_ms = expires_ms;

  pthread_mutex_lock(&c->mu);
  struct entry *old = find(c, key, e->hash);
  if (old != NULL)
    remove_entry(c, old);
  while (c->tail != NULL && (c->count + 1 > c->max_entries || c->bytes + len > c->max_bytes))
    remove_entry(c, c->tail);
  struct entry **b = &c->buckets[e->hash & (c->nbuckets - 1)];
  e->hnext = *b;
  *b = e;
  list_push_front(c, e);
  c->count++;
  c->bytes += len;
  pthread_mutex_unlock(&c->mu);
  return 0;
}

bool lru_get(struct lru *c, const char *key, int64_t now_ms, void **out, size_t *len)
{
  uint64_t h = hash_str(key);
  bool hit = false;
  pthread_mutex_lock(&c->mu);
  struct entry *e = find(c, key, h);
  if (e != NULL && e->expires_ms != 0 && now_ms >= e->expires_ms) {
    remove_entry(c, e);
    e = NULL;
  }
  if (e != NULL && (*out = malloc(e->len > 0 ? e->len : 1)) != NULL) {
    memcpy(*out, e->val, e->len);
    *len = e->len;
    list_unlink(c, e);
    list_push_front(c, e);
    hit = true;
  }
  pthread_mutex_unlock(&c->mu);
  return hit;
}
