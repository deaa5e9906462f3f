/*
 * fuzz_live_message.c — libFuzzer driver for the live protocol's client
 * messages, src/live/message.h (live_message_parse), the pure half of
 * live_call_on_message() in call.c, plus the ws_util.h helpers the
 * handshake runs on client headers.
 *
 * Input: byte 0 says binary frame (bit 0) and which helpers to also run;
 * the rest is the message as wslay hands it over (at most LIVE_FRAME_MAX
 * bytes, any bytes). Properties:
 *   - exactly one outcome: ok with the fields of its type, or refused with
 *     a non-empty, NUL-terminated problem sentence;
 *   - an accepted start has a 1..256-byte ticket; an accepted say has a
 *     NUL-free text that is not all blanks, of ≤ 2000 UTF-8 characters,
 *     text_len/text_chars agreeing with the JSON value;
 *   - ws_utf8_chars() never counts more characters than bytes;
 *   - ws_key_valid() accepts only 24-character keys, and ws_accept_key()
 *     gives a 28-character value for them;
 *   - ws_header_has_token() finds the first element of any list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "live/protocol.h"
#include "live/message.h"
#include "ws/ws_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const uint8_t *data, size_t size, bool binary)
{
  struct live_message m;
  memset(&m, 0x5a, sizeof m);
  enum live_msg_type t = live_message_parse(data, size, binary, &m);
  if (t != m.type)
    abort();
  if (!m.ok) {
    if (memchr(m.problem, '\0', sizeof m.problem) == NULL || m.problem[0] == '\0' ||
        m.ticket != NULL || m.text != NULL)
      abort();
    if (t == LIVE_MSG_END)
      abort(); /* end has nothing to refuse */
  } else {
    switch (t) {
    case LIVE_MSG_START: {
      size_t n = strlen(m.ticket);
      if (n == 0 || n > LIVE_TICKET_MAX)
        abort();
      break;
    }
    case LIVE_MSG_SAY: {
      json_t *jt = json_object_get(m.root, "text");
      if (m.text != json_string_value(jt) || m.text_len != json_string_length(jt) ||
          strlen(m.text) != m.text_len || strspn(m.text, " \t\r\n") == m.text_len ||
          m.text_chars > LIVE_UTTERANCE_MAX_CHARS || m.text_chars > m.text_len ||
          m.text_chars != ws_utf8_chars(m.text, m.text_len))
        abort();
      break;
    }
    case LIVE_MSG_END: break;
    default: abort(); /* INVALID and UNKNOWN are never ok */
    }
  }
  if (binary && (t != LIVE_MSG_INVALID || m.root != NULL))
    abort();
  live_message_clear(&m);
  live_message_clear(&m); /* idempotent */
}

static void check_ws_util(const uint8_t *data, size_t size)
{
  char *s = malloc(size + 1);
  if (s == NULL)
    return;
  memcpy(s, data, size);
  s[size] = '\0';
  if (ws_utf8_chars((const char *)data, size) > size)
    abort();
  if (ws_key_valid(s)) {
    char accept[WS_ACCEPT_LEN];
    if (strlen(s) != 24 || ws_accept_key(s, accept, sizeof accept) != 0 ||
        strlen(accept) != WS_ACCEPT_LEN - 1 || ws_accept_key(s, accept, WS_ACCEPT_LEN - 1) != -1)
      abort();
  }
  (void)ws_header_has_token(s, "upgrade");
  (void)ws_header_has_token(s, "");
  /* The first element of the list, trimmed, is found in it. */
  size_t n = strcspn(s, ",");
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  if (n > 0 && n < 64 && s[0] != ' ' && s[0] != '\t') {
    char token[64];
    memcpy(token, s, n);
    token[n] = '\0';
    if (!ws_header_has_token(s, token))
      abort();
  }
  free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0 || size > LIVE_FRAME_MAX + 1)
    return 0;
  uint8_t b = data[0];
  check_message(data + 1, size - 1, (b & 1) != 0);
  if (b & 2)
    check_ws_util(data + 1, size - 1);
  return 0;
}
