/*
 * persona_internal.h — the parsed drill's in-memory shape, shared by
 * drill.c (parsing), intents.c (classification) and engine.c (the call).
 * Not part of the public interface: only src/persona/ includes it.
 */
#ifndef ATHOS_PERSONA_INTERNAL_H
#define ATHOS_PERSONA_INTERNAL_H

#include "nlu/nlu.h"
#include "persona/persona.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits on drill data; a drill that exceeds them is rejected at parse. */
#define PERSONA_MAX_DOCTORS    6
#define PERSONA_MAX_DRUGS      8
#define PERSONA_MAX_OBJECTIONS 8
#define PERSONA_MAX_TEXT       600  /* the longest reply the engine produces */
#define PERSONA_NORM_MAX       4096 /* rep text beyond this is not classified */
#define PERSONA_MAX_TOPICS     32   /* facts a persona can be asked about (bits of a uint32_t) */

/* Facts a persona can reveal; one bit each in the call's state. These
 * seven have their own fields and reply kinds; the drill's "topics" may
 * name more (index FACT__COUNT and up), answered from the persona's
 * "facts" with the generic topic_* reply kinds. */
enum persona_fact {
  FACT_COVERAGE,
  FACT_DOCTORS,
  FACT_DRUGS,
  FACT_PHARMACY,
  FACT_BUDGET,
  FACT_EXTRA_HELP,
  FACT_HEALTH,
  FACT__COUNT
};

/* Kinds of reply line. Their names are the keys of the drill's "replies". */
enum reply_kind {
  R_OPENER,
  R_GREETING,
  R_ACK_INTRO,
  R_ACK_DISCLOSURE,
  R_ACK_TPMO,
  R_PERMISSION,
  R_ASK_RECORDING,
  R_ASK_REPRESENTATION,
  R_COVERAGE,
  R_COVERAGE_AGAIN,
  R_DOCTORS,
  R_DOCTORS_AGAIN,
  R_DRUGS,
  R_DRUGS_AGAIN,
  R_PHARMACY,
  R_PHARMACY_AGAIN,
  R_BUDGET,
  R_BUDGET_AGAIN,
  R_EXTRA_HELP,
  R_EXTRA_HELP_AGAIN,
  R_HEALTH,
  R_HEALTH_AGAIN,
  R_WITHHOLD,
  R_VOL_COVERAGE,
  R_VOL_DOCTORS,
  R_VOL_DRUGS,
  R_VOL_PHARMACY,
  R_VOL_BUDGET,
  R_PLAN_REACTION,
  R_ENROLL_AGREE,
  R_ENROLL_NOT_READY,
  R_ENROLL_MISSING,
  R_ENROLLED_ALREADY,
  R_RECAP_CONFIRM,
  R_RECAP_PARTIAL,
  R_GOODBYE,
  R_GOODBYE_ENROLLED,
  R_OFF_TOPIC,
  R_PRESSURE_PUSHBACK,
  R_HANGUP_PRESSURE,
  R_HANGUP_PATIENCE,
  R_HANGUP_COMPLIANCE,
  R_EMPATHY_ACK,
  R_GENERIC,
  /* Optional kinds (a drill without them falls back to generic lines). */
  R_TOPIC_ANSWER,
  R_TOPIC_AGAIN,
  R_TOPIC_UNKNOWN,
  R_QUESTION_UNKNOWN,
  R_RECAP_CORRECT_DRUG,
  R_RECAP_CORRECT_DOCTOR,
  R_ENROLL_DEFER,
  R_CHECK_IN,
  R_RECAP_CONFIRM_NAMED,
  R_PUSHBACK_FREE,
  R_PUSHBACK_GUARANTEE,
  R_PUSHBACK_MEDICARE,
  R_PUSHBACK_URGENCY,
  R__COUNT
};
#define R__REQUIRED R_TOPIC_ANSWER /* kinds below this need lines for every tier */

extern const char *const reply_kind_names[R__COUNT];

struct strlist {
  char **v;
  size_t n;
};

/* A normalised phrase: " word word " (or " word" when it ends in '*',
 * which matches any word starting with it). */
struct phrase {
  char *text;
  size_t len;
};

struct phrase_list {
  struct phrase *v;
  size_t n;
};

struct intent_def {
  struct phrase_list phrases;
  bool negatable; /* a negator just before a match cancels it */
};

struct doctor {
  char *name;
  char *specialty;
};

struct drug {
  char *name;
  char *dose;
};

struct objection_def {
  char *key;
  struct strlist raise, press, accept;
  struct phrase_list keywords; /* the facts that answer it */
};

struct persona {
  char *id, *name, *first_name, *city, *state, *coverage, *complaint, *pharmacy, *budget,
      *extra_help, *family, *personality, *enrollment_period;
  int age;
  int sex;     /* enum persona_sex; "sex" in the drill, optional */
  double pace; /* speaking pace, 1.0 ordinary; 0 = not given */
  int budget_usd;
  struct doctor doctors[PERSONA_MAX_DOCTORS];
  size_t n_doctors;
  struct drug drugs[PERSONA_MAX_DRUGS];
  size_t n_drugs;
  struct strlist health;
  uint8_t objections[PERSONA_MAX_OBJECTIONS]; /* indexes into drill->objections */
  size_t n_objections;
  unsigned difficulty_mask; /* 1u << enum persona_difficulty */
  struct strlist openers;
  struct strlist lines[R__COUNT]; /* optional persona-specific lines */
  /* Lists rendered once at parse time from the drill's formats. */
  char *doctors_text, *drugs_text, *health_text;
  /* Answers to the drill's extra topics, by topic index; NULL = the persona
   * does not know (indexes below FACT__COUNT stay NULL). */
  char *facts[PERSONA_MAX_TOPICS];
  /* Who must be on the line before this persona enrolls; NULL = nobody. */
  char *decision_helper;
  bool power_of_attorney;
  /* Normalised " word " keys that name this persona's drugs and doctors in
   * a rep's recap (" eliquis ", " dr reyes ", " doctor reyes ", " alan reyes "). */
  char *drug_keys[PERSONA_MAX_DRUGS];
  char *doctor_keys[PERSONA_MAX_DOCTORS][3];
};

enum objection_rule {
  OBJ_RULE_ANY,    /* any reasonable answer (handling, facts or a plan) */
  OBJ_RULE_EITHER, /* objection handling or the objection's facts */
  OBJ_RULE_BOTH    /* empathy/handling and the objection's facts together */
};

struct difficulty_rules {
  int trust, patience, objections, facts_min_trust, enroll_min_trust;
  int compliance_deadline_turn; /* 0 = none */
  bool hangup_on_pressure, volunteer, require_discovery;
  enum objection_rule objection_rule;
};

struct trust_deltas {
  int introduction, disclosure, tpmo, permission, question, handling, addressed, recap, pressure,
      off_topic;
};

struct drill {
  char *key, *title;
  struct persona *personas;
  size_t n_personas;
  struct objection_def *objections;
  size_t n_objections;
  struct intent_def intents[PERSONA_INTENT__COUNT];
  struct phrase_list negators;
  struct phrase_list name_cues;
  struct strlist name_stopwords;
  struct strlist replies[R__COUNT][4]; /* [kind][0 = any, 1 + difficulty] */
  struct strlist fillers;              /* prefixes used when variants run out */
  /* Fact topics: key ("doctors", "travel") and how the persona names it
   * ("my doctors"). The first FACT__COUNT are enum persona_fact. */
  char *topic_keys[PERSONA_MAX_TOPICS];
  char *topics[PERSONA_MAX_TOPICS];
  size_t n_topics;
  /* The persona_topics classifier (NULL when the build has none) and, per
   * label, the topic it asks about (>= 0), TOPIC_LABEL_RECAP,
   * TOPIC_LABEL_CHECK_IN or -1. */
  const struct nlu_model *topic_model;
  int8_t label_topic[64];
  struct difficulty_rules rules[3];
  struct trust_deltas delta;
  int pressure_patience_cost, off_topic_patience_cost;
};

#define TOPIC_LABEL_RECAP    (-2)
#define TOPIC_LABEL_CHECK_IN (-3)

/* engine.c */
/* Index of a template placeholder name (without braces), or -1. */
int persona_placeholder_find(const char *name, size_t len);

/* intents.c */
/* Lower-cases ASCII, drops apostrophes, turns every other byte into a
 * single space and pads with one space on each side. Writes at most cap
 * bytes including the NUL; returns the length. */
size_t persona_normalize(const char *in, char *out, size_t cap);
/* Compiles a phrase from the drill into p (owned). Returns 0 or -1. */
int persona_phrase_compile(const char *src, struct phrase *p);
/* Whether any phrase of pl occurs in norm (a persona_normalize() result);
 * with negators non-NULL, an occurrence preceded within three words by a
 * negator does not count. */
bool persona_phrases_match(const struct phrase_list *pl, const char *norm,
                           const struct phrase_list *negators);
/* Classifies a normalised utterance; a bitmask of 1u << enum persona_intent. */
uint32_t persona_classify_norm(const struct drill *d, const char *norm);
/* The reply kind that answers the prohibited claim a pressure line makes
 * ("it's free" -> R_PUSHBACK_FREE), by the compliance classifier; -1 when
 * it names none. *n_claims gets how many such claims it makes. */
int persona_pressure_claim(const char *text, int *n_claims);
/* Finds the rep's name after a cue ("my name is ..."); writes it
 * capitalised into out, or returns false. */
bool persona_extract_name(const struct drill *d, const char *norm, char *out, size_t cap);

/* understand.c */
/* What one rep utterance asks: the question form and the fact topics. */
struct persona_heard {
  bool question;      /* a question (wh-, yes/no, tag or indirect) */
  bool wh;            /* its first question is a wh-question ("which ...") */
  bool about_persona; /* the question is about "you"/"your" */
  bool recap;         /* the rep reads back what they heard */
  bool check_in;      /* "does that make sense?", "are you still there?" */
  uint32_t topics;    /* 1u << topic index (the drill's topics) */
  uint8_t order[4];   /* the first topics in the order the rep asked them */
  uint8_t n_order;
};
/* Reads rep_text with the language layer. Thread-safe; no allocation. */
void persona_hear(const struct drill *d, const char *rep_text, struct persona_heard *out);

#endif
