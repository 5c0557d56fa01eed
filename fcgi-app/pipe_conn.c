#include "pipe_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "pipe_codec.h"

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

void
pipe_conn_unref(struct pipe_conn *conn)
{
    if (atomic_fetch_sub_explicit(&conn->refs, 1, memory_order_acq_rel) != 1)
        return;
    close(conn->fd);
    pthread_mutex_destroy(&conn->write_lock);
    free(conn->client);
    free(conn->vscode_version);
    cJSON_Delete(conn->models);
    free(conn->default_model);
    free(conn);
}

void
pipe_conn_shutdown(struct pipe_conn *conn)
{
    atomic_store(&conn->broken, true);
    shutdown(conn->fd, SHUT_RDWR);
}

int
pipe_conn_send_line(struct pipe_conn *conn, const char *line, size_t len)
{
    if (atomic_load(&conn->broken))
        return -1;
    int rc = 0;
    pthread_mutex_lock(&conn->write_lock);
    while (len > 0) {
        ssize_t n = send(conn->fd, line, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_warn("pipe: window #%lu: write failed: %s", conn->serial, strerror(errno));
            rc = -1;
            break;
        }
        line += n;
        len -= (size_t)n;
    }
    pthread_mutex_unlock(&conn->write_lock);
    if (rc != 0)
        pipe_conn_shutdown(conn);
    return rc;
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
