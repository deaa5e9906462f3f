/*
 * catalog.c — loads drills/<key>.json and drills/<key>.rubric.json at
 * start. This is the one place that reads drill files; the persona engine
 * and the scorer only ever see their text.
 */
#include "drills/catalog.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fileio.h"

#define DRILL_FILE_MAX (4 * 1024 * 1024)

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads one drill by its key. */
static int load_entry(const char *dir, const char *key, struct drill_entry *e, char *err,
                      size_t errlen)
{
  char path[2048], perr[256];
  char *text = NULL;
  size_t len = 0;
  int rc = -1;
  snprintf(e->key, sizeof e->key, "%s", key);
  snprintf(path, sizeof path, "%s/%s.json", dir, key);
  if (file_read_all(path, DRILL_FILE_MAX, &text, &len) != 0) {
    snprintf(err, errlen, "cannot read %s", path);
    goto out;
  }
  e->drill = drill_parse(text, len, perr, sizeof perr);
  if (e->drill == NULL) {
    snprintf(err, errlen, "%s: %s", path, perr);
    goto out;
  }
  if (strcmp(drill_key(e->drill), key) != 0) {
    snprintf(err, errlen, "%s: key \"%s\" does not match the file name", path, drill_key(e->drill));
    goto out;
  }
  free(text);
  text = NULL;
  snprintf(path, sizeof path, "%s/%s.rubric.json", dir, key);
  if (file_read_all(path, DRILL_FILE_MAX, &text, &len) != 0) {
    snprintf(err, errlen, "cannot read %s (every drill needs a rubric)", path);
    goto out;
  }
  e->rubric = rubric_parse(text, len, perr, sizeof perr);
  if (e->rubric == NULL) {
    snprintf(err, errlen, "%s: %s", path, perr);
    goto out;
  }
  rc = 0;
out:
  free(text);
  return rc;
}

int drill_catalog_load(const char *dir, struct drill_catalog **out, char *err, size_t errlen)
{
  *out = NULL;
  DIR *d = opendir(dir);
  if (d == NULL) {
    snprintf(err, errlen, "cannot open drills directory %s", dir);
    return -1;
  }
  char *names[256];
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL && n < sizeof names / sizeof names[0]) {
    size_t len = strlen(de->d_name);
    if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0 ||
        (len > 12 && strcmp(de->d_name + len - 12, ".rubric.json") == 0) || len - 5 > 64)
      continue;
    names[n] = strndup(de->d_name, len - 5);
    if (names[n] != NULL)
      n++;
  }
  closedir(d);
  qsort(names, n, sizeof names[0], cmp_names);

  struct drill_catalog *cat = calloc(1, sizeof *cat);
  int rc = -1;
  if (cat == NULL || (n > 0 && (cat->entries = calloc(n, sizeof *cat->entries)) == NULL))
    goto out;
  for (size_t i = 0; i < n; i++) {
    cat->n = i + 1;
    if (load_entry(dir, names[i], &cat->entries[i], err, errlen) != 0)
      goto out;
  }
  if (n == 0) {
    snprintf(err, errlen, "no drills in %s", dir);
    goto out;
  }
  *out = cat;
  cat = NULL;
  rc = 0;
out:
  drill_catalog_free(cat);
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  return rc;
}

void drill_catalog_free(struct drill_catalog *cat)
{
  if (cat == NULL)
    return;
  for (size_t i = 0; i < cat->n; i++) {
    drill_free(cat->entries[i].drill);
    rubric_free(cat->entries[i].rubric);
  }
  free(cat->entries);
  free(cat);
}

const struct drill_entry *drill_catalog_find(const struct drill_catalog *cat, const char *key)
{
  for (size_t i = 0; cat != NULL && i < cat->n; i++)
    if (strcmp(cat->entries[i].key, key) == 0)
      return &cat->entries[i];
  return NULL;
}
