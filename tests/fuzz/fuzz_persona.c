/*
 * fuzz_persona.c — libFuzzer driver for the persona engine
 * (src/persona/persona.h) on the real drill, drills/ma-full-sale.json:
 * whatever a rep says, one call of the simulated prospect must keep
 * answering with a bounded line.
 *
 * Input: byte 0 picks the difficulty, byte 1 the persona, bytes 2..9 the
 * seed; the rest is the rep's side of the call, one utterance per '\n'
 * (each cut to 2,000 bytes, the live loop's limit). The call is fed until
 * the persona hangs up or the input ends. Every reply (and the opener)
 * must be non-NULL, NUL-terminated and at most PERSONA_MAX_TEXT (600)
 * bytes; persona_call_info() must stay within its documented ranges (one
 * facts_revealed bit per key of the drill's "topics").
 *
 * The drill is found through $ATHOS_DRILL, else <binary dir>/../drills/,
 * else ./drills/ (the drivers are run from the repo root by
 * scripts/fuzz.sh).
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "persona/persona.h"
#include "util/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define REPLY_MAX     600  /* PERSONA_MAX_TEXT */
#define UTTERANCE_MAX 2000 /* LIVE_UTTERANCE_MAX_CHARS, in bytes here */

static struct drill *g_drill;
static size_t g_topics; /* keys of the drill's "topics": one bit each in facts_revealed */

/* The whole file (at most 8 MiB), or NULL: util/fileio's bounded read. */
static char *slurp(const char *path, size_t *len)
{
  char *buf = NULL;
  return file_read_all(path, 8u << 20, &buf, len) == 0 ? buf : NULL;
}

static char *load_drill_file(const char *argv0, const char *name, size_t *len)
{
  char path[PATH_MAX + 64];
  const char *env = getenv("ATHOS_DRILL");
  char *text;
  if (env != NULL && strstr(name, "rubric") == NULL && (text = slurp(env, len)) != NULL)
    return text;
  env = getenv("ATHOS_RUBRIC");
  if (env != NULL && strstr(name, "rubric") != NULL && (text = slurp(env, len)) != NULL)
    return text;
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0 && argv0 != NULL) {
    snprintf(exe, sizeof exe, "%s", argv0);
    n = (ssize_t)strlen(exe);
  }
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash != NULL) {
      *slash = '\0';
      snprintf(path, sizeof path, "%s/../drills/%s", exe, name);
      if ((text = slurp(path, len)) != NULL)
        return text;
    }
  }
  snprintf(path, sizeof path, "drills/%s", name);
  return slurp(path, len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  size_t len = 0;
  char err[256] = "";
  char *text = load_drill_file(*argc > 0 ? (*argv)[0] : NULL, "ma-full-sale.json", &len);
  if (text == NULL) {
    fprintf(stderr, "fuzz_persona: cannot read drills/ma-full-sale.json (set ATHOS_DRILL)\n");
    exit(2);
  }
  g_drill = drill_parse(text, len, err, sizeof err);
  json_t *root = json_loadb(text, len, 0, NULL);
  g_topics = json_object_size(json_object_get(root, "topics"));
  json_decref(root);
  free(text);
  if (g_drill == NULL) {
    fprintf(stderr, "fuzz_persona: the real drill does not parse: %s\n", err);
    exit(2);
  }
  return 0;
}

static void check_line(const char *text)
{
  if (text == NULL || memchr(text, '\0', REPLY_MAX + 1) == NULL || text[0] == '\0')
    abort();
}

static void check_info(const struct persona_call *pc, unsigned turns)
{
  struct persona_call_info in;
  memset(&in, 0, sizeof in);
  persona_call_info(pc, &in);
  if (in.turn != turns || in.trust < 0 || in.trust > 100 || in.stage == NULL ||
      in.persona_idx >= drill_persona_count(g_drill) || in.disclosure_turn > turns ||
      in.tpmo_turn > turns || in.permission_turn > turns ||
      in.objections_addressed > in.objections_raised || g_topics == 0 || g_topics > 32 ||
      (g_topics < 32 && in.facts_revealed >= (1u << g_topics)))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 10)
    return 0;
  enum persona_difficulty diff = (enum persona_difficulty)(data[0] % 3);
  size_t idx = data[1] % drill_persona_count(g_drill);
  uint64_t seed = 0;
  for (size_t i = 2; i < 10; i++)
    seed = seed << 8 | data[i];
  data += 10, size -= 10;

  struct persona_call *pc = persona_call_new(g_drill, idx, diff, seed);
  if (pc == NULL)
    abort();
  check_line(persona_call_open(pc));
  char line[UTTERANCE_MAX + 1];
  unsigned turns = 0;
  size_t pos = 0;
  while (pos < size) {
    const uint8_t *nl = memchr(data + pos, '\n', size - pos);
    size_t n = nl != NULL ? (size_t)(nl - (data + pos)) : size - pos;
    size_t take = n < UTTERANCE_MAX ? n : UTTERANCE_MAX;
    memcpy(line, data + pos, take);
    line[take] = '\0';
    pos += n + 1;
    struct persona_reply reply = {NULL, false};
    if (persona_call_reply(pc, line, &reply) != 0)
      abort(); /* no internal error on any rep text */
    turns++;
    check_line(reply.text);
    check_info(pc, turns);
    if (reply.hangup)
      break;
  }
  persona_call_free(pc);
  return 0;
}
