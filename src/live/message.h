/*
 * message.h — the pure half of the live protocol's client-message
 * handling: one WebSocket message's bytes in, a classified message (or the
 * client-facing reason it is refused) out. No socket, no database, no
 * call state, so the fuzzer (tests/fuzz/fuzz_live_message.c) and the unit
 * tests can reach it. live_call_on_message() in call.c parses every client
 * message with live_message_parse() and keeps only the stateful part: what
 * a refusal costs before and after start, spending the ticket, driving the
 * persona. The client-facing sentences and error codes are made here.
 */
#ifndef ATHOS_LIVE_MESSAGE_H
#define ATHOS_LIVE_MESSAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "errors.h"

enum live_msg_type {
  LIVE_MSG_INVALID, /* not a protocol message: binary, not one JSON object, no "type" */
  LIVE_MSG_START,   /* {"type":"start","ticket":"…"} */
  LIVE_MSG_SAY,     /* {"type":"say","text":"…"} */
  LIVE_MSG_END,     /* {"type":"end"} */
  LIVE_MSG_UNKNOWN, /* a "type" string that is none of the above */
};

/* A parsed client message. `type` is what the message says it is; `ok`
 * says whether its content passed. The caller decides by its state what a
 * refusal costs (before start: close 1008; in a call: an error frame) —
 * e.g. call.c answers a "say" before start with "the first message must
 * be start", whatever its content. String pointers borrow from root
 * and stay valid until live_message_clear(). */
struct live_message {
  enum live_msg_type type;
  bool ok;            /* true: the fields of `type` below are set */
  json_t *root;       /* owned; NULL when the bytes were not one JSON object */
  const char *ticket; /* START && ok: 1..LIVE_TICKET_MAX bytes */
  bool audio;         /* START && ok: the call negotiated audio (pcm_s16le, 16 kHz, mono) */
  const char *text;   /* SAY && ok: not all blanks, no NUL, ≤ LIVE_UTTERANCE_MAX_CHARS chars */
  size_t text_len;    /* SAY && ok: bytes */
  size_t text_chars;  /* SAY && ok: UTF-8 characters */
  /* !ok only: */
  enum athos_error err; /* the error code to send */
  char problem[256];    /* the client-facing sentence, NUL-terminated */
};

/* Parses one complete client message of len bytes (binary = it arrived
 * in a binary frame). Always fills m; release it with
 * live_message_clear(). Returns m->type. */
enum live_msg_type live_message_parse(const void *bytes, size_t len, bool binary,
                                      struct live_message *m);
/* Drops m's JSON reference. Accepts a cleared or zeroed m. */
void live_message_clear(struct live_message *m);

#endif
