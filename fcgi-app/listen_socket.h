/*
 * listen_socket: the two listening sockets (FastCGI for nginx, the pipe for
 * VS Code) are made here, with their permissions set before anyone can
 * connect, and with a clear refusal when another process still serves the
 * path.
 */
#ifndef LITELLM_LISTEN_SOCKET_H
#define LITELLM_LISTEN_SOCKET_H

#include <stddef.h>
#include <sys/types.h>

/* Binds a Unix stream socket at `path` with permission bits `mode`, owned
 * by `group` when non-NULL.  A stale socket file is replaced; a live one is
 * an error.  On failure returns -1 and writes a reason to `err`. */
int listen_unix(const char *path, unsigned mode, const char *group, int backlog, char *err,
                size_t err_size);
/* Binds "host:port" (IPv4 or [IPv6]); returns -1 and a reason on failure. */
int listen_tcp(const char *host_port, int backlog, char *err, size_t err_size);
/* True when `spec` names a TCP endpoint rather than a Unix path. */
int listen_spec_is_tcp(const char *spec);

#endif
