/*
 * retention.c — ATHOS_RECORDING_RETENTION_DAYS: the live loop's timer
 * deletes voice call recordings older than that (file first, then the
 * row is marked deleted, so the call's audioUrl becomes null and the
 * recording endpoint 404s). Each deletion is logged. Off (keep forever)
 * when the setting is 0, the default.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "live/live_internal.h"
#include "util/log.h"
#include "util/timefmt.h"

#define SWEEP_BATCH 100 /* recordings deleted per sweep at most */

struct sweep {
  struct store *store;
  int64_t now;
  int deleted;
};

static int delete_one(int64_t call_id, const char *path, void *arg)
{
  struct sweep *s = arg;
  if (unlink(path) != 0 && errno != ENOENT) {
    log_warn("retention: cannot delete the recording %s: %s", path, strerror(errno));
    return 0; /* kept; tried again at the next sweep */
  }
  if (store_recording_mark_deleted(s->store, call_id, s->now) == STORE_OK) {
    log_info("retention: deleted the recording %s", path);
    s->deleted++;
  }
  return 0;
}

void live_recordings_sweep(struct app *app)
{
  int64_t days = app->cfg->recording_retention_days;
  if (days <= 0)
    return;
  struct sweep s = {.store = app->store, .now = time_now_ms()};
  int rc =
      store_recordings_expired(app->store, s.now - days * 86400000LL, SWEEP_BATCH, delete_one, &s);
  if (rc != STORE_OK)
    log_warn("retention: cannot list expired recordings: store rc %d", rc);
}
