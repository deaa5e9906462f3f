/*
 * guard.h — total deadlines for a connection's request headers and body
 * (slowloris), internal to http/. libmicrohttpd 0.9.75 only has an idle
 * timeout, which a client resets with every byte it trickles; the guard
 * tracks each connection from the notify-connection callback and a
 * sweeper thread shuts down the socket of one that is still reading its
 * headers `header_ms` after it opened (or after its previous request on
 * a kept-alive connection), or its body `body_ms` after the headers.
 * libmicrohttpd then sees the socket end and closes the connection
 * itself, so the guard never races it for the descriptor.
 *
 * Phases move forward on MHD's threads with one atomic store each; the
 * list is only locked to link, unlink and sweep.
 */
#ifndef ATHOS_HTTP_GUARD_H
#define ATHOS_HTTP_GUARD_H

#include <stdint.h>

enum guard_phase {
  GUARD_HEADERS,  /* reading a request's headers (or idle between requests) */
  GUARD_BODY,     /* headers in, reading the body */
  GUARD_REPLY,    /* answered or being answered: only MHD's idle timeout applies */
  GUARD_UPGRADED, /* handed to the live loop: never touched again */
};

struct guard;
struct guard_conn;

/* Starts the sweeper. Returns NULL on failure (logged). */
struct guard *guard_start(int64_t header_ms, int64_t body_ms);
/* Stops the sweeper and frees what is still tracked. Accepts NULL. */
void guard_stop(struct guard *g);

/* A connection opened (fd is its socket): returns its tracking record
 * (NULL if out of memory: the connection is then not guarded). */
struct guard_conn *guard_open(struct guard *g, int fd);
/* The connection closed: unlinks and frees c. Accepts NULL. */
void guard_close(struct guard *g, struct guard_conn *c);
/* Moves c to phase p, restarting its clock. GUARD_UPGRADED is final.
 * Accepts NULL. */
void guard_phase(struct guard_conn *c, enum guard_phase p);

#endif
