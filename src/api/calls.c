/*
 * calls.c — GET /calls (a page of the tenant's scored calls, newest
 * first, keyset-paginated) and GET /calls/{callId} (one scored call with
 * transcript and score). Calls not yet scored, unknown ids and other
 * tenants' calls are all the same 404.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cursor.h"
#include "api/handlers.h"
#include "api/validate.h"
#include "live/protocol.h"
#include "util/log.h"
#include "util/timefmt.h"

#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX     100
#define ISO_TIME           "an ISO 8601 date-time"
#define CALL_CACHE_ENTRIES 4096
#define CALL_CACHE_BYTES   (32u * 1024 * 1024)

static json_t *iso_or_null(int64_t ms)
{
  if (ms == 0)
    return json_null();
  char buf[32];
  time_format_iso(ms, buf, sizeof buf);
  return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
  return s[0] != '\0' ? json_string(s) : json_null();
}

/* The SlimCall shape. */
static json_t *slim_call(const struct call_row *c)
{
  json_t *j = json_object();
  json_object_set_new(j, "id", json_string(c->public_id));
  json_object_set_new(j, "source", json_string(c->source));
  json_object_set_new(j, "externalUserId", str_or_null(c->external_user_id));
  json_object_set_new(j, "externalAgencyId", str_or_null(c->external_agency_id));
  json_object_set_new(j, "drillKey", str_or_null(c->drill_key));
  json_object_set_new(j, "startedAt", iso_or_null(c->started_at));
  json_object_set_new(j, "endedAt", iso_or_null(c->ended_at));
  json_object_set_new(j, "durationSec", json_integer(c->duration_sec));
  json_object_set_new(j, "scoredAt", iso_or_null(c->scored_at));
  return j;
}

/* ------------------------------------------------------------ list */

struct list_ctx {
  json_t *data;
  int limit;
  struct cursor last;
  bool more;
};

static int collect_row(const struct call_row *c, void *arg)
{
  struct list_ctx *ctx = arg;
  if ((int)json_array_size(ctx->data) == ctx->limit) {
    ctx->more = true; /* the extra row we asked for: there is a next page */
    return 0;
  }
  json_array_append_new(ctx->data, slim_call(c));
  ctx->last.ended_at = c->ended_at;
  snprintf(ctx->last.public_id, sizeof ctx->last.public_id, "%s", c->public_id);
  return 0;
}

/* json_spec_custom parser: an ISO 8601 date-time into int64_t ms. */
static int parse_iso_time(const json_t *v, void *dst)
{
  return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v) &&
                 time_parse_iso(json_string_value(v), dst) == 0
             ? 0
             : -1;
}

/* The list's query arguments. Filters are copied: they outlive the
 * parse. An empty from/to is the same as none. */
struct list_query {
  int64_t from_ms, to_ms, limit;
  int source; /* index in LIST_SOURCES, -1 = any */
  char external_user_id[EXTERNAL_ID_MAX + 1];
  char external_agency_id[EXTERNAL_ID_MAX + 1];
};

static const char *const LIST_SOURCES[] = {"roleplay", "ingestion", NULL};

static enum api_result parse_list_query(struct api_request *r, struct list_query *q)
{
  *q = (struct list_query){.to_ms = INT64_MAX, .limit = LIST_LIMIT_DEFAULT, .source = -1};
  struct json_spec spec[] = {
      json_spec_flags(json_spec_custom("from", parse_iso_time, &q->from_ms, ISO_TIME),
                      JSON_SPEC_EMPTY_ABSENT),
      json_spec_flags(json_spec_custom("to", parse_iso_time, &q->to_ms, ISO_TIME),
                      JSON_SPEC_OPTIONAL | JSON_SPEC_EMPTY_ABSENT),
      json_spec_optional(json_spec_expect(json_spec_int64("limit", &q->limit, 1, INT64_MAX),
                                          "an integer from 1 to 100")),
      json_spec_optional(
          json_spec_expect(json_spec_enum("source", &q->source, LIST_SOURCES), "roleplay")),
      json_spec_optional(json_spec_string("externalUserId", q->external_user_id,
                                          sizeof q->external_user_id, 1, EXTERNAL_ID_MAX)),
      json_spec_optional(json_spec_string("externalAgencyId", q->external_agency_id,
                                          sizeof q->external_agency_id, 1, EXTERNAL_ID_MAX)),
      JSON_SPEC_END,
  };
  enum api_result res = validate_query(r, spec);
  if (res != API_OK)
    return res;
  if (q->to_ms < q->from_ms)
    return http_reply_error(r, ERR_INVALID_REQUEST, "to must not be before from");
  if (q->limit > LIST_LIMIT_MAX)
    q->limit = LIST_LIMIT_MAX; /* the contract: a larger page size gets the maximum */
  return API_OK;
}

/* Cursors are sealed with the newest token-signing key (shared by every
 * node) and bound to the tenant. */
static struct cursor_key list_cursor_key(struct api_request *r)
{
  const struct signing_key *k = &r->app->keys.keys[0];
  return (struct cursor_key){
      .secret = k->secret, .len = SIGNING_KEY_LEN, .tenant = r->tenant->public_id};
}

enum api_result api_calls_list(struct api_request *r)
{
  struct cursor_key ck = list_cursor_key(r);
  struct list_query q;
  enum api_result res = parse_list_query(r, &q);
  if (res != API_OK)
    return res;
  struct call_filter f = {
      .tenant_id = r->tenant->id,
      .from_ms = q.from_ms,
      .to_ms = q.to_ms,
      .limit = (int)q.limit,
      .source = q.source >= 0 ? LIST_SOURCES[q.source] : NULL,
      .external_user_id = q.external_user_id[0] != '\0' ? q.external_user_id : NULL,
      .external_agency_id = q.external_agency_id[0] != '\0' ? q.external_agency_id : NULL,
  };
  struct cursor after;
  const char *cur = http_query(r, "cursor");
  if (cur != NULL) {
    if (cursor_decode(&ck, cur, &after) != 0)
      return http_reply_error(r, ERR_INVALID_REQUEST, "cursor is not valid");
    f.after_ended_at = after.ended_at;
    f.after_public_id = after.public_id;
  }

  struct list_ctx ctx = {.data = json_array(), .limit = f.limit};
  int limit = f.limit;
  f.limit = limit + 1;
  int rc = store_calls_list(r->app->store, &f, collect_row, &ctx);
  if (rc != STORE_OK) {
    json_decref(ctx.data);
    return api_reply_store_error(r, rc);
  }
  json_t *next = json_null();
  if (ctx.more) {
    char buf[CURSOR_MAX + 1];
    if (cursor_encode(&ck, &ctx.last, buf, sizeof buf) == 0) {
      json_decref(next);
      next = json_string(buf);
    }
  }
  return http_reply_json(r, 200, json_pack("{s:o, s:o}", "data", ctx.data, "nextCursor", next));
}

/* ------------------------------------------------------------ detail */

static int collect_turn(const struct call_turn *t, void *arg)
{
  json_t *arr = arg;
  json_t *turn = json_pack("{s:s, s:s}", "role", t->role, "content", t->content);
  if (turn != NULL && t->start_ms >= 0 && t->end_ms >= t->start_ms) {
    json_object_set_new(turn, "startMs", json_integer(t->start_ms));
    json_object_set_new(turn, "endMs", json_integer(t->end_ms));
  }
  return json_array_append_new(arr, turn);
}

struct lru *calls_cache_new(void)
{
  return lru_new(CALL_CACHE_ENTRIES, CALL_CACHE_BYTES);
}

/* The cache key: the tenant's internal id and the public call id, so one
 * tenant's entry can never answer another's request. */
static void cache_key(const struct api_request *r, const char *id, char *out, size_t cap)
{
  snprintf(out, cap, "%lld/%s", (long long)r->tenant->id, id);
}

enum api_result api_calls_get(struct api_request *r)
{
  const char *id = r->path_param;
  if (!id_valid(id, CALL_ID_PREFIX, 64))
    return http_reply_error(r, ERR_CALL_NOT_FOUND, "Call not found");
  char key[128];
  void *cached = NULL;
  size_t cached_len = 0;
  cache_key(r, id, key, sizeof key);
  if (r->app->call_cache != NULL && lru_get(r->app->call_cache, key, 0, &cached, &cached_len))
    return http_reply_json_bytes(r, 200, cached, cached_len);
  struct call_row c;
  char *score_text = NULL;
  int rc = store_call_get_scored(r->app->store, r->tenant->id, id, &c, &score_text);
  if (rc == STORE_NOT_FOUND)
    return http_reply_error(r, ERR_CALL_NOT_FOUND, "Call not found");
  if (rc != STORE_OK)
    return api_reply_store_error(r, rc);
  json_t *score = json_loads(score_text, 0, NULL);
  free(score_text);
  if (!json_is_object(score)) {
    json_decref(score);
    log_error("request %s: call has a broken score", r->request_id);
    return API_FAIL;
  }
  json_t *transcript = json_array();
  rc = store_call_turns(r->app->store, c.id, collect_turn, transcript);
  if (rc != STORE_OK) {
    json_decref(score);
    json_decref(transcript);
    return api_reply_store_error(r, rc);
  }
  json_t *j = slim_call(&c);
  json_object_set_new(j, "status", json_string("scored"));
  json_object_set_new(j, "transcript", transcript);
  json_object_set_new(j, "score", score);
  /* A voice call's recording (until the retention sweep deletes it). */
  struct recording_row rec;
  rc = store_recording_get(r->app->store, c.id, &rec);
  if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
    json_decref(j);
    return api_reply_store_error(r, rc);
  }
  bool recorded = rc == STORE_OK;
  json_t *waveform = recorded && rec.waveform_json ? json_loads(rec.waveform_json, 0, NULL) : NULL;
  free(recorded ? rec.waveform_json : NULL);
  char url[sizeof r->app->cfg->public_url + 128];
  snprintf(url, sizeof url, "%s" LIVE_API_PREFIX "/calls/%s/recording", r->app->cfg->public_url,
           c.public_id);
  json_object_set_new(j, "audioUrl", recorded ? json_string(url) : json_null());
  json_object_set_new(j, "audioUrlExpiresAt", json_null());
  json_object_set_new(j, "waveform", waveform != NULL ? waveform : json_null());
  json_object_set_new(j, "createdAt", iso_or_null(c.created_at));
  json_object_set_new(j, "updatedAt", iso_or_null(c.updated_at));
  char *body = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
  json_decref(j);
  if (body == NULL)
    return API_FAIL;
  size_t len = strlen(body);
  /* Only scored calls get here, and a scored call never changes (but
   * for its recording, which retention deletes: those are not cached). */
  if (r->app->call_cache != NULL && !recorded)
    lru_put(r->app->call_cache, key, body, len, 0);
  return http_reply_json_bytes(r, 200, body, len);
}
