/*
 * catalog.h — the drill catalog: every drills/<key>.json (persona pool,
 * dialogue data) with its drills/<key>.rubric.json (scoring rubric),
 * loaded once at start and shared read-only by all threads.
 */
#ifndef ATHOS_CATALOG_H
#define ATHOS_CATALOG_H

#include <stddef.h>

#include "persona/persona.h"
#include "scoring/scorer.h"

struct drill_entry {
  char key[65];
  struct drill *drill;
  struct rubric *rubric;
};

struct drill_catalog {
  struct drill_entry *entries;
  size_t n;
};

/* Loads every drill in dir. Fails (with err) on any broken file: a drill
 * that would fail mid-call must fail at start instead. */
int drill_catalog_load(const char *dir, struct drill_catalog **out, char *err, size_t errlen);
void drill_catalog_free(struct drill_catalog *cat); /* accepts NULL */
/* Borrowed; NULL if unknown. */
const struct drill_entry *drill_catalog_find(const struct drill_catalog *cat, const char *key);

#endif
