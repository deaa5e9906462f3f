/*
 * asr_pocketsphinx.c — the PocketSphinx backend of asr.h (Debian
 * libpocketsphinx-dev 0.8+5prealpha and pocketsphinx-en-us).
 *
 * Without a domain model the decoder runs the general en-us model. With
 * one, the decoder starts with no model at all; the domain model's words
 * missing from the dictionary get a pronunciation (acronyms letter by
 * letter, others from Flite's CMU lexicon and letter-to-sound rules: the
 * same phone set, without stress), and a model set interpolating the
 * general and the domain model becomes the search. (Adding words while a
 * model is loaded adds them to that model too, and nesting it in a set
 * then breaks its word ids: hence the order.)
 */
#include "voice/asr.h"

#include <ctype.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <flite/flite.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#pragma GCC diagnostic pop

#include "util/log.h"
#include "voice/voice_http.h"

cst_lexicon *cmu_lex_init(void);

#define ASR_MODEL_DIR "/usr/share/pocketsphinx/model/en-us"
#ifndef ATHOS_VOICE_LM_DIR
#define ATHOS_VOICE_LM_DIR "."
#endif
#define ASR_WORD_MAX   64
#define ASR_PHONES_MAX 256
#define ASR_TUNING_MAX 512

struct asr {
  struct asr_http *http; /* set: the HTTP provider serves every call */
  cmd_ln_t *config;
  ps_decoder_t *ps;
};

static char g_domain_lm[512], g_domain_vocab[512];
static bool g_have_domain;

/* Once per process: the workers' worker_init may call asr_config_default()
 * at the same time. */
static void find_domain_model(void)
{
  const char *dir = getenv("ATHOS_VOICE_LM_DIR");
  if (!dir || !*dir)
    dir = ATHOS_VOICE_LM_DIR;
  snprintf(g_domain_lm, sizeof g_domain_lm, "%s/domain.arpa", dir);
  snprintf(g_domain_vocab, sizeof g_domain_vocab, "%s/domain.vocab", dir);
  g_have_domain = access(g_domain_lm, R_OK) == 0 && access(g_domain_vocab, R_OK) == 0;
}

void asr_config_default(struct asr_config *c)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, find_domain_model);
  c->hmm = ASR_MODEL_DIR "/en-us";
  c->dict = ASR_MODEL_DIR "/cmudict-en-us.dict";
  c->lm = ASR_MODEL_DIR "/en-us.lm.bin";
  c->domain_lm = g_have_domain ? g_domain_lm : NULL;
  c->domain_vocab = g_have_domain ? g_domain_vocab : NULL;
  c->domain_weight = 0.5;
  c->tuning = getenv("ATHOS_ASR_TUNING");
}

/* Flite's phones ("m eh1 d ih0 g ae1 p", "ax", "axr") as the model's
 * ("M EH D IH G AE P", "AH", "ER"). Returns 0, or -1 if none. */
static int phones_from_flite(const cst_val *list, char *out, size_t cap)
{
  size_t n = 0;
  out[0] = '\0';
  for (const cst_val *v = list; v; v = val_cdr(v)) {
    char ph[8];
    snprintf(ph, sizeof ph, "%s", val_string(val_car(v)));
    size_t len = strlen(ph);
    while (len > 0 && isdigit((unsigned char)ph[len - 1]))
      ph[--len] = '\0';
    if (strcmp(ph, "ax") == 0)
      snprintf(ph, sizeof ph, "ah");
    else if (strcmp(ph, "axr") == 0)
      snprintf(ph, sizeof ph, "er");
    else if (strcmp(ph, "pau") == 0 || len == 0)
      continue;
    for (char *p = ph; *p; p++)
      *p = (char)toupper((unsigned char)*p);
    int k = snprintf(out + n, cap - n, "%s%s", n ? " " : "", ph);
    if (k < 0 || (size_t)k >= cap - n)
      return -1;
    n += (size_t)k;
  }
  return n > 0 ? 0 : -1;
}

/* An acronym's letters as the model's phones ("tpmo" -> "T IY P IY EH M
 * OW"). Returns 0, or -1 for a character that is not a letter. */
static int phones_spelled(const char *word, char *out, size_t cap)
{
  static const char *const names[26] = {"EY",
                                        "B IY",
                                        "S IY",
                                        "D IY",
                                        "IY",
                                        "EH F",
                                        "JH IY",
                                        "EY CH",
                                        "AY",
                                        "JH EY",
                                        "K EY",
                                        "EH L",
                                        "EH M",
                                        "EH N",
                                        "OW",
                                        "P IY",
                                        "K Y UW",
                                        "AA R",
                                        "EH S",
                                        "T IY",
                                        "Y UW",
                                        "V IY",
                                        "D AH B AH L Y UW",
                                        "EH K S",
                                        "W AY",
                                        "Z IY"};
  size_t n = 0;
  out[0] = '\0';
  for (const char *p = word; *p; p++) {
    if (*p < 'a' || *p > 'z')
      return -1;
    int k = snprintf(out + n, cap - n, "%s%s", n ? " " : "", names[*p - 'a']);
    if (k < 0 || (size_t)k >= cap - n)
      return -1;
    n += (size_t)k;
  }
  return n > 0 ? 0 : -1;
}

/* Adds the vocab file's words that the dictionary lacks ("word" or "word
 * spell" lines). Returns how many, or -1 if the file cannot be read. */
static int add_missing_words(ps_decoder_t *ps, const char *vocab)
{
  FILE *f = fopen(vocab, "r");
  if (!f)
    return -1;
  cst_lexicon *lex = cmu_lex_init();
  char line[128], word[ASR_WORD_MAX], flag[8], phones[ASR_PHONES_MAX];
  int added = 0;
  while (fgets(line, sizeof line, f)) {
    flag[0] = '\0';
    if (sscanf(line, "%63s %7s", word, flag) < 1)
      continue;
    char *known = ps_lookup_word(ps, word);
    if (known) {
      ckd_free(known);
      continue;
    }
    int rc;
    if (strcmp(flag, "spell") == 0) {
      rc = phones_spelled(word, phones, sizeof phones);
    } else {
      cst_val *p = lex_lookup(lex, word, NULL, NULL);
      rc = p ? phones_from_flite(p, phones, sizeof phones) : -1;
      delete_val(p);
    }
    if (rc == 0 && ps_add_word(ps, word, phones, FALSE) >= 0)
      added++;
  }
  fclose(f);
  return added;
}

/* The decoder was started without a language model (so that adding words
 * touches only the dictionary): load both models, interpolate, search. */
static int use_domain_model(struct asr *a, const struct asr_config *c)
{
  logmath_t *lmath = ps_get_logmath(a->ps);
  ngram_model_t *models[2] = {ngram_model_read(a->config, c->lm, NGRAM_AUTO, lmath),
                              ngram_model_read(a->config, c->domain_lm, NGRAM_ARPA, lmath)};
  char *names[2] = {"general", "domain"};
  float32 weights[2] = {(float32)(1.0 - c->domain_weight), (float32)c->domain_weight};
  ngram_model_t *set = NULL;
  int added = -1, rc = -1;
  if (!models[0] || !models[1])
    goto out;
  added = add_missing_words(a->ps, c->domain_vocab);
  if (added < 0)
    goto out;
  set = ngram_model_set_init(a->config, models, names, weights, 2);
  if (!set)
    goto out;
  if (ps_set_lm(a->ps, "domain", set) < 0 || ps_set_search(a->ps, "domain") < 0)
    goto out;
  log_info("asr: domain model %s, %d words pronounced by rule", c->domain_lm, added);
  rc = 0;
out:
  /* the set holds its own references to the models, the search its own
   * to the set: drop ours */
  ngram_model_free(set);
  ngram_model_free(models[0]);
  ngram_model_free(models[1]);
  return rc;
}

/* The decoder's arguments: the models, our defaults, then c->tuning's
 * "-name value" pairs. Without a domain model the general one is "-lm". */
static cmd_ln_t *make_config(const struct asr_config *c)
{
  char tuning[ASR_TUNING_MAX], *argv[64];
  int argc = 0;
  argv[argc++] = "-hmm";
  argv[argc++] = (char *)c->hmm;
  argv[argc++] = "-dict";
  argv[argc++] = (char *)c->dict;
  argv[argc++] = "-samprate";
  argv[argc++] = "16000";
  if (!c->domain_lm) {
    argv[argc++] = "-lm";
    argv[argc++] = (char *)c->lm;
  }
  /* the second (flat-lexicon) pass triples the time for no gain on our
   * lines (bench/voice.sh: WER 10.2 % without it, 10.6 % with) */
  if (!c->tuning || !strstr(c->tuning, "-fwdflat")) {
    argv[argc++] = "-fwdflat";
    argv[argc++] = "no";
  }
  if (c->tuning && snprintf(tuning, sizeof tuning, "%s", c->tuning) >= (int)sizeof tuning)
    return NULL;
  for (char *p = c->tuning ? tuning : NULL; p && *p;) { /* split at spaces, in place */
    p += strspn(p, " ");
    if (!*p)
      break;
    if (argc + 1 >= (int)(sizeof argv / sizeof *argv))
      return NULL;
    argv[argc++] = p;
    p += strcspn(p, " ");
    if (*p)
      *p++ = '\0';
  }
  return cmd_ln_parse_r(NULL, ps_args(), argc, argv, TRUE);
}

/* SphinxBase logs through one process-wide callback: its chatter (every
 * model parameter, at INFO) is dropped, its errors go to our log. Set once,
 * before any decoder exists: setting it per decoder ("-logfn") from several
 * workers races on the global log file. */
__attribute__((format(printf, 3, 4))) static void sphinx_log(void *user, err_lvl_t lvl,
                                                             const char *fmt, ...)
{
  char msg[256];
  va_list ap;
  (void)user;
  if (lvl < ERR_ERROR)
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  msg[strcspn(msg, "\n")] = '\0';
  log_warn("asr: pocketsphinx: %s", msg);
}

static void quiet_sphinx(void)
{
  err_set_logfp(NULL); /* the configuration dumps are written to it directly */
  err_set_callback(sphinx_log, NULL);
}

struct asr *asr_new(const struct asr_config *c)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, quiet_sphinx);
  struct asr *a = calloc(1, sizeof *a);
  if (!a)
    return NULL;
  a->config = make_config(c);
  if (!a->config)
    goto fail;
  a->ps = ps_init(a->config);
  if (!a->ps)
    goto fail;
  if (c->domain_lm && use_domain_model(a, c) < 0)
    goto fail;
  return a;
fail:
  asr_free(a);
  return NULL;
}

struct asr *asr_open_from_config(void)
{
  const char *url = getenv("ATHOS_ASR_URL");
  if (!url || !*url) {
    struct asr_config c;
    asr_config_default(&c);
    return asr_new(&c);
  }
  struct asr *a = calloc(1, sizeof *a);
  if (a && !(a->http = asr_http_new())) {
    free(a);
    a = NULL;
  }
  return a;
}

void asr_free(struct asr *a)
{
  if (!a)
    return;
  asr_http_free(a->http);
  if (a->ps)
    ps_free(a->ps);
  if (a->config)
    cmd_ln_free_r(a->config);
  free(a);
}

/* Keeps real words: drops <s>, </s>, <sil>, [NOISE] and the "(2)"
 * alternate-pronunciation marks the hypothesis may carry. */
static void clean_hyp(const char *hyp, char *text, size_t cap)
{
  size_t n = 0;
  text[0] = '\0';
  while (hyp && *hyp) {
    while (*hyp == ' ')
      hyp++;
    size_t len = strcspn(hyp, " ");
    if (len > 0 && hyp[0] != '<' && hyp[0] != '[' && hyp[0] != '+' && n + len + 2 <= cap) {
      size_t w = strcspn(hyp, "( ");
      if (n)
        text[n++] = ' ';
      for (size_t i = 0; i < w; i++)
        text[n++] = (char)tolower((unsigned char)hyp[i]);
      text[n] = '\0';
    }
    hyp += len;
  }
}

int asr_begin(struct asr *a)
{
  if (a->http)
    return asr_http_begin(a->http);
  return ps_start_utt(a->ps) < 0 ? -1 : 0;
}

int asr_feed(struct asr *a, const int16_t *pcm, size_t n)
{
  if (a->http)
    return asr_http_feed(a->http, pcm, n);
  return n == 0 || ps_process_raw(a->ps, pcm, n, FALSE, FALSE) >= 0 ? 0 : -1;
}

int asr_end(struct asr *a, char *text, size_t cap)
{
  int32 score;
  if (a->http)
    return asr_http_end(a->http, text, cap);
  if (cap == 0 || ps_end_utt(a->ps) < 0)
    return -1;
  clean_hyp(ps_get_hyp(a->ps, &score), text, cap);
  return 0;
}

int asr_partial(struct asr *a, char *text, size_t cap)
{
  int32 score;
  if (cap == 0)
    return -1;
  if (a->http) {
    text[0] = '\0';
    return 0;
  }
  clean_hyp(ps_get_hyp(a->ps, &score), text, cap);
  return 0;
}

int asr_decode(struct asr *a, const int16_t *pcm, size_t n, char *text, size_t cap)
{
  if (asr_begin(a) < 0)
    return -1;
  if (asr_feed(a, pcm, n) < 0) {
    char ignored[8];
    asr_end(a, ignored, sizeof ignored);
    return -1;
  }
  return asr_end(a, text, cap);
}
