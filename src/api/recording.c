/*
 * recording.c — GET /api/external/v1/calls/{callId}/recording (issue 10):
 * the scored voice call's two-channel recording (left the rep, right the
 * persona), for the tenant's API key only (another tenant's call is 404
 * CALL_NOT_FOUND, as GET /calls/{id}), with Range for <audio> seeking
 * (206, 416). The file's extension says its format
 * (ATHOS_RECORDING_FORMAT): a WAV (audio/wav) torn by a killed server is
 * served up to its last whole frame (wav_read_info); an Ogg Opus file
 * (audio/ogg) is served as its raw bytes, Range included (players seek by
 * bisection over them and skip a torn last page). The live loop writes
 * the file (src/live/voice.c); the store says where it is
 * (store/recordings.c).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/handlers.h"
#include "api/validate.h"
#include "util/log.h"
#include "voice/ogg_opus.h"
#include "voice/range.h"
#include "voice/wav.h"

#define WAV_TYPE "audio/wav"
#define OGG_TYPE "audio/ogg"

static enum api_result not_found(struct api_request *r)
{
  return http_reply_error(r, ERR_CALL_NOT_FOUND, "Call not found");
}

static bool ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The open recording's Content-Type and the bytes to serve, by the
 * path's extension; -1 if the file is not what its name says. */
static int recording_inspect(int fd, const char *path, const char **type, uint64_t *size)
{
  struct stat st;
  if (fstat(fd, &st) != 0)
    return -1;
  if (ends_with(path, ".ogg")) {
    struct ogg_opus_info oi;
    *type = OGG_TYPE;
    *size = (uint64_t)st.st_size;
    return ogg_opus_read_info(fd, *size, &oi);
  }
  struct wav_info info;
  if (wav_read_info(fd, (uint64_t)st.st_size, &info) != 0)
    return -1;
  *type = WAV_TYPE;
  *size = info.data_offset + info.data_bytes; /* a torn last frame is not served */
  return 0;
}

enum api_result api_calls_recording(struct api_request *r)
{
  /* path_param is "<callId>/recording" */
  char id[80];
  const char *slash = strchr(r->path_param, '/');
  size_t n = slash != NULL ? (size_t)(slash - r->path_param) : strlen(r->path_param);
  if (n >= sizeof id)
    return not_found(r);
  memcpy(id, r->path_param, n);
  id[n] = '\0';
  if (!id_valid(id, CALL_ID_PREFIX, 64))
    return not_found(r);
  struct call_row c;
  char *score_text = NULL;
  int rc = store_call_get_scored(r->app->store, r->tenant->id, id, &c, &score_text);
  free(score_text);
  if (rc == STORE_NOT_FOUND)
    return not_found(r);
  if (rc != STORE_OK)
    return api_reply_store_error(r, rc);
  struct recording_row rec;
  rc = store_recording_get(r->app->store, c.id, &rec);
  free(rec.waveform_json);
  if (rc == STORE_NOT_FOUND)
    return http_reply_error(r, ERR_CALL_NOT_FOUND, "This call has no recording");
  if (rc != STORE_OK)
    return api_reply_store_error(r, rc);
  int fd = open(rec.path, O_RDONLY | O_CLOEXEC);
  const char *type = NULL;
  uint64_t size = 0;
  if (fd < 0 || recording_inspect(fd, rec.path, &type, &size) != 0) {
    log_warn("request %s: recording of call %s is missing or unreadable", r->request_id, id);
    if (fd >= 0)
      close(fd);
    return http_reply_error(r, ERR_CALL_NOT_FOUND, "This call has no recording");
  }
  struct byte_range br;
  char content_range[96];
  enum range_result res = range_parse(http_header(r, "Range"), size, &br);
  if (res == RANGE_NONE)
    return http_reply_fd(r, 200, type, fd, 0, size, NULL);
  range_content_range(res, &br, size, content_range, sizeof content_range);
  if (res == RANGE_UNSATISFIABLE)
    return http_reply_fd(r, 416, type, fd, 0, 0, content_range);
  return http_reply_fd(r, 206, type, fd, br.first, br.last - br.first + 1, content_range);
}
