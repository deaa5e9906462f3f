/*
 * recordings.c — where a voice call's recording is (issue 10): one row
 * per recorded call in call_recordings, registered at the call's start so
 * a killed server's file is still found, finished (duration, waveform)
 * at its end, marked deleted by the retention sweep (app's timer). The
 * file itself is the live loop's (src/live/voice.c) and the recording
 * endpoint's (src/api/recording.c) business.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

int store_recording_begin(struct store *s, int64_t call_id, const char *path, int64_t now)
{
  static const char SQL[] =
      "INSERT INTO call_recordings(call_id, path, created_at) VALUES ($1, $2, $3)";
  struct db_params p = {0};
  db_p_i64(&p, call_id);
  db_p_text(&p, path);
  db_p_i64(&p, now);
  return db_write(s->db, SQL, &p, NULL);
}

int store_recording_finish(struct store *s, int64_t call_id, int64_t duration_ms,
                           const char *waveform_json)
{
  static const char SQL[] =
      "UPDATE call_recordings SET duration_ms = $1, waveform = $2 WHERE call_id = $3";
  struct db_params p = {0};
  db_p_i64(&p, duration_ms);
  if (waveform_json != NULL)
    db_p_text(&p, waveform_json);
  else
    db_p_null(&p);
  db_p_i64(&p, call_id);
  return db_update_row(s->db, SQL, &p, STORE_NOT_FOUND);
}

static int row_recording(const struct db_row *r, void *arg)
{
  struct recording_row *out = arg;
  const char *path = db_col_text(r, 0);
  const char *wave = db_col_text(r, 2);
  if (path == NULL)
    return STORE_ERROR;
  snprintf(out->path, sizeof out->path, "%s", path);
  out->duration_ms = db_col_i64(r, 1);
  out->waveform_json = wave != NULL ? strdup(wave) : NULL;
  return STORE_OK;
}

int store_recording_get(struct store *s, int64_t call_id, struct recording_row *out)
{
  static const char SQL[] = "SELECT path, COALESCE(duration_ms, -1), waveform FROM call_recordings"
                            " WHERE call_id = $1 AND deleted_at IS NULL";
  struct db_params p = {0};
  memset(out, 0, sizeof *out);
  db_p_i64(&p, call_id);
  return db_get(s->db, SQL, &p, row_recording, out);
}

struct expired {
  int (*cb)(int64_t call_id, const char *path, void *arg);
  void *arg;
};

static int row_expired(const struct db_row *r, void *arg)
{
  struct expired *a = arg;
  const char *path = db_col_text(r, 1);
  if (path == NULL)
    return STORE_ERROR;
  return a->cb(db_col_i64(r, 0), path, a->arg) != 0 ? STORE_ERROR : STORE_OK;
}

int store_recordings_expired(struct store *s, int64_t before, int limit,
                             int (*cb)(int64_t call_id, const char *path, void *arg), void *arg)
{
  static const char SQL[] = "SELECT call_id, path FROM call_recordings WHERE created_at < $1"
                            " AND deleted_at IS NULL ORDER BY created_at LIMIT $2";
  struct expired a = {.cb = cb, .arg = arg};
  struct db_params p = {0};
  db_p_i64(&p, before);
  db_p_i64(&p, limit);
  return db_each(s->db, SQL, &p, row_expired, &a);
}

int store_recording_mark_deleted(struct store *s, int64_t call_id, int64_t now)
{
  static const char SQL[] =
      "UPDATE call_recordings SET deleted_at = $1 WHERE call_id = $2 AND deleted_at IS NULL";
  struct db_params p = {0};
  db_p_i64(&p, now);
  db_p_i64(&p, call_id);
  return db_update_row(s->db, SQL, &p, STORE_NOT_FOUND);
}
