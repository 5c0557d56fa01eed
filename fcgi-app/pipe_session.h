/*
 * pipe_session: reading one window's connection (protocol v1: hello and
 * welcome, models, ping and pong, and the reply frames it hands to the
 * inflight mailboxes), by whichever thread holds its read token.
 *
 * Leader/follower: a request thread that waits for its window's reply takes
 * the token when nobody reads, and reads the pipe itself, so the frame that
 * completes its own reply costs no hand-off between threads (no second
 * thread woken, no eventfd).  Frames for other requests it delivers as any
 * reader does.  It gives the token back before it writes to its client (a
 * slow client must never stall the other requests on the window).  While no
 * request thread holds the token, the pipe server's watcher thread holds
 * the connection in its epoll set (armed one-shot) and reads it when a frame
 * comes: hello, models, pings, and replies for requests whose threads are
 * busy elsewhere.
 *
 * The watcher is told nothing when a request thread takes the token: the
 * thread disarms the connection in the watcher's epoll set itself, and an
 * event the watcher had already taken finds the token gone and is dropped.
 */
#ifndef LITELLM_PIPE_SESSION_H
#define LITELLM_PIPE_SESSION_H

#include <stdbool.h>

#include "pipe_conn.h"

struct pipe_session;

/* A session for `conn` (which then owns it: pipe_conn_unref frees it),
 * to be watched by epoll set `watch_fd` with `watch_tag` as its event
 * data; `kick_fd` (an eventfd) wakes the watcher to end a session. */
struct pipe_session *pipe_session_new(struct pipe_conn *conn, int watch_fd, int kick_fd,
                                      void *watch_tag);
/* Adds it, armed, to the watcher's set: from now on the watcher reads it. */
int pipe_session_watch(struct pipe_session *session);
void pipe_session_free(struct pipe_session *session);

/* Takes the read token if the watcher holds it idle: the session to pump
 * and release.  NULL when another thread reads, the session is over, or
 * `conn` has no session (tests). */
struct pipe_session *pipe_session_lead(struct pipe_conn *conn);
/* The token holder: reads what the socket has now (never blocks) and
 * handles each frame.  False once the connection is over (end of file, an
 * error, a protocol violation): then release hands it to the watcher to
 * end. */
bool pipe_session_pump(struct pipe_session *session);
/* Gives the token back: re-armed in the watcher's epoll set, or, if the
 * connection is over, marked for the watcher to end (kick_fd written). */
void pipe_session_release(struct pipe_session *session);
int pipe_session_fd(const struct pipe_session *session);
/* The watcher, for an epoll event: takes the token unless a leader has it.
 * False: someone else reads; drop the event. */
bool pipe_session_take_for_watcher(struct pipe_session *session);

/* The connection is over and waits for the watcher to end it. */
bool pipe_session_over(struct pipe_session *session);
/* Why it ended, and whether the peer should be let read an error first. */
const char *pipe_session_end_reason(const struct pipe_session *session, bool *linger);
/* Asks the session to end with `reason` (e.g. silence past its deadline):
 * the socket is shut down, so whoever reads it next sees the end. */
void pipe_session_end(struct pipe_session *session, const char *reason);
long long pipe_session_last_heard_ms(const struct pipe_session *session);
/* Frames sent to the window outside requests (ping, pong, errors). */
void pipe_session_send_simple(struct pipe_conn *conn, const char *type, const char *code,
                              const char *message);

#endif
