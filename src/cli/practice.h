/*
 * practice.h — `athos practice`: a live practice call in the terminal,
 * through the public API exactly as a reseller's integration would drive
 * it (mint a session token with an API key, redeem it, open the live
 * WebSocket). It needs no database: only a running `athos serve`.
 */
#ifndef ATHOS_CLI_PRACTICE_H
#define ATHOS_CLI_PRACTICE_H

/*
 * athos practice --api-key KEY [--url URL] [--difficulty Beginner|Advanced|Elite]
 *                [--state ST] [--drill KEY] [--user-id ID]
 *
 * argv[0] is "practice". Reads the rep's lines from stdin (a terminal or
 * a pipe), prints the persona's as "Name: text" on stdout, and errors on
 * stderr. Returns the process exit status: 0 once the server has ended
 * the call, 1 if the call could not start or did not end cleanly, 2 for
 * bad usage.
 */
int cli_practice(int argc, char **argv);

#endif
