/*
 * loop.c — the live loop: one thread, one epoll set, every upgraded
 * WebSocket connection; it owns socket I/O, the timers (start, close,
 * ping) and each connection's lifetime. The protocol is in call.c.
 *
 * Why one thread: a live call is a few small messages a minute, and each
 * turn's work (a persona reply, a committed row) is short, so one loop
 * serves thousands of calls with no locking on the connection state.
 * The price is that a slow database commit stalls every call for its
 * duration (see docs/internals/live.md).
 */
#include "live/live.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "app.h"
#include "live/decoders.h"
#include "live/live_internal.h"
#include "metrics.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "voice/asr.h"
#include "voice/pool.h"
#include "voice/tts.h"

#define LIVE_EPOLL_BATCH 256

struct live_loop {
  struct live_loop *next_registered; /* g_loops; guarded by g_lock */
  struct app *app;
  int epfd, wakefd, timerfd;
  pthread_t thread;
  bool thread_started;
  /* guarded by g_lock */
  struct live_conn *pending; /* adopted by MHD's thread, not yet registered */
  bool stopping;
  /* loop thread only */
  struct live_conn *open;      /* every registered connection */
  struct live_conn *graveyard; /* destroyed this batch; freed after it */
  size_t nopen;
  int64_t now_mono;
  uint64_t rng;                        /* xorshift state: ping phases */
  char wake_tag, timer_tag, voice_tag; /* epoll data for the internal fds */
  /* speech, made at the first voice call (live_loop_voice) */
  struct voice_pool *voice;
  struct tts *tts;
  bool voice_failed; /* tried and failed: voice calls are refused */
  /* recognisers: spare between utterances, bound to one while it is spoken */
  struct live_decoders decoders;
  int64_t last_sweep_mono; /* recording retention; 0 = at the first tick */
};

/* The running loops. The upgrade callback may fire after live_loop_stop()
 * freed its loop (a handshake in flight while the server shuts down), so
 * it only dereferences a loop it finds here, under the lock. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct live_loop *g_loops;

struct app *live_loop_app(const struct live_loop *l)
{
  return l->app;
}

static uint64_t next_random(struct live_loop *l)
{
  l->rng ^= l->rng << 13;
  l->rng ^= l->rng >> 7;
  l->rng ^= l->rng << 17;
  return l->rng;
}

int64_t live_loop_now(const struct live_loop *l)
{
  return l->now_mono;
}

/* ------------------------------------------------------------ speech */

/* Made on the loop thread at the first voice call: loading the models
 * stalls the loop once (about a second), and text-only servers never pay
 * for them. */
struct voice_pool *live_loop_voice(struct live_loop *l)
{
  if (l->voice != NULL || l->voice_failed)
    return l->voice;
  const struct athos_config *cfg = l->app->cfg;
  /* As many more threads for urgent work only (a last pass, a reply's
   * synthesis), so it never waits behind recognition while reps talk;
   * those ordinary workers run niced, so it wins the CPU too. */
  struct voice_pool_config pc = {
      .workers = cfg->voice_workers > 0 ? cfg->voice_workers : 1,
      .urgent_workers = cfg->voice_workers > 0 ? cfg->voice_workers : 1,
      .background_nice = LIVE_VOICE_BACKGROUND_NICE,
      .max_queued = cfg->voice_queue > 0 ? cfg->voice_queue : 64,
  };
  /* The recognisers are bound to an utterance, not to a worker (voice.c):
   * the first one is made here, which checks the models load (the
   * built-in PocketSphinx, or the provider at ATHOS_ASR_URL). */
  struct asr *first = asr_open_from_config();
  l->tts = first != NULL ? tts_open_from_config() : NULL; /* Flite, or ATHOS_TTS_URL's */
  if (l->tts != NULL)
    l->voice = voice_pool_new(&pc);
  if (l->voice != NULL) {
    l->decoders.max = cfg->voice_decoders > 0 ? cfg->voice_decoders : 4 * pc.workers;
    live_decoders_reserve(&l->decoders);
    live_decoders_give(&l->decoders, first);
  } else {
    asr_free(first);
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->voice_tag};
  if (l->voice == NULL || epoll_ctl(l->epfd, EPOLL_CTL_ADD, voice_pool_fd(l->voice), &ev) != 0) {
    log_error("live: speech cannot start; voice calls are refused");
    voice_pool_free(l->voice);
    tts_free(l->tts);
    l->voice = NULL;
    l->tts = NULL;
    l->voice_failed = true;
    return NULL;
  }
  log_info("live: speech started (%u workers, %u more for urgent work, at most %zu recognisers)",
           pc.workers, pc.urgent_workers, l->decoders.max);
  return l->voice;
}

struct tts *live_loop_tts(struct live_loop *l)
{
  return l->tts;
}

struct live_decoders *live_loop_decoders(struct live_loop *l)
{
  return &l->decoders;
}

/* After every connection is gone: the jobs still out free themselves in
 * their done(). */
static void voice_stop(struct live_loop *l)
{
  voice_pool_free(l->voice);
  tts_free(l->tts);
  l->voice = NULL;
  l->tts = NULL;
  live_decoders_clear(&l->decoders);
}

/* ------------------------------------------------------------ framing */

/* wslay's on_msg_recv (user data = the connection's struct ws). Every
 * message and ping or pong is charged to the connection's rate first
 * (wslay has already queued the pong a ping asks for; the charge bounds
 * how many). A message over the rate is dropped with an error frame; a
 * burst of them, or any flood of pings, closes the connection (1008).
 * Closes are wslay's business, messages the protocol's. */
static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *user)
{
  (void)ctx;
  struct live_conn *c = ws_owner(user, struct live_conn, ws);
  /* A voice call's audio is metered by its own limit (real time x2, in
   * voice.c), not by the message bucket; any other binary frame closes
   * the connection (1003) in call.c. */
  if (arg->opcode == WSLAY_BINARY_FRAME) {
    live_call_on_message(c, arg);
    return;
  }
  bool data = arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME;
  if (!data && arg->opcode != WSLAY_PING && arg->opcode != WSLAY_PONG)
    return;
  switch (live_rate_take(&c->rate, c->loop->now_mono)) {
  case LIVE_RATE_OK:
    if (data)
      live_call_on_message(c, arg);
    return;
  case LIVE_RATE_DROP:
    metrics_inc(M_RATE_LIMITED);
    if (data && (c->state == LIVE_AWAIT_START || c->state == LIVE_IN_CALL))
      live_call_send_error(c, ERR_RATE_LIMITED,
                           "Too many messages (more than " LIVE_STR(
                               LIVE_RATE_PER_SEC) " a second); this one was dropped.");
    return;
  case LIVE_RATE_ABUSE:
    metrics_inc(M_RATE_LIMITED);
    live_conn_police(c, ERR_RATE_LIMITED, "Too many messages; the connection is closed.",
                     LIVE_CLOSE_POLICY);
    return;
  }
}

/* -------------------------------------------------- connection lifetime */

static void conn_set_events(struct live_conn *c, uint32_t want)
{
  if (c->events == want)
    return;
  struct epoll_event ev = {.events = want, .data.ptr = c};
  if (epoll_ctl(c->loop->epfd, EPOLL_CTL_MOD, c->ws.fd, &ev) == 0)
    c->events = want;
  else
    c->failed = true;
}

/* Unlinks c, ends its call if still open, gives the socket back to MHD and
 * frees everything but the struct (freed after the epoll batch, which may
 * still name it). */
static void conn_destroy(struct live_conn *c)
{
  struct live_loop *l = c->loop;
  if (c->dead)
    return;
  live_call_end(c, LIVE_END_DISCONNECT, false);
  live_call_release(c);
  if (c->events != 0)
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->ws.fd, NULL);
  /* Never close(): MHD owns the fd and closes it on its own thread. */
  MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
  ws_free(&c->ws);
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    l->open = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  c->prev = NULL;
  c->next = l->graveyard;
  l->graveyard = c;
  c->dead = true;
  l->nopen--;
  metrics_gauge_add(G_LIVE_CALLS, -1);
}

/* After wslay is done (close handshake over, or reading shut down by a
 * protocol error): half-close and read to EOF, so the peer sees our last
 * frames instead of a reset from unread data. */
static void conn_start_draining(struct live_conn *c)
{
  live_call_end(c, LIVE_END_DISCONNECT, false);
  shutdown(c->ws.fd, SHUT_WR);
  c->state = LIVE_DRAINING;
  c->closing_mono = c->loop->now_mono;
  c->due_mono = 0;
  conn_set_events(c, EPOLLIN);
}

static void conn_drain(struct live_conn *c)
{
  if (ws_discard_input(c->ws.fd) != 0)
    conn_destroy(c); /* EOF or error: the peer is gone */
}

/* Decides what c waits for next, after any I/O or protocol step. */
static void conn_settle(struct live_conn *c)
{
  if (c->dead || c->state == LIVE_DRAINING)
    return;
  if (c->failed) {
    conn_destroy(c);
    return;
  }
  /* The peer closed (or sent close) without {"type":"end"}. */
  if (c->call_open && wslay_event_get_close_received(c->ws.ctx))
    live_call_end(c, LIVE_END_DISCONNECT, false);
  int want_read = wslay_event_want_read(c->ws.ctx);
  int want_write = wslay_event_want_write(c->ws.ctx);
  if (!want_read && !want_write) {
    conn_start_draining(c);
    return;
  }
  conn_set_events(c, (want_read ? EPOLLIN : 0u) | (want_write ? EPOLLOUT : 0u));
  if (c->failed)
    conn_destroy(c);
}

/* Sends what wslay has queued (optimistically: most replies fit in the
 * socket buffer, so EPOLLOUT is rarely needed), then settles. */
static void conn_flush(struct live_conn *c)
{
  if (c->dead)
    return;
  if (!c->failed && c->state != LIVE_DRAINING) {
    if (wslay_event_want_write(c->ws.ctx) && wslay_event_send(c->ws.ctx) != 0)
      c->failed = true;
    if (!c->failed && c->close_pending && wslay_event_get_queued_msg_count(c->ws.ctx) == 0) {
      /* A refusal means a close is already queued (the peer's echo). */
      c->close_pending = false;
      wslay_event_queue_close(c->ws.ctx, c->close_code, NULL, 0);
      if (wslay_event_send(c->ws.ctx) != 0)
        c->failed = true;
    }
  }
  conn_settle(c);
}

static const char *conn_name(const struct live_conn *c)
{
  return c->call_public_id[0] ? c->call_public_id : "-";
}

/* The outbound queue passed LIVE_OUTBOUND_MAX: tear down, no handshake
 * (a close frame would only queue behind the rest). */
static void conn_not_reading(struct live_conn *c)
{
  log_warn("live: call %s: client is not reading (outbound queue over %d bytes), closing",
           conn_name(c), LIVE_OUTBOUND_MAX);
  c->failed = true;
}

static void conn_on_io(struct live_conn *c, uint32_t events)
{
  if (c->dead)
    return;
  if (c->state == LIVE_DRAINING) {
    conn_drain(c);
    return;
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && wslay_event_want_read(c->ws.ctx) &&
      ws_recv(&c->ws, LIVE_READ_PER_TURN) != 0)
    c->failed = true;
  /* wslay's pongs bypass ws_queue_text(): a peer that pings and does not
   * read is caught here. */
  if (!c->failed && ws_queued_cost(&c->ws) > LIVE_OUTBOUND_MAX)
    conn_not_reading(c);
  if (c->ws.received) {
    c->ws.received = false;
    c->last_rx_mono = c->loop->now_mono;
  }
  conn_flush(c);
}

int live_conn_send_binary(struct live_conn *c, const void *bytes, size_t len)
{
  if (c->failed)
    return -1;
  int qrc = ws_queue_binary(&c->ws, bytes, len, LIVE_OUTBOUND_MAX);
  if (qrc == WS_QUEUE_FULL)
    conn_not_reading(c);
  if (qrc != 0)
    c->failed = true;
  return qrc == 0 ? 0 : -1;
}

void live_conn_kick(struct live_conn *c)
{
  conn_flush(c);
}

int live_conn_send_json(struct live_conn *c, json_t *json)
{
  int rc = -1;
  char *text = NULL;
  if (json == NULL || c->failed)
    goto out;
  text = json_dumps(json, JSON_COMPACT);
  if (text == NULL)
    goto out;
  int qrc = ws_queue_text(&c->ws, text, strlen(text), LIVE_OUTBOUND_MAX);
  if (qrc == WS_QUEUE_FULL)
    conn_not_reading(c);
  if (qrc != 0)
    goto out;
  rc = 0;
out:
  if (rc != 0 && json != NULL)
    c->failed = true;
  free(text);
  json_decref(json);
  return rc;
}

void live_conn_police(struct live_conn *c, enum athos_error code, const char *message,
                      uint16_t close_code)
{
  if (c->state == LIVE_AWAIT_START || c->state == LIVE_IN_CALL) {
    log_warn("live: call %s: %s (close %u)", conn_name(c), athos_error_code(code),
             (unsigned)close_code);
    live_call_send_error(c, code, message);
    live_call_end(c, LIVE_END_DISCONNECT, false);
    live_conn_close(c, close_code);
  }
  /* Nothing more this peer sends is looked at; the close handshake ends
   * at our close frame, then the socket drains to EOF. */
  wslay_event_shutdown_read(c->ws.ctx);
}

void live_conn_close(struct live_conn *c, uint16_t code)
{
  if (c->state != LIVE_AWAIT_START && c->state != LIVE_IN_CALL)
    return;
  c->close_pending = true;
  c->close_code = code;
  c->state = LIVE_CLOSING;
  c->closing_mono = c->loop->now_mono;
  c->due_mono = 0;
}

/* Takes a connection handed over by MHD's thread into the epoll set. */
static void conn_register(struct live_loop *l, struct live_conn *c)
{
  int one = 1;
  c->loop = l;
  c->opened_mono = c->last_rx_mono = l->now_mono;
  live_rate_init(&c->rate, l->now_mono);
  /* Connections arrive in bursts; a random phase keeps their pings from
   * all landing in the same tick (10,000 sends at once stall the loop). */
  const struct athos_config *cfg = l->app->cfg;
  int64_t ping_ms = cfg->ws_ping_sec > 0 ? cfg->ws_ping_sec * 1000 : 0;
  c->last_ping_mono =
      l->now_mono - (ping_ms > 0 ? (int64_t)(next_random(l) % (uint64_t)ping_ms) / 2 : 0);
  /* Replies are small and latency-bound; the setsockopt is best effort
   * (MHD documents that the socket may not be TCP in other setups). */
  setsockopt(c->ws.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (ws_init(&c->ws, WS_SERVER, c->ws.fd, LIVE_FRAME_MAX, ws_msg_cb) != 0)
    goto fail;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, c->ws.fd, &ev) != 0)
    goto fail;
  c->events = EPOLLIN;
  c->next = l->open;
  if (l->open != NULL)
    l->open->prev = c;
  l->open = c;
  l->nopen++;
  metrics_gauge_add(G_LIVE_CALLS, 1);
  if (c->ws.prefix != NULL) /* epoll will not report bytes MHD already read */
    conn_on_io(c, EPOLLIN);
  return;
fail:
  log_error("live: cannot register a connection: %s", strerror(errno));
  MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
  ws_free(&c->ws);
  free(c);
}

void live_loop_adopt(struct live_loop *l, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh,
                     const char *extra_in, size_t extra_in_size)
{
  struct live_conn *c = calloc(1, sizeof *c);
  bool adopted = false;
  if (c == NULL || ws_prefix_copy(&c->ws, extra_in, extra_in_size, LIVE_FRAME_MAX) != 0)
    goto out;
  c->ws.fd = sock;
  c->urh = urh;
  c->state = LIVE_AWAIT_START;
  pthread_mutex_lock(&g_lock);
  for (struct live_loop *it = g_loops; it != NULL; it = it->next_registered) {
    if (it == l && !l->stopping) {
      uint64_t one = 1;
      c->next = l->pending;
      l->pending = c;
      adopted = true;
      if (write(l->wakefd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_warn("live: cannot wake the loop: %s", strerror(errno));
      break;
    }
  }
  pthread_mutex_unlock(&g_lock);
out:
  if (!adopted) {
    if (c != NULL)
      ws_free(&c->ws);
    free(c);
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
  }
}

/* ----------------------------------------------------------- the loop */

static struct live_conn *take_pending(struct live_loop *l, bool *stopping)
{
  pthread_mutex_lock(&g_lock);
  struct live_conn *list = l->pending;
  l->pending = NULL;
  *stopping = l->stopping;
  pthread_mutex_unlock(&g_lock);
  return list;
}

/* The earliest moment any of c's timers can fire (timers only move later
 * while the state is unchanged; a state change resets due_mono to 0). */
static int64_t conn_next_due(const struct live_conn *c, int64_t ping_ms)
{
  const struct athos_config *cfg = c->loop->app->cfg;
  int64_t due = INT64_MAX;
#define LIVE_DUE_MIN(t) \
  do {                  \
    if ((t) < due)      \
      due = (t);        \
  } while (0)
  switch (c->state) {
  case LIVE_AWAIT_START: LIVE_DUE_MIN(c->opened_mono + LIVE_START_TIMEOUT_MS); break;
  case LIVE_IN_CALL:
    if (live_voice_busy(c))
      return 0; /* persona audio is paced every tick */
    if (cfg->max_call_sec > 0)
      LIVE_DUE_MIN(c->started_mono + cfg->max_call_sec * 1000);
    if (cfg->idle_sec > 0)
      LIVE_DUE_MIN(c->last_rep_mono + cfg->idle_sec * 1000);
    break;
  case LIVE_CLOSING:
  case LIVE_DRAINING: return c->closing_mono + LIVE_CLOSE_TIMEOUT_MS;
  }
  if (ping_ms > 0) {
    LIVE_DUE_MIN(c->last_ping_mono + ping_ms);
    LIVE_DUE_MIN(c->last_rx_mono + 2 * ping_ms + 5000);
  }
#undef LIVE_DUE_MIN
  return due;
}

static void on_tick(struct live_loop *l)
{
  const struct athos_config *cfg = l->app->cfg;
  int64_t now = l->now_mono;
  if (l->last_sweep_mono == 0 || now - l->last_sweep_mono >= LIVE_SWEEP_MS) {
    l->last_sweep_mono = now;
    live_recordings_sweep(l->app);
  }
  int64_t ping_ms = cfg->ws_ping_sec > 0 ? cfg->ws_ping_sec * 1000 : 0;
  struct live_conn *next;
  for (struct live_conn *c = l->open; c != NULL; c = next) {
    next = c->next;
    if (now < c->due_mono)
      continue; /* the common case: one compare per connection */
    if (c->state == LIVE_CLOSING || c->state == LIVE_DRAINING) {
      if (now - c->closing_mono >= LIVE_CLOSE_TIMEOUT_MS) {
        conn_destroy(c);
        continue;
      }
    } else {
      live_call_tick(c, now);
    }
    if (ping_ms > 0 && (c->state == LIVE_AWAIT_START || c->state == LIVE_IN_CALL)) {
      if (now - c->last_rx_mono >= 2 * ping_ms + 5000) {
        /* Two pings unanswered: the peer is gone without a FIN. */
        c->failed = true;
      } else if (now - c->last_ping_mono >= ping_ms) {
        struct wslay_event_msg ping = {.opcode = WSLAY_PING, .msg = NULL, .msg_length = 0};
        if (wslay_event_queue_msg(c->ws.ctx, &ping) != 0)
          c->failed = true;
        c->last_ping_mono = now;
      }
    }
    conn_flush(c);
    if (!c->dead)
      c->due_mono = conn_next_due(c, ping_ms);
  }
}

static void bury(struct live_loop *l)
{
  while (l->graveyard != NULL) {
    struct live_conn *c = l->graveyard;
    l->graveyard = c->next;
    free(c);
  }
}

/* Server shutdown: every open call is ended as a disconnect (committed),
 * told so if its socket takes one more frame, and closed. */
static void close_everything(struct live_loop *l)
{
  bool stopping;
  l->now_mono = time_mono_ms();
  while (l->open != NULL) {
    struct live_conn *c = l->open;
    if (c->state != LIVE_DRAINING) {
      live_call_end(c, LIVE_END_DISCONNECT, true);
      conn_flush(c); /* one non-blocking try at "ended" and the close */
    }
    conn_destroy(c);
  }
  for (struct live_conn *c = take_pending(l, &stopping), *next; c != NULL; c = next) {
    next = c->next;
    MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
    ws_free(&c->ws);
    free(c);
  }
  bury(l);
}

static void *loop_main(void *arg)
{
  struct live_loop *l = arg;
  struct epoll_event evs[LIVE_EPOLL_BATCH];
  bool stopping = false;
  while (!stopping) {
    int n = epoll_wait(l->epfd, evs, LIVE_EPOLL_BATCH, -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      log_error("live: epoll_wait: %s", strerror(errno));
      break;
    }
    l->now_mono = time_mono_ms();
    for (int i = 0; i < n; i++) {
      void *tag = evs[i].data.ptr;
      uint64_t count;
      if (tag == &l->wake_tag) {
        if (read(l->wakefd, &count, sizeof count) < 0 && errno != EAGAIN)
          log_warn("live: eventfd read: %s", strerror(errno));
        struct live_conn *c = take_pending(l, &stopping), *next;
        for (; c != NULL; c = next) {
          next = c->next;
          c->next = NULL;
          conn_register(l, c);
        }
      } else if (tag == &l->voice_tag) {
        voice_pool_drain(l->voice);
      } else if (tag == &l->timer_tag) {
        if (read(l->timerfd, &count, sizeof count) < 0 && errno != EAGAIN)
          log_warn("live: timerfd read: %s", strerror(errno));
        on_tick(l);
      } else {
        conn_on_io(tag, evs[i].events);
      }
    }
    bury(l);
  }
  close_everything(l);
  voice_stop(l);
  return NULL;
}

struct live_loop *live_loop_start(struct app *app)
{
  struct live_loop *l = calloc(1, sizeof *l);
  if (l == NULL)
    return NULL;
  l->app = app;
  l->wakefd = l->timerfd = -1;
  l->epfd = epoll_create1(EPOLL_CLOEXEC);
  l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  l->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (l->epfd < 0 || l->wakefd < 0 || l->timerfd < 0)
    goto fail;
  struct itimerspec tick = {
      .it_interval = {.tv_sec = 0, .tv_nsec = LIVE_TICK_MS * 1000000L},
      .it_value = {.tv_sec = 0, .tv_nsec = LIVE_TICK_MS * 1000000L},
  };
  if (timerfd_settime(l->timerfd, 0, &tick, NULL) != 0)
    goto fail;
  struct epoll_event wake = {.events = EPOLLIN, .data.ptr = &l->wake_tag};
  struct epoll_event timer = {.events = EPOLLIN, .data.ptr = &l->timer_tag};
  if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &wake) != 0 ||
      epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->timerfd, &timer) != 0)
    goto fail;
  l->now_mono = time_mono_ms();
  l->rng = (uint64_t)time_mono_us() | 1u;
  if (pthread_create(&l->thread, NULL, loop_main, l) != 0)
    goto fail;
  l->thread_started = true;
  pthread_mutex_lock(&g_lock);
  l->next_registered = g_loops;
  g_loops = l;
  pthread_mutex_unlock(&g_lock);
  return l;
fail:
  log_error("live: cannot start the loop: %s", strerror(errno));
  live_loop_stop(l);
  return NULL;
}

void live_loop_stop(struct live_loop *l)
{
  if (l == NULL)
    return;
  pthread_mutex_lock(&g_lock);
  for (struct live_loop **p = &g_loops; *p != NULL; p = &(*p)->next_registered) {
    if (*p == l) {
      *p = l->next_registered;
      break;
    }
  }
  l->stopping = true;
  pthread_mutex_unlock(&g_lock);
  if (l->thread_started) {
    uint64_t one = 1;
    if (write(l->wakefd, &one, sizeof one) < 0)
      log_warn("live: cannot wake the loop to stop it: %s", strerror(errno));
    pthread_join(l->thread, NULL);
  }
  if (l->epfd >= 0)
    close(l->epfd);
  if (l->wakefd >= 0)
    close(l->wakefd);
  if (l->timerfd >= 0)
    close(l->timerfd);
  free(l);
}
