/*
 * protocol.h — the live protocol's one definition (DESIGN.md "Live
 * protocol"): the message types on the wire, the end reasons, and the
 * limits both sides must agree on. The server (live/message.c, call.c,
 * loop.c), the `athos practice` client (src/cli/) and the documentation
 * (docs/internals/live.md, sdk/README.md "Protocol") all take them from
 * here; tests/unit/test_live_protocol.c checks the documents still name
 * every end reason and limit.
 *
 * Pure: no socket, no database, no JSON library. Linked into the server
 * and the CLI alike.
 */
#ifndef ATHOS_LIVE_PROTOCOL_H
#define ATHOS_LIVE_PROTOCOL_H

#include <stdbool.h>

/* ---- paths ---- */

/* Every path of the public API starts with this. */
#define LIVE_API_PREFIX "/api/external/v1"
/* The WebSocket endpoint the redeem's connectionUrl points to. */
#define LIVE_PATH LIVE_API_PREFIX "/roleplay/live"

/* ---- message types: the "type" of every JSON text frame ---- */

/* client → server */
#define LIVE_TYPE_START "start" /* {"type":"start","ticket":"tkt_…"}: the first frame */
#define LIVE_TYPE_SAY   "say"   /* {"type":"say","text":"…"}; the server's say adds "turn" */
#define LIVE_TYPE_END   "end"   /* {"type":"end"}: the rep hangs up */
/* server → client */
#define LIVE_TYPE_READY "ready" /* {"type":"ready","callId","sessionId","persona":{"name"}} */
#define LIVE_TYPE_ENDED "ended" /* {"type":"ended","callId","durationSec","reason"} */
#define LIVE_TYPE_ERROR "error" /* {"type":"error","code","message"} */
/* voice calls (start carried "audio"), server → client */
#define LIVE_TYPE_HEARD  "heard"  /* {"type":"heard","text","turn"}: a recognised rep turn */
#define LIVE_TYPE_SPOKEN "spoken" /* {"type":"spoken","turn"}: the persona's audio is over */

/* ---- audio: the one encoding a start may negotiate ---- */

/* start's "audio": {"encoding": LIVE_AUDIO_ENCODING, "sampleRate":
 * LIVE_AUDIO_RATE}, mono; both directions then carry binary frames of it. */
#define LIVE_AUDIO_ENCODING "pcm_s16le"
#define LIVE_AUDIO_RATE     16000
/* Inbound audio faster than this many times real time gets an error
 * frame (the excess is dropped). */
#define LIVE_AUDIO_RATE_FACTOR 2
/* The longest utterance buffered for recognition; longer speech is cut. */
#define LIVE_AUDIO_UTTERANCE_MAX_SEC 30

/* ---- limits ---- */

/* A received message, in bytes; a larger one is refused with close 1009. */
#define LIVE_FRAME_MAX (16 * 1024)
/* A rep's say, in characters (UTF-8 code points); over → an error frame,
 * the call goes on. */
#define LIVE_UTTERANCE_MAX_CHARS 2000
/* A connection ticket, in bytes; longer is not one of ours. */
#define LIVE_TICKET_MAX 256
/* Every connection ticket starts with this (api/roleplay.c mints them). */
#define LIVE_TICKET_PREFIX "tkt_"
/* Turns stored per call (the opener included; ATHOS_MAX_TURNS overrides):
 * when the next exchange would not fit, the call ends with `limit`. */
#define LIVE_MAX_TURNS 400
/* Transcript bytes stored per call (ATHOS_MAX_TRANSCRIPT_BYTES
 * overrides): a say that would take the transcript past it, with room
 * for the reply, ends the call with `limit` instead. */
#define LIVE_TRANSCRIPT_MAX (256 * 1024)
/* Messages per connection, a token bucket: LIVE_RATE_BURST at once, then
 * LIVE_RATE_PER_SEC a second. Pings and pongs count too. A message over
 * the rate is dropped with an error frame (RATE_LIMITED); LIVE_RATE_BURST
 * more without slowing down close the connection with 1008. */
#define LIVE_RATE_PER_SEC 5
#define LIVE_RATE_BURST   20

/* A limit's digits, for a message built at compile time. */
#define LIVE_STR_(x) #x
#define LIVE_STR(x)  LIVE_STR_(x)

/* ---- close codes (RFC 6455 §7.4.1) the server uses ---- */

#define LIVE_CLOSE_NORMAL      1000 /* after "ended" */
#define LIVE_CLOSE_UNSUPPORTED 1003 /* a binary frame before start or without audio */
#define LIVE_CLOSE_POLICY      1008 /* a ticket error, anything wrong before start, a flood */
#define LIVE_CLOSE_TOO_BIG     1009 /* a message over LIVE_FRAME_MAX */
#define LIVE_CLOSE_INTERNAL    1011 /* the database or the persona engine failed */

/* ---- end reasons: the "reason" of "ended", and calls.end_reason ---- */

enum live_end_reason {
  LIVE_END_REP_HANGUP,     /* "rep_hangup": the client sent end */
  LIVE_END_PERSONA_HANGUP, /* "persona_hangup": the persona's last line hung up */
  LIVE_END_MAX_DURATION,   /* "max_duration": ATHOS_MAX_CALL_SEC reached */
  LIVE_END_IDLE,           /* "idle": no rep say for ATHOS_IDLE_SEC */
  LIVE_END_DISCONNECT,     /* "disconnect": the socket went away without end */
  LIVE_END_LIMIT,          /* "limit": LIVE_MAX_TURNS or LIVE_TRANSCRIPT_MAX reached */
};
#define LIVE_END_REASON_COUNT 6

/* The reason's wire name (static storage); "" for a value out of range. */
const char *live_end_reason_name(enum live_end_reason r);
/* The reason named name (as received from a server). Returns true and
 * sets *out, or false for a name this version does not know. */
bool live_end_reason_parse(const char *name, enum live_end_reason *out);

#endif
