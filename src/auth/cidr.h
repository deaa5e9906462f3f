/* cidr.h — the tenant IP allow-list: a comma-separated list of IPv4/IPv6
 * CIDR blocks (a bare address is a /32 or /128). */
#ifndef ATHOS_CIDR_H
#define ATHOS_CIDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* True if list is well-formed (each entry parses). */
bool cidr_list_valid(const char *list);
/* True if addr is inside one of the blocks; an empty list allows all.
 * IPv4-mapped IPv6 peers match IPv4 blocks. */
bool cidr_list_allows(const char *list, const struct sockaddr *addr);

#endif
