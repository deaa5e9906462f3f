/*
 * message.h — the pure half of the live protocol's client-message
 * handling: one WebSocket message's bytes in, a classified message (or the
 * client-facing reason it is refused) out. No socket, no database, no
 * call state, so the fuzzer (tests/fuzz/fuzz_live_message.c) and the unit
 * tests can reach it; call.c keeps the stateful part (before/after start,
 * spending the ticket, driving the persona).
 *
 * The checks mirror live_call_on_message()/on_start()/on_say() in call.c
 * exactly, message for message, so call.c can switch to this function
 * without a visible change on the wire.
 */
#ifndef ATHOS_LIVE_MESSAGE_H
#define ATHOS_LIVE_MESSAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "http/errors.h"

enum live_msg_type {
  LIVE_MSG_INVALID, /* refused: see err, problem and fatal */
  LIVE_MSG_START,   /* {"type":"start","ticket":"…"} */
  LIVE_MSG_SAY,     /* {"type":"say","text":"…"} */
  LIVE_MSG_END,     /* {"type":"end"} */
};

/* A parsed client message. The string pointers borrow from root and stay
 * valid until live_message_clear(). */
struct live_message {
  enum live_msg_type type;
  json_t *root;        /* owned; NULL when the bytes were not one JSON object */
  const char *ticket;  /* START: 1..LIVE_TICKET_MAX bytes */
  const char *text;    /* SAY: not all blanks, ≤ LIVE_UTTERANCE_MAX_CHARS characters */
  size_t text_len;     /* SAY: bytes (the text may hold an escaped NUL: use this) */
  size_t text_chars;   /* SAY: UTF-8 characters */
  /* INVALID only: */
  enum athos_error err;    /* the error code to send */
  bool fatal;              /* the message cannot be answered in-call (bad start):
                              close with 1008 whatever the state */
  char problem[256];       /* the client-facing sentence, NUL-terminated */
};

/* Parses one complete client message of len bytes (binary = it arrived
 * as a binary frame). Always fills m (type LIVE_MSG_INVALID with a reason
 * on refusal); release it with live_message_clear(). Returns m->type. */
enum live_msg_type live_message_parse(const void *bytes, size_t len, bool binary,
                                      struct live_message *m);
/* Drops m's JSON reference. Accepts a cleared or zeroed m. */
void live_message_clear(struct live_message *m);

#endif
