/* test_live_protocol.c — the live protocol's one definition
 * (src/live/protocol.h): end reasons name and parse both ways, the
 * message-rate bucket (live/rate.c) holds its numbers, and the two
 * documents that describe the protocol to people (docs/internals/live.md,
 * sdk/README.md) still name every message type, end reason and limit it
 * defines — a changed constant fails here until the docs follow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "live/message.h"
#include "live/protocol.h"
#include "live/rate.h"
#include "util/fileio.h"

static void test_end_reasons_both_ways(void **state)
{
  (void)state;
  enum live_end_reason r;
  for (int i = 0; i < LIVE_END_REASON_COUNT; i++) {
    const char *name = live_end_reason_name((enum live_end_reason)i);
    assert_true(name[0] != '\0');
    assert_true(live_end_reason_parse(name, &r));
    assert_int_equal(r, i);
    for (int j = 0; j < i; j++)
      assert_string_not_equal(name, live_end_reason_name((enum live_end_reason)j));
  }
  assert_string_equal(live_end_reason_name(LIVE_END_REP_HANGUP), "rep_hangup");
  assert_string_equal(live_end_reason_name(LIVE_END_DISCONNECT), "disconnect");
  assert_string_equal(live_end_reason_name((enum live_end_reason)LIVE_END_REASON_COUNT), "");
  assert_false(live_end_reason_parse("hangup", &r));
  assert_false(live_end_reason_parse("", &r));
  assert_false(live_end_reason_parse("REP_HANGUP", &r));
  assert_false(live_end_reason_parse(NULL, &r));
}

/* The bucket: a burst at once, then drops, then abuse after a burst of
 * drops; refilled at the rate, debt paid back before tokens return. */
static void test_rate(void **state)
{
  (void)state;
  struct live_rate r;
  int64_t t = 1000000;
  live_rate_init(&r, t);
  for (int i = 0; i < LIVE_RATE_BURST; i++)
    assert_int_equal(live_rate_take(&r, t), LIVE_RATE_OK);
  for (int i = 0; i < LIVE_RATE_BURST; i++)
    assert_int_equal(live_rate_take(&r, t), LIVE_RATE_DROP);
  assert_int_equal(live_rate_take(&r, t), LIVE_RATE_ABUSE);
  assert_int_equal(live_rate_take(&r, t), LIVE_RATE_ABUSE); /* the debt stops growing */
  /* Paying back a burst of debt takes LIVE_RATE_BURST / LIVE_RATE_PER_SEC s. */
  t += 1000 * LIVE_RATE_BURST / LIVE_RATE_PER_SEC;
  assert_int_equal(live_rate_take(&r, t), LIVE_RATE_DROP);
  t += 1000 / LIVE_RATE_PER_SEC; /* one token's worth: 0 → 1 */
  assert_int_equal(live_rate_take(&r, t), LIVE_RATE_DROP);
  t += 2 * 1000 / LIVE_RATE_PER_SEC;
  assert_int_equal(live_rate_take(&r, t), LIVE_RATE_OK);
  /* A long quiet spell refills to a burst, no more (and cannot overflow). */
  t += INT64_C(1) << 40;
  for (int i = 0; i < LIVE_RATE_BURST; i++)
    assert_int_equal(live_rate_take(&r, t), LIVE_RATE_OK);
  assert_int_equal(live_rate_take(&r, t), LIVE_RATE_DROP);
  /* Time going backwards refills nothing. */
  assert_int_equal(live_rate_take(&r, t - 5000), LIVE_RATE_DROP);
  /* Steady at the rate: never dropped. */
  live_rate_init(&r, t);
  for (int i = 0; i < 1000; i++) {
    t += 1000 / LIVE_RATE_PER_SEC;
    assert_int_equal(live_rate_take(&r, t), LIVE_RATE_OK);
  }
}

static char *read_doc(const char *rel)
{
  const char *dir = getenv("ATHOS_SOURCE_DIR");
  char path[1024];
  char *text = NULL;
  size_t len = 0;
  snprintf(path, sizeof path, "%s/%s", dir != NULL ? dir : ".", rel);
  if (file_read_all(path, 1 << 20, &text, &len) != 0)
    fail_msg("cannot read %s (set ATHOS_SOURCE_DIR)", path);
  return text;
}

/* doc must contain needle. */
static void expect_in(const char *doc, const char *name, const char *needle)
{
  if (strstr(doc, needle) == NULL)
    fail_msg("%s does not mention %s", name, needle);
}

static void check_doc(const char *rel)
{
  char *doc = read_doc(rel);
  char needle[64];
  for (int i = 0; i < LIVE_END_REASON_COUNT; i++) {
    snprintf(needle, sizeof needle, "`%s`", live_end_reason_name((enum live_end_reason)i));
    expect_in(doc, rel, needle);
  }
  static const char *const TYPES[] = {LIVE_TYPE_START, LIVE_TYPE_SAY,   LIVE_TYPE_END,
                                      LIVE_TYPE_READY, LIVE_TYPE_ENDED, LIVE_TYPE_ERROR};
  for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) {
    snprintf(needle, sizeof needle, "%s", TYPES[i]);
    expect_in(doc, rel, needle);
  }
  snprintf(needle, sizeof needle, "%d characters", LIVE_UTTERANCE_MAX_CHARS);
  expect_in(doc, rel, needle);
  snprintf(needle, sizeof needle, "%d KiB", LIVE_FRAME_MAX / 1024);
  expect_in(doc, rel, needle);
  snprintf(needle, sizeof needle, "%d bytes", LIVE_TICKET_MAX);
  expect_in(doc, rel, needle);
  snprintf(needle, sizeof needle, "%d", LIVE_CLOSE_TOO_BIG);
  expect_in(doc, rel, needle);
  snprintf(needle, sizeof needle, "%d turns", LIVE_MAX_TURNS);
  expect_in(doc, rel, needle);
  snprintf(needle, sizeof needle, "%d KiB", LIVE_TRANSCRIPT_MAX / 1024);
  expect_in(doc, rel, needle);
  snprintf(needle, sizeof needle, "%d at once", LIVE_RATE_BURST);
  expect_in(doc, rel, needle);
  snprintf(needle, sizeof needle, "%d a second", LIVE_RATE_PER_SEC);
  expect_in(doc, rel, needle);
  expect_in(doc, rel, "RATE_LIMITED");
  free(doc);
}

static void test_internals_note_follows(void **state)
{
  (void)state;
  check_doc("docs/internals/live.md");
  /* the voice extension (issue 10) */
  char *doc = read_doc("docs/internals/live.md");
  static const char *const VOICE[] = {LIVE_TYPE_HEARD,
                                      LIVE_TYPE_SPOKEN,
                                      LIVE_AUDIO_ENCODING,
                                      LIVE_STR(LIVE_AUDIO_RATE),
                                      LIVE_STR(LIVE_CLOSE_UNSUPPORTED),
                                      "2×",
                                      "30 s"};
  for (size_t i = 0; i < sizeof VOICE / sizeof VOICE[0]; i++)
    expect_in(doc, "docs/internals/live.md", VOICE[i]);
  free(doc);
}

/* start's "audio": the one encoding is accepted, anything else refused
 * with INVALID_REQUEST; no "audio" is a text call. */
static void test_start_audio(void **state)
{
  (void)state;
  static const struct {
    const char *json;
    bool ok, audio;
  } CASES[] = {
      {"{\"type\":\"start\",\"ticket\":\"tkt_a\"}", true, false},
      {"{\"type\":\"start\",\"ticket\":\"tkt_a\",\"audio\":{\"encoding\":\"pcm_s16le\","
       "\"sampleRate\":16000}}",
       true, true},
      {"{\"type\":\"start\",\"ticket\":\"tkt_a\",\"audio\":{\"encoding\":\"pcm_s16le\","
       "\"sampleRate\":16000,\"channels\":1}}",
       true, true},
      {"{\"type\":\"start\",\"ticket\":\"tkt_a\",\"audio\":{\"encoding\":\"pcm_s16le\","
       "\"sampleRate\":16000,\"channels\":2}}",
       false, false},
      {"{\"type\":\"start\",\"ticket\":\"tkt_a\",\"audio\":{\"encoding\":\"pcm_s16le\","
       "\"sampleRate\":48000}}",
       false, false},
      {"{\"type\":\"start\",\"ticket\":\"tkt_a\",\"audio\":{\"encoding\":\"opus\","
       "\"sampleRate\":16000}}",
       false, false},
      {"{\"type\":\"start\",\"ticket\":\"tkt_a\",\"audio\":{\"sampleRate\":16000}}", false, false},
      {"{\"type\":\"start\",\"ticket\":\"tkt_a\",\"audio\":{\"encoding\":\"pcm_s16le\","
       "\"sampleRate\":\"16000\"}}",
       false, false},
      {"{\"type\":\"start\",\"ticket\":\"tkt_a\",\"audio\":\"pcm_s16le\"}", false, false},
      {"{\"type\":\"start\",\"ticket\":\"tkt_a\",\"audio\":null}", false, false},
  };
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
    struct live_message m;
    enum live_msg_type t = live_message_parse(CASES[i].json, strlen(CASES[i].json), false, &m);
    if (t != LIVE_MSG_START || m.ok != CASES[i].ok || m.audio != CASES[i].audio)
      fail_msg("%s: type %d ok %d audio %d", CASES[i].json, (int)t, (int)m.ok, (int)m.audio);
    if (!m.ok)
      assert_int_equal(m.err, ERR_INVALID_REQUEST);
    live_message_clear(&m);
  }
}

static void test_sdk_readme_follows(void **state)
{
  (void)state;
  char *doc = read_doc("sdk/README.md");
  expect_in(doc, "sdk/README.md", "\"type\":\"" LIVE_TYPE_START "\"");
  expect_in(doc, "sdk/README.md", "\"type\":\"" LIVE_TYPE_ENDED "\"");
  expect_in(doc, "sdk/README.md", LIVE_TICKET_PREFIX);
  free(doc);
  check_doc("sdk/README.md");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_end_reasons_both_ways),  cmocka_unit_test(test_rate),
      cmocka_unit_test(test_internals_note_follows), cmocka_unit_test(test_start_audio),
      cmocka_unit_test(test_sdk_readme_follows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
