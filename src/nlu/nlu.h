/*
 * nlu.h — the shared language layer: normalisation, tokens with
 * positions, question detection, NegEx-style negation scope, and a generic
 * multi-label text classifier whose models are trained at build time from
 * drills/nlu/<labelset>.tsv (tools/nlu_train.c) and compiled in as const
 * data.
 *
 * Pure: libc only, no I/O, no global mutable state. Every function is
 * deterministic and safe to call from many threads at once (models and
 * lexicons are const). Nothing here allocates: a struct nlu_doc is a plain
 * value the caller places where it likes (the stack is fine: about 20 KiB).
 *
 * Typical use:
 *
 *   const struct nlu_model *m = nlu_model_find("intents");
 *   float p[NLU_MAX_LABELS];
 *   uint64_t labels = nlu_classify_text(m, text, strlen(text), p);
 *   if (labels & (1ull << nlu_model_label(m, "ask_doctors"))) ...
 *
 * Adding a label set needs no C change: drop drills/nlu/<name>.tsv in the
 * tree (one example a line, "label1,label2<TAB>utterance"; "-" as the
 * label for a hard negative that carries no label; '#' starts a comment)
 * and rebuild; the build trains it (tools/nlu_train.c) and
 * nlu_model_find("<name>") returns it. Labels get indexes in order of
 * first appearance in the file; look them up by name with
 * nlu_model_label(). At most NLU_MAX_LABELS labels per set.
 *
 * Ownership: nlu_model_find() and nlu_lexicon_default() return pointers to
 * static const data (never freed). Strings returned by nlu_model_label_name()
 * are static too. A struct nlu_doc owns its text buffer inline; token
 * offsets index doc->text and the source text given to nlu_doc_parse().
 */
#ifndef ATHOS_NLU_H
#define ATHOS_NLU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits ---- */
#define NLU_TEXT_MAX   6144 /* bytes of normalised text one doc holds */
#define NLU_TOKENS_MAX 1024 /* tokens one doc holds; the rest is dropped */
#define NLU_WORD_MAX   40   /* longer words are cut (and never corrected) */
#define NLU_MAX_LABELS 64   /* labels one model may have (bits of a uint64_t) */
#define NLU_CHUNK_MAX \
  3000 /* nlu_classify_text() parses raw text in chunks of
                               at most this many bytes, cut at a sentence end */

/* ---- tokens ---- */

enum nlu_token_flag {
  NLU_TF_WORD = 1u << 0,        /* a word (letters/digits); else punctuation */
  NLU_TF_NUMBER = 1u << 1,      /* all digits after normalisation ("thirty-one" -> "31") */
  NLU_TF_SENT_END = 1u << 2,    /* punctuation ending a sentence: . ! ? ; */
  NLU_TF_QMARK = 1u << 3,       /* the punctuation is '?' */
  NLU_TF_NEG_TRIGGER = 1u << 4, /* a negation trigger ("not", "never", "no" ...) */
  NLU_TF_NEGATED = 1u << 5,     /* inside the scope of a negation trigger */
  NLU_TF_CORRECTED = 1u << 6,   /* spelling-corrected against the lexicon */
  NLU_TF_EXPANDED = 1u << 7     /* produced by a contraction / text-speak expansion */
};

struct nlu_token {
  uint16_t off, len;         /* into doc->text */
  uint16_t src_off, src_len; /* the source bytes it came from (several tokens may
                                share one source word: "don't" -> "do" "not") */
  uint16_t flags;            /* enum nlu_token_flag */
  uint16_t sent;             /* sentence index, from 0 */
};

/* One parsed utterance. text holds the normalised tokens separated by single
 * spaces (NUL-terminated); tok[i] points into it. */
struct nlu_doc {
  char text[NLU_TEXT_MAX];
  size_t len;
  struct nlu_token tok[NLU_TOKENS_MAX];
  size_t n;
  size_t nsent;
  bool truncated; /* the input did not fit; the tail was dropped */
  /* parse-time state (normalize.c): */
  const struct nlu_lexicon *lx; /* spelling lexicon of this parse, may be NULL */
  bool rewrite;                 /* a number word, digits or "dot" was seen */
};

/* A spelling lexicon: the words of the training data with their counts,
 * plus a deletion index (SymSpell) for edit-distance-1 lookups. */
struct nlu_lexicon;

/* The lexicon built from every drills/nlu labelset at build time. Static. */
const struct nlu_lexicon *nlu_lexicon_default(void);
/* Whether w (lowercase) is a lexicon word. */
bool nlu_lexicon_has(const struct nlu_lexicon *lx, const char *w, size_t len);
/* The most frequent lexicon word within Damerau-Levenshtein distance 1 of w
 * (only for alphabetic words of 4+ letters not in the lexicon). Returns its
 * static text and length in *len, or NULL. */
const char *nlu_lexicon_correct(const struct nlu_lexicon *lx, const char *w, size_t len,
                                size_t *outlen);

/* Parses src[0..len) into d: ASCII case folding; curly quotes; punctuation
 * kept as its own tokens (. , ? ! ; :); contractions expanded ("don't" ->
 * "do not", "I'm" -> "i am", also written without the apostrophe); chat
 * spellings ("u" -> "you", "ur" -> "your", "r" -> "are", "wat" -> "what",
 * "pls" -> "please", "n" -> "and", "thx" -> "thank you", "b4" -> "before"...);
 * number words to digits ("thirty-one" -> "31"); phone numbers to digits
 * ("1-800-MEDICARE" == "1-800-633-4227" -> "18006334227"); web addresses
 * ("Medicare dot gov", "www.medicare.gov" -> "medicare.gov"); spelling
 * correction of unknown words against lx (NULL = none); then negation scope
 * (nlu_negation_mark). Always succeeds; sets d->truncated when src did not
 * fit. */
void nlu_doc_parse(struct nlu_doc *d, const char *src, size_t len, const struct nlu_lexicon *lx);

/* Convenience: the normalised text of src into out (cap bytes incl. NUL),
 * with the default lexicon. Returns the length written. */
size_t nlu_normalize(const char *src, char *out, size_t cap);

/* Token range [*b, *e) of sentence s. */
void nlu_sentence_range(const struct nlu_doc *d, size_t s, size_t *b, size_t *e);

/* Whether token i's text equals w (NUL-terminated). */
bool nlu_tok_is(const struct nlu_doc *d, size_t i, const char *w);

/* ---- negation (NegEx-style) ---- */

/* Marks NLU_TF_NEG_TRIGGER and NLU_TF_NEGATED on d's tokens. Pre-negation
 * triggers ("not", "never", "no", "without", "nobody", "nothing", "neither",
 * "nor", "none", "cannot") negate the following words up to a scope
 * terminator ("but", "however", "although", "though", "except", "yet",
 * "because", "so", "unless", "while", any punctuation, a subject pronoun
 * starting a new clause) or at most NLU_NEG_SCOPE words; post-negation triggers ("is not true", "is
 * false", "not the case", "no way") negate the words before them in the
 * same clause. Pseudo-triggers ("not only", "no doubt", "no matter") negate
 * nothing. Called by nlu_doc_parse(). */
#define NLU_NEG_SCOPE 8
void nlu_negation_mark(struct nlu_doc *d);

/* Whether any token in [b, e) is negated. */
bool nlu_span_negated(const struct nlu_doc *d, size_t b, size_t e);

/* ---- questions ---- */

enum nlu_question {
  NLU_Q_NONE = 0,
  NLU_Q_WH,      /* what / who / where / when / why / how / which ... */
  NLU_Q_YESNO,   /* do you / are you / is it / can I ... or a bare '?' */
  NLU_Q_TAG,     /* "..., right?", "..., isn't it?", "..., correct?" */
  NLU_Q_INDIRECT /* "can you tell me ...", "I was wondering ...", "tell me about ..." */
};

/* The kind of question sentence s of d is, or NLU_Q_NONE. A '?' always
 * makes a question; without one the form decides (speech transcripts often
 * lack punctuation). */
enum nlu_question nlu_sentence_question(const struct nlu_doc *d, size_t s);
/* The first question kind found in any sentence of d, or NLU_Q_NONE. */
enum nlu_question nlu_doc_question(const struct nlu_doc *d);
/* Number of sentences of d that are questions; *open_q (may be NULL) gets
 * those that are wh- or indirect questions. */
size_t nlu_doc_count_questions(const struct nlu_doc *d, size_t *open_q);

/* ---- end of turn ---- */

/* Whether the words so far read as a finished turn, for a voice call's
 * end-pointer (src/live/voice.c): a finished-sounding utterance ends after
 * a shorter silence. Learnt from the training utterances of drills/nlu/
 * (tools/nlu_train.c): for each word, how often an utterance ends there
 * rather than goes on ("...my doctor" ends, "...my" and "...talk about"
 * go on). Words seen fewer than NLU_TURN_MIN_SEEN times take the end rate
 * of rare words (names, drugs end sentences more than they continue them).
 * The probability is smoothed towards that rate with NLU_TURN_PRIOR_WEIGHT
 * pseudo-counts. */
#define NLU_TURN_MIN_SEEN     3
#define NLU_TURN_PRIOR_WEIGHT 2.0
/* the probability from which nlu_turn_complete() says yes */
#define NLU_TURN_END_THRESHOLD 0.30
/* a wh-question may end on a word at least this likely to end a turn */
#define NLU_TURN_WH_MIN 0.05
struct nlu_turn_word {
  uint32_t hash; /* nlu_hash(word, NLU_WORD_SEED) */
  uint16_t ends, mids;
};
/* The generated table (sorted by hash) and the rare words' end rate. */
const struct nlu_turn_word *nlu_turn_words(size_t *n, float *unseen);
/* P(the turn ends here | the last word of d); 0 for a doc with no word. */
double nlu_turn_end_prob(const struct nlu_doc *d);
/* nlu_turn_end_prob() of text parsed with the default lexicon, against
 * NLU_TURN_END_THRESHOLD. */
bool nlu_turn_complete(const char *text);

/* ---- the classifier ---- */

struct nlu_model;

/* The compiled-in model of a labelset (the file name drills/nlu/<name>.tsv
 * without .tsv), or NULL. Static. */
const struct nlu_model *nlu_model_find(const char *name);
size_t nlu_model_count(void);
const struct nlu_model *nlu_model_at(size_t i);
const char *nlu_model_name(const struct nlu_model *m);
size_t nlu_model_nlabels(const struct nlu_model *m);
/* Static string, or NULL when out of range. */
const char *nlu_model_label_name(const struct nlu_model *m, size_t i);
/* Index of label name, or -1. */
int nlu_model_label(const struct nlu_model *m, const char *name);

/* Scores tokens [b, e) of d (one segment, typically a sentence). p gets one
 * probability per label (nlu_model_nlabels entries); returns the bitmask of
 * labels at or above their calibrated threshold. */
uint64_t nlu_classify_span(const struct nlu_model *m, const struct nlu_doc *d, size_t b, size_t e,
                           float *p);
/* Scores every sentence of d (long sentences in overlapping windows) and
 * keeps the maximum per label in p (may be NULL). Returns the label mask. */
uint64_t nlu_classify_doc(const struct nlu_model *m, const struct nlu_doc *d, float *p);
/* Parses src with the default lexicon, chunk by chunk (NLU_CHUNK_MAX), and
 * classifies every chunk; p (may be NULL) gets the maximum per label. */
uint64_t nlu_classify_text(const struct nlu_model *m, const char *src, size_t len, float *p);

/* Where a chunk of raw text s[0..len) should end for nlu_doc_parse(): all
 * of it when len <= NLU_CHUNK_MAX, else after the last sentence mark or
 * newline (else space) before NLU_CHUNK_MAX. */
size_t nlu_chunk_end(const char *s, size_t len);

/* One model's verdict on a doc: the label mask, the best probability per
 * label, and the first sentence where each label fired (UINT16_MAX if not). */
struct nlu_result {
  uint64_t mask;
  float p[NLU_MAX_LABELS];
  uint16_t sent_of[NLU_MAX_LABELS];
};
/* nlu_classify_doc_where() for several models at once (each span's
 * features are hashed once): out[i] gets models[i]'s result. */
void nlu_classify_doc_multi(const struct nlu_model *const *models, size_t nm,
                            const struct nlu_doc *d, struct nlu_result *out);

/* As nlu_classify_doc, and *sent_of (may be NULL) gets for each label the
 * first sentence index where it fired (UINT16_MAX if it did not). */
uint64_t nlu_classify_doc_where(const struct nlu_model *m, const struct nlu_doc *d, float *p,
                                uint16_t *sent_of);

/* ---- feature extraction (shared with the trainer) ---- */

#define NLU_MAX_FEATURES 1024
/* Hashed features of tokens [b, e) of d: word unigrams and bigrams (negated
 * words hashed apart), character 4-grams of each word with boundary
 * marks, a question-form feature and a bias feature. Writes at most cap
 * hashes (never 0) into out and returns the count (duplicates possible). */
size_t nlu_features(const struct nlu_doc *d, size_t b, size_t e, uint32_t *out, size_t cap);

/* ---- model layout (filled by the generated file; read by classify.c) ---- */

struct nlu_slot;

struct nlu_model {
  const char *name;
  uint32_t nlabels;
  const char *const *labels;
  const float *bias;            /* per label */
  const float *threshold;       /* per label, a probability */
  const float *threshold_logit; /* the same as a logit: the hot path compares logits */
  uint32_t slot_mask;           /* nslots - 1, nslots a power of two */
  const struct nlu_slot *slots; /* open addressing by feature hash */
  const int8_t *weights;        /* dense rows of row_stride weights (nlabels used, the
                                 rest 0), one per kept feature, quantised: weight =
                                 q * scale. Dense int8 rows keep the model in cache
                                 and the inner loop vectorised. */
  uint32_t row_stride;          /* 16 (NLU_ROW_NARROW / 2) when nlabels <= 16, NLU_ROW_NARROW
                                 when nlabels <= 32, else NLU_MAX_LABELS */
  float scale;
};
#define NLU_ROW_NARROW 32

struct nlu_slot {
  uint32_t hash; /* 0 = empty */
  uint32_t row;  /* the feature's row in weights */
};

struct nlu_lexicon {
  uint32_t nwords;
  const char *pool;           /* words, NUL-separated */
  const uint32_t *word_off;   /* into pool */
  const uint8_t *word_len;    /* strlen of each word */
  const uint32_t *word_count; /* frequency in the training data */
  uint32_t word_mask;         /* word hash table: nslots - 1 */
  const uint32_t *word_slot;  /* word index + 1; 0 = empty */
  uint32_t del_mask;          /* deletion index: nslots - 1 */
  const uint32_t *del_hash;   /* 0 = empty */
  const uint32_t *del_off;    /* into del_word, nslots + 1 entries */
  const uint32_t *del_word;   /* word indexes */
};

/* Seeds of the lexicon's tables: words hash with NLU_WORD_SEED, deletions
 * with NLU_DEL_SEED (the trainer builds both). */
#define NLU_WORD_SEED 0u
#define NLU_DEL_SEED  0x0b000193u
#define NLU_CORRECT_MIN \
  6 /* shortest word spelling correction touches: 5-letter
                            words are too often real words ("world" -> "would") */

/* FNV-1a, 32 bits, never 0 (the empty-slot mark). */
uint32_t nlu_hash(const void *p, size_t n, uint32_t seed);

#endif
