/*
 * loopback: what counts as this machine.  An address is loopback when it is
 * 127.0.0.0/8, ::1 or ::ffff:127.x; a host name is when it is such an
 * address literal, `localhost` or a name under `.localhost` (RFC 6761:
 * resolvers and browsers keep those on the machine, so no web page can
 * point one elsewhere).
 */
#ifndef LITELLM_LOOPBACK_H
#define LITELLM_LOOPBACK_H

#include <stdbool.h>
#include <stddef.h>

/* A numeric address as nginx passes it (SERVER_ADDR, REMOTE_ADDR). */
bool loopback_address(const char *address);
/* A host as it appears in Host or an origin, without the port, IPv6 in
 * brackets: "localhost", "app.localhost", "127.0.0.1", "[::1]"; any case,
 * one trailing dot allowed. */
bool loopback_host(const char *host, size_t len);

#endif
