/*
 * target.c — the SSRF guard: URL scheme check (libcurl's own URL parser,
 * so we judge the host exactly as curl will use it), resolution with
 * getaddrinfo, and a classification of every resolved address.
 */
#include "webhooks/target.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------- classification */

/* The ranges follow the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries: everything there that is not globally reachable is refused,
 * and so are the anycast and documentation blocks no webhook receiver
 * lives in. Forms that embed an IPv4 address (mapped, translated,
 * compatible, NAT64, 6to4) are judged by that address. */

/* True if a lies in the IPv4 prefix net/len (host byte order). */
static bool v4_in(uint32_t a, uint32_t net, unsigned len)
{
  return (a ^ net) >> (32 - len) == 0;
}

#define V4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static enum webhook_addr_class classify_v4(uint32_t a)
{
  if ((a >> 24) == 0)
    return ADDR_UNSPECIFIED; /* 0.0.0.0/8: "this network", 0.0.0.0 reaches localhost */
  if ((a >> 24) == 127)
    return ADDR_LOOPBACK;
  if ((a >> 24) == 10 || (a >> 20) == 0xAC1 /* 172.16/12 */ || (a >> 16) == 0xC0A8)
    return ADDR_PRIVATE;
  if ((a >> 16) == 0xA9FE) /* 169.254/16: link-local, where metadata services live */
    return ADDR_LINK_LOCAL;
  if ((a >> 22) == (100u << 2 | 1)) /* 100.64/10 */
    return ADDR_CGNAT;
  if ((a >> 28) == 0xE)
    return ADDR_MULTICAST;
  if ((a >> 28) == 0xF) /* 240/4 and 255.255.255.255 */
    return ADDR_RESERVED;
  if (v4_in(a, V4(192, 0, 0, 0), 24)       /* IETF protocol assignments */
      || v4_in(a, V4(192, 0, 2, 0), 24)    /* TEST-NET-1 */
      || v4_in(a, V4(192, 88, 99, 0), 24)  /* deprecated 6to4 relay anycast */
      || v4_in(a, V4(198, 18, 0, 0), 15)   /* benchmarking */
      || v4_in(a, V4(198, 51, 100, 0), 24) /* TEST-NET-2 */
      || v4_in(a, V4(203, 0, 113, 0), 24)) /* TEST-NET-3 */
    return ADDR_RESERVED;
  return ADDR_PUBLIC;
}

static uint32_t be32_at(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* True if b lies in the IPv6 prefix p/len. */
static bool v6_in(const uint8_t b[16], const uint8_t p[16], unsigned len)
{
  unsigned whole = len / 8, bits = len % 8;
  if (memcmp(b, p, whole) != 0)
    return false;
  return bits == 0 || ((b[whole] ^ p[whole]) >> (8 - bits)) == 0;
}

static enum webhook_addr_class classify_v6(const uint8_t b[16])
{
  static const uint8_t zero[16];
  static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}; /* ::ffff:0:0/96 */
  static const uint8_t translated[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}; /* ::ffff:0:0:0/96 */
  static const uint8_t nat64[16] = {0, 0x64, 0xff, 0x9b};                     /* 64:ff9b::/96 */
  static const uint8_t nat64_local[16] = {0, 0x64, 0xff, 0x9b, 0, 1};         /* 64:ff9b:1::/48 */
  static const uint8_t discard[16] = {0x01};                                  /* 100::/64 */
  static const uint8_t dummy[16] = {0x01, 0, 0, 0, 0, 0, 0, 1};               /* 100:0:0:1::/64 */
  static const uint8_t ietf[16] = {0x20, 0x01};                               /* 2001::/23 */
  static const uint8_t doc[16] = {0x20, 0x01, 0x0d, 0xb8};                    /* 2001:db8::/32 */
  static const uint8_t doc2[16] = {0x3f, 0xff};                               /* 3fff::/20 */
  static const uint8_t srv6[16] = {0x5f, 0x00};                               /* 5f00::/16 */
  if (memcmp(b, zero, 16) == 0)
    return ADDR_UNSPECIFIED;
  if (memcmp(b, zero, 15) == 0 && b[15] == 1)
    return ADDR_LOOPBACK;
  /* mapped, IPv4-translated (SIIT), well-known NAT64, v4-compatible */
  if (v6_in(b, mapped, 96) || v6_in(b, translated, 96) || v6_in(b, nat64, 96) || v6_in(b, zero, 96))
    return classify_v4(be32_at(b + 12));
  if (v6_in(b, nat64_local, 48)) /* a site's own translator: anything behind it */
    return ADDR_PRIVATE;
  if (b[0] == 0x20 && b[1] == 0x02) /* 2002:V4::/48, 6to4 */
    return classify_v4(be32_at(b + 2));
  /* 2001::/23 holds Teredo, benchmarking, ORCHID and protocol anycast
   * (PCP, TURN, AMT, AS112): no webhook receiver lives there. */
  if (v6_in(b, discard, 64) || v6_in(b, dummy, 64) || v6_in(b, ietf, 23) || v6_in(b, doc, 32) ||
      v6_in(b, doc2, 20) || v6_in(b, srv6, 16))
    return ADDR_RESERVED;
  if ((b[0] & 0xfe) == 0xfc) /* fc00::/7, unique local */
    return ADDR_PRIVATE;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 */
    return ADDR_LINK_LOCAL;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) /* fec0::/10, deprecated site-local */
    return ADDR_PRIVATE;
  if (b[0] == 0xff)
    return ADDR_MULTICAST;
  return ADDR_PUBLIC;
}

enum webhook_addr_class webhook_addr_classify(const struct sockaddr *sa)
{
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
    return classify_v4(ntohl(in->sin_addr.s_addr));
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
    return classify_v6(in6->sin6_addr.s6_addr);
  }
  return ADDR_RESERVED;
}

enum webhook_addr_class webhook_addr_classify_text(const char *ip)
{
  struct in_addr v4;
  struct in6_addr v6;
  if (inet_pton(AF_INET, ip, &v4) == 1)
    return classify_v4(ntohl(v4.s_addr));
  if (inet_pton(AF_INET6, ip, &v6) == 1)
    return classify_v6(v6.s6_addr);
  return ADDR_RESERVED;
}

const char *webhook_addr_class_name(enum webhook_addr_class c)
{
  switch (c) {
  case ADDR_PUBLIC: return "public";
  case ADDR_UNSPECIFIED: return "unspecified";
  case ADDR_LOOPBACK: return "loopback";
  case ADDR_PRIVATE: return "private";
  case ADDR_LINK_LOCAL: return "link-local";
  case ADDR_CGNAT: return "shared (CGNAT)";
  case ADDR_MULTICAST: return "multicast";
  case ADDR_RESERVED: return "reserved";
  }
  return "reserved";
}

/* ----------------------------------------------------------- the check */

static int parse_url(const char *url, bool allow_private, struct webhook_target *out, char *err,
                     size_t errlen)
{
  int rc = -1;
  char *scheme = NULL, *host = NULL, *port = NULL;
  CURLU *u = curl_url();
  if (u == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
    snprintf(err, errlen, "invalid webhook URL");
    goto out;
  }
  if (strcmp(scheme, "https") != 0 && !(allow_private && strcmp(scheme, "http") == 0)) {
    snprintf(err, errlen, "webhook URL must use https");
    goto out;
  }
  /* curl returns an IPv6 literal in brackets; getaddrinfo wants it bare. */
  const char *h = host;
  size_t hlen = strlen(host);
  if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
    h = host + 1;
    hlen -= 2;
  }
  if (hlen == 0 || hlen >= sizeof out->host) {
    snprintf(err, errlen, "invalid webhook host");
    goto out;
  }
  memcpy(out->host, h, hlen);
  out->host[hlen] = '\0';
  char *end = NULL;
  unsigned long p = strtoul(port, &end, 10);
  if (end == port || *end != '\0' || p == 0 || p > 65535) {
    snprintf(err, errlen, "invalid webhook port");
    goto out;
  }
  out->port = (unsigned)p;
  rc = 0;
out:
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return rc;
}

int webhook_target_check(const char *url, bool allow_private, struct webhook_target *out, char *err,
                         size_t errlen)
{
  int rc = -1;
  struct addrinfo *res = NULL;
  memset(out, 0, sizeof *out);
  if (parse_url(url, allow_private, out, err, errlen) != 0)
    goto out;

  struct in6_addr scratch;
  bool literal =
      inet_pton(AF_INET, out->host, &scratch) == 1 || inet_pton(AF_INET6, out->host, &scratch) == 1;
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  if (literal)
    hints.ai_flags = AI_NUMERICHOST;
  int gai = getaddrinfo(out->host, NULL, &hints, &res);
  if (gai != 0 || res == NULL) {
    snprintf(err, errlen, "cannot resolve webhook host: %s", gai_strerror(gai));
    goto out;
  }
  /* Every answer must pass, not just the one we would use: a name that
   * resolves to a public and a private address is refused. */
  for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
    enum webhook_addr_class c = webhook_addr_classify(ai->ai_addr);
    if (c != ADDR_PUBLIC && !allow_private) {
      snprintf(err, errlen, "webhook host resolves to a %s address", webhook_addr_class_name(c));
      goto out;
    }
  }
  const struct addrinfo *pick = res;
  if (getnameinfo(pick->ai_addr, pick->ai_addrlen, out->addr, sizeof out->addr, NULL, 0,
                  NI_NUMERICHOST) != 0) {
    snprintf(err, errlen, "cannot format the webhook address");
    goto out;
  }
  if (!literal) {
    bool v6 = pick->ai_family == AF_INET6;
    int w = snprintf(out->resolve, sizeof out->resolve, "%s:%u:%s%s%s", out->host, out->port,
                     v6 ? "[" : "", out->addr, v6 ? "]" : "");
    if (w < 0 || (size_t)w >= sizeof out->resolve) {
      snprintf(err, errlen, "webhook host too long");
      goto out;
    }
  }
  rc = 0;
out:
  if (res != NULL)
    freeaddrinfo(res);
  return rc;
}
