/* test_voice_http.c — the OpenAI-compatible speech providers
 * (src/voice/asr_http.c, tts_http.c, voice_http.c) against a real server
 * speaking the same protocol with the built-in engines: `athos-voice serve`
 * (PocketSphinx + Flite; ATHOS_VOICE_BIN names it). Synthesises through
 * tts_http (raw 24 kHz pcm and wav, resampled to 16 kHz as it streams),
 * recognises through asr_http, checks the words, and the failures: a wrong
 * key, no server, a timeout, a stopped synthesis, bad settings. Servers
 * started with serve's test knobs check the retries (--fail: 503 with and
 * without Retry-After, 429, 400; counted by its GET /stats) and the
 * streaming of a slow synthesis (--realtime 0.5, --stall-ms). */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <time.h>

#include "util/log.h"
#include "voice/asr.h"
#include "voice/pcm.h"
#include "voice/tts.h"

#define KEY  "test-key-1234"
#define LINE "Does the plan cover Eliquis and my doctor Natarajan?"

static pid_t g_server = -1;
static char g_url[64];

/* Starts athos-voice serve with the extra arguments (NULL-terminated) on
 * a free port; its first line names it, url gets its base URL. */
static pid_t spawn_serve(const char *const *extra, char *url, size_t cap)
{
  const char *bin = getenv("ATHOS_VOICE_BIN");
  const char *argv[24] = {bin, "serve", "--listen", "127.0.0.1:0", "--key", KEY};
  int fds[2], argc = 6;
  char line[128] = "";
  unsigned port = 0;
  while (extra && *extra && argc < 23)
    argv[argc++] = *extra++;
  argv[argc] = NULL;
  if (!bin || access(bin, X_OK) != 0 || pipe(fds) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlives a crashed test */
    dup2(fds[1], 1);
    close(fds[0]);
    unsetenv("ATHOS_ASR_URL");
    unsetenv("ATHOS_TTS_URL");
    execv(bin, (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  if (!f || !fgets(line, sizeof line, f) || sscanf(line, "listening on 127.0.0.1:%u", &port) != 1)
    return -1;
  fclose(f);
  snprintf(url, cap, "http://127.0.0.1:%u/", port); /* the slash is dropped */
  return pid;
}

static void stop_serve(pid_t pid)
{
  int status;
  if (pid > 0) {
    kill(pid, SIGTERM);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0); /* a clean shutdown */
  }
}

static int start_server(void **state)
{
  (void)state;
  if ((g_server = spawn_serve(NULL, g_url, sizeof g_url)) < 0)
    return -1;
  setenv("ATHOS_ASR_URL", g_url, 1);
  setenv("ATHOS_TTS_URL", g_url, 1);
  setenv("ATHOS_ASR_API_KEY", KEY, 1);
  setenv("ATHOS_TTS_API_KEY", KEY, 1);
  return 0;
}

static int stop_server(void **state)
{
  (void)state;
  int status;
  if (g_server > 0) {
    kill(g_server, SIGTERM);
    waitpid(g_server, &status, 0);
  }
  return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct audio {
  struct pcm_buf b;
  size_t chunks, lasts;
  size_t stop_after;                    /* 0 = never stop */
  bool stop_when_idle;                  /* answer "no longer wanted" to a retry's probe */
  size_t probes;                        /* calls with no samples before the last */
  double first_ms, last_ms, max_gap_ms; /* when the pieces came */
};

static bool collect(void *arg, const int16_t *pcm, size_t n, bool last)
{
  struct audio *a = arg;
  if (n == 0 && !last) { /* tts.h: is the line still wanted? */
    a->probes++;
    return !a->stop_when_idle;
  }
  double now = now_ms();
  if (a->chunks == 0)
    a->first_ms = now;
  else if (now - a->last_ms > a->max_gap_ms)
    a->max_gap_ms = now - a->last_ms;
  a->last_ms = now;
  a->chunks++;
  a->lasts += last;
  assert_int_equal(pcm_buf_append(&a->b, pcm, n), 0);
  return a->stop_after == 0 || a->chunks < a->stop_after;
}

static int speak(const char *text, struct audio *a)
{
  struct tts *t = tts_open_from_config();
  struct tts_voice v;
  struct tts_traits traits = {.sex = TTS_SEX_FEMALE};
  if (!t)
    return -2;
  tts_voice_choose(&traits, &v);
  if (a->b.max == 0)
    pcm_buf_init(&a->b, TTS_RATE * 60);
  int rc = tts_synth(t, &v, text, collect, a);
  tts_free(t);
  return rc;
}

static int hear(const struct audio *a, char *text, size_t cap)
{
  struct asr *r = asr_open_from_config();
  if (!r)
    return -2;
  int rc = asr_decode(r, a->b.s, a->b.n, text, cap);
  asr_free(r);
  return rc;
}

static bool has_word(const char *text, const char *word)
{
  size_t n = strlen(word);
  for (const char *p = strstr(text, word); p; p = strstr(p + 1, word))
    if ((p == text || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
      return true;
  return false;
}

/* The log (stderr) into a file while a test runs, then read back. */
struct capture {
  FILE *f;
  int saved;
};

static void capture_begin(struct capture *c)
{
  c->f = tmpfile();
  assert_non_null(c->f);
  fflush(stderr);
  c->saved = dup(2);
  dup2(fileno(c->f), 2);
}

static void capture_end(struct capture *c, char *out, size_t cap)
{
  fflush(stderr);
  dup2(c->saved, 2);
  close(c->saved);
  rewind(c->f);
  size_t n = fread(out, 1, cap - 1, c->f);
  out[n] = '\0';
  fclose(c->f);
}

static size_t stats_body(char *data, size_t size, size_t nmemb, void *userp)
{
  json_error_t err;
  json_t **j = userp;
  json_decref(*j);
  *j = json_loadb(data, size * nmemb, 0, &err); /* a small answer: one piece */
  return size * nmemb;
}

/* GET {url}stats from a serve: a counter ("requests", "streaming"). */
static long serve_stat(const char *url, const char *name)
{
  char where[96];
  json_t *j = NULL;
  CURL *c = curl_easy_init();
  assert_non_null(c);
  snprintf(where, sizeof where, "%sstats", url);
  curl_easy_setopt(c, CURLOPT_URL, where);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stats_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &j);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  curl_easy_cleanup(c);
  assert_true(json_is_integer(json_object_get(j, name)));
  long v = (long)json_integer_value(json_object_get(j, name));
  json_decref(j);
  return v;
}

static int count_of(const char *text, const char *what)
{
  int n = 0;
  for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
    n++;
  return n;
}

/* speak() with the log captured into logged; *took its time in ms. */
static int speak_logged(const char *text, struct audio *a, char *logged, size_t cap, double *took)
{
  struct capture c;
  capture_begin(&c);
  double t0 = now_ms();
  int rc = speak(text, a);
  *took = now_ms() - t0;
  capture_end(&c, logged, cap);
  return rc;
}

/* ---- round trips -------------------------------------------------------- */

static void round_trip(const char *format)
{
  struct audio a = {0};
  char text[1024];
  setenv("ATHOS_TTS_FORMAT", format, 1);
  assert_int_equal(speak(LINE, &a), 0);
  unsetenv("ATHOS_TTS_FORMAT");
  assert_true(a.chunks > 2); /* streamed, not one block */
  assert_int_equal(a.lasts, 1);
  assert_true(a.b.n > TTS_RATE * 2 && a.b.n < TTS_RATE * 8); /* ~3.5 s at 16 kHz */
  assert_int_equal(hear(&a, text, sizeof text), 0);
  print_message("heard (%s): %s\n", format, text);
  assert_true(has_word(text, "plan"));
  assert_true(has_word(text, "eliquis"));
  assert_true(has_word(text, "doctor"));
  pcm_buf_free(&a.b);
}

static void test_round_trip_pcm(void **state)
{
  (void)state;
  round_trip("pcm");
}

static void test_round_trip_wav(void **state)
{
  (void)state;
  round_trip("wav");
}

/* The server sends 24 kHz; the provider's audio at 16 kHz must be the
 * engine's own line, not just the same length: compare with Flite here. */
static void test_resampled_matches_local(void **state)
{
  (void)state;
  struct audio remote = {0}, local = {0};
  assert_int_equal(speak("Medigap plans fill the gaps.", &remote), 0);
  char *url = strdup(getenv("ATHOS_TTS_URL"));
  unsetenv("ATHOS_TTS_URL");
  assert_int_equal(speak("Medigap plans fill the gaps.", &local), 0);
  setenv("ATHOS_TTS_URL", url, 1);
  free(url);
  long diff = (long)remote.b.n - (long)local.b.n;
  assert_true(labs(diff) <= 2);
  double sig = 0, err = 0;
  size_t n = remote.b.n < local.b.n ? remote.b.n : local.b.n;
  for (size_t i = 0; i < n; i++) {
    double d = (double)remote.b.s[i] - local.b.s[i];
    sig += (double)local.b.s[i] * local.b.s[i];
    err += d * d;
  }
  print_message("16k -> 24k -> 16k error: %.1f dB\n", 10 * log10(err / sig));
  /* Both conversions cut above 85 % of 8 kHz, where Flite's fricatives
   * still have some energy: about -19 dB here. A shifted or mis-rated
   * stream comes out near 0 dB. */
  assert_true(sig > 0 && err / sig < 0.0316); /* better than -15 dB */
  /* The rate setting is what converts: told 16 kHz, the 24 kHz answer is
   * taken for 1.5 times as long. */
  struct audio slow = {0};
  setenv("ATHOS_TTS_SAMPLE_RATE", "16000", 1);
  assert_int_equal(speak("Medigap plans fill the gaps.", &slow), 0);
  unsetenv("ATHOS_TTS_SAMPLE_RATE");
  assert_true(labs((long)slow.b.n - (long)(local.b.n * 3 / 2)) <= 2);
  pcm_buf_free(&slow.b);
  pcm_buf_free(&remote.b);
  pcm_buf_free(&local.b);
}

/* Requests reuse a kept-alive connection (one cache for the process). */
static void test_keep_alive(void **state)
{
  (void)state;
  struct audio a = {0};
  struct capture cap;
  char logged[8192];
  log_set_level(LOG_DEBUG);
  capture_begin(&cap);
  assert_int_equal(speak("Hello.", &a), 0);
  a.b.n = 0;
  assert_int_equal(speak("Goodbye.", &a), 0);
  capture_end(&cap, logged, sizeof logged);
  log_set_level(LOG_INFO);
  assert_non_null(strstr(logged, "HTTP 200, reused connection"));
  pcm_buf_free(&a.b);
}

/* Workers synthesise at the same time: each request its own handle, the
 * connection cache shared under its locks (run under ASan/TSan). */
static void *speak_thread(void *arg)
{
  struct audio *a = arg;
  return (void *)(intptr_t)speak("The premium is zero dollars a month.", a);
}

static void test_parallel(void **state)
{
  (void)state;
  pthread_t th[3];
  struct audio a[3];
  memset(a, 0, sizeof a);
  void *rc;
  for (int i = 0; i < 3; i++)
    assert_int_equal(pthread_create(&th[i], NULL, speak_thread, &a[i]), 0);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(pthread_join(th[i], &rc), 0);
    assert_int_equal((intptr_t)rc, 0);
    /* the same line, the same length (the samples differ: Flite's
     * unvoiced excitation is random noise) */
    assert_true(labs((long)a[i].b.n - (long)a[0].b.n) <= 2);
  }
  assert_true(a[0].b.n > TTS_RATE);
  for (int i = 0; i < 3; i++)
    pcm_buf_free(&a[i].b);
}

/* ---- failures ----------------------------------------------------------- */

static void test_stop_mid_stream(void **state)
{
  (void)state;
  struct audio a = {.stop_after = 2};
  assert_int_equal(speak(LINE, &a), 1);
  assert_int_equal(a.chunks, 2);
  assert_int_equal(a.lasts, 0);
  pcm_buf_free(&a.b);
}

/* Runs the failing requests with stderr (the log) in a file, then checks
 * that neither key reached it. */
static void test_wrong_key(void **state)
{
  (void)state;
  struct audio a = {0};
  char text[64], logged[8192];
  struct capture cap;
  long before = serve_stat(g_url, "requests");
  capture_begin(&cap);
  setenv("ATHOS_TTS_API_KEY", "wrong", 1);
  setenv("ATHOS_ASR_API_KEY", "wrong", 1);
  assert_int_equal(speak(LINE, &a), -1);
  assert_int_equal(a.chunks, 0);
  static const int16_t quiet[1600];
  struct audio q = {.b = {.s = (int16_t *)quiet, .n = 1600}};
  assert_int_equal(hear(&q, text, sizeof text), -1);
  unsetenv("ATHOS_TTS_API_KEY");
  assert_int_equal(speak(LINE, &a), -1); /* no key at all */
  setenv("ATHOS_TTS_API_KEY", KEY, 1);
  setenv("ATHOS_ASR_API_KEY", KEY, 1);
  capture_end(&cap, logged, sizeof logged);
  assert_non_null(strstr(logged, "HTTP 401"));
  assert_null(strstr(logged, "wrong"));
  assert_null(strstr(logged, KEY));
  assert_null(strstr(logged, "retrying")); /* a 401 is not retried: */
  assert_int_equal(serve_stat(g_url, "requests") - before, 3);
  pcm_buf_free(&a.b);
}

/* No server: a connection failure is retried (twice), then -1. A 1 ms
 * timeout leaves no time for a retry. */
static void test_no_server_and_timeout(void **state)
{
  (void)state;
  struct audio a = {0};
  struct capture cap;
  char logged[8192];
  capture_begin(&cap);
  setenv("ATHOS_TTS_URL", "http://user:pw@127.0.0.1:1", 1); /* nothing listens on port 1 */
  assert_int_equal(speak(LINE, &a), -1);
  setenv("ATHOS_TTS_URL", g_url, 1);
  setenv("ATHOS_TTS_TIMEOUT_MS", "1", 1); /* synthesis takes longer */
  assert_int_equal(speak(LINE, &a), -1);
  unsetenv("ATHOS_TTS_TIMEOUT_MS");
  capture_end(&cap, logged, sizeof logged);
  print_message("%s", logged);
  assert_non_null(strstr(logged, "tts: http://127.0.0.1:1/v1/audio/speech: Couldn't connect to "
                                 "server; attempt 1/3, retrying in"));
  assert_non_null(strstr(logged, "Couldn't connect to server; attempt 3/3, no retry left"));
  assert_non_null(strstr(logged, "Timeout was reached; attempt 1/3, no time left to retry"));
  assert_null(strstr(logged, "pw"));
  pcm_buf_free(&a.b);
}

/* ---- retries ------------------------------------------------------------ */

/* A serve with the knobs, the providers pointed at it for one test. */
struct knobbed {
  pid_t pid;
  char url[64];
};

static void knobbed_start(struct knobbed *k, const char *const *args)
{
  k->pid = spawn_serve(args, k->url, sizeof k->url);
  assert_true(k->pid > 0);
  setenv("ATHOS_TTS_URL", k->url, 1);
  setenv("ATHOS_ASR_URL", k->url, 1);
}

static void knobbed_stop(struct knobbed *k)
{
  stop_serve(k->pid);
  setenv("ATHOS_TTS_URL", g_url, 1);
  setenv("ATHOS_ASR_URL", g_url, 1);
  unsetenv("ATHOS_TTS_TIMEOUT_MS");
  unsetenv("ATHOS_VOICE_HTTP_RETRIES");
}

/* Two 503s without Retry-After: the third attempt speaks; a line logged
 * per retry (endpoint, status, attempt, wait), never the key. */
static void test_retry_503(void **state)
{
  (void)state;
  static const char *const args[] = {"--fail", "2", NULL};
  struct knobbed k;
  struct audio a = {0};
  char logged[8192];
  double took;
  knobbed_start(&k, args);
  assert_int_equal(speak_logged(LINE, &a, logged, sizeof logged, &took), 0);
  print_message("%s", logged);
  assert_int_equal(serve_stat(k.url, "requests"), 3);
  assert_true(a.b.n > TTS_RATE * 2);
  assert_int_equal(a.lasts, 1);
  assert_int_equal(count_of(logged, "retrying in"), 2);
  assert_non_null(strstr(
      logged, "/v1/audio/speech: HTTP 503: injected failure (--fail); attempt 1/3, retrying in"));
  assert_non_null(strstr(logged, "attempt 2/3, retrying in"));
  assert_null(strstr(logged, KEY));
  /* backoff: 125..250 ms, then 250..500 ms */
  assert_true(took >= 375);
  knobbed_stop(&k);
  pcm_buf_free(&a.b);
}

/* A Retry-After is waited as given. */
static void test_retry_after(void **state)
{
  (void)state;
  static const char *const args[] = {"--fail", "1", "--retry-after", "1", NULL};
  struct knobbed k;
  struct audio a = {0};
  char logged[8192];
  double took;
  knobbed_start(&k, args);
  assert_int_equal(speak_logged("Hello there.", &a, logged, sizeof logged, &took), 0);
  assert_int_equal(serve_stat(k.url, "requests"), 2);
  assert_non_null(
      strstr(logged, "HTTP 503: injected failure (--fail); attempt 1/3, retrying in 1000 ms"));
  assert_true(took >= 1000 && took < 5000);
  knobbed_stop(&k);
  pcm_buf_free(&a.b);
}

/* Recognition is retried too: two 429s, then the words. */
static void test_retry_429_recognition(void **state)
{
  (void)state;
  static const char *const args[] = {"--fail", "2", "--fail-status", "429", NULL};
  struct knobbed k;
  struct audio a = {0};
  char text[1024];
  assert_int_equal(speak(LINE, &a), 0); /* from the ordinary server */
  knobbed_start(&k, args);
  assert_int_equal(hear(&a, text, sizeof text), 0);
  assert_true(has_word(text, "eliquis"));
  assert_int_equal(serve_stat(k.url, "requests"), 3);
  knobbed_stop(&k);
  pcm_buf_free(&a.b);
}

/* A 400 (like a 401: test_wrong_key) is the request's fault: not retried.
 * Retries 0 means one attempt. */
static void test_no_retry(void **state)
{
  (void)state;
  static const char *const args[] = {"--fail", "1", "--fail-status", "400", NULL};
  struct knobbed k;
  struct audio a = {0};
  char logged[8192];
  double took;
  knobbed_start(&k, args);
  assert_int_equal(speak_logged(LINE, &a, logged, sizeof logged, &took), -1);
  assert_int_equal(serve_stat(k.url, "requests"), 1);
  assert_int_equal(a.chunks, 0);
  assert_non_null(strstr(logged, "HTTP 400: injected failure"));
  assert_null(strstr(logged, "retrying"));
  knobbed_stop(&k);

  static const char *const busy[] = {"--fail", "1", NULL};
  knobbed_start(&k, busy);
  setenv("ATHOS_VOICE_HTTP_RETRIES", "0", 1);
  assert_int_equal(speak(LINE, &a), -1);
  assert_int_equal(serve_stat(k.url, "requests"), 1);
  knobbed_stop(&k);
  pcm_buf_free(&a.b);
}

/* Retries never run past the call's timeout: with 1.5 s and a provider
 * that wants 1 s between tries, the second try is the last. */
static void test_retry_stops_at_timeout(void **state)
{
  (void)state;
  static const char *const args[] = {"--fail", "1000", "--retry-after", "1", NULL};
  struct knobbed k;
  struct audio a = {0};
  char logged[8192];
  double took;
  knobbed_start(&k, args);
  setenv("ATHOS_TTS_TIMEOUT_MS", "1500", 1);
  setenv("ATHOS_VOICE_HTTP_RETRIES", "5", 1);
  assert_int_equal(speak_logged(LINE, &a, logged, sizeof logged, &took), -1);
  print_message("gave up after %.0f ms\n", took);
  assert_true(took >= 1000 && took < 1500);
  assert_int_equal(serve_stat(k.url, "requests"), 2);
  assert_non_null(strstr(logged, "attempt 2/6, no time left to retry"));
  knobbed_stop(&k);
  pcm_buf_free(&a.b);
}

/* A line no longer wanted (barge-in) is not retried: the wait for the
 * retry asks, and gives up at once. */
static void test_retry_cancelled(void **state)
{
  (void)state;
  static const char *const args[] = {"--fail", "1", "--retry-after", "3", NULL};
  struct knobbed k;
  struct audio a = {.stop_when_idle = true};
  knobbed_start(&k, args);
  double t0 = now_ms();
  assert_int_equal(speak(LINE, &a), 1);
  assert_true(now_ms() - t0 < 1000);
  assert_int_equal(a.probes, 1);
  assert_int_equal(a.chunks, 0);
  assert_int_equal(serve_stat(k.url, "requests"), 1);
  knobbed_stop(&k);
  pcm_buf_free(&a.b);
}

/* ---- a slow synthesis, streamed ---------------------------------------- */

/* At half real time with a pause after the first chunk, both formats come
 * in many pieces spread over the line's time: the first long before the
 * line is made, the pause seen as a gap, the whole at about 2x its length. */
static void test_stream_slow(void **state)
{
  (void)state;
  static const char *const args[] = {"--realtime", "0.5", "--stall-ms", "800", NULL};
  static const char *const formats[] = {"pcm", "wav"};
  struct knobbed k;
  knobbed_start(&k, args);
  for (int i = 0; i < 2; i++) {
    struct audio a = {0};
    setenv("ATHOS_TTS_FORMAT", formats[i], 1);
    double t0 = now_ms();
    assert_int_equal(speak("Medigap fills the gaps.", &a), 0);
    double took = now_ms() - t0, line_ms = a.b.n * 1000.0 / TTS_RATE;
    print_message("%s: %.0f ms line, first piece %.0f ms, %zu pieces, largest gap %.0f ms, all "
                  "in %.0f ms\n",
                  formats[i], line_ms, a.first_ms - t0, a.chunks, a.max_gap_ms, took);
    assert_true(line_ms > 1500);
    assert_true(a.first_ms - t0 < 500); /* made at 0.5x: the whole takes 2 x line_ms */
    assert_true(a.max_gap_ms >= 700);   /* the stall */
    assert_true(took >= 2 * line_ms + 800 - 150);
    assert_true(a.chunks >= line_ms / 100); /* 20 ms pieces, coalesced at most a little */
    assert_int_equal(a.lasts, 1);
    pcm_buf_free(&a.b);
  }
  unsetenv("ATHOS_TTS_FORMAT");
  knobbed_stop(&k);
}

/* A client that stops reading (its callback said stop) ends the server's
 * answer and synthesis at once, long before the paced line would end. */
static void test_stream_client_gone(void **state)
{
  (void)state;
  static const char *const args[] = {"--realtime", "0.5", NULL};
  struct knobbed k;
  struct audio a = {.stop_after = 3};
  knobbed_start(&k, args);
  assert_int_equal(speak(LINE, &a), 1);
  double t0 = now_ms();
  long streaming = 1;
  while ((streaming = serve_stat(k.url, "streaming")) > 0 && now_ms() - t0 < 2000)
    usleep(20 * 1000);
  print_message("the server's answer ended %.0f ms after the client left\n", now_ms() - t0);
  assert_int_equal(streaming, 0);
  assert_true(now_ms() - t0 < 1000);
  knobbed_stop(&k); /* and the server stops cleanly */
  pcm_buf_free(&a.b);
}

static void test_bad_settings(void **state)
{
  (void)state;
  setenv("ATHOS_ASR_URL", "ftp://127.0.0.1/", 1);
  assert_null(asr_open_from_config());
  setenv("ATHOS_ASR_URL", g_url, 1);
  setenv("ATHOS_TTS_FORMAT", "mp3", 1);
  assert_null(tts_open_from_config());
  setenv("ATHOS_TTS_FORMAT", "pcm", 1);
  setenv("ATHOS_TTS_SAMPLE_RATE", "12x", 1);
  assert_null(tts_open_from_config());
  unsetenv("ATHOS_TTS_SAMPLE_RATE");
  unsetenv("ATHOS_TTS_FORMAT");
}

/* An utterance over the cap is refused before anything is sent. */
static void test_utterance_cap(void **state)
{
  (void)state;
  struct asr *r = asr_open_from_config();
  char text[64];
  size_t n = (size_t)ASR_RATE * 61;
  int16_t *long_pcm = calloc(n, sizeof *long_pcm);
  assert_non_null(r);
  assert_non_null(long_pcm);
  assert_int_equal(asr_begin(r), 0);
  assert_int_equal(asr_feed(r, long_pcm, n), -1);
  assert_int_equal(asr_decode(r, long_pcm, n, text, sizeof text), -1);
  free(long_pcm);
  asr_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_pcm),
      cmocka_unit_test(test_round_trip_wav),
      cmocka_unit_test(test_resampled_matches_local),
      cmocka_unit_test(test_keep_alive),
      cmocka_unit_test(test_parallel),
      cmocka_unit_test(test_stop_mid_stream),
      cmocka_unit_test(test_wrong_key),
      cmocka_unit_test(test_no_server_and_timeout),
      cmocka_unit_test(test_retry_503),
      cmocka_unit_test(test_retry_after),
      cmocka_unit_test(test_retry_429_recognition),
      cmocka_unit_test(test_no_retry),
      cmocka_unit_test(test_retry_stops_at_timeout),
      cmocka_unit_test(test_retry_cancelled),
      cmocka_unit_test(test_stream_slow),
      cmocka_unit_test(test_stream_client_gone),
      cmocka_unit_test(test_bad_settings),
      cmocka_unit_test(test_utterance_cap),
  };
  return cmocka_run_group_tests(tests, start_server, stop_server);
}
