#include "pipe_session.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "inflight.h"
#include "log.h"
#include "metrics.h"
#include "pipe_codec.h"
#include "pipe_server.h"
#include "router.h"
#include "status.h"
#include "utf8.h"

#define PIPE_READ_CHUNK 65536
/* Reads one pump makes at most, so a flooding window cannot keep a
 * request thread from its own client. */
#define PIPE_PUMP_READS_MAX 4

enum session_state {
    SESSION_WATCHED, /* armed in the watcher's epoll set; nobody reads */
    SESSION_READING, /* a thread holds the token */
    SESSION_OVER,    /* reading ended; the watcher ends the window */
};

struct pipe_session {
    struct pipe_conn *conn; /* owns this session */
    int watch_fd, kick_fd;
    void *watch_tag;
    pthread_mutex_t lock; /* guards state */
    enum session_state state;
    /* The token holder's alone. */
    struct frame_decoder decoder;
    char *chunk;
    bool greeted;             /* hello received and answered */
    const char *close_reason; /* set when a frame ends the connection */
    bool linger;              /* we refused the peer: let it read why */
    /* Any thread. */
    _Atomic(const char *) end_reason;
    atomic_llong last_heard_ms;
};

struct pipe_session *
pipe_session_new(struct pipe_conn *conn, int watch_fd, int kick_fd, void *watch_tag)
{
    struct pipe_session *session = calloc(1, sizeof *session);
    if (session == NULL)
        return NULL;
    session->chunk = malloc(PIPE_READ_CHUNK);
    if (session->chunk == NULL || pthread_mutex_init(&session->lock, NULL) != 0) {
        free(session->chunk);
        free(session);
        return NULL;
    }
    session->conn = conn;
    session->watch_fd = watch_fd;
    session->kick_fd = kick_fd;
    session->watch_tag = watch_tag;
    session->state = SESSION_WATCHED;
    frame_decoder_init(&session->decoder, PIPE_MAX_FRAME);
    atomic_init(&session->end_reason, NULL);
    atomic_init(&session->last_heard_ms, clock_monotonic_ms());
    conn->session = session;
    return session;
}

int
pipe_session_watch(struct pipe_session *session)
{
    struct epoll_event armed = { .events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT,
                                 .data.ptr = session->watch_tag };
    if (epoll_ctl(session->watch_fd, EPOLL_CTL_ADD, session->conn->fd, &armed) != 0) {
        log_error("pipe: cannot watch window #%lu: %s", session->conn->serial, strerror(errno));
        return -1;
    }
    return 0;
}

void
pipe_session_free(struct pipe_session *session)
{
    if (session == NULL)
        return;
    frame_decoder_free(&session->decoder);
    free(session->chunk);
    pthread_mutex_destroy(&session->lock);
    free(session);
}

int
pipe_session_fd(const struct pipe_session *session)
{
    return session->conn->fd;
}

long long
pipe_session_last_heard_ms(const struct pipe_session *session)
{
    return atomic_load_explicit(&session->last_heard_ms, memory_order_relaxed);
}

/* ------------------------------------------------------------ the token */

struct pipe_session *
pipe_session_lead(struct pipe_conn *conn)
{
    struct pipe_session *session = conn->session;
    if (session == NULL)
        return NULL;
    pthread_mutex_lock(&session->lock);
    bool taken = session->state == SESSION_WATCHED;
    if (taken) {
        /* Disarmed (one-shot with no events): the watcher no longer wakes
         * for it.  An event it took just before finds the token gone. */
        struct epoll_event disarmed = { .events = EPOLLONESHOT, .data.ptr = session->watch_tag };
        taken = epoll_ctl(session->watch_fd, EPOLL_CTL_MOD, conn->fd, &disarmed) == 0;
        if (taken)
            session->state = SESSION_READING;
    }
    pthread_mutex_unlock(&session->lock);
    return taken ? session : NULL;
}

bool
pipe_session_take_for_watcher(struct pipe_session *session)
{
    pthread_mutex_lock(&session->lock);
    bool taken = session->state == SESSION_WATCHED;
    if (taken)
        session->state = SESSION_READING;
    pthread_mutex_unlock(&session->lock);
    return taken;
}

void
pipe_session_release(struct pipe_session *session)
{
    bool over = atomic_load(&session->end_reason) != NULL;
    pthread_mutex_lock(&session->lock);
    if (!over) {
        struct epoll_event armed = { .events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT,
                                     .data.ptr = session->watch_tag };
        if (epoll_ctl(session->watch_fd, EPOLL_CTL_MOD, session->conn->fd, &armed) != 0) {
            log_error("pipe: cannot watch window #%lu: %s", session->conn->serial, strerror(errno));
            const char *none = NULL;
            atomic_compare_exchange_strong(&session->end_reason, &none, "cannot be watched");
            over = true;
        }
    }
    session->state = over ? SESSION_OVER : SESSION_WATCHED;
    pthread_mutex_unlock(&session->lock);
    if (over) {
        uint64_t one = 1;
        (void)!write(session->kick_fd, &one, sizeof one);
    }
}

bool
pipe_session_over(struct pipe_session *session)
{
    pthread_mutex_lock(&session->lock);
    bool over = session->state == SESSION_OVER;
    pthread_mutex_unlock(&session->lock);
    return over;
}

const char *
pipe_session_end_reason(const struct pipe_session *session, bool *linger)
{
    *linger = session->linger;
    const char *reason = atomic_load(&session->end_reason);
    return reason != NULL ? reason : "closed by the window";
}

void
pipe_session_end(struct pipe_session *session, const char *reason)
{
    const char *none = NULL;
    atomic_compare_exchange_strong(&session->end_reason, &none, reason);
    /* Whoever reads next (the watcher, woken by the hang-up, or a leader)
     * finds the end of the stream. */
    shutdown(session->conn->fd, SHUT_RDWR);
}

/* The token holder: the connection is over for `reason`. */
static bool
ended(struct pipe_session *session, const char *reason, bool linger)
{
    const char *none = NULL;
    atomic_compare_exchange_strong(&session->end_reason, &none, reason);
    session->linger = session->linger || linger;
    return false;
}

/* ------------------------------------------------------------ frames */

void
pipe_session_send_simple(struct pipe_conn *conn, const char *type, const char *code,
                         const char *message)
{
    cJSON *frame = cJSON_CreateObject();
    if (frame == NULL)
        return;
    cJSON_AddStringToObject(frame, "type", type);
    if (code != NULL)
        cJSON_AddStringToObject(frame, "code", code);
    if (message != NULL)
        cJSON_AddStringToObject(frame, "message", message);
    (void)pipe_conn_send(conn, frame);
    cJSON_Delete(frame);
}

static void
handle_hello(struct pipe_session *session, cJSON *frame)
{
    struct pipe_conn *conn = session->conn;
    const cJSON *protocol = cJSON_GetObjectItemCaseSensitive(frame, "protocol");
    if (!cJSON_IsNumber(protocol) || protocol->valuedouble != PIPE_PROTOCOL_VERSION) {
        pipe_session_send_simple(conn, "error", "protocol",
                                 "unsupported protocol version; this responder speaks 1");
        session->close_reason = "unsupported protocol version";
        return;
    }
    if (session->greeted) {
        pipe_session_send_simple(conn, "error", "protocol", "hello sent twice");
        session->close_reason = "hello sent twice";
        return;
    }
    cJSON *models;
    char *default_model;
    if (!router_take_models(frame, &models, &default_model)) {
        pipe_session_send_simple(conn, "error", "protocol", "hello needs a models array");
        session->close_reason = "hello without models";
        return;
    }
    const cJSON *client = cJSON_GetObjectItemCaseSensitive(frame, "client");
    const cJSON *vscode = cJSON_GetObjectItemCaseSensitive(frame, "vscode");
    conn->client = strdup(cJSON_IsString(client) ? client->valuestring : "unknown");
    conn->vscode_version = strdup(cJSON_IsString(vscode) ? vscode->valuestring : "unknown");

    cJSON *welcome = cJSON_CreateObject();
    if (welcome != NULL) {
        cJSON_AddStringToObject(welcome, "type", "welcome");
        cJSON_AddNumberToObject(welcome, "protocol", PIPE_PROTOCOL_VERSION);
        cJSON_AddStringToObject(welcome, "server", "litellm-fcgi/" PACKAGE_VERSION);
        (void)pipe_conn_send(conn, welcome);
        cJSON_Delete(welcome);
    }
    int count = cJSON_GetArraySize(models);
    log_info("pipe: window #%lu connected (%s, VS Code %s, uid %u, pid %d): %d models, default %s",
             conn->serial, conn->client ? conn->client : "?",
             conn->vscode_version ? conn->vscode_version : "?", (unsigned)conn->peer_uid,
             (int)conn->peer_pid, count, default_model ? default_model : "(none)");
    if (router_add(conn, models, default_model) != 0) {
        pipe_session_send_simple(conn, "error", "internal", "out of memory");
        session->close_reason = "out of memory";
        return;
    }
    session->greeted = true;
    status_window_joined(conn);
}

static void
handle_models_frame(struct pipe_session *session, cJSON *frame)
{
    cJSON *models;
    char *default_model;
    if (!router_take_models(frame, &models, &default_model)) {
        log_warn("pipe: window #%lu sent a models frame without a models array",
                 session->conn->serial);
        return;
    }
    log_info("pipe: window #%lu now offers %d models, default %s", session->conn->serial,
             cJSON_GetArraySize(models), default_model ? default_model : "(none)");
    router_update(session->conn, models, default_model);
    status_changed();
}

static int
handle_line(void *ctx, const char *line, size_t len)
{
    struct pipe_session *session = ctx;
    struct pipe_conn *conn = session->conn;
    metrics_pipe(METRICS_PIPE_FRAMES_IN);
    /* The protocol is UTF-8, and model names and ids reach clients as they
     * came (cJSON prints strings byte for byte): refuse anything else. */
    cJSON *frame = utf8_valid(line, len) ? cJSON_ParseWithLength(line, len) : NULL;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(frame, "type");
    if (!cJSON_IsObject(frame) || !cJSON_IsString(type)) {
        cJSON_Delete(frame);
        metrics_pipe(METRICS_PIPE_ERRORS);
        pipe_session_send_simple(conn, "error", "protocol",
                                 "each line must be a JSON object with a \"type\", in UTF-8");
        session->close_reason = "a line that is not a UTF-8 JSON object with a type";
        return 1;
    }
    const char *kind = type->valuestring;
    if (strcmp(kind, "hello") == 0) {
        handle_hello(session, frame);
    } else if (strcmp(kind, "ping") == 0) {
        pipe_session_send_simple(conn, "pong", NULL, NULL);
    } else if (strcmp(kind, "pong") == 0) {
        /* Hearing anything is proof of life; nothing else to do. */
    } else if (!session->greeted) {
        pipe_session_send_simple(conn, "error", "protocol", "send hello first");
        session->close_reason = "frames before hello";
    } else if (strcmp(kind, "models") == 0) {
        handle_models_frame(session, frame);
    } else if (strcmp(kind, "delta") == 0 || strcmp(kind, "tool_call") == 0 ||
               strcmp(kind, "done") == 0 || strcmp(kind, "error") == 0) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(frame, "id");
        if (cJSON_IsString(id) && inflight_deliver(id->valuestring, conn, frame))
            return 0; /* the mailbox owns the frame now */
        /* Late frames after a cancel or a timeout are normal. */
        log_debug("pipe: window #%lu: %s frame for unknown request %s", conn->serial, kind,
                  cJSON_IsString(id) ? id->valuestring : "(no id)");
    }
    /* Unknown types are ignored: newer extensions may send more. */
    cJSON_Delete(frame);
    return session->close_reason != NULL;
}

bool
pipe_session_pump(struct pipe_session *session)
{
    struct pipe_conn *conn = session->conn;
    for (int reads = 0; reads < PIPE_PUMP_READS_MAX; reads++) {
        if (atomic_load(&session->end_reason) != NULL)
            return ended(session, NULL, false);
        ssize_t n = recv(conn->fd, session->chunk, PIPE_READ_CHUNK, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n < 0)
            return ended(session, strerror(errno), false);
        if (n == 0)
            return ended(session, "closed by the window", false);
        atomic_store_explicit(&session->last_heard_ms, clock_monotonic_ms(), memory_order_relaxed);
        int rc = frame_decoder_feed(&session->decoder, session->chunk, (size_t)n, handle_line,
                                    session);
        if (rc == FRAME_TOO_BIG) {
            metrics_pipe(METRICS_PIPE_ERRORS);
            pipe_session_send_simple(conn, "error", "protocol", "frame larger than 16 MiB");
            return ended(session, "a frame larger than 16 MiB", true);
        }
        if (rc != FRAME_OK)
            return ended(session, session->close_reason ? session->close_reason : "out of memory",
                         true);
        if ((size_t)n < PIPE_READ_CHUNK)
            return true; /* the socket had no more */
    }
    return true;
}
