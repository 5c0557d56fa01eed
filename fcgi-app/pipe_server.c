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
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "inflight.h"
#include "listen_socket.h"
#include "log.h"
#include "pipe_conn.h"
#include "pipe_session.h"
#include "router.h"
#include "status.h"

#define PIPE_PING_INTERVAL_MS 15000
#define PIPE_SILENCE_LIMIT_MS 45000
#define PIPE_SEND_TIMEOUT_S 10
#define PIPE_ERROR_LINGER_MS 2000
/* Refused peers lingered over at once; past this, closed at once. */
#define PIPE_REFUSED_LINGER_MAX 4
/* The watcher's clock for pings and silence. */
#define PIPE_WATCH_TICK_MS 1000
#define PIPE_WATCH_BATCH 64

static int pipe_listen_fd = -1;
static char *pipe_path;
static pthread_t pipe_accept_thread;
static bool pipe_accepting;
static uid_t pipe_allowed_uids[CONFIG_MAX_ALLOWED_UIDS + 1];
static size_t pipe_allowed_uid_count;
static unsigned long pipe_serial;
static atomic_uint pipe_refused_lingering;

/* The watcher: one thread with every window no request thread reads in an
 * epoll set (pipe_session.h), plus an eventfd (event data NULL) that wakes
 * it to end windows or to stop. */
static int watch_fd = -1, kick_fd = -1;
static pthread_t watch_thread;
static bool watch_running;

/* Every window, so that shutdown can wait for them; guarded by the lock. */
static pthread_mutex_t pipe_windows_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pipe_windows_done = PTHREAD_COND_INITIALIZER;
static unsigned pipe_windows;
static struct pipe_window *pipe_window_list;
static bool watch_stopping;

struct pipe_window {
    struct pipe_window *prev, *next;
    struct pipe_conn *conn; /* the watcher's reference */
    struct pipe_session *session;
    long long last_ping_ms; /* the watcher's */
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

/* Runs a linger (close_after_error's wait) in a small detached thread, so
 * that the thread that refused the peer goes on; false if none started. */
static bool
start_linger_thread(void *(*linger_main)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_t thread;
    if (pthread_attr_init(&attr) != 0)
        return false;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int rc = pthread_create(&thread, &attr, linger_main, arg);
    pthread_attr_destroy(&attr);
    return rc == 0;
}

/* Closes a connection refused on accept once its peer could read why (a
 * window says hello as it connects, and closing with that unread would cut
 * the refusal off).  In a thread of its own, so the accept thread never
 * waits, and for a few peers at once at most: a flood is closed at once. */
static void
close_refused(int fd)
{
    if (atomic_fetch_add(&pipe_refused_lingering, 1) < PIPE_REFUSED_LINGER_MAX &&
        start_linger_thread(refused_linger_main, (void *)(intptr_t)fd))
        return;
    atomic_fetch_sub(&pipe_refused_lingering, 1);
    close_after_error(fd, 0);
    close(fd);
}

/* Lets a window we refused read why for a while, then lets it go (with the
 * watcher's reference, handed over). */
static void *
window_linger_main(void *arg)
{
    struct pipe_conn *conn = arg;
    close_after_error(conn->fd, PIPE_ERROR_LINGER_MS);
    pipe_conn_shutdown(conn);
    pipe_conn_unref(conn);
    return NULL;
}

/* The watcher: a window's connection is over.  Its requests fail (and the
 * log says why) before the peer is let go; a peer we refused may read why
 * for a while, in a thread of its own so the watcher goes on. */
static void
end_window(struct pipe_window *window)
{
    struct pipe_conn *conn = window->conn;
    bool linger;
    const char *why = pipe_session_end_reason(window->session, &linger);
    log_info("pipe: window #%lu disconnected: %s", conn->serial, why);
    router_remove(conn);
    status_window_left(conn);
    inflight_window_lost(conn);
    (void)epoll_ctl(watch_fd, EPOLL_CTL_DEL, conn->fd, NULL);

    pthread_mutex_lock(&pipe_windows_lock);
    if (window->prev != NULL)
        window->prev->next = window->next;
    else
        pipe_window_list = window->next;
    if (window->next != NULL)
        window->next->prev = window->prev;
    if (--pipe_windows == 0)
        pthread_cond_broadcast(&pipe_windows_done);
    pthread_mutex_unlock(&pipe_windows_lock);
    free(window);

    if (linger && start_linger_thread(window_linger_main, conn))
        return; /* it has our reference */
    pipe_conn_shutdown(conn);
    pipe_conn_unref(conn);
}

/* The watcher, once a second: ping a silent window, end one silent past
 * its deadline (a hung extension host).  A ping never waits: a window that
 * stops reading must not hold back the watcher, and with it every other
 * window's frames and new windows.  One that cannot take it now (another
 * thread is writing to it, or its socket is full) is tried again at the
 * next tick. */
static void
check_silence(long long now)
{
    static const char ping[] = "{\"type\":\"ping\"}\n";
    pthread_mutex_lock(&pipe_windows_lock);
    for (struct pipe_window *window = pipe_window_list; window != NULL; window = window->next) {
        long long heard = pipe_session_last_heard_ms(window->session);
        if (now - heard >= PIPE_SILENCE_LIMIT_MS) {
            pipe_session_end(window->session, "silent past its deadline");
        } else if (now - heard >= PIPE_PING_INTERVAL_MS &&
                   now - window->last_ping_ms >= PIPE_PING_INTERVAL_MS &&
                   pipe_conn_try_send_line(window->conn, ping, sizeof ping - 1) != PIPE_CONN_BUSY) {
            window->last_ping_ms = now;
        }
    }
    pthread_mutex_unlock(&pipe_windows_lock);
}

/* Ends every window whose session is over.  Only the watcher ends windows,
 * after the events of its batch, so an event in hand never names a freed
 * window. */
static void
end_windows_over(void)
{
    for (;;) {
        struct pipe_window *over = NULL;
        pthread_mutex_lock(&pipe_windows_lock);
        for (struct pipe_window *window = pipe_window_list; window != NULL; window = window->next)
            if (pipe_session_over(window->session)) {
                over = window;
                break;
            }
        pthread_mutex_unlock(&pipe_windows_lock);
        if (over == NULL)
            return;
        end_window(over);
    }
}

static void *
pipe_watch_main(void *arg)
{
    (void)arg;
    struct epoll_event events[PIPE_WATCH_BATCH];
    long long last_check_ms = clock_monotonic_ms();
    for (;;) {
        int n = epoll_wait(watch_fd, events, PIPE_WATCH_BATCH, PIPE_WATCH_TICK_MS);
        if (n < 0 && errno != EINTR) {
            log_error("pipe: epoll_wait: %s", strerror(errno));
            poll(NULL, 0, PIPE_WATCH_TICK_MS);
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL) {
                uint64_t kicks;
                (void)!read(kick_fd, &kicks, sizeof kicks);
                continue;
            }
            struct pipe_window *window = events[i].data.ptr;
            if (!pipe_session_take_for_watcher(window->session))
                continue; /* a request thread reads it now */
            (void)pipe_session_pump(window->session);
            pipe_session_release(window->session);
        }
        long long now = clock_monotonic_ms();
        if (now - last_check_ms >= PIPE_WATCH_TICK_MS) {
            check_silence(now);
            last_check_ms = now;
        }
        end_windows_over();
        pthread_mutex_lock(&pipe_windows_lock);
        bool done = watch_stopping && pipe_windows == 0;
        pthread_mutex_unlock(&pipe_windows_lock);
        if (done)
            return NULL;
    }
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
start_window(int fd, const struct ucred *peer)
{
    struct timeval send_timeout = { .tv_sec = PIPE_SEND_TIMEOUT_S };
    /* A window that stops reading must not stall request threads forever. */
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);

    struct pipe_window *window = calloc(1, sizeof *window);
    struct pipe_conn *conn = window ? pipe_conn_new(fd, ++pipe_serial, peer->uid, peer->pid) : NULL;
    if (conn == NULL) {
        log_error("pipe: out of memory for a new window");
        free(window);
        close(fd);
        return;
    }
    window->conn = conn;
    window->last_ping_ms = clock_monotonic_ms();
    window->session = pipe_session_new(conn, watch_fd, kick_fd, window);
    if (window->session == NULL) {
        log_error("pipe: out of memory for a new window");
        free(window);
        pipe_conn_unref(conn);
        return;
    }
    /* Listed before it is watched: the watcher may end it at once. */
    pthread_mutex_lock(&pipe_windows_lock);
    pipe_windows++;
    window->next = pipe_window_list;
    if (pipe_window_list != NULL)
        pipe_window_list->prev = window;
    pipe_window_list = window;
    pthread_mutex_unlock(&pipe_windows_lock);
    if (pipe_session_watch(window->session) != 0)
        end_window(window); /* never watched: no event can name it */
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
        start_window(fd, &peer);
    }
    return NULL;
}

static void
close_watcher_fds(void)
{
    if (watch_fd >= 0)
        close(watch_fd);
    if (kick_fd >= 0)
        close(kick_fd);
    watch_fd = kick_fd = -1;
}

static int
start_watcher(void)
{
    watch_fd = epoll_create1(EPOLL_CLOEXEC);
    kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event kick = { .events = EPOLLIN, .data.ptr = NULL };
    if (watch_fd < 0 || kick_fd < 0 || epoll_ctl(watch_fd, EPOLL_CTL_ADD, kick_fd, &kick) != 0) {
        log_error("pipe: cannot set up the watcher: %s", strerror(errno));
        close_watcher_fds();
        return -1;
    }
    watch_stopping = false;
    int rc = pthread_create(&watch_thread, NULL, pipe_watch_main, NULL);
    if (rc != 0) {
        log_error("pipe: cannot start the watcher thread: %s", strerror(rc));
        close_watcher_fds();
        return -1;
    }
    (void)pthread_setname_np(watch_thread, "pipe-watch");
    watch_running = true;
    return 0;
}

static void
stop_watcher(void)
{
    if (!watch_running)
        return;
    pthread_mutex_lock(&pipe_windows_lock);
    watch_stopping = true;
    pthread_mutex_unlock(&pipe_windows_lock);
    uint64_t one = 1;
    (void)!write(kick_fd, &one, sizeof one);
    pthread_join(watch_thread, NULL);
    watch_running = false;
    close_watcher_fds();
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
    if (start_watcher() != 0) {
        status_stop();
        close(pipe_listen_fd);
        pipe_listen_fd = -1;
        return -1;
    }
    int rc = pthread_create(&pipe_accept_thread, NULL, pipe_accept_main, NULL);
    if (rc != 0) {
        log_error("pipe: cannot start the accept thread: %s", strerror(rc));
        stop_watcher();
        status_stop();
        close(pipe_listen_fd);
        pipe_listen_fd = -1;
        return -1;
    }
    (void)pthread_setname_np(pipe_accept_thread, "pipe-accept");
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
    pthread_mutex_lock(&pipe_windows_lock);
    for (struct pipe_window *window = pipe_window_list; window != NULL; window = window->next)
        pipe_conn_shutdown(window->conn);
    while (pipe_windows > 0)
        pthread_cond_wait(&pipe_windows_done, &pipe_windows_lock);
    pthread_mutex_unlock(&pipe_windows_lock);
    stop_watcher();
    free(pipe_path);
    pipe_path = NULL;
}
