/*
 * persona.h — the persona engine: a drill's persona pool and the state
 * machine that plays one simulated Medicare prospect through a call.
 *
 * Pure: no I/O, no server headers. Text and drill data in, replies out.
 * Everything a persona knows and says comes from the drill file
 * (drills/<key>.json); no persona text lives in C. Deterministic for a
 * given (drill, persona, difficulty, seed, rep lines).
 */
#ifndef ATHOS_PERSONA_H
#define ATHOS_PERSONA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum persona_difficulty { PERSONA_BEGINNER = 0, PERSONA_ADVANCED = 1, PERSONA_ELITE = 2 };

/* "Beginner" | "Advanced" | "Elite" (exact case). Returns 0, or -1 if unknown. */
int persona_difficulty_parse(const char *s, enum persona_difficulty *out);
/* The wire name of d (static string). */
const char *persona_difficulty_name(enum persona_difficulty d);

struct drill;

/* Parses a drill definition. Returns an owned drill, or NULL with a
 * human-readable reason in err. */
struct drill *drill_parse(const char *json_text, size_t len, char *err, size_t errlen);
/* Accepts NULL. */
void drill_free(struct drill *d);
/* Borrowed; valid while d lives. */
const char *drill_key(const struct drill *d);
size_t drill_persona_count(const struct drill *d);
/* Picks the persona for a new call: among the personas in `state`
 * (two-letter code, case-insensitive; NULL or no match = the whole pool),
 * deterministically from seed. Returns an index < drill_persona_count(). */
size_t drill_pick_persona(const struct drill *d, const char *state, enum persona_difficulty diff,
                          uint64_t seed);
/* Borrowed; valid while d lives. */
const char *drill_persona_name(const struct drill *d, size_t idx);
const char *drill_persona_state(const struct drill *d, size_t idx);

/* What a persona's voice is chosen from (the speech synthesiser's
 * tts_voice_choose()): the drill's optional "sex" ("female" | "male") and
 * "pace" (0.6..1.6, 1 = ordinary), and the age. A drill without them still
 * loads: unknown sex, pace 0 (ordinary). */
enum persona_sex { PERSONA_SEX_UNKNOWN, PERSONA_SEX_FEMALE, PERSONA_SEX_MALE };
struct persona_voice {
  enum persona_sex sex;
  int age;     /* years */
  double pace; /* 0 = not given */
};
void drill_persona_voice(const struct drill *d, size_t idx, struct persona_voice *out);

/* One live conversation. Small (a few KiB at most): a server holds
 * thousands at once. */
struct persona_call;

/* Owned; free with persona_call_free(). d must outlive the call. */
struct persona_call *persona_call_new(const struct drill *d, size_t persona_idx,
                                      enum persona_difficulty diff, uint64_t seed);
/* Accepts NULL. */
void persona_call_free(struct persona_call *pc);
/* The call's persona's voice traits (drill_persona_voice()). */
void persona_call_voice(const struct persona_call *pc, struct persona_voice *out);

/* The persona's first line (the persona speaks first). The returned text
 * is borrowed and valid until the next persona_call_* call on pc. */
const char *persona_call_open(struct persona_call *pc);

struct persona_reply {
  const char *text; /* borrowed, valid until the next call on pc */
  bool hangup;      /* the persona ends the call after this line */
};

/* Feeds one rep utterance (UTF-8, at most a few thousand bytes) and
 * produces the persona's reply. Returns 0, or -1 on an internal error. */
int persona_call_reply(struct persona_call *pc, const char *rep_text, struct persona_reply *out);

/* ---- Additions: intents and call introspection (for tests, the live
 * loop's logs and the scorer's evidence). ---- */

/* What a rep utterance does; one utterance may carry several. They are
 * recognised by the language layer's "intents" classifier (src/nlu/,
 * trained from drills/nlu/intents.tsv); the drill's phrase lists are only
 * the fallback of a build without the classifier. */
enum persona_intent {
  PERSONA_INTENT_GREETING,
  PERSONA_INTENT_INTRODUCTION,
  PERSONA_INTENT_RECORDING_DISCLOSURE,
  PERSONA_INTENT_TPMO_DISCLAIMER,
  PERSONA_INTENT_PERMISSION,
  PERSONA_INTENT_ASK_DOCTORS,
  PERSONA_INTENT_ASK_PRESCRIPTIONS,
  PERSONA_INTENT_ASK_PHARMACY,
  PERSONA_INTENT_ASK_COVERAGE,
  PERSONA_INTENT_ASK_BUDGET,
  PERSONA_INTENT_ASK_EXTRA_HELP,
  PERSONA_INTENT_ASK_HEALTH,
  PERSONA_INTENT_PLAN_PRESENTATION,
  PERSONA_INTENT_OBJECTION_HANDLING,
  PERSONA_INTENT_ENROLLMENT_ASK,
  PERSONA_INTENT_RECAP,
  PERSONA_INTENT_GOODBYE,
  PERSONA_INTENT_PRESSURE,
  PERSONA_INTENT_OFF_TOPIC,
  PERSONA_INTENT_REPEAT_REQUEST,
  PERSONA_INTENT__COUNT
};

/* The drill-file name of an intent ("greeting", "ask_doctors", ...), or
 * NULL if out of range. Static string. */
const char *persona_intent_name(enum persona_intent i);

/* Classifies one rep utterance (raw text) with the "intents" classifier of
 * the language layer (d's phrase lists when it is not built in). Returns a
 * bitmask of (1u << enum persona_intent); 0 when nothing matched.
 * Thread-safe. */
uint32_t drill_classify(const struct drill *d, const char *text);

/* A snapshot of a call's state. Strings are static. */
struct persona_call_info {
  unsigned turn;            /* rep utterances fed so far */
  int trust;                /* 0..100 */
  int patience;             /* hangs up at 0 */
  const char *stage;        /* "opening" | "compliance" | "discovery" | "presentation" |
                               "objections" | "closing" | "enrolled" | "ended" */
  unsigned disclosure_turn; /* rep turn of the recording disclosure; 0 = not yet */
  unsigned tpmo_turn;       /* rep turn of the TPMO disclaimer; 0 = not yet */
  unsigned permission_turn; /* rep turn of the scope-of-appointment ask; 0 = not yet */
  unsigned objections_raised;
  unsigned objections_addressed;
  bool objection_open;     /* one raised and not yet addressed */
  unsigned facts_revealed; /* bitmask: coverage, doctors, drugs, pharmacy, budget,
                               extra help, health (bit 0..6), then the drill's
                               extra "topics" in file order (bit 7..31) */
  unsigned pressure_count;
  bool enrolled;         /* the persona agreed to enroll */
  bool ended;            /* the persona hung up */
  uint32_t last_intents; /* drill_classify() of the last rep utterance */
  size_t persona_idx;
};

void persona_call_info(const struct persona_call *pc, struct persona_call_info *out);

/* Heap bytes owned by pc (it makes exactly one allocation). */
size_t persona_call_footprint(const struct persona_call *pc);

#endif
