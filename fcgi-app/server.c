#include "server.h"

#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "handlers.h"
#include "http.h"
#include "kept_conn.h"
#include "listen_socket.h"
#include "log.h"
#include "metrics.h"
#include "respond.h"
#include "usage_policy.h"

#define SERVER_BACKLOG 1024
#define WORKER_STACK_SIZE (256 * 1024)
/* Threads started up front; the rest (up to --threads) start when every
 * running one is busy, so an idle responder holds a few thread stacks, not
 * --threads of them. */
#define SERVER_THREADS_AT_START 8

static const struct config *server_cfg;
static int server_listen_fd = -1;
static char *server_socket_path;  /* Unix socket to unlink at exit */
static pthread_t *server_threads; /* cfg->threads slots */
static atomic_uint server_busy;

/* Guards the cond, server_running and server_accepting, and every change
 * of server_thread_count (read without it where a stale value only means
 * taking the lock to look again). */
static pthread_mutex_t server_exit_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t server_exit_cond; /* on CLOCK_MONOTONIC */
static atomic_uint server_thread_count;
static unsigned server_running;
static bool server_accepting;
static pthread_attr_t server_thread_attr;

static void
log_request(const struct http_request *req, const struct request_outcome *outcome)
{
    double ms = (double)(clock_monotonic_us() - req->started_us) / 1000.0;
    const char *key = outcome->key_name[0] ? outcome->key_name : "-";
    if (outcome->model[0] != '\0')
        log_info("request %s %s %s status=%d key=%s model=%s window=#%lu prompt_tokens=%ld "
                 "completion_tokens=%ld ms=%.2f%s%s",
                 req->request_id, req->method, req->path, req->status, key, outcome->model,
                 outcome->window, outcome->prompt_tokens, outcome->completion_tokens, ms,
                 outcome->note ? " note=" : "", outcome->note ? outcome->note : "");
    else
        log_info("request %s %s %s status=%d key=%s ms=%.2f%s%s", req->request_id, req->method,
                 req->path, req->status, key, ms, outcome->note ? " note=" : "",
                 outcome->note ? outcome->note : "");
}

/* Reads what nginx sent and the handler did not (a body refused before it
 * was read, the empty end-of-input record): closing a Unix socket with
 * unread input makes nginx's next read fail with ECONNRESET, and libfcgi,
 * with no close wait (server_start), reads only what has already arrived;
 * on a kept connection the next request would start inside this one's
 * records.
 * Not inlined: its buffer must not deepen worker_main's frame, below which
 * every request's stack sits. */
static __attribute__((noinline)) void
drain_input(FCGX_Stream *in)
{
    char discard[1024];
    while (FCGX_GetStr(discard, sizeof discard, in) > 0)
        ;
}

static void *worker_main(void *arg);

/* Caller holds server_exit_lock. */
static int
start_thread_locked(void)
{
    int rc = pthread_create(&server_threads[server_thread_count], &server_thread_attr, worker_main,
                            NULL);
    if (rc == 0) {
        (void)pthread_setname_np(server_threads[server_thread_count], "request");
        server_thread_count++;
        server_running++;
    }
    return rc;
}

/* Whether a new connection would now find no thread in accept: every
 * started thread is busy with a request or idle on a kept connection. */
static bool
no_thread_accepting(void)
{
    return atomic_load(&server_busy) + kept_conn_idle() >=
           atomic_load_explicit(&server_thread_count, memory_order_relaxed);
}

/* Called by a thread that just took a request: if no other thread is left
 * waiting in accept, start one, so the next request does not queue behind
 * this one (a stream can hold its thread for minutes).  Threads idle on a
 * kept FastCGI connection do not accept either: with every thread started,
 * one of them gives its connection up. */
static void
keep_one_thread_accepting(void)
{
    if (!no_thread_accepting())
        return;
    bool at_max = false;
    pthread_mutex_lock(&server_exit_lock);
    if (server_accepting && no_thread_accepting()) {
        if (server_thread_count < server_cfg->threads) {
            int rc = start_thread_locked();
            if (rc != 0)
                log_warn("fastcgi: cannot start worker thread %u of %u: %s",
                         server_thread_count + 1, server_cfg->threads, strerror(rc));
        } else {
            at_max = true;
        }
    }
    pthread_mutex_unlock(&server_exit_lock);
    if (at_max && kept_conn_idle() > 0)
        kept_conn_want_acceptor();
}

/* Whether the thread that just served a request on a connection nginx
 * keeps may wait on it for the next one: only while another thread stays
 * in accept (started now if need be), so kept connections never leave new
 * ones waiting for a thread. */
static bool
may_keep_connection(void)
{
    unsigned holding = atomic_load(&server_busy) + kept_conn_idle() + 1;
    if (holding < atomic_load_explicit(&server_thread_count, memory_order_relaxed))
        return true;
    bool keep = false;
    pthread_mutex_lock(&server_exit_lock);
    if (server_accepting && server_thread_count < server_cfg->threads)
        keep = start_thread_locked() == 0;
    pthread_mutex_unlock(&server_exit_lock);
    return keep;
}

/* Between two requests of a kept connection: waits for the next one, or
 * closes the connection so that FCGX_Accept_r accepts a new one. */
static void
wait_on_kept_connection(FCGX_Request *fcgi)
{
    if (may_keep_connection() &&
        kept_conn_wait(fcgi->ipcFd, no_thread_accepting) == KEPT_CONN_READABLE)
        return;
    FCGX_Free(fcgi, 1);
}

static void *
worker_main(void *arg)
{
    (void)arg;
    FCGX_Request fcgi;
    if (FCGX_InitRequest(&fcgi, server_listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        log_error("fastcgi: cannot initialise a request");
        goto out;
    }
    for (;;) {
        if (fcgi.ipcFd >= 0)
            wait_on_kept_connection(&fcgi);
        int rc = FCGX_Accept_r(&fcgi);
        if (rc < 0) {
            /* EINTR from a stray signal: go on; anything else means the
             * listener was shut down (or is broken): stop this worker. */
            if (rc == -EINTR)
                continue;
            break;
        }
        atomic_fetch_add(&server_busy, 1);
        keep_one_thread_accepting();
        struct http_request req;
        struct request_outcome outcome = { .note = NULL };
        http_request_init(&req, &fcgi);
        handle_request(&req, server_cfg, &outcome);
        if (!req.head_sent && !req.client_gone)
            respond_fallback(&req);
        /* Before the end-of-request record: on a kept connection nginx may
         * send the next request as soon as it has that record, and libfcgi
         * would read it into this request's buffer, freed with it. */
        if (!req.client_gone)
            drain_input(fcgi.in);
        http_finish_response(&req);
        log_request(&req, &outcome);
        metrics_record(&req, &outcome);
        usage_policy_record(&req, &outcome);
        http_request_free(&req);
        /* A connection whose client left mid-answer is not reused. */
        if (req.client_gone)
            fcgi.keepConnection = 0;
        FCGX_Finish_r(&fcgi);
        atomic_fetch_sub(&server_busy, 1);
    }
    FCGX_Free(&fcgi, 1);
out:
    pthread_mutex_lock(&server_exit_lock);
    server_running--;
    pthread_cond_broadcast(&server_exit_cond);
    pthread_mutex_unlock(&server_exit_lock);
    return NULL;
}

int
server_start(const struct config *cfg)
{
    char err[512];
    server_cfg = cfg;
    pthread_condattr_t cond_attr;
    pthread_condattr_init(&cond_attr);
    pthread_condattr_setclock(&cond_attr, CLOCK_MONOTONIC);
    pthread_cond_init(&server_exit_cond, &cond_attr);
    pthread_condattr_destroy(&cond_attr);
    /* After each response libfcgi shuts down its side and waits up to 2 s
     * (LIBFCGI_OS_CLOSE_POLL_TIMEOUT, ms) for nginx to close, reading what
     * comes.  nginx closes as soon as it has the end-of-request record and
     * has sent everything before it, which worker_main has read
     * (drain_input): the wait only costs a poll, a read and a wake-up per
     * request.  On a kept connection libfcgi closes only after nginx did,
     * or when kept_conn gives the connection up: nothing to wait for
     * either.  An operator's own setting wins. */
    if (setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", "0", 0) != 0)
        log_warn("fastcgi: cannot set LIBFCGI_OS_CLOSE_POLL_TIMEOUT: %s", strerror(errno));
    if (FCGX_Init() != 0) {
        log_error("fastcgi: FCGX_Init failed");
        return -1;
    }
    if (listen_spec_is_tcp(cfg->fcgi_socket)) {
        server_listen_fd = listen_tcp(cfg->fcgi_socket, SERVER_BACKLOG, err, sizeof err);
        if (server_listen_fd >= 0)
            log_warn("fastcgi: listening on TCP %s: anyone who can reach it bypasses nginx; "
                     "allow only nginx's host (Debian's libfcgi lacks part of the "
                     "CVE-2025-23016 fix)",
                     cfg->fcgi_socket);
    } else {
        server_listen_fd = listen_unix(cfg->fcgi_socket, cfg->fcgi_mode, cfg->fcgi_group,
                                       SERVER_BACKLOG, err, sizeof err);
        if (server_listen_fd >= 0)
            server_socket_path = strdup(cfg->fcgi_socket);
    }
    if (server_listen_fd < 0) {
        log_error("fastcgi: %s", err);
        return -1;
    }

    server_threads = calloc(cfg->threads, sizeof *server_threads);
    if (server_threads == NULL) {
        log_error("fastcgi: out of memory for %u threads", cfg->threads);
        return -1;
    }
    pthread_attr_init(&server_thread_attr);
    pthread_attr_setstacksize(&server_thread_attr, WORKER_STACK_SIZE);
    unsigned at_start = cfg->threads < SERVER_THREADS_AT_START ? cfg->threads
                                                               : SERVER_THREADS_AT_START;
    pthread_mutex_lock(&server_exit_lock);
    server_accepting = true;
    for (unsigned i = 0; i < at_start; i++) {
        int rc = start_thread_locked();
        if (rc != 0) {
            pthread_mutex_unlock(&server_exit_lock);
            log_error("fastcgi: cannot start worker thread %u: %s", i + 1, strerror(rc));
            return -1;
        }
    }
    pthread_mutex_unlock(&server_exit_lock);
    log_info("fastcgi: listening on %s; %u threads (one per request in progress; %u started)",
             cfg->fcgi_socket, cfg->threads, at_start);
    return 0;
}

void
server_stop_accepting(void)
{
    if (server_listen_fd < 0)
        return;
    pthread_mutex_lock(&server_exit_lock);
    server_accepting = false; /* no thread starts from now on */
    pthread_mutex_unlock(&server_exit_lock);
    kept_conn_stop(); /* idle kept connections are closed, not served */
    /* Wakes every thread blocked in accept() (DESIGN.md, "Signals"). */
    shutdown(server_listen_fd, SHUT_RDWR);
    if (server_socket_path != NULL) {
        unlink(server_socket_path);
        free(server_socket_path);
        server_socket_path = NULL;
    }
}

unsigned
server_busy_count(void)
{
    return atomic_load(&server_busy);
}

void
server_describe(cJSON *health)
{
    unsigned started = atomic_load(&server_thread_count);
    cJSON *threads = cJSON_AddObjectToObject(health, "threads");
    if (threads == NULL)
        return;
    cJSON_AddNumberToObject(threads, "busy", (double)server_busy_count());
    cJSON_AddNumberToObject(threads, "started", (double)started);
    cJSON_AddNumberToObject(threads, "max", server_cfg ? (double)server_cfg->threads : 0.0);
}

unsigned
server_wait(long long deadline_ms)
{
    struct timespec until = { .tv_sec = deadline_ms / 1000,
                              .tv_nsec = (deadline_ms % 1000) * 1000000 };
    pthread_mutex_lock(&server_exit_lock);
    while (server_running > 0) {
        int rc = pthread_cond_timedwait(&server_exit_cond, &server_exit_lock, &until);
        if (rc == ETIMEDOUT)
            break;
    }
    unsigned left = server_running;
    unsigned started = server_thread_count;
    pthread_mutex_unlock(&server_exit_lock);
    if (left == 0) {
        for (unsigned i = 0; i < started; i++)
            pthread_join(server_threads[i], NULL);
        free(server_threads);
        server_threads = NULL;
        server_thread_count = 0;
        pthread_attr_destroy(&server_thread_attr);
        close(server_listen_fd);
        server_listen_fd = -1;
    }
    return left;
}
