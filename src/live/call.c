/*
 * call.c — the live protocol (DESIGN.md "Live protocol") on one
 * connection: spends the ticket, drives the persona, commits every turn
 * before it is acknowledged, and ends the call with its reason.
 *
 * Durability rule: a turn is appended (committed) before anything that
 * acknowledges it goes out — the rep's turn before the persona's reply is
 * computed, the persona's turn before its say frame is queued. A process
 * killed at any moment therefore loses no turn a client has seen
 * answered; the start-up sweep ends calls left `live` as "disconnect".
 */
#include <stdio.h>
#include <string.h>

#include "drills/catalog.h"
#include "app.h"
#include "errors.h"
#include "live/live_internal.h"
#include "live/message.h"
#include "live/protocol.h"
#include "persona/persona.h"
#include "pipeline/scoring_worker.h"
#include "store/store.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "ws/ws_util.h"

static struct app *conn_app(const struct live_conn *c)
{
  return live_loop_app(c->loop);
}

void live_call_send_error(struct live_conn *c, enum athos_error e, const char *message)
{
  live_conn_send_json(c, json_pack("{s:s, s:s, s:s}", "type", LIVE_TYPE_ERROR, "code",
                                   athos_error_code(e), "message", message));
}

/* An error the connection does not survive: the error frame, then close. */
static void fail_conn(struct live_conn *c, enum athos_error e, const char *message,
                      uint16_t close_code)
{
  live_call_send_error(c, e, message);
  live_conn_close(c, close_code);
}

static void kick_scoring(struct live_conn *c)
{
  struct app *app = conn_app(c);
  if (app->scoring != NULL)
    scoring_worker_kick(app->scoring);
}

void live_call_end(struct live_conn *c, enum live_end_reason reason, bool send_ended)
{
  if (!c->call_open)
    return;
  c->call_open = false;
  struct app *app = conn_app(c);
  int64_t ended = time_now_ms();
  int64_t duration_sec = ended > c->started_wall ? (ended - c->started_wall) / 1000 : 0;
  const char *why = live_end_reason_name(reason);
  live_voice_finish(c); /* before the end: scoring may publish the call at once */
  int rc = store_call_end(app->store, c->call_id, ended, duration_sec, why);
  if (rc != STORE_OK)
    log_error("live: call %s: cannot record its end (%s): store rc %d; the start-up sweep "
              "will end it",
              c->call_public_id, why, rc);
  else
    kick_scoring(c);
  log_info("live: call %s ended: %s after %llds, %d turns", c->call_public_id, why,
           (long long)duration_sec, c->next_turn);
  if (send_ended && c->state == LIVE_IN_CALL) {
    live_conn_send_json(c, json_pack("{s:s, s:s, s:I, s:s}", "type", LIVE_TYPE_ENDED, "callId",
                                     c->call_public_id, "durationSec", (json_int_t)duration_sec,
                                     "reason", why));
    live_conn_close(c, LIVE_CLOSE_NORMAL);
  }
}

void live_call_release(struct live_conn *c)
{
  live_voice_free(c);
  persona_call_free(c->pc);
  c->pc = NULL;
}

/* A store failure in the middle of a call: the client is told, the call
 * is ended as a disconnect if the database lets us, and the socket
 * closes. Nothing unacknowledged is lost: the failed turn was never
 * answered. */
static void fail_store(struct live_conn *c, int rc, const char *what)
{
  log_error("live: call %s: %s failed: store rc %d", c->call_public_id, what, rc);
  fail_conn(c, rc == STORE_UNAVAILABLE ? ERR_SERVICE_UNAVAILABLE : ERR_INTERNAL_ERROR,
            rc == STORE_UNAVAILABLE ? "The database is unavailable; the call cannot go on."
                                    : "The call could not be saved.",
            LIVE_CLOSE_INTERNAL);
  live_call_end(c, LIVE_END_DISCONNECT, false);
}

/* Commits one transcript turn. Returns the turn's index, or -1 (the
 * connection is then closing). */
static int commit_turn(struct live_conn *c, const char *role, const char *text, int64_t start_ms,
                       int64_t end_ms)
{
  struct app *app = conn_app(c);
  int64_t at_ms = time_now_ms() - c->started_wall;
  int idx = c->next_turn;
  int rc = store_call_append_turn_timed(app->store, c->call_id, idx, role, text,
                                        at_ms < 0 ? 0 : at_ms, start_ms, end_ms);
  if (rc != STORE_OK) {
    fail_store(c, rc, "appending a turn");
    return -1;
  }
  c->next_turn++;
  size_t len = strlen(text);
  c->transcript_bytes =
      len > UINT32_MAX - c->transcript_bytes ? UINT32_MAX : c->transcript_bytes + (uint32_t)len;
  return idx;
}

/* Whether one more exchange (a rep say of say_bytes and the persona's
 * reply) fits the call's limits: cfg->max_turns turns and
 * cfg->max_transcript_bytes bytes stored, LIVE_REPLY_RESERVE kept for the
 * reply. */
static bool exchange_fits(const struct live_conn *c, size_t say_bytes)
{
  const struct athos_config *cfg = conn_app(c)->cfg;
  if ((int64_t)c->next_turn + 2 > cfg->max_turns)
    return false;
  return (size_t)c->transcript_bytes + say_bytes + LIVE_REPLY_RESERVE <= cfg->max_transcript_bytes;
}

/* Commits the persona's line, then sends it (and in a voice call speaks
 * it). Returns 0 or -1. */
static int persona_says(struct live_conn *c, const char *text)
{
  int idx = commit_turn(c, "assistant", text, -1, -1);
  if (idx < 0)
    return -1;
  if (live_conn_send_json(
          c, json_pack("{s:s, s:s, s:i}", "type", LIVE_TYPE_SAY, "text", text, "turn", idx)) != 0)
    return -1;
  if (c->voice != NULL)
    live_voice_speak(c, idx, text);
  return 0;
}

/* The ticket was spent but the call cannot begin (our data is broken or
 * the database failed): end it so it is not left `created` forever. */
static void abandon_call(struct live_conn *c, const struct call_row *row)
{
  struct app *app = conn_app(c);
  int64_t now = time_now_ms();
  const char *why = live_end_reason_name(LIVE_END_DISCONNECT);
  if (store_call_end(app->store, row->id, now, 0, why) == STORE_OK)
    kick_scoring(c);
}

/* A start whose ticket passed live_message_parse(): spend the ticket and
 * open the call. */
static void on_start(struct live_conn *c, const char *ticket, bool audio)
{
  struct app *app = conn_app(c);
  struct call_row row;
  char hex[65];
  enum persona_difficulty diff;
  sha256_hex(ticket, hex);
  memset(&row, 0, sizeof row);
  /* Speech first: a refusal then leaves the ticket unspent. */
  if (audio && live_voice_new(c) != 0) {
    fail_conn(c, ERR_SERVICE_UNAVAILABLE, "Voice calls are not available on this server.",
              LIVE_CLOSE_INTERNAL);
    return;
  }
  int rc = store_ticket_consume(app->store, hex, time_now_ms(), &row);
  switch (rc) {
  case STORE_OK: break;
  case STORE_NOT_FOUND:
    fail_conn(c, ERR_INVALID_TOKEN, "The connection ticket is not valid.", LIVE_CLOSE_POLICY);
    return;
  case STORE_EXPIRED:
    fail_conn(c, ERR_TOKEN_EXPIRED, "The connection ticket has expired; redeem a new session.",
              LIVE_CLOSE_POLICY);
    return;
  case STORE_CONFLICT:
    fail_conn(c, ERR_TOKEN_ALREADY_USED, "The connection ticket has already been used.",
              LIVE_CLOSE_POLICY);
    return;
  default: fail_store(c, rc, "spending a ticket"); return;
  }

  const struct drill_entry *entry = drill_catalog_find(app->drills, row.drill_key);
  if (entry == NULL || persona_difficulty_parse(row.difficulty, &diff) != 0 ||
      row.persona_index < 0 || (size_t)row.persona_index >= drill_persona_count(entry->drill)) {
    log_error("live: call %s: drill %s / difficulty %s / persona %d is not playable", row.public_id,
              row.drill_key, row.difficulty, row.persona_index);
    abandon_call(c, &row);
    fail_conn(c, ERR_INTERNAL_ERROR, "The call could not be started.", LIVE_CLOSE_INTERNAL);
    return;
  }
  c->pc = persona_call_new(entry->drill, (size_t)row.persona_index, diff, row.seed);
  if (c->pc == NULL) {
    abandon_call(c, &row);
    fail_conn(c, ERR_INTERNAL_ERROR, "The call could not be started.", LIVE_CLOSE_INTERNAL);
    return;
  }
  c->started_wall = time_now_ms();
  rc = store_call_mark_live(app->store, row.id, c->started_wall);
  if (rc != STORE_OK) {
    log_error("live: call %s: cannot mark it live: store rc %d", row.public_id, rc);
    abandon_call(c, &row);
    fail_conn(c, rc == STORE_UNAVAILABLE ? ERR_SERVICE_UNAVAILABLE : ERR_INTERNAL_ERROR,
              "The call could not be started.", LIVE_CLOSE_INTERNAL);
    return;
  }
  c->call_id = row.id;
  snprintf(c->call_public_id, sizeof c->call_public_id, "%s", row.public_id);
  c->call_open = true;
  c->state = LIVE_IN_CALL;
  c->due_mono = 0;
  c->started_mono = c->last_rep_mono = live_loop_now(c->loop);
  c->next_turn = 0;
  c->transcript_bytes = 0;
  const char *name = row.persona_name[0] != '\0'
                         ? row.persona_name
                         : drill_persona_name(entry->drill, (size_t)row.persona_index);
  log_info("live: call %s started (%s, %s, persona %d)", row.public_id, row.drill_key,
           row.difficulty, row.persona_index);
  live_voice_record(c);
  if (live_conn_send_json(c, json_pack("{s:s, s:s, s:s, s:{s:s}}", "type", LIVE_TYPE_READY,
                                       "callId", row.public_id, "sessionId", row.session_id,
                                       "persona", "name", name)) != 0)
    return;
  persona_says(c, persona_call_open(c->pc));
}

/* A rep turn: a say whose text passed live_message_parse() (non-blank,
 * no NUL, at most LIVE_UTTERANCE_MAX_CHARS characters), or a recognised
 * utterance (heard: acknowledged with a `heard` frame once committed). */
static void rep_turn(struct live_conn *c, const char *text, size_t len, int64_t start_ms,
                     int64_t end_ms)
{
  struct persona_reply reply = {0};
  c->last_rep_mono = live_loop_now(c->loop);
  if (!exchange_fits(c, len)) {
    /* not stored, not answered: the call is over */
    live_call_end(c, LIVE_END_LIMIT, true);
    return;
  }
  bool heard = start_ms >= 0;
  int idx = commit_turn(c, "user", text, start_ms, end_ms);
  if (idx < 0)
    return;
  if (heard && live_conn_send_json(c, json_pack("{s:s, s:s, s:i}", "type", LIVE_TYPE_HEARD, "text",
                                                text, "turn", idx)) != 0)
    return;
  if (persona_call_reply(c->pc, text, &reply) != 0 || reply.text == NULL) {
    log_error("live: call %s: the persona engine failed", c->call_public_id);
    fail_conn(c, ERR_INTERNAL_ERROR, "The persona could not answer.", LIVE_CLOSE_INTERNAL);
    live_call_end(c, LIVE_END_DISCONNECT, false);
    return;
  }
  if (persona_says(c, reply.text) != 0)
    return;
  if (reply.hangup)
    live_call_end(c, LIVE_END_PERSONA_HANGUP, true);
  else if (!exchange_fits(c, 1))
    live_call_end(c, LIVE_END_LIMIT, true); /* no say could be stored any more */
}

void live_call_heard(struct live_conn *c, const char *text, int64_t start_ms, int64_t end_ms)
{
  size_t len = strlen(text);
  /* The recogniser's words are bounded by the 30 s utterance, but the
   * transcript's per-turn rule is the say's. */
  if (ws_utf8_chars(text, len) > LIVE_UTTERANCE_MAX_CHARS)
    return;
  rep_turn(c, text, len, start_ms, end_ms);
}

void live_call_barged_in(struct live_conn *c, int turn, const char *text, double heard)
{
  if (!c->call_open || heard < 0 || heard >= 1.0)
    return;
  /* The words played, by their share of the audio, cut at a word. */
  size_t len = strlen(text);
  size_t keep = (size_t)((double)len * heard);
  while (keep > 0 && text[keep] != ' ' && text[keep] != '\0')
    keep--;
  char cut[LIVE_REPLY_RESERVE * 2];
  snprintf(cut, sizeof cut, "%.*s—", (int)(keep < sizeof cut - 8 ? keep : sizeof cut - 8), text);
  int rc = store_call_set_turn_text(conn_app(c)->store, c->call_id, turn, cut);
  if (rc != STORE_OK)
    log_warn("live: call %s: cannot record the barge-in on turn %d: store rc %d", c->call_public_id,
             turn, rc);
}

void live_call_on_message(struct live_conn *c, const struct wslay_event_on_msg_recv_arg *arg)
{
  struct live_message m;
  if (c->state != LIVE_AWAIT_START && c->state != LIVE_IN_CALL)
    return; /* closing: late messages are dropped */
  if (arg->opcode == WSLAY_BINARY_FRAME) {
    if (c->state == LIVE_IN_CALL && c->voice != NULL)
      live_voice_on_audio(c, arg->msg, arg->msg_length);
    else
      fail_conn(c, ERR_INVALID_REQUEST,
                c->state == LIVE_AWAIT_START
                    ? "A binary frame before start; the first message must be start."
                    : "This call did not negotiate audio in start; binary frames are refused.",
                LIVE_CLOSE_UNSUPPORTED);
    return;
  }
  bool before_start = c->state == LIVE_AWAIT_START;
  live_message_parse(arg->msg, arg->msg_length, arg->opcode != WSLAY_TEXT_FRAME, &m);
  switch (m.type) {
  case LIVE_MSG_START:
    if (!before_start)
      live_call_send_error(c, ERR_INVALID_REQUEST, "The call has already started.");
    else if (!m.ok)
      fail_conn(c, m.err, m.problem, LIVE_CLOSE_POLICY);
    else
      on_start(c, m.ticket, m.audio);
    break;
  case LIVE_MSG_SAY:
  case LIVE_MSG_END:
  case LIVE_MSG_UNKNOWN:
    if (before_start) {
      /* Before start there is no call to go on with: error, then close. */
      fail_conn(c, ERR_INVALID_REQUEST,
                "The first message must be {\"type\":\"start\",\"ticket\":…}.", LIVE_CLOSE_POLICY);
    } else if (m.type == LIVE_MSG_END) {
      live_call_end(c, LIVE_END_REP_HANGUP, true);
    } else if (!m.ok || m.type == LIVE_MSG_UNKNOWN) {
      live_call_send_error(c, m.err, m.problem);
    } else {
      rep_turn(c, m.text, m.text_len, -1, -1);
    }
    break;
  case LIVE_MSG_INVALID:
    if (before_start)
      fail_conn(c, m.err, m.problem, LIVE_CLOSE_POLICY);
    else
      live_call_send_error(c, m.err, m.problem);
    break;
  }
  live_message_clear(&m);
}

void live_call_tick(struct live_conn *c, int64_t now_mono)
{
  const struct athos_config *cfg = conn_app(c)->cfg;
  if (c->state == LIVE_AWAIT_START) {
    if (now_mono - c->opened_mono >= LIVE_START_TIMEOUT_MS)
      fail_conn(c, ERR_INVALID_REQUEST, "No start message arrived in time.", LIVE_CLOSE_POLICY);
    return;
  }
  if (c->state != LIVE_IN_CALL)
    return;
  live_voice_tick(c);
  if (cfg->max_call_sec > 0 && now_mono - c->started_mono >= cfg->max_call_sec * 1000)
    live_call_end(c, LIVE_END_MAX_DURATION, true);
  else if (cfg->idle_sec > 0 && now_mono - c->last_rep_mono >= cfg->idle_sec * 1000)
    live_call_end(c, LIVE_END_IDLE, true);
}
