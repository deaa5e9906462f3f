/*
 * message.c — classifying one client message of the live protocol without
 * touching the connection (see message.h). The refusal sentences and
 * error codes made here are the ones call.c sends on the wire.
 */
#include "live/message.h"

#include <stdio.h>
#include <string.h>

#include "live/protocol.h"
#include "ws/ws_util.h"

static enum live_msg_type refuse(struct live_message *m, enum athos_error e, const char *why)
{
  m->ok = false;
  m->err = e;
  snprintf(m->problem, sizeof m->problem, "%s", why);
  return m->type;
}

static enum live_msg_type parse_start(struct live_message *m)
{
  const char *ticket = json_string_value(json_object_get(m->root, "ticket"));
  if (ticket == NULL || ticket[0] == '\0')
    return refuse(m, ERR_INVALID_REQUEST, "start needs a \"ticket\" string.");
  /* strnlen: a ticket is only ever looked at up to its first NUL (it is
   * hashed as a C string), and longer than ours is simply not ours. */
  if (strnlen(ticket, LIVE_TICKET_MAX + 1) > LIVE_TICKET_MAX)
    return refuse(m, ERR_INVALID_TOKEN, "The connection ticket is not valid.");
  json_t *audio = json_object_get(m->root, "audio");
  if (audio != NULL) {
    const char *enc = json_string_value(json_object_get(audio, "encoding"));
    json_t *rate = json_object_get(audio, "sampleRate");
    json_t *channels = json_object_get(audio, "channels");
    if (!json_is_object(audio) || enc == NULL || strcmp(enc, LIVE_AUDIO_ENCODING) != 0 ||
        !json_is_integer(rate) || json_integer_value(rate) != LIVE_AUDIO_RATE ||
        (channels != NULL && (!json_is_integer(channels) || json_integer_value(channels) != 1)))
      return refuse(m, ERR_INVALID_REQUEST,
                    "start's \"audio\" must be {\"encoding\":\"" LIVE_AUDIO_ENCODING
                    "\",\"sampleRate\":" LIVE_STR(LIVE_AUDIO_RATE) "} (mono).");
    m->audio = true;
  }
  m->ticket = ticket;
  m->ok = true;
  return m->type;
}

static enum live_msg_type parse_say(struct live_message *m)
{
  json_t *jtext = json_object_get(m->root, "text");
  const char *text = json_string_value(jtext);
  if (text == NULL)
    return refuse(m, ERR_INVALID_REQUEST, "say needs a \"text\" string.");
  size_t len = json_string_length(jtext);
  /* JSON allows "\u0000"; the rest of the call (transcript, persona) reads
   * the text as a C string, so "\u0000hello" would commit an empty turn
   * past the non-empty check below. */
  if (memchr(text, '\0', len) != NULL)
    return refuse(m, ERR_INVALID_REQUEST, "say \"text\" must not contain NUL characters.");
  if (strspn(text, " \t\r\n") == len)
    return refuse(m, ERR_INVALID_REQUEST, "say needs a non-empty \"text\".");
  size_t chars = ws_utf8_chars(text, len);
  if (chars > LIVE_UTTERANCE_MAX_CHARS)
    return refuse(m, ERR_INVALID_REQUEST,
                  "An utterance is limited to " LIVE_STR(
                      LIVE_UTTERANCE_MAX_CHARS) " characters; this one was not sent.");
  m->text = text;
  m->text_len = len;
  m->text_chars = chars;
  m->ok = true;
  return m->type;
}

enum live_msg_type live_message_parse(const void *bytes, size_t len, bool binary,
                                      struct live_message *m)
{
  json_error_t jerr;
  memset(m, 0, sizeof *m);
  m->type = LIVE_MSG_INVALID;
  if (binary)
    return refuse(m, ERR_INVALID_REQUEST,
                  "Binary frames are not part of the protocol; send JSON text frames.");
  m->root = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, &jerr);
  if (m->root == NULL || !json_is_object(m->root)) {
    char detail[sizeof m->problem];
    snprintf(detail, sizeof detail, "A message must be one JSON object: %s",
             m->root == NULL ? jerr.text : "not an object");
    return refuse(m, ERR_INVALID_REQUEST, detail);
  }
  const char *type = json_string_value(json_object_get(m->root, "type"));
  if (type == NULL)
    return refuse(m, ERR_INVALID_REQUEST, "A message needs a \"type\" string.");
  if (strcmp(type, LIVE_TYPE_START) == 0) {
    m->type = LIVE_MSG_START;
    return parse_start(m);
  }
  if (strcmp(type, LIVE_TYPE_SAY) == 0) {
    m->type = LIVE_MSG_SAY;
    return parse_say(m);
  }
  if (strcmp(type, LIVE_TYPE_END) == 0) {
    m->type = LIVE_MSG_END;
    m->ok = true;
    return m->type;
  }
  m->type = LIVE_MSG_UNKNOWN;
  return refuse(m, ERR_INVALID_REQUEST, "Unknown message type; expected start, say or end.");
}

void live_message_clear(struct live_message *m)
{
  json_decref(m->root);
  m->root = NULL;
  m->ticket = m->text = NULL;
}
