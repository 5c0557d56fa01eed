/*
 * inflight: the mailbox of every request waiting on a VS Code window.
 *
 * Whoever reads the pipe (pipe_session.h) delivers each frame to the
 * request it names; the request's own thread waits on the mailbox's eventfd
 * (poll()-able beside the FastCGI connection, so a client hang-up is
 * noticed at once) and pops the frames.  A request thread that reads the
 * pipe itself gets its own frames without the eventfd (inflight_quiet).  Events that do not come
 * from the peer (the window vanished, the responder is shutting down) arrive as frames too, so a
 * request has one loop to handle everything.
 */
#ifndef LITELLM_INFLIGHT_H
#define LITELLM_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "pipe_conn.h"

enum inflight_event {
    INFLIGHT_FRAME,       /* a frame from the window */
    INFLIGHT_WINDOW_LOST, /* the window's connection closed */
};

struct inflight;

/* Registers a mailbox for request `id` served by `conn` (not referenced:
 * the caller's router pick keeps the connection alive). */
struct inflight *inflight_open(const char *id, const struct pipe_conn *conn);
/* Unregisters and frees the mailbox with anything still queued. */
void inflight_close(struct inflight *box);
/* The eventfd that is readable while events wait, made on first use (a
 * thread that reads the pipe itself never needs one); -1 if none can be. */
int inflight_fd(struct inflight *box);
/* Pops the next event; NULL frame and false when the mailbox is empty.
 * The caller owns the returned frame. */
bool inflight_pop(struct inflight *box, enum inflight_event *event, cJSON **frame);

/* While `quiet`, frames delivered to the box do not signal its eventfd:
 * its own thread is the one delivering them, and pops them next. */
void inflight_quiet(struct inflight *box, bool quiet);

/* Something waits to be popped. */
bool inflight_pending(struct inflight *box);

/* From the reader of `from`: hands `frame` to request `id`.  Returns false
 * (and keeps ownership with the caller) when no such request is waiting on
 * that connection, e.g. a late frame after a cancel. */
bool inflight_deliver(const char *id, const struct pipe_conn *from, cJSON *frame);
void inflight_window_lost(const struct pipe_conn *conn);
size_t inflight_count(void);

#endif
