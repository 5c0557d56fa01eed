/*
 * pipe_server: the named pipe VS Code windows connect to.  An accept thread
 * checks each peer's uid (SO_PEERCRED) and gives every connection a reader
 * thread that speaks protocol v1: hello/welcome, models, ping/pong, and the
 * request frames it hands to the inflight mailboxes.
 */
#ifndef LITELLM_PIPE_SERVER_H
#define LITELLM_PIPE_SERVER_H

#include "config.h"

#define PIPE_PROTOCOL_VERSION 1

int pipe_server_start(const struct config *cfg);
/* Stops accepting new windows; connected ones keep serving. */
void pipe_server_stop_accepting(void);
/* Closes every window and waits for their readers to end. */
void pipe_server_stop(void);

#endif
