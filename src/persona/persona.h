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
size_t drill_pick_persona(const struct drill *d, const char *state,
                          enum persona_difficulty diff, uint64_t seed);
/* Borrowed; valid while d lives. */
const char *drill_persona_name(const struct drill *d, size_t idx);
const char *drill_persona_state(const struct drill *d, size_t idx);

/* One live conversation. Small (a few KiB at most): a server holds
 * thousands at once. */
struct persona_call;

/* Owned; free with persona_call_free(). d must outlive the call. */
struct persona_call *persona_call_new(const struct drill *d, size_t persona_idx,
                                      enum persona_difficulty diff, uint64_t seed);
/* Accepts NULL. */
void persona_call_free(struct persona_call *pc);

/* The persona's first line (the persona speaks first). The returned text
 * is borrowed and valid until the next persona_call_* call on pc. */
const char *persona_call_open(struct persona_call *pc);

struct persona_reply {
  const char *text; /* borrowed, valid until the next call on pc */
  bool hangup;      /* the persona ends the call after this line */
};

/* Feeds one rep utterance (UTF-8, at most a few thousand bytes) and
 * produces the persona's reply. Returns 0, or -1 on an internal error. */
int persona_call_reply(struct persona_call *pc, const char *rep_text,
                       struct persona_reply *out);

#endif
