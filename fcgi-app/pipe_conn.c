#include "pipe_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "pipe_codec.h"
#include "pipe_session.h"

/* Frames queued while another thread sends; past this, senders wait. */
#define PIPE_OUTBOX_MAX (1u << 20)
/* Rounds one sender makes for the others before it goes back to its own
 * request. */
#define PIPE_SEND_ROUNDS_MAX 8

struct pipe_conn *
pipe_conn_new(int fd, unsigned long serial, uid_t uid, pid_t pid)
{
    struct pipe_conn *conn = calloc(1, sizeof *conn);
    if (conn == NULL)
        return NULL;
    if (pthread_mutex_init(&conn->write_lock, NULL) != 0) {
        free(conn);
        return NULL;
    }
    if (pthread_cond_init(&conn->outbox_drained, NULL) != 0) {
        pthread_mutex_destroy(&conn->write_lock);
        free(conn);
        return NULL;
    }
    dynbuf_init(&conn->outbox, PIPE_OUTBOX_MAX);
    conn->fd = fd;
    conn->serial = serial;
    conn->peer_uid = uid;
    conn->peer_pid = pid;
    atomic_init(&conn->refs, 1);
    atomic_init(&conn->broken, false);
    return conn;
}

void
pipe_conn_ref(struct pipe_conn *conn)
{
    atomic_fetch_add_explicit(&conn->refs, 1, memory_order_relaxed);
}

int
pipe_conn_refs(const struct pipe_conn *conn)
{
    return atomic_load(&conn->refs);
}

void
pipe_conn_unref(struct pipe_conn *conn)
{
    if (atomic_fetch_sub_explicit(&conn->refs, 1, memory_order_acq_rel) != 1)
        return;
    close(conn->fd);
    pipe_session_free(conn->session);
    pthread_mutex_destroy(&conn->write_lock);
    pthread_cond_destroy(&conn->outbox_drained);
    dynbuf_free(&conn->outbox);
    free(conn->client);
    free(conn->vscode_version);
    free(conn);
}

void
pipe_conn_shutdown(struct pipe_conn *conn)
{
    atomic_store(&conn->broken, true);
    shutdown(conn->fd, SHUT_RDWR);
    /* Senders waiting for room give up now. */
    pthread_mutex_lock(&conn->write_lock);
    pthread_cond_broadcast(&conn->outbox_drained);
    pthread_mutex_unlock(&conn->write_lock);
}

static int
send_all(struct pipe_conn *conn, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(conn->fd, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            metrics_pipe(METRICS_PIPE_ERRORS);
            log_warn("pipe: window #%lu: write failed: %s", conn->serial, strerror(errno));
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The caller holds write_lock and has just set conn->sending: sends data,
 * then, a round each, whatever other threads queued meanwhile; hands the
 * socket back and releases the lock. */
static int
send_and_drain(struct pipe_conn *conn, const char *data, size_t data_len)
{
    char *taken = NULL;
    int rc;
    for (unsigned round = 1;; round++) {
        pthread_mutex_unlock(&conn->write_lock);
        rc = send_all(conn, data, data_len);
        free(taken);
        pthread_mutex_lock(&conn->write_lock);
        if (rc != 0 || conn->outbox.len == 0)
            break;
        /* Later senders wait now, so this thread's turn ends with the next
         * round however busy the window is. */
        if (round >= PIPE_SEND_ROUNDS_MAX)
            conn->outbox_closed = true;
        taken = dynbuf_take(&conn->outbox, &data_len);
        data = taken;
        pthread_cond_broadcast(&conn->outbox_drained);
        if (taken == NULL) {
            rc = -1;
            break;
        }
    }
    if (rc != 0)
        dynbuf_reset(&conn->outbox);
    conn->sending = false;
    conn->outbox_closed = false;
    pthread_cond_broadcast(&conn->outbox_drained);
    pthread_mutex_unlock(&conn->write_lock);
    if (rc != 0)
        pipe_conn_shutdown(conn);
    return rc;
}

int
pipe_conn_send_line(struct pipe_conn *conn, const char *line, size_t len)
{
    if (atomic_load(&conn->broken))
        return -1;
    metrics_pipe(METRICS_PIPE_FRAMES_OUT);
    pthread_mutex_lock(&conn->write_lock);
    /* Back-pressure: a window that reads slowly holds new frames here, not
     * in an ever longer queue.  The sender also stops taking the queue
     * after a while (send_and_drain), so that it can get back to its own
     * request. */
    while (conn->sending && (conn->outbox.len + len > PIPE_OUTBOX_MAX || conn->outbox_closed) &&
           !atomic_load(&conn->broken))
        pthread_cond_wait(&conn->outbox_drained, &conn->write_lock);
    if (atomic_load(&conn->broken)) {
        pthread_mutex_unlock(&conn->write_lock);
        return -1;
    }
    if (conn->sending) {
        int rc = dynbuf_append(&conn->outbox, line, len) == DYNBUF_OK ? 0 : -1;
        pthread_mutex_unlock(&conn->write_lock);
        return rc;
    }
    conn->sending = true;
    return send_and_drain(conn, line, len);
}

int
pipe_conn_try_send_line(struct pipe_conn *conn, const char *line, size_t len)
{
    if (atomic_load(&conn->broken))
        return -1;
    pthread_mutex_lock(&conn->write_lock);
    if (conn->sending || atomic_load(&conn->broken)) {
        pthread_mutex_unlock(&conn->write_lock);
        return PIPE_CONN_BUSY;
    }
    /* Under the lock, which nobody holds across a write: a send that does
     * not wait takes a moment. */
    ssize_t n;
    do
        n = send(conn->fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)len || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) {
        pthread_mutex_unlock(&conn->write_lock);
        if (n < 0)
            return PIPE_CONN_BUSY;
        metrics_pipe(METRICS_PIPE_FRAMES_OUT);
        return 0;
    }
    if (n < 0) {
        pthread_mutex_unlock(&conn->write_lock);
        metrics_pipe(METRICS_PIPE_ERRORS);
        log_warn("pipe: window #%lu: write failed: %s", conn->serial, strerror(errno));
        pipe_conn_shutdown(conn);
        return -1;
    }
    /* Part of the frame went out: the rest must follow before any other
     * frame, so this thread finishes it as any sender does. */
    metrics_pipe(METRICS_PIPE_FRAMES_OUT);
    conn->sending = true;
    return send_and_drain(conn, line + n, len - (size_t)n);
}

int
pipe_conn_send(struct pipe_conn *conn, const cJSON *frame)
{
    size_t len;
    char *line = frame_encode(frame, &len);
    if (line == NULL)
        return -1;
    int rc = pipe_conn_send_line(conn, line, len);
    free(line);
    return rc;
}

void
pipe_conn_send_cancel(struct pipe_conn *conn, const char *id)
{
    cJSON *frame = cJSON_CreateObject();
    if (frame == NULL)
        return;
    if (cJSON_AddStringToObject(frame, "type", "cancel") != NULL &&
        cJSON_AddStringToObject(frame, "id", id) != NULL)
        (void)pipe_conn_send(conn, frame);
    cJSON_Delete(frame);
}
