#include "pipe_server.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "inflight.h"
#include "json_write.h"
#include "utf8.h"
#include "listen_socket.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "pipe_codec.h"
#include "pipe_conn.h"
#include "router.h"
#include "status.h"

#define PIPE_PING_INTERVAL_MS 15000
#define PIPE_SILENCE_LIMIT_MS 45000
#define PIPE_SEND_TIMEOUT_S 10
#define PIPE_READ_CHUNK 65536
#define PIPE_ERROR_LINGER_MS 2000
/* Refused peers lingered over at once; past this, closed at once. */
#define PIPE_REFUSED_LINGER_MAX 4

static int pipe_listen_fd = -1;
static char *pipe_path;
static pthread_t pipe_accept_thread;
static bool pipe_accepting;
static uid_t pipe_allowed_uids[CONFIG_MAX_ALLOWED_UIDS + 1];
static size_t pipe_allowed_uid_count;

/* Readers still running, so that shutdown can wait for them. */
static pthread_mutex_t pipe_readers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pipe_readers_done = PTHREAD_COND_INITIALIZER;
static unsigned pipe_readers;
static struct pipe_reader *pipe_reader_list;
static unsigned long pipe_serial;
static atomic_uint pipe_refused_lingering;

struct pipe_reader {
    struct pipe_reader *prev, *next; /* all readers, for shutdown */
    struct pipe_conn *conn;
    struct frame_decoder decoder;
    bool greeted;             /* hello received and answered */
    const char *close_reason; /* set when a frame ends the connection */
    long long last_heard_ms;
};

/* Before closing a connection we refused: end our side, so the peer reads
 * the error frame and then EOF, and read what it still sends, for at most
 * `linger_ms`.  Closing a Unix socket with unread input would make the
 * peer's reads fail with ECONNRESET, and it could lose the frame that says
 * why. */
static void
close_after_error(int fd, int linger_ms)
{
    char sink[4096];
    size_t budget = 64u << 20;
    long long deadline = clock_monotonic_ms() + linger_ms;
    shutdown(fd, SHUT_WR);
    for (;;) {
        ssize_t n = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n > 0 && (size_t)n < budget) {
            budget -= (size_t)n;
            continue;
        }
        long long left = deadline - clock_monotonic_ms();
        if (n == 0 || left <= 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            break;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, (int)left) <= 0)
            break;
    }
    shutdown(fd, SHUT_RD);
}

static void *
refused_linger_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    close_after_error(fd, PIPE_ERROR_LINGER_MS);
    close(fd);
    atomic_fetch_sub(&pipe_refused_lingering, 1);
    return NULL;
}

/* Closes a connection refused on accept once its peer could read why (a
 * window says hello as it connects, and closing with that unread would cut
 * the refusal off).  In a thread of its own, so the accept thread never
 * waits, and for a few peers at once at most: a flood is closed at once. */
static void
close_refused(int fd)
{
    if (atomic_fetch_add(&pipe_refused_lingering, 1) < PIPE_REFUSED_LINGER_MAX) {
        pthread_attr_t attr;
        pthread_t thread;
        if (pthread_attr_init(&attr) == 0) {
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            pthread_attr_setstacksize(&attr, 64 * 1024);
            int rc = pthread_create(&thread, &attr, refused_linger_main, (void *)(intptr_t)fd);
            pthread_attr_destroy(&attr);
            if (rc == 0)
                return;
        }
    }
    atomic_fetch_sub(&pipe_refused_lingering, 1);
    close_after_error(fd, 0);
    close(fd);
}

static void
send_simple(struct pipe_conn *conn, const char *type, const char *code, const char *message)
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
handle_hello(struct pipe_reader *reader, cJSON *frame)
{
    struct pipe_conn *conn = reader->conn;
    const cJSON *protocol = cJSON_GetObjectItemCaseSensitive(frame, "protocol");
    if (!cJSON_IsNumber(protocol) || protocol->valuedouble != PIPE_PROTOCOL_VERSION) {
        send_simple(conn, "error", "protocol",
                    "unsupported protocol version; this responder speaks 1");
        reader->close_reason = "unsupported protocol version";
        return;
    }
    if (reader->greeted) {
        send_simple(conn, "error", "protocol", "hello sent twice");
        reader->close_reason = "hello sent twice";
        return;
    }
    cJSON *models;
    char *default_model;
    if (!router_take_models(frame, &models, &default_model)) {
        send_simple(conn, "error", "protocol", "hello needs a models array");
        reader->close_reason = "hello without models";
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
        send_simple(conn, "error", "internal", "out of memory");
        reader->close_reason = "out of memory";
        return;
    }
    reader->greeted = true;
    status_window_joined(conn);
}

static void
handle_models_frame(struct pipe_reader *reader, cJSON *frame)
{
    cJSON *models;
    char *default_model;
    if (!router_take_models(frame, &models, &default_model)) {
        log_warn("pipe: window #%lu sent a models frame without a models array",
                 reader->conn->serial);
        return;
    }
    log_info("pipe: window #%lu now offers %d models, default %s", reader->conn->serial,
             cJSON_GetArraySize(models), default_model ? default_model : "(none)");
    router_update(reader->conn, models, default_model);
    status_changed();
}

static int
handle_line(void *ctx, const char *line, size_t len)
{
    struct pipe_reader *reader = ctx;
    struct pipe_conn *conn = reader->conn;
    metrics_pipe(METRICS_PIPE_FRAMES_IN);
    /* The protocol is UTF-8, and model names and ids reach clients as they
     * came (cJSON prints strings byte for byte): refuse anything else. */
    cJSON *frame = utf8_valid(line, len) ? cJSON_ParseWithLength(line, len) : NULL;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(frame, "type");
    if (!cJSON_IsObject(frame) || !cJSON_IsString(type)) {
        cJSON_Delete(frame);
        metrics_pipe(METRICS_PIPE_ERRORS);
        send_simple(conn, "error", "protocol",
                    "each line must be a JSON object with a \"type\", in UTF-8");
        reader->close_reason = "a line that is not a UTF-8 JSON object with a type";
        return 1;
    }
    const char *kind = type->valuestring;
    if (strcmp(kind, "hello") == 0) {
        handle_hello(reader, frame);
    } else if (strcmp(kind, "ping") == 0) {
        send_simple(conn, "pong", NULL, NULL);
    } else if (strcmp(kind, "pong") == 0) {
        /* Hearing anything is proof of life; nothing else to do. */
    } else if (!reader->greeted) {
        send_simple(conn, "error", "protocol", "send hello first");
        reader->close_reason = "frames before hello";
    } else if (strcmp(kind, "models") == 0) {
        handle_models_frame(reader, frame);
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
    return reader->close_reason != NULL;
}

static void *
pipe_reader_main(void *arg)
{
    struct pipe_reader *reader = arg;
    struct pipe_conn *conn = reader->conn;
    char *chunk = malloc(PIPE_READ_CHUNK);
    const char *why = chunk ? "closed by the window" : "out of memory";
    bool linger = false; /* we refused the peer: let it read why */
    reader->last_heard_ms = clock_monotonic_ms();
    long long last_ping_ms = reader->last_heard_ms;

    while (chunk != NULL && !atomic_load(&conn->broken)) {
        struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };
        int ready = poll(&pfd, 1, PIPE_PING_INTERVAL_MS);
        long long now = clock_monotonic_ms();
        if (ready < 0 && errno != EINTR) {
            why = strerror(errno);
            break;
        }
        if (ready <= 0) {
            if (now - reader->last_heard_ms >= PIPE_SILENCE_LIMIT_MS) {
                why = "silent past its deadline";
                break;
            }
            if (now - last_ping_ms >= PIPE_PING_INTERVAL_MS) {
                send_simple(conn, "ping", NULL, NULL);
                last_ping_ms = now;
            }
            continue;
        }
        ssize_t n = recv(conn->fd, chunk, PIPE_READ_CHUNK, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            why = n == 0 ? "closed by the window" : strerror(errno);
            break;
        }
        reader->last_heard_ms = now;
        int rc = frame_decoder_feed(&reader->decoder, chunk, (size_t)n, handle_line, reader);
        if (rc == FRAME_TOO_BIG) {
            metrics_pipe(METRICS_PIPE_ERRORS);
            send_simple(conn, "error", "protocol", "frame larger than 16 MiB");
            why = "a frame larger than 16 MiB";
            linger = true;
            break;
        }
        if (rc != FRAME_OK) {
            why = reader->close_reason ? reader->close_reason : "out of memory";
            linger = true;
            break;
        }
    }
    free(chunk);

    log_info("pipe: window #%lu disconnected: %s", conn->serial, why);
    router_remove(conn);
    status_window_left(conn);
    /* Requests fail and the log says why before the peer is let go. */
    inflight_window_lost(conn);
    if (linger)
        close_after_error(conn->fd, PIPE_ERROR_LINGER_MS);
    pipe_conn_shutdown(conn);
    frame_decoder_free(&reader->decoder);

    pthread_mutex_lock(&pipe_readers_lock);
    if (reader->prev != NULL)
        reader->prev->next = reader->next;
    else
        pipe_reader_list = reader->next;
    if (reader->next != NULL)
        reader->next->prev = reader->prev;
    if (--pipe_readers == 0)
        pthread_cond_broadcast(&pipe_readers_done);
    pthread_mutex_unlock(&pipe_readers_lock);

    free(reader);
    pipe_conn_unref(conn);
    return NULL;
}

static bool
uid_allowed(uid_t uid)
{
    for (size_t i = 0; i < pipe_allowed_uid_count; i++)
        if (pipe_allowed_uids[i] == uid)
            return true;
    return false;
}

static void
start_reader(int fd, const struct ucred *peer)
{
    struct timeval send_timeout = { .tv_sec = PIPE_SEND_TIMEOUT_S };
    /* A window that stops reading must not stall request threads forever. */
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);

    struct pipe_reader *reader = calloc(1, sizeof *reader);
    struct pipe_conn *conn = reader ? pipe_conn_new(fd, ++pipe_serial, peer->uid, peer->pid) : NULL;
    if (conn == NULL) {
        log_error("pipe: out of memory for a new window");
        free(reader);
        close(fd);
        return;
    }
    reader->conn = conn;
    frame_decoder_init(&reader->decoder, PIPE_MAX_FRAME);

    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_mutex_lock(&pipe_readers_lock);
    int rc = pthread_create(&thread, &attr, pipe_reader_main, reader);
    if (rc == 0) {
        pipe_readers++;
        reader->next = pipe_reader_list;
        if (pipe_reader_list != NULL)
            pipe_reader_list->prev = reader;
        pipe_reader_list = reader;
    }
    pthread_mutex_unlock(&pipe_readers_lock);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        log_error("pipe: cannot start a reader thread: %s", strerror(rc));
        frame_decoder_free(&reader->decoder);
        free(reader);
        pipe_conn_unref(conn);
    }
}

static void *
pipe_accept_main(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept4(pipe_listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_error("pipe: accept: %s; retrying in 100 ms", strerror(errno));
                poll(NULL, 0, 100);
                continue;
            }
            break; /* the listener was shut down */
        }
        struct ucred peer;
        socklen_t peer_len = sizeof peer;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) != 0) {
            log_warn("pipe: cannot read the peer's credentials: %s", strerror(errno));
            close(fd);
            continue;
        }
        if (!uid_allowed(peer.uid)) {
            log_warn("pipe: refused a connection from uid %u (pid %d): not an allowed user",
                     (unsigned)peer.uid, (int)peer.pid);
            static const char refusal[] =
                "{\"type\":\"error\",\"code\":\"forbidden\",\"message\":\"this uid may not use the pipe\"}\n";
            (void)!send(fd, refusal, sizeof refusal - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close_refused(fd);
            continue;
        }
        start_reader(fd, &peer);
    }
    return NULL;
}

int
pipe_server_start(const struct config *cfg)
{
    char err[512];
    pipe_allowed_uid_count = 0;
    pipe_allowed_uids[pipe_allowed_uid_count++] = geteuid();
    for (size_t i = 0; i < cfg->pipe_allowed_uid_count; i++)
        pipe_allowed_uids[pipe_allowed_uid_count++] = cfg->pipe_allowed_uids[i];

    pipe_listen_fd = listen_unix(cfg->pipe_path, cfg->pipe_mode, cfg->pipe_group, 64, err,
                                 sizeof err);
    if (pipe_listen_fd < 0) {
        log_error("pipe: %s", err);
        return -1;
    }
    pipe_path = strdup(cfg->pipe_path);
    if (status_start() != 0) {
        close(pipe_listen_fd);
        pipe_listen_fd = -1;
        return -1;
    }
    int rc = pthread_create(&pipe_accept_thread, NULL, pipe_accept_main, NULL);
    if (rc != 0) {
        log_error("pipe: cannot start the accept thread: %s", strerror(rc));
        status_stop();
        close(pipe_listen_fd);
        pipe_listen_fd = -1;
        return -1;
    }
    pipe_accepting = true;
    log_info("pipe: listening on %s", cfg->pipe_path);
    return 0;
}

void
pipe_server_stop_accepting(void)
{
    if (!pipe_accepting)
        return;
    pipe_accepting = false;
    shutdown(pipe_listen_fd, SHUT_RDWR);
    pthread_join(pipe_accept_thread, NULL);
    close(pipe_listen_fd);
    pipe_listen_fd = -1;
    if (pipe_path != NULL)
        unlink(pipe_path);
}

void
pipe_server_stop(void)
{
    pipe_server_stop_accepting();
    status_stop();
    pthread_mutex_lock(&pipe_readers_lock);
    for (struct pipe_reader *reader = pipe_reader_list; reader != NULL; reader = reader->next)
        pipe_conn_shutdown(reader->conn);
    while (pipe_readers > 0)
        pthread_cond_wait(&pipe_readers_done, &pipe_readers_lock);
    pthread_mutex_unlock(&pipe_readers_lock);
    free(pipe_path);
    pipe_path = NULL;
}
