/*
 * practice.c — `athos practice`: mints a session token with an API key
 * (POST /session), redeems it (POST /roleplay/session), opens the live
 * WebSocket (DESIGN.md "Live protocol", src/live/protocol.h) and runs a
 * text call in the terminal. This file is the call's state machine; the
 * HTTP calls are api_client.c, the stdin lines and clean output term.c,
 * the WebSocket ws_client.c. One poll() loop serves stdin and the socket.
 * Turn-taking is strict: after sending a line the client reads no more
 * input until the persona answers (or the server reports an error, or a
 * timeout passes), so a script piped into stdin gets every reply before
 * the hang-up. The API key travels only in an Authorization header and is
 * never printed.
 */
#include "cli/practice.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/term.h"
#include "cli/ws_client.h"
#include "live/protocol.h"
#include "util/timefmt.h"
#include "ws/ws_util.h"

#define DEFAULT_URL   "http://127.0.0.1:8080"
#define DEFAULT_DRILL "ma-full-sale"

/* A stdin line, in bytes: 2,000 characters of UTF-8 fit with room to
 * spare; a longer line is discarded up to its newline. */
#define LINE_MAX_BYTES     16382
#define CONNECT_TIMEOUT_MS 10000
/* How long to wait for ready, for the persona's answer to a line, and
 * for `ended` after our `end`. */
#define READY_TIMEOUT_MS 15000
#define REPLY_TIMEOUT_MS 15000
#define END_TIMEOUT_MS   10000
/* After `ended`, how long to wait for the closing handshake. */
#define CLOSE_TIMEOUT_MS 2000

static const char USAGE[] =
    "usage: athos practice --api-key KEY [--url URL] [--difficulty Beginner|Advanced|Elite]\n"
    "                      [--state ST] [--drill KEY] [--user-id ID]\n"
    "  Holds a live practice call in the terminal: the persona's lines are printed as\n"
    "  \"Name: text\"; type yours, one per line. /end (or end of input) hangs up.\n"
    "  --url         server base URL (default $ATHOS_URL, else " DEFAULT_URL ")\n"
    "  --difficulty  persona difficulty (the server's default is Advanced)\n"
    "  --state       prefer a persona from this US state, e.g. FL\n"
    "  --drill       drill key (default " DEFAULT_DRILL ")\n"
    "  --user-id     externalUserId for the call (default cli-<login name>)\n";

struct practice_opts {
  const char *api_key;
  const char *url;
  const char *difficulty;
  const char *state;
  const char *drill;
  const char *user_id;
  char user_buf[128];
};

/* The state of one live call in the terminal. */
struct practice {
  struct ws_client *ws;
  bool echo;           /* stdin is not a terminal: echo the rep's lines */
  bool ready;          /* `ready` arrived */
  bool ended;          /* `ended` arrived */
  bool start_failed;   /* an `error` arrived before `ready` */
  bool awaiting_reply; /* no more input until the persona answers */
  bool end_sent;
  int64_t deadline;     /* for whatever we are waiting on; 0 = none */
  struct term_input in; /* the rep's lines */
  char persona[128];
  char call_id[96];
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
  interrupted++;
}

/* ------------------------------------------------------------ the call */

/* What an end reason means, for the rep; "" for one this version does
 * not know. A switch, so a reason added to protocol.h warns here. */
static const char *reason_text(const char *name)
{
  enum live_end_reason r;
  if (!live_end_reason_parse(name, &r))
    return "";
  switch (r) {
  case LIVE_END_REP_HANGUP: return "you hung up";
  case LIVE_END_PERSONA_HANGUP: return "the prospect hung up";
  case LIVE_END_MAX_DURATION: return "the call reached its maximum duration";
  case LIVE_END_IDLE: return "nothing was said for too long";
  case LIVE_END_DISCONNECT: return "the connection dropped";
  case LIVE_END_LIMIT: return "the call reached its length limit";
  }
  return "";
}

/* Queues one JSON message (stolen). Returns 0 or -1. */
static int send_json(struct practice *p, json_t *msg)
{
  char *text = msg != NULL ? json_dumps(msg, JSON_COMPACT) : NULL;
  int rc = -1;
  if (text != NULL && strlen(text) <= LIVE_FRAME_MAX)
    rc = ws_client_send_text(p->ws, text, strlen(text));
  free(text);
  json_decref(msg);
  return rc;
}

static void send_end(struct practice *p)
{
  if (p->end_sent)
    return;
  p->end_sent = true;
  p->awaiting_reply = false;
  p->deadline = time_mono_ms() + END_TIMEOUT_MS;
  if (send_json(p, json_pack("{s:s}", "type", LIVE_TYPE_END)) != 0)
    fprintf(stderr, "athos practice: could not send the hang-up\n");
}

/* One message from the server. */
static void on_server_text(void *ud, const char *msg, size_t len)
{
  struct practice *p = ud;
  json_t *j = json_loadb(msg, len, 0, NULL);
  const char *type = json_string_value(json_object_get(j, "type"));
  if (type == NULL) {
    fprintf(stderr, "athos practice: ignoring a message that is not a protocol object\n");
    goto out;
  }
  if (strcmp(type, LIVE_TYPE_READY) == 0) {
    const char *name = json_string_value(json_object_get(json_object_get(j, "persona"), "name"));
    const char *call_id = json_string_value(json_object_get(j, "callId"));
    if (name != NULL)
      snprintf(p->persona, sizeof p->persona, "%s", name);
    if (call_id != NULL)
      snprintf(p->call_id, sizeof p->call_id, "%s", call_id);
    p->ready = true;
    /* The persona speaks first: wait for its opener before reading. */
    p->awaiting_reply = true;
    p->deadline = time_mono_ms() + REPLY_TIMEOUT_MS;
    fputs("Connected: call ", stdout);
    term_put_clean(stdout, p->call_id);
    fputs(" with ", stdout);
    term_put_clean(stdout, p->persona);
    fputs(". Type your lines; /end hangs up.\n", stdout);
  } else if (strcmp(type, LIVE_TYPE_SAY) == 0) {
    term_put_clean(stdout, p->persona);
    fputs(": ", stdout);
    term_put_clean(stdout, json_string_value(json_object_get(j, "text")));
    fputc('\n', stdout);
    if (!p->end_sent) {
      p->awaiting_reply = false;
      p->deadline = 0;
    }
  } else if (strcmp(type, LIVE_TYPE_ENDED) == 0) {
    const char *reason = json_string_value(json_object_get(j, "reason"));
    const char *call_id = json_string_value(json_object_get(j, "callId"));
    json_int_t dur = json_integer_value(json_object_get(j, "durationSec"));
    if (reason == NULL)
      reason = "unknown";
    p->ended = true;
    p->awaiting_reply = false;
    p->deadline = time_mono_ms() + CLOSE_TIMEOUT_MS;
    fputs("Call ended: ", stdout);
    term_put_clean(stdout, reason);
    if (reason_text(reason)[0] != '\0')
      fprintf(stdout, " (%s)", reason_text(reason));
    fprintf(stdout, " after %" JSON_INTEGER_FORMAT " s. Call id: ", dur);
    term_put_clean(stdout, call_id != NULL ? call_id : p->call_id);
    fputs("\nThe call is scored next; read it with GET " LIVE_API_PREFIX "/calls/", stdout);
    term_put_clean(stdout, call_id != NULL ? call_id : p->call_id);
    fputc('\n', stdout);
  } else if (strcmp(type, LIVE_TYPE_ERROR) == 0) {
    fputs("athos practice: server error ", stderr);
    term_put_clean(stderr, json_string_value(json_object_get(j, "code")));
    fputs(": ", stderr);
    term_put_clean(stderr, json_string_value(json_object_get(j, "message")));
    fputc('\n', stderr);
    if (!p->ready)
      p->start_failed = true;
    else if (!p->end_sent) {
      /* The server refused our last line: the call goes on. */
      p->awaiting_reply = false;
      p->deadline = 0;
    }
  }
  /* Other types are additions this client does not know: ignored. */
out:
  fflush(stdout);
  json_decref(j);
}

/* Handles one line the rep typed (NUL-terminated, newline removed). */
static void on_line(struct practice *p, char *line)
{
  size_t len = strlen(line);
  while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
    line[--len] = '\0';
  while (*line == ' ' || *line == '\t') {
    line++;
    len--;
  }
  if (len == 0)
    return;
  if (strcmp(line, "/end") == 0 || strcmp(line, "/quit") == 0) {
    if (p->echo)
      printf("You: %s\n", line);
    send_end(p);
    return;
  }
  if (strcmp(line, "/help") == 0) {
    fputs("Type what you say to the prospect, one line at a time. /end hangs up.\n", stdout);
    return;
  }
  size_t chars = ws_utf8_chars(line, len);
  if (chars > LIVE_UTTERANCE_MAX_CHARS) {
    fprintf(stderr,
            "athos practice: that line is %zu characters; the limit is %d. Not sent: say it in "
            "shorter parts.\n",
            chars, LIVE_UTTERANCE_MAX_CHARS);
    return;
  }
  json_t *text = json_stringn(line, len);
  if (text == NULL) {
    fprintf(stderr, "athos practice: that line is not valid UTF-8 text. Not sent.\n");
    return;
  }
  if (p->echo) {
    fputs("You: ", stdout);
    term_put_clean(stdout, line);
    fputc('\n', stdout);
  }
  if (send_json(p, json_pack("{s:s, s:o}", "type", LIVE_TYPE_SAY, "text", text)) != 0) {
    fprintf(stderr, "athos practice: could not send that line\n");
    return;
  }
  p->awaiting_reply = true;
  p->deadline = time_mono_ms() + REPLY_TIMEOUT_MS;
}

/* Takes complete lines from the input while the rep may speak. */
static void drain_lines(struct practice *p)
{
  char line[LINE_MAX_BYTES + 1];
  while (p->ready && !p->awaiting_reply && !p->end_sent && !p->ended &&
         term_input_next_line(&p->in, line, sizeof line))
    on_line(p, line);
}

/* Reads what stdin has. */
static void read_stdin(struct practice *p)
{
  int rc = term_input_read(&p->in, STDIN_FILENO);
  if (rc > 0)
    fprintf(stderr,
            "athos practice: that line is longer than %d characters. Not sent: say it in "
            "shorter parts.\n",
            LIVE_UTTERANCE_MAX_CHARS);
  else if (rc < 0)
    fprintf(stderr, "athos practice: cannot read stdin: %s\n", strerror(errno));
}

/* Runs the call until it ends. Returns the exit status. */
static int run_call(struct practice *p, const char *ticket)
{
  bool interrupt_seen = false;
  p->deadline = time_mono_ms() + READY_TIMEOUT_MS;
  if (send_json(p, json_pack("{s:s, s:s}", "type", LIVE_TYPE_START, "ticket", ticket)) != 0) {
    fprintf(stderr, "athos practice: could not send the start message\n");
    return CLI_FAILED;
  }
  for (;;) {
    if (ws_client_io(p->ws) != 0 || ws_client_events(p->ws) == 0)
      break;
    if (p->start_failed) {
      /* The server closes after an error before start; don't wait long. */
      if (p->deadline == 0 || p->deadline > time_mono_ms() + CLOSE_TIMEOUT_MS)
        p->deadline = time_mono_ms() + CLOSE_TIMEOUT_MS;
    }
    if (interrupted > 0 && !interrupt_seen) {
      interrupt_seen = true;
      if (!p->ready)
        break;
      fputs("\n", stdout);
      send_end(p);
      continue;
    }
    if (interrupted > 1)
      break;
    drain_lines(p);
    if (p->ready && !p->awaiting_reply && !p->end_sent && !p->ended && term_input_done(&p->in))
      send_end(p);

    struct pollfd fds[2];
    nfds_t nfds = 1;
    fds[0] = (struct pollfd){.fd = ws_client_fd(p->ws), .events = ws_client_events(p->ws)};
    if (p->ready && !p->awaiting_reply && !p->end_sent && !p->ended && !p->in.eof)
      fds[nfds++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
    int timeout = -1;
    if (p->deadline != 0) {
      int64_t left = p->deadline - time_mono_ms();
      if (left <= 0) {
        if (p->ended || p->start_failed)
          break; /* the closing handshake is taking too long: done anyway */
        if (!p->ready) {
          fprintf(stderr, "athos practice: the server did not start the call in time\n");
          break;
        }
        if (p->end_sent) {
          fprintf(stderr, "athos practice: the server did not confirm the end of the call\n");
          break;
        }
        /* No answer to our line: let the rep go on. */
        fprintf(stderr, "athos practice: (no reply from the prospect)\n");
        p->awaiting_reply = false;
        p->deadline = 0;
        continue;
      }
      timeout = (int)left;
    }
    fflush(stdout);
    int n = poll(fds, nfds, timeout);
    if (n < 0 && errno != EINTR) {
      fprintf(stderr, "athos practice: poll: %s\n", strerror(errno));
      break;
    }
    if (n > 0 && nfds == 2 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
      read_stdin(p);
  }
  fflush(stdout);
  if (p->ended)
    return CLI_OK;
  if (!p->start_failed) {
    int code = ws_client_close_code(p->ws);
    if (interrupted > 0 && !p->ready)
      fprintf(stderr, "athos practice: interrupted\n");
    else if (code != 0)
      fprintf(stderr,
              "athos practice: the server closed the connection (code %d) before the "
              "call ended\n",
              code);
    else if (ws_client_events(p->ws) == 0)
      fprintf(stderr, "athos practice: the connection was lost before the call ended\n");
  }
  return CLI_FAILED;
}

/* ------------------------------------------------------------ options */

static const char *const DIFFICULTIES[] = {"Beginner", "Advanced", "Elite"};

static int parse_opts(struct practice_opts *o, int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *val = NULL;
    char name[32];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      fputs(USAGE, stdout);
      return 1;
    }
    if (strncmp(arg, "--", 2) != 0) {
      /* Not echoed: a stray argument may well be a key. */
      fprintf(stderr, "athos practice: unexpected argument #%d (options start with --)\n%s", i,
              USAGE);
      return -1;
    }
    const char *eq = strchr(arg, '=');
    if (eq != NULL) {
      snprintf(name, sizeof name, "%.*s", (int)(eq - arg), arg);
      val = eq + 1;
    } else {
      snprintf(name, sizeof name, "%s", arg);
      if (i + 1 < argc)
        val = argv[++i];
    }
    if (val == NULL) {
      fprintf(stderr, "athos practice: %s needs a value\n%s", name, USAGE);
      return -1;
    }
    if (strcmp(name, "--api-key") == 0)
      o->api_key = val;
    else if (strcmp(name, "--url") == 0)
      o->url = val;
    else if (strcmp(name, "--difficulty") == 0)
      o->difficulty = val;
    else if (strcmp(name, "--state") == 0)
      o->state = val;
    else if (strcmp(name, "--drill") == 0)
      o->drill = val;
    else if (strcmp(name, "--user-id") == 0)
      o->user_id = val;
    else {
      fprintf(stderr, "athos practice: unknown option %s\n%s", name, USAGE);
      return -1;
    }
  }
  if (o->api_key == NULL || o->api_key[0] == '\0') {
    fprintf(stderr, "athos practice: --api-key is required\n%s", USAGE);
    return -1;
  }
  if (o->difficulty != NULL) {
    const char *canon = NULL;
    for (size_t k = 0; k < sizeof DIFFICULTIES / sizeof DIFFICULTIES[0]; k++)
      if (strcasecmp(o->difficulty, DIFFICULTIES[k]) == 0)
        canon = DIFFICULTIES[k];
    if (canon == NULL) {
      fprintf(stderr, "athos practice: --difficulty must be Beginner, Advanced or Elite\n");
      return -1;
    }
    o->difficulty = canon;
  }
  if (o->url == NULL)
    o->url = getenv("ATHOS_URL");
  if (o->url == NULL || o->url[0] == '\0')
    o->url = DEFAULT_URL;
  if (o->drill == NULL)
    o->drill = DEFAULT_DRILL;
  if (o->user_id == NULL) {
    const char *login = getenv("USER");
    struct passwd *pw = getpwuid(geteuid());
    if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0')
      login = pw->pw_name;
    if (login == NULL || login[0] == '\0')
      login = "user";
    snprintf(o->user_buf, sizeof o->user_buf, "cli-%s", login);
    o->user_id = o->user_buf;
  }
  return 0;
}

/* ----------------------------------------------------------- command */

int cli_practice(int argc, char **argv)
{
  struct practice_opts o = {0};
  struct practice *p = NULL;
  json_t *minted = NULL;
  json_t *redeemed = NULL;
  json_t *req = NULL;
  char base[1024];
  char err[512];
  struct ws_target target;
  struct sigaction sa = {0};
  struct sigaction old_sa;
  bool sa_set = false;
  bool curl_up = false;
  int rc = CLI_FAILED;

  int prc = parse_opts(&o, argc, argv);
  if (prc != 0)
    return prc > 0 ? CLI_OK : CLI_USAGE;
  /* The base URL without trailing slashes. */
  size_t blen = strlen(o.url);
  while (blen > 0 && o.url[blen - 1] == '/')
    blen--;
  if (blen == 0 || blen >= sizeof base) {
    fprintf(stderr, "athos practice: --url is not usable\n");
    return CLI_USAGE;
  }
  memcpy(base, o.url, blen);
  base[blen] = '\0';

  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "athos practice: cannot initialise libcurl\n");
    goto out;
  }
  curl_up = true;

  minted =
      api_client_post(base, LIVE_API_PREFIX "/session", o.api_key,
                      json_pack("{s:s}", "externalUserId", o.user_id), "minting a session token");
  if (minted == NULL)
    goto out;
  const char *token = json_string_value(json_object_get(minted, "token"));
  if (token == NULL) {
    fprintf(stderr, "athos practice: the session response has no token\n");
    goto out;
  }

  req = json_pack("{s:s}", "drillKey", o.drill);
  if (req == NULL)
    goto out;
  if (o.difficulty != NULL)
    json_object_set_new(req, "difficulty", json_string(o.difficulty));
  if (o.state != NULL)
    json_object_set_new(req, "filters", json_pack("{s:s}", "state", o.state));
  redeemed =
      api_client_post(base, LIVE_API_PREFIX "/roleplay/session", token, req, "starting the call");
  req = NULL; /* stolen by api_client_post */
  if (redeemed == NULL)
    goto out;
  const char *ticket = json_string_value(json_object_get(redeemed, "connectionTicket"));
  const char *conn_url = json_string_value(json_object_get(redeemed, "connectionUrl"));
  if (ticket == NULL || conn_url == NULL) {
    fprintf(stderr,
            "athos practice: the redeem response lacks connectionTicket or connectionUrl\n");
    goto out;
  }
  if (api_client_parse_ws_url(conn_url, &target) != 0)
    goto out;

  p = calloc(1, sizeof *p);
  if (p == NULL) {
    fprintf(stderr, "athos practice: out of memory\n");
    goto out;
  }
  p->echo = !isatty(STDIN_FILENO);
  term_input_init(&p->in, LINE_MAX_BYTES);
  /* Until `ready` names them, the persona is whoever redeem said. */
  const char *name =
      json_string_value(json_object_get(json_object_get(redeemed, "persona"), "name"));
  snprintf(p->persona, sizeof p->persona, "%s", name != NULL ? name : "Prospect");
  snprintf(p->call_id, sizeof p->call_id, "%s",
           json_string_value(json_object_get(redeemed, "callId")) != NULL
               ? json_string_value(json_object_get(redeemed, "callId"))
               : "");

  p->ws = ws_client_open(target.host, target.port, target.host_header, target.path,
                         CONNECT_TIMEOUT_MS, LIVE_FRAME_MAX, on_server_text, p, err, sizeof err);
  if (p->ws == NULL) {
    fprintf(stderr, "athos practice: cannot open the live connection: %s\n", err);
    goto out;
  }

  /* Ctrl-C hangs up politely; a second one leaves at once. */
  interrupted = 0;
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, &old_sa) == 0)
    sa_set = true;
  rc = run_call(p, ticket);

out:
  if (sa_set)
    sigaction(SIGINT, &old_sa, NULL);
  if (p != NULL) {
    ws_client_free(p->ws);
    term_input_free(&p->in);
  }
  free(p);
  json_decref(req);
  json_decref(redeemed);
  json_decref(minted);
  if (curl_up)
    curl_global_cleanup();
  return rc;
}
