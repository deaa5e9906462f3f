/*
 * ws.h — one WebSocket endpoint over a connected, non-blocking socket:
 * wslay's event API with its I/O callbacks written once (the bytes that
 * arrived behind the opening handshake first, then recv()/send() with
 * EINTR retried and EAGAIN reported as WSLAY_ERR_WOULDBLOCK, a fresh
 * random mask per client frame). Used by the server's live loop
 * (src/live/loop.c), the CLI's client (src/cli/ws_client.c) and the frame
 * fuzzer (tests/fuzz/fuzz_ws_frames.c), so all three run the same code.
 *
 * Pure transport: no HTTP library, no application state. The opening
 * handshake is the caller's (its pieces are in ws_util.h); what to wait
 * for, and when, is the caller's too (wslay_event_want_read/write on
 * w->ctx). docs/internals/live.md describes how the loop drives it.
 *
 * A struct ws is embedded in its owner (no allocation of its own, no
 * back pointer: a live server holds ten thousand). wslay's callbacks get
 * the struct ws as user data; ws_owner() recovers the owner from it.
 */
#ifndef ATHOS_WS_H
#define ATHOS_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wslay/wslay.h>

/* The largest frame header RFC 6455 allows: 2 bytes, a 64-bit extended
 * length, a 4-byte mask. */
#define WS_FRAME_HEADER_MAX 14
/* The bytes a peer may send behind its handshake before it has seen our
 * answer: at most one message of max_msg bytes and its header, with room
 * for a ping or two. More is refused (ws_prefix_copy). */
#define WS_PREFIX_MAX(max_msg) ((size_t)(max_msg) + 64)
/* A control frame's payload (ping, pong, close), RFC 6455 §5.5. */
#define WS_CONTROL_PAYLOAD_MAX 125

struct ws {
  wslay_event_context_ptr ctx; /* owned; NULL before ws_init() */
  /* Owned: bytes read before the framing began (what followed the
   * handshake), fed to wslay before the socket is read. NULL once used. */
  uint8_t *prefix;
  uint32_t prefix_len, prefix_off;
  int fd;             /* borrowed: never closed here */
  bool received;      /* set by every read from the socket; the owner clears it */
  bool budgeted;      /* inside ws_recv(): reads stop when read_left is 0 */
  uint8_t fragments;  /* frames of the message being received, up to WS_FRAGMENTS_MAX */
  uint32_t read_left; /* ws_recv(): socket bytes this call may still read */
};

/* The owner of w when it is embedded as member of type. */
#define ws_owner(w, type, member) ((type *)(void *)((char *)(w)-offsetof(type, member)))

enum ws_role {
  WS_SERVER, /* frames from the peer must be masked; ours are not */
  WS_CLIENT, /* ours are masked with a fresh random key each */
};

/* Copies len bytes that arrived with the handshake into w's prefix; they
 * are the first bytes wslay reads. Call before ws_init() on a zeroed w
 * (it may run on another thread than the one that later uses w). Returns
 * 0, or -1 if malloc fails or len > WS_PREFIX_MAX(max_msg). */
int ws_prefix_copy(struct ws *w, const void *bytes, size_t len, size_t max_msg);

/* Starts framing on fd (connected, non-blocking, borrowed). on_msg is
 * called with user data = w for each complete message, control frames
 * included (wslay answers pings and closes itself); a message over
 * max_msg bytes is refused with close 1009 instead. Returns 0, or -1 if
 * out of memory (w->ctx stays NULL; ws_free() still cleans up). */
int ws_init(struct ws *w, enum ws_role role, int fd, size_t max_msg,
            wslay_event_on_msg_recv_callback on_msg);

/* Frees the wslay context and the prefix; the fd is untouched. Accepts a
 * zeroed or already freed w. */
void ws_free(struct ws *w);

/* What one queued outbound message costs beyond its payload (the
 * allocation, the queue entry, the frame header), so that a queue of
 * empty control frames (wslay's automatic pongs) is not free. */
#define WS_QUEUED_MSG_OVERHEAD 64
/* The frames one message may arrive in; wslay keeps a chunk per frame,
 * so a stream of empty continuation frames would grow without bound.
 * More is refused like an oversized message: close 1009. */
#define WS_FRAGMENTS_MAX 64

/* Runs wslay_event_recv() reading at most max_bytes from the socket (the
 * prefix does not count): a peer that sends faster than we parse leaves
 * the rest in the socket for the next call (a level-triggered poll
 * reports it again), so one connection cannot hold its caller. Returns
 * wslay_event_recv()'s result. */
int ws_recv(struct ws *w, size_t max_bytes);
/* From a message callback inside ws_recv(): read nothing more from the
 * socket in this call (what wslay already buffered is still parsed). */
void ws_recv_stop(struct ws *w);
/* The outbound queue's cost: payload bytes plus WS_QUEUED_MSG_OVERHEAD
 * per message, control frames included. */
size_t ws_queued_cost(const struct ws *w);

/* ws_queue_text()'s answer when the peer is not reading. */
#define WS_QUEUE_FULL (-2)

/* Queues one text message (copied). Returns 0; WS_QUEUE_FULL if the
 * queue's cost (ws_queued_cost) with this message would pass queue_max (a
 * peer that does not read); -1 if the connection no longer takes messages or
 * memory ran out. */
int ws_queue_text(struct ws *w, const void *msg, size_t len, size_t queue_max);
/* The same for a binary message (a voice call's audio). */
int ws_queue_binary(struct ws *w, const void *msg, size_t len, size_t queue_max);

/* Reads and discards what the socket holds (at most WS_DISCARD_MAX bytes
 * a call, so a flooding peer cannot hold the caller), for a connection
 * that is closing: returns 0 while the peer may send more, 1 at EOF or on
 * an error (the peer is gone). */
#define WS_DISCARD_MAX (64 * 1024)
int ws_discard_input(int fd);

#endif
