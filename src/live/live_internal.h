/*
 * live_internal.h — what the three parts of src/live share: the loop
 * (loop.c: epoll, timers, socket I/O, connection lifetime), the protocol
 * (call.c: the JSON messages and the call lifecycle) and the handshake
 * (handshake.c: the 101 response and the hand-off from MHD's thread).
 *
 * Threads: everything here runs on the loop thread except
 * live_loop_adopt(), which MHD's thread calls from the upgrade callback.
 */
#ifndef ATHOS_LIVE_INTERNAL_H
#define ATHOS_LIVE_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wslay/wslay.h>

#include "errors.h"
#include "live/protocol.h"
#include "live/rate.h"
#include "util/ids.h"
#include "ws/ws.h"

struct app;
struct live_loop;
struct persona_call;
struct live_voice;
struct tts;
struct voice_pool;

/* The server's own limits, each named once (STYLE habit 3); the ones the
 * client must know too (frame, utterance, ticket) are in protocol.h. */
#define LIVE_OUTBOUND_MAX          (64 * 1024) /* bytes queued for a client that does not read */
#define LIVE_START_TIMEOUT_MS      10000       /* connect → start */
#define LIVE_CLOSE_TIMEOUT_MS      3000        /* close frame sent → the peer's close / EOF */
#define LIVE_TICK_MS               250         /* timer resolution for timeouts and pings */
#define LIVE_VOICE_BACKGROUND_NICE 5 /* the speech pool's ordinary workers yield to urgent ones */
#define LIVE_READ_PER_TURN         (32 * 1024) /* socket bytes one connection may read per loop turn */
/* The room kept for the persona's reply when a say is checked against
 * the transcript cap (a persona line is a sentence or two). */
#define LIVE_REPLY_RESERVE 2048

enum live_state {
  LIVE_AWAIT_START, /* upgraded, waiting for {"type":"start"} */
  LIVE_IN_CALL,     /* ready sent; the call is `live` in the database */
  LIVE_CLOSING,     /* close frame queued; finishing the close handshake */
  LIVE_DRAINING,    /* wslay done; FIN sent, reading to EOF before closing */
};

/* One upgraded connection and, once started, its call. Owned by the loop
 * (its list of open connections); freed only by the loop thread. Kept
 * small: a server holds ten thousand. */
struct live_conn {
  struct live_conn *prev, *next; /* the loop's open list, or its graveyard */
  struct live_loop *loop;
  struct MHD_UpgradeResponseHandle *urh;
  /* the framing; ws.fd is borrowed from MHD (never close()d here), and
   * ws.prefix holds the bytes that arrived with the handshake (extra_in) */
  struct ws ws;
  uint32_t events; /* registered with epoll; 0 = not yet */
  enum live_state state;
  bool dead;          /* unlinked; freed at the end of the epoll batch */
  bool failed;        /* a hard error: tear down without a close handshake */
  bool close_pending; /* close once the frames queued before it are out */
  uint16_t close_code;
  /* timers, monotonic ms */
  int64_t opened_mono, last_rx_mono, last_ping_mono, closing_mono;
  int64_t due_mono;      /* no timer can fire before this; 0 = check at the next tick */
  struct live_rate rate; /* every message and control frame the client sends */
  /* the call, once started */
  struct persona_call *pc;
  int64_t call_id; /* internal row id */
  char call_public_id[ID_MAX];
  bool call_open;            /* `live` in the database, not yet ended */
  int next_turn;             /* the next transcript index */
  uint32_t transcript_bytes; /* text bytes of the turns stored so far */
  int64_t started_wall;      /* startedAt, unix ms */
  int64_t started_mono, last_rep_mono;
  struct live_voice *voice; /* a voice call's state (voice.c); NULL for text */
};

/* ---- loop.c ---- */

/* Called on MHD's thread by the upgrade callback: queues the socket for
 * the loop (copying extra_in) and wakes it. Never blocks. If the loop is
 * gone or stopping, closes the connection through urh at once. */
void live_loop_adopt(struct live_loop *l, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh,
                     const char *extra_in, size_t extra_in_size);
/* The upgrade callback handshake.c gives http_reply_upgrade(): cls is the
 * loop. */
static inline void live_loop_upgraded(void *cls, int sock, struct MHD_UpgradeResponseHandle *urh,
                                      const char *extra, size_t extra_len)
{
  live_loop_adopt(cls, sock, urh, extra, extra_len);
}
/* The application the loop serves (borrowed). */
struct app *live_loop_app(const struct live_loop *l);
/* Monotonic ms of the current loop iteration (cheap). */
int64_t live_loop_now(const struct live_loop *l);

/* The loop's voice pool, made (with the synthesiser, and watched by the
 * loop) at the first call: NULL if speech cannot start. */
struct voice_pool *live_loop_voice(struct live_loop *l);
/* The loop's recognisers (decoders.h); freed with the pool. */
struct live_decoders *live_loop_decoders(struct live_loop *l);
/* The loop's synthesiser (after live_loop_voice() succeeded). */
struct tts *live_loop_tts(struct live_loop *l);
/* Queues one binary frame (copied), like live_conn_send_json. */
int live_conn_send_binary(struct live_conn *c, const void *bytes, size_t len);
/* Sends what a callback from outside the connection's own I/O queued
 * (voice pool results) and settles the connection. */
void live_conn_kick(struct live_conn *c);
/* Queues one text frame; json is stolen. Returns 0, or -1 if it could not
 * be queued (the connection is then marked failed). Enforces
 * LIVE_OUTBOUND_MAX. */
int live_conn_send_json(struct live_conn *c, json_t *json);
/* A client that breaks a limit of the transport (a flood): the error
 * frame (code, message) if the protocol still takes one, the call ended
 * as a disconnect, reading stopped, and close_code (1008 or 1009). */
void live_conn_police(struct live_conn *c, enum athos_error code, const char *message,
                      uint16_t close_code);
/* Moves the connection to LIVE_CLOSING: the close frame (code) follows
 * every frame queued before it. wslay sends control frames ahead of data,
 * so the close is queued only once the data queue is empty. */
void live_conn_close(struct live_conn *c, uint16_t code);

/* ---- call.c ---- */

/* wslay's on_msg_recv: one complete client message. */
void live_call_on_message(struct live_conn *c, const struct wslay_event_on_msg_recv_arg *arg);
/* Ends the open call (committed), kicks scoring, and if send_ended queues
 * {"type":"ended"} and a 1000 close. No-op if no call is open. */
void live_call_end(struct live_conn *c, enum live_end_reason reason, bool send_ended);
/* The timer: start timeout, max duration, idle. Runs every tick. */
void live_call_tick(struct live_conn *c, int64_t now_mono);
/* Frees the call's state (not the connection). Accepts a conn with no
 * call. */
void live_call_release(struct live_conn *c);
/* Sends {"type":"error","code":<e's wire code>,"message":message}. */
void live_call_send_error(struct live_conn *c, enum athos_error e, const char *message);

/* A recognised utterance (voice.c): `heard`, committed as the rep's turn,
 * then answered as a say is. */
void live_call_heard(struct live_conn *c, const char *text, int64_t start_ms, int64_t end_ms);
/* The rep barged in on persona turn `turn` (its text); heard is the share
 * of the line played, or < 0 when unknown (synthesis was still running). */
void live_call_barged_in(struct live_conn *c, int turn, const char *text, double heard);

/* ---- retention.c ---- */

/* Deletes the recordings older than ATHOS_RECORDING_RETENTION_DAYS (a
 * batch); no-op when retention is off. Loop thread, from the timer. */
void live_recordings_sweep(struct app *app);
#define LIVE_SWEEP_MS 60000 /* how often */

/* ---- voice.c ---- */

/* Gives the call its voice state. Returns 0 or -1. */
int live_voice_new(struct live_conn *c);
/* One binary frame of the rep's audio (negotiated). */
void live_voice_on_audio(struct live_conn *c, const uint8_t *bytes, size_t len);
/* Speaks persona turn `turn` (text) as binary frames, then `spoken`. */
void live_voice_speak(struct live_conn *c, int turn, const char *text);
/* True while persona audio is pending (the timer must pace it). */
bool live_voice_busy(const struct live_conn *c);
/* The timer: paces the persona's audio. */
void live_voice_tick(struct live_conn *c);
/* Starts the call's recording (after the call is live): ATHOS_MEDIA_DIR/
 * <callId>.wav, registered in the store. A failure is logged; the call
 * goes on unrecorded. */
void live_voice_record(struct live_conn *c);
/* At the call's end: closes the recording and stores its length and
 * waveform. */
void live_voice_finish(struct live_conn *c);
/* Frees the voice state; jobs in flight are cancelled and free themselves. */
void live_voice_free(struct live_conn *c);

#endif
