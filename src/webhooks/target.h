/*
 * target.h — the SSRF guard for webhook URLs. A tenant chooses its URL, so
 * the server must not become a way to reach its own network: the URL must
 * be https, and every address the host resolves to (at delivery time, not
 * when the URL was saved) must be public. The address that passed the
 * check is then pinned for the transfer (CURLOPT_RESOLVE), so a second DNS
 * answer cannot swap in another (DNS rebinding).
 *
 * ATHOS_ALLOW_PRIVATE_WEBHOOKS (development, tests) lifts both rules: http
 * and private addresses are then allowed.
 */
#ifndef ATHOS_WEBHOOK_TARGET_H
#define ATHOS_WEBHOOK_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "store/store.h"

enum webhook_addr_class {
  ADDR_PUBLIC = 0,
  ADDR_UNSPECIFIED, /* 0.0.0.0/8, :: */
  ADDR_LOOPBACK,    /* 127/8, ::1 */
  ADDR_PRIVATE,     /* 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10 */
  ADDR_LINK_LOCAL,  /* 169.254/16 (cloud metadata), fe80::/10 */
  ADDR_CGNAT,       /* 100.64/10 */
  ADDR_MULTICAST,   /* 224/4, ff00::/8 */
  ADDR_RESERVED,    /* 240/4 and broadcast, 192.0.0/24, 198.18/15 */
};

/* Classifies one address. IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
 * (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) forms are judged
 * by the IPv4 address they carry. */
enum webhook_addr_class webhook_addr_classify(const struct sockaddr *sa);
/* The same for a numeric address in text; ADDR_RESERVED if unparsable. */
enum webhook_addr_class webhook_addr_classify_text(const char *ip);
/* "public", "loopback", "private", … */
const char *webhook_addr_class_name(enum webhook_addr_class c);

#define WEBHOOK_HOST_MAX 256
#define WEBHOOK_ADDR_MAX 64

struct webhook_target {
  char host[WEBHOOK_HOST_MAX]; /* as curl sees it (IPv6 without brackets) */
  unsigned port;
  char addr[WEBHOOK_ADDR_MAX]; /* the checked address, numeric */
  /* "host:port:addr" for CURLOPT_RESOLVE; "" when the host is a literal
   * address (curl does not resolve it). */
  char resolve[WEBHOOK_HOST_MAX + WEBHOOK_ADDR_MAX + 16];
};

/* Parses url, checks its scheme, resolves its host and checks every
 * address. Returns 0 with out filled, or -1 with a short reason in err
 * (safe to log and to store as the attempt's error). Blocks for the DNS
 * lookup. */
int webhook_target_check(const char *url, bool allow_private, struct webhook_target *out, char *err,
                         size_t errlen);

#endif
