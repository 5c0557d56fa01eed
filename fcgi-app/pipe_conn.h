/*
 * pipe_conn: one VS Code window connected to the pipe.
 *
 * Reference counted: the pipe reader thread holds one reference for as long
 * as the socket is open, and every request routed to the window holds one
 * until it ends, so a request can still send `cancel` (which then fails
 * harmlessly) after the window went away.  Writes come from many threads and
 * are serialised by `write_lock`; each frame is written whole.
 */
#ifndef LITELLM_PIPE_CONN_H
#define LITELLM_PIPE_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

struct pipe_conn {
    int fd;
    unsigned long serial;       /* for logs: window #n */
    uid_t peer_uid;
    pid_t peer_pid;
    atomic_int refs;
    atomic_bool broken;         /* a write failed or the peer went away */
    pthread_mutex_t write_lock;

    /* Owned by the router and guarded by its lock once registered. */
    char *client;               /* "vscode-litellm/0.1.0" */
    char *vscode_version;
    cJSON *models;              /* array of model entries */
    char *default_model;
    unsigned in_flight;
    struct pipe_conn *next;
};

struct pipe_conn *pipe_conn_new(int fd, unsigned long serial, uid_t uid, pid_t pid);
void pipe_conn_ref(struct pipe_conn *conn);
/* Drops a reference; the last one closes the socket and frees. */
void pipe_conn_unref(struct pipe_conn *conn);
/* Writes one frame; on failure marks the connection broken and shuts the
 * socket down so that its reader notices and fails its requests. */
int pipe_conn_send(struct pipe_conn *conn, const cJSON *frame);
int pipe_conn_send_line(struct pipe_conn *conn, const char *line, size_t len);
/* Sends {"type":"cancel","id":id}; failures are ignored (nothing to save). */
void pipe_conn_send_cancel(struct pipe_conn *conn, const char *id);
void pipe_conn_shutdown(struct pipe_conn *conn);

#endif
