/*
 * intents.c — classifies a rep utterance into intents. The meaning comes
 * from the language layer (src/nlu/): the "intents" classifier trained at
 * build time from drills/nlu/intents.tsv, whose labels are the drill-file
 * intent names below. The drill's own phrase lists (still parsed by
 * drill.c, so older drill files load unchanged) are the fallback when the
 * classifier is not built in, and still serve the engine's keyword lists
 * (objection facts) and the name cues.
 */
#include "persona/persona_internal.h"

#include "nlu/nlu.h"

#include <stdlib.h>
#include <string.h>

static const char *const intent_names[PERSONA_INTENT__COUNT] = {
    [PERSONA_INTENT_GREETING] = "greeting",
    [PERSONA_INTENT_INTRODUCTION] = "introduction",
    [PERSONA_INTENT_RECORDING_DISCLOSURE] = "recording_disclosure",
    [PERSONA_INTENT_TPMO_DISCLAIMER] = "tpmo_disclaimer",
    [PERSONA_INTENT_PERMISSION] = "permission",
    [PERSONA_INTENT_ASK_DOCTORS] = "ask_doctors",
    [PERSONA_INTENT_ASK_PRESCRIPTIONS] = "ask_prescriptions",
    [PERSONA_INTENT_ASK_PHARMACY] = "ask_pharmacy",
    [PERSONA_INTENT_ASK_COVERAGE] = "ask_coverage",
    [PERSONA_INTENT_ASK_BUDGET] = "ask_budget",
    [PERSONA_INTENT_ASK_EXTRA_HELP] = "ask_extra_help",
    [PERSONA_INTENT_ASK_HEALTH] = "ask_health",
    [PERSONA_INTENT_PLAN_PRESENTATION] = "plan_presentation",
    [PERSONA_INTENT_OBJECTION_HANDLING] = "objection_handling",
    [PERSONA_INTENT_ENROLLMENT_ASK] = "enrollment_ask",
    [PERSONA_INTENT_RECAP] = "recap",
    [PERSONA_INTENT_GOODBYE] = "goodbye",
    [PERSONA_INTENT_PRESSURE] = "pressure",
    [PERSONA_INTENT_OFF_TOPIC] = "off_topic",
    [PERSONA_INTENT_REPEAT_REQUEST] = "repeat_request",
};

const char *persona_intent_name(enum persona_intent i)
{
  if ((int)i < 0 || i >= PERSONA_INTENT__COUNT)
    return NULL;
  return intent_names[i];
}

/* ---- Normalisation ---------------------------------------------------- */

size_t persona_normalize(const char *in, char *out, size_t cap)
{
  size_t o = 0;
  const unsigned char *s = (const unsigned char *)in;
  if (cap < 3) {
    if (cap > 0)
      out[0] = '\0';
    return 0;
  }
  out[o++] = ' ';
  /* Keep room for the closing space and the NUL. */
  for (size_t i = 0; s[i] != '\0' && o < cap - 2; i++) {
    unsigned char c = s[i];
    if (c == '\'' || c == '`') /* "don't" -> "dont", "I'm" -> "im" */
      continue;
    /* U+2018 / U+2019 (curly apostrophes) are E2 80 98 / E2 80 99. */
    if (c == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0x98 || s[i + 2] == 0x99)) {
      i += 2;
      continue;
    }
    if (c >= 'A' && c <= 'Z')
      c = (unsigned char)(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out[o++] = (char)c;
    } else if (out[o - 1] != ' ') {
      out[o++] = ' ';
    }
  }
  if (out[o - 1] != ' ')
    out[o++] = ' ';
  out[o] = '\0';
  return o;
}

int persona_phrase_compile(const char *src, struct phrase *p)
{
  char buf[512];
  size_t srclen = strlen(src);
  bool prefix = srclen > 0 && src[srclen - 1] == '*';
  if (srclen >= sizeof buf - 4)
    return -1;
  size_t n = persona_normalize(src, buf, sizeof buf);
  if (n <= 1) /* nothing but the padding: an empty phrase */
    return -1;
  if (prefix) /* " doctor " -> " doctor": matches doctors, doctor's... */
    buf[--n] = '\0';
  p->text = strdup(buf);
  if (p->text == NULL)
    return -1;
  p->len = n;
  return 0;
}

/* ---- Matching --------------------------------------------------------- */

/* Whether one of the (up to three) words before position pos of norm is a
 * negator. norm[pos] is the space that starts the match. */
static bool negated_before(const char *norm, size_t pos, const struct phrase_list *negators)
{
  size_t end = pos; /* norm[end] == ' ' */
  for (int w = 0; w < 3 && end > 0; w++) {
    size_t start = end;
    while (start > 0 && norm[start - 1] != ' ')
      start--;
    if (start == end)
      break;
    /* The word is norm[start .. end); its padded form is norm[start-1 .. end]. */
    for (size_t i = 0; i < negators->n; i++) {
      const struct phrase *ng = &negators->v[i];
      if (ng->len == end - start + 2 && memcmp(ng->text + 1, norm + start, end - start) == 0)
        return true;
    }
    end = start - 1;
  }
  return false;
}

bool persona_phrases_match(const struct phrase_list *pl, const char *norm,
                           const struct phrase_list *negators)
{
  for (size_t i = 0; i < pl->n; i++) {
    const char *hit = norm;
    while ((hit = strstr(hit, pl->v[i].text)) != NULL) {
      if (negators == NULL || !negated_before(norm, (size_t)(hit - norm), negators))
        return true;
      hit++;
    }
  }
  return false;
}

/* The drill's phrase lists: the classifier's fallback. */
static uint32_t classify_phrases(const struct drill *d, const char *norm)
{
  uint32_t m = 0;
  for (int i = 0; i < PERSONA_INTENT__COUNT; i++) {
    const struct intent_def *in = &d->intents[i];
    if (persona_phrases_match(&in->phrases, norm, in->negatable ? &d->negators : NULL))
      m |= 1u << i;
  }
  return m;
}

/* Maps a mask of the intents model's labels to 1u << enum persona_intent,
 * by name (the model's label order is the training file's). */
static uint32_t intents_from_labels(const struct nlu_model *m, uint64_t labels)
{
  uint32_t out = 0;
  for (size_t k = 0; labels != 0 && k < nlu_model_nlabels(m); k++) {
    if (!(labels & (1ull << k)))
      continue;
    labels &= ~(1ull << k);
    const char *name = nlu_model_label_name(m, k);
    for (int i = 0; i < PERSONA_INTENT__COUNT; i++)
      if (strcmp(intent_names[i], name) == 0)
        out |= 1u << i;
  }
  return out;
}

uint32_t persona_classify_norm(const struct drill *d, const char *norm)
{
  const struct nlu_model *m = nlu_model_find("intents");
  if (m == NULL)
    return classify_phrases(d, norm);
  return intents_from_labels(m, nlu_classify_text(m, norm, strlen(norm), NULL));
}

uint32_t drill_classify(const struct drill *d, const char *text)
{
  if (d == NULL || text == NULL)
    return 0;
  const struct nlu_model *m = nlu_model_find("intents");
  if (m == NULL) {
    char norm[PERSONA_NORM_MAX];
    persona_normalize(text, norm, sizeof norm);
    return classify_phrases(d, norm);
  }
  /* the raw text: punctuation ('?') and contractions carry meaning */
  return intents_from_labels(m, nlu_classify_text(m, text, strlen(text), NULL));
}

/* The compliance labels of doc, read sentence by sentence and clause by
 * clause: "it's free, guaranteed, you have to sign today" makes three
 * claims in one sentence, which a reading of the whole dilutes. p gets the
 * maximum per label. */
static uint64_t claim_labels(const struct nlu_model *m, const struct nlu_doc *doc, float *p)
{
  float pc[NLU_MAX_LABELS];
  size_t n = nlu_model_nlabels(m);
  uint64_t labels = nlu_classify_doc(m, doc, p);
  size_t from = 0;
  for (size_t i = 0; i <= doc->n; i++) {
    bool cut = i == doc->n || nlu_tok_is(doc, i, ",") || nlu_tok_is(doc, i, "and") ||
               nlu_tok_is(doc, i, ".") || nlu_tok_is(doc, i, "so");
    if (!cut)
      continue;
    if (i - from >= 2) {
      labels |= nlu_classify_span(m, doc, from, i, pc);
      for (size_t l = 0; l < n; l++)
        p[l] = pc[l] > p[l] ? pc[l] : p[l];
    }
    from = i + 1;
  }
  return labels;
}

int persona_pressure_claim(const char *text, int *n_claims)
{
  static const struct {
    const char *label;
    enum reply_kind kind;
  } claims[] = {
      {"claim_medicare_affiliation", R_PUSHBACK_MEDICARE},
      {"claim_free", R_PUSHBACK_FREE},
      {"claim_guaranteed_savings", R_PUSHBACK_GUARANTEE},
      {"claim_false_urgency", R_PUSHBACK_URGENCY},
  };
  const struct nlu_model *m = nlu_model_find("compliance");
  *n_claims = 0;
  if (m == NULL || text == NULL)
    return -1;
  /* About 20 KiB: on the stack, like persona_hear(). */
  struct nlu_doc doc;
  nlu_doc_parse(&doc, text, strlen(text), nlu_lexicon_default());
  float p[NLU_MAX_LABELS];
  uint64_t labels = claim_labels(m, &doc, p);
  int best = -1;
  float best_p = 0.0f;
  for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++) {
    int l = nlu_model_label(m, claims[i].label);
    if (l < 0 || !(labels & (1ull << l)))
      continue;
    ++*n_claims;
    if (p[l] > best_p) {
      best = (int)claims[i].kind;
      best_p = p[l];
    }
  }
  return best;
}

bool persona_extract_name(const struct drill *d, const char *norm, char *out, size_t cap)
{
  for (size_t i = 0; i < d->name_cues.n; i++) {
    const struct phrase *cue = &d->name_cues.v[i];
    const char *hit = strstr(norm, cue->text);
    if (hit == NULL)
      continue;
    /* Cues are stored " my name is " with the trailing space. */
    const char *w = hit + cue->len;
    size_t wl = 0;
    while (w[wl] != '\0' && w[wl] != ' ')
      wl++;
    if (wl < 2 || wl + 1 > cap)
      continue;
    bool stop = false;
    for (size_t k = 0; k < d->name_stopwords.n; k++) {
      const char *sw = d->name_stopwords.v[k];
      if (strlen(sw) == wl && memcmp(sw, w, wl) == 0)
        stop = true;
    }
    bool alpha = true;
    for (size_t k = 0; k < wl; k++)
      if (w[k] < 'a' || w[k] > 'z')
        alpha = false;
    if (stop || !alpha)
      continue;
    memcpy(out, w, wl);
    out[wl] = '\0';
    out[0] = (char)(out[0] - 'a' + 'A');
    return true;
  }
  return false;
}
