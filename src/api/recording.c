/*
 * recording.c — GET /api/external/v1/calls/{callId}/recording (issue 10):
 * the scored voice call's two-channel WAV (left the rep, right the
 * persona), for the tenant's API key only (another tenant's call is 404
 * CALL_NOT_FOUND, as GET /calls/{id}), with Range for <audio> seeking
 * (206, 416). A recording torn by a killed server is served up to its
 * last whole frame (wav_read_info). The live loop writes the file
 * (src/live/voice.c); the store says where it is (store/recordings.c).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/handlers.h"
#include "api/validate.h"
#include "util/log.h"
#include "voice/range.h"
#include "voice/wav.h"

#define RECORDING_TYPE "audio/wav"

static enum api_result not_found(struct api_request *r)
{
  return http_reply_error(r, ERR_CALL_NOT_FOUND, "Call not found");
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
  struct stat st;
  struct wav_info info;
  if (fd < 0 || fstat(fd, &st) != 0 || wav_read_info(fd, (uint64_t)st.st_size, &info) != 0) {
    log_warn("request %s: recording of call %s is missing or unreadable", r->request_id, id);
    if (fd >= 0)
      close(fd);
    return http_reply_error(r, ERR_CALL_NOT_FOUND, "This call has no recording");
  }
  /* A torn last frame is not served. */
  uint64_t size = info.data_offset + info.data_bytes;
  struct byte_range br;
  char content_range[96];
  enum range_result res = range_parse(http_header(r, "Range"), size, &br);
  if (res == RANGE_NONE)
    return http_reply_fd(r, 200, RECORDING_TYPE, fd, 0, size, NULL);
  range_content_range(res, &br, size, content_range, sizeof content_range);
  if (res == RANGE_UNSATISFIABLE)
    return http_reply_fd(r, 416, RECORDING_TYPE, fd, 0, 0, content_range);
  return http_reply_fd(r, 206, RECORDING_TYPE, fd, br.first, br.last - br.first + 1, content_range);
}
