/*
 * fuzz_cidr.c — libFuzzer driver for the tenant IP allow-list
 * (src/auth/cidr.h): cidr_list_valid() on what an admin types, and
 * cidr_list_allows() against a peer address.
 *
 * Input: byte 0 picks the peer family (even IPv4, odd IPv6; IPv4-mapped
 * IPv6 when bit 1 is set too), bytes 1..16 the peer address, byte 17 a
 * prefix length, the rest the list text. Properties:
 *   - never crash on any list;
 *   - the peer's own address as a block ("a.b.c.d/p", "x::y/p") is a
 *     valid list that allows the peer, alone and after a valid list;
 *   - a valid list allows the same peer whether asked as IPv4 or as its
 *     IPv4-mapped IPv6 form, and an IPv4-mapped block ("::ffff:a.b.c.d/
 *     96+p") allows exactly what the IPv4 block does (regression:
 *     such a block used to be valid but match nobody).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 18)
    return 0;
  uint8_t flags = data[0];
  const uint8_t *addr = data + 1;
  unsigned prefix = data[17];
  char *list = malloc(size - 18 + 1);
  if (list == NULL)
    return 0;
  memcpy(list, data + 18, size - 18);
  list[size - 18] = '\0';

  struct sockaddr_in v4;
  struct sockaddr_in6 v6, mapped;
  memset(&v4, 0, sizeof v4);
  memset(&v6, 0, sizeof v6);
  memset(&mapped, 0, sizeof mapped);
  v4.sin_family = AF_INET;
  memcpy(&v4.sin_addr, addr, 4);
  v6.sin6_family = AF_INET6;
  memcpy(&v6.sin6_addr, addr, 16);
  mapped.sin6_family = AF_INET6;
  mapped.sin6_addr.s6_addr[10] = 0xff;
  mapped.sin6_addr.s6_addr[11] = 0xff;
  memcpy(&mapped.sin6_addr.s6_addr[12], addr, 4);
  const struct sockaddr *peer =
      (flags & 1) ? (const struct sockaddr *)&v6 : (const struct sockaddr *)&v4;

  bool valid = cidr_list_valid(list);
  bool allows = cidr_list_allows(list, peer);
  if (list[0] == '\0' && (!valid || !allows))
    abort(); /* an empty list is valid and allows everyone */
  if (valid && !(flags & 1) && cidr_list_allows(list, (const struct sockaddr *)&mapped) != allows)
    abort();

  /* The peer's own block. */
  char block[INET6_ADDRSTRLEN + 8], text[INET6_ADDRSTRLEN];
  int family = (flags & 1) ? AF_INET6 : AF_INET;
  unsigned bits = prefix % ((flags & 1) ? 129 : 33);
  if (inet_ntop(family, (flags & 1) ? (const void *)&v6.sin6_addr : (const void *)&v4.sin_addr,
                text, sizeof text) == NULL)
    abort();
  snprintf(block, sizeof block, "%s/%u", text, bits);
  /* An IPv4-mapped peer is matched as IPv4, so its own block matches
   * only when that block is IPv4-mapped too (/96 or longer). */
  bool expect = !(flags & 1) || bits >= 96 || !IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr);
  if (!cidr_list_valid(block) || cidr_list_allows(block, peer) != expect)
    abort();
  if (!(flags & 1) && !cidr_list_allows(block, (const struct sockaddr *)&mapped))
    abort();
  if (!(flags & 1)) {
    /* ...and so does the IPv4-mapped spelling of the same block. */
    snprintf(block, sizeof block, "::ffff:%s/%u", text, 96 + bits);
    if (!cidr_list_valid(block) || !cidr_list_allows(block, peer) ||
        !cidr_list_allows(block, (const struct sockaddr *)&mapped))
      abort();
  }
  if (valid && list[0] != '\0' && strlen(list) < 4096) {
    size_t cap = strlen(list) + sizeof block + 2;
    char *both = malloc(cap);
    if (both != NULL) {
      snprintf(both, cap, "%s,%s", list, block);
      if (!cidr_list_valid(both) || (expect && !cidr_list_allows(both, peer)))
        abort();
      free(both);
    }
  }
  free(list);
  return 0;
}
