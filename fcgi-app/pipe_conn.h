/*
 * pipe_conn: one VS Code window connected to the pipe.
 *
 * Reference counted: the pipe server holds one reference for as long as the
 * socket is open, and every request routed to the window holds one
 * until it ends, so a request can still send `cancel` (which then fails
 * harmlessly) after the window went away.  Writes come from many threads;
 * each frame is written whole, in the order the sends were called.
 */
#ifndef LITELLM_PIPE_CONN_H
#define LITELLM_PIPE_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "dynbuf.h"

struct pipe_session;

struct pipe_conn {
    int fd;
    unsigned long serial; /* for logs: window #n */
    uid_t peer_uid;
    pid_t peer_pid;
    atomic_int refs;
    atomic_bool broken; /* a write failed or the peer went away */
    /* Sending combines: the thread that finds nobody sending sends its frame
     * and then, in one write each round, whatever other threads queued in
     * `outbox` meanwhile; they return at once instead of sleeping on a lock
     * held across a system call. */
    pthread_mutex_t write_lock; /* guards the three below */
    pthread_cond_t outbox_drained;
    struct dynbuf outbox;
    bool sending;       /* a thread is in send_all() */
    bool outbox_closed; /* its last round: others wait */

    /* Reading it (pipe_session.h); NULL for connections made by tests. */
    struct pipe_session *session;

    /* Set once by the reader at hello, for logs. */
    char *client; /* "vscode-litellm/0.1.0" */
    char *vscode_version;
};

struct pipe_conn *pipe_conn_new(int fd, unsigned long serial, uid_t uid, pid_t pid);
void pipe_conn_ref(struct pipe_conn *conn);
/* Drops a reference; the last one closes the socket and frees. */
void pipe_conn_unref(struct pipe_conn *conn);
/* References held now (for tests: nothing outlives a request). */
int pipe_conn_refs(const struct pipe_conn *conn);
/* Sends one frame, or queues it for the thread already sending.  A failed
 * write marks the connection broken and shuts the socket down, so that its
 * reader notices and fails its requests (those whose frames were only
 * queued included).  -1 if the connection is broken already, or the write
 * made here failed. */
int pipe_conn_send(struct pipe_conn *conn, const cJSON *frame);
int pipe_conn_send_line(struct pipe_conn *conn, const char *line, size_t len);
/* For a frame that may be skipped (the watcher's ping): sends it only if
 * that needs no wait, neither for another sender nor for room in the
 * socket.  0 sent; PIPE_CONN_BUSY not sent; -1 as pipe_conn_send. */
#define PIPE_CONN_BUSY 1
int pipe_conn_try_send_line(struct pipe_conn *conn, const char *line, size_t len);
/* Sends {"type":"cancel","id":id}; failures are ignored (nothing to save). */
void pipe_conn_send_cancel(struct pipe_conn *conn, const char *id);
void pipe_conn_shutdown(struct pipe_conn *conn);

#endif
