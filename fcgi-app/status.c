#include "status.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "inflight.h"
#include "log.h"
#include "pipe_codec.h"
#include "pipe_conn.h"
#include "ratelimit_policy.h"
#include "router.h"
#include "server.h"
#include "usage_policy.h"
#include "usage_report.h"

cJSON *
status_document(void)
{
    cJSON *doc = cJSON_CreateObject();
    if (doc == NULL)
        return NULL;
    unsigned windows = router_window_count();
    bool ok = cJSON_AddStringToObject(doc, "status", windows > 0 ? "ok" : "degraded") != NULL;
    if (ok && windows == 0)
        ok = cJSON_AddStringToObject(doc, "message",
                                     "No VS Code window is connected: run 'VSCode LiteLLM: Start "
                                     "LM Proxy Server' in VS Code.") != NULL;
    ok = ok && cJSON_AddStringToObject(doc, "version", PACKAGE_VERSION) != NULL;
    ok = ok && router_describe(doc) == 0 && auth_describe(doc) == 0 &&
         ratelimit_policy_describe(doc) == 0;
    ok = ok && cJSON_AddNumberToObject(doc, "in_flight", (double)inflight_count()) != NULL;
    /* Today's usage, for the status bar's tooltip; none before the store is open. */
    struct usage_store *usage = usage_policy_store();
    if (ok && usage != NULL) {
        cJSON *today = usage_today(usage, (int64_t)time(NULL));
        ok = today != NULL && cJSON_AddItemToObject(doc, "usage_today", today);
        if (!ok)
            cJSON_Delete(today);
    }
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    server_describe(doc);
    return doc;
}

/* ---------------------------------------------------------------- frames */

struct subscriber {
    struct pipe_conn *conn; /* a reference of ours */
    bool fresh;             /* has not had a status frame yet */
};

static pthread_mutex_t status_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t status_wake;
static pthread_t status_thread;
static bool status_running; /* the thread exists (guarded by status_lock once started) */
static bool status_stopping;
static bool status_dirty; /* look now rather than at the next interval */
static struct subscriber *subscribers;
static size_t subscriber_count, subscriber_cap;

/* The subscribers' connections with a reference each, under the lock;
 * `fresh` says who has had nothing yet (and is marked served). */
static size_t
take_subscribers(struct pipe_conn ***conns, bool **fresh)
{
    size_t n = subscriber_count;
    *conns = n ? calloc(n, sizeof **conns) : NULL;
    *fresh = n ? calloc(n, sizeof **fresh) : NULL;
    if (n > 0 && (*conns == NULL || *fresh == NULL)) {
        free(*conns);
        free(*fresh);
        *conns = NULL;
        *fresh = NULL;
        status_dirty = true; /* try again at the next round */
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        pipe_conn_ref(subscribers[i].conn);
        (*conns)[i] = subscribers[i].conn;
        (*fresh)[i] = subscribers[i].fresh;
        subscribers[i].fresh = false;
    }
    return n;
}

/* The frame's line: {"type":"status","health":DOCUMENT}\n; NULL if out of
 * memory.  `doc_text` gets the document alone, to compare rounds. */
static char *
status_frame_line(size_t *len, char **doc_text)
{
    *doc_text = NULL;
    cJSON *frame = cJSON_CreateObject();
    cJSON *doc = status_document();
    char *line = NULL;
    if (frame != NULL && doc != NULL && cJSON_AddStringToObject(frame, "type", "status") != NULL) {
        *doc_text = cJSON_PrintUnformatted(doc);
        cJSON_AddItemToObject(frame, "health", doc);
        doc = NULL;
        if (*doc_text != NULL)
            line = frame_encode(frame, len);
    }
    cJSON_Delete(doc);
    cJSON_Delete(frame);
    if (line == NULL) {
        free(*doc_text);
        *doc_text = NULL;
    }
    return line;
}

static void *
status_main(void *arg)
{
    (void)arg;
    char *last_sent = NULL; /* the document of the last round that sent */
    pthread_mutex_lock(&status_lock);
    while (!status_stopping) {
        if (!status_dirty) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += STATUS_CHECK_INTERVAL_MS / 1000;
            until.tv_nsec += (long)(STATUS_CHECK_INTERVAL_MS % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            int rc = 0;
            while (!status_dirty && !status_stopping && rc != ETIMEDOUT)
                rc = pthread_cond_timedwait(&status_wake, &status_lock, &until);
            if (status_stopping)
                break;
        }
        status_dirty = false;
        struct pipe_conn **conns;
        bool *fresh;
        size_t n = take_subscribers(&conns, &fresh);
        pthread_mutex_unlock(&status_lock);

        if (n > 0) {
            size_t len = 0;
            char *doc_text;
            char *line = status_frame_line(&len, &doc_text);
            bool changed = line != NULL && (last_sent == NULL || strcmp(last_sent, doc_text) != 0);
            for (size_t i = 0; i < n; i++) {
                if (line != NULL && (changed || fresh[i]))
                    (void)pipe_conn_send_line(conns[i], line, len);
                pipe_conn_unref(conns[i]);
            }
            if (line == NULL) {
                log_warn("status: out of memory for the status frame");
            } else if (changed) {
                free(last_sent);
                last_sent = doc_text;
                doc_text = NULL;
            }
            free(doc_text);
            free(line);
        }
        free(conns);
        free(fresh);
        pthread_mutex_lock(&status_lock);
    }
    pthread_mutex_unlock(&status_lock);
    free(last_sent);
    return NULL;
}

int
status_start(void)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&status_wake, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) {
        log_error("status: cannot set up the broadcaster: %s", strerror(rc));
        return -1;
    }
    status_stopping = false;
    rc = pthread_create(&status_thread, NULL, status_main, NULL);
    if (rc != 0) {
        log_error("status: cannot start the broadcaster thread: %s", strerror(rc));
        pthread_cond_destroy(&status_wake);
        return -1;
    }
    (void)pthread_setname_np(status_thread, "status");
    status_running = true;
    return 0;
}

void
status_stop(void)
{
    if (!status_running)
        return;
    pthread_mutex_lock(&status_lock);
    status_stopping = true;
    pthread_cond_signal(&status_wake);
    pthread_mutex_unlock(&status_lock);
    pthread_join(status_thread, NULL);

    pthread_mutex_lock(&status_lock);
    status_running = false; /* under the lock: nobody signals the cond now */
    pthread_cond_destroy(&status_wake);
    for (size_t i = 0; i < subscriber_count; i++)
        pipe_conn_unref(subscribers[i].conn);
    free(subscribers);
    subscribers = NULL;
    subscriber_count = subscriber_cap = 0;
    pthread_mutex_unlock(&status_lock);
}

/* Under the lock: look now. */
static void
wake_locked(void)
{
    status_dirty = true;
    if (status_running)
        pthread_cond_signal(&status_wake);
}

void
status_window_joined(struct pipe_conn *conn)
{
    pthread_mutex_lock(&status_lock);
    if (!status_stopping) {
        if (subscriber_count == subscriber_cap) {
            size_t cap = subscriber_cap ? subscriber_cap * 2 : 8;
            struct subscriber *grown = realloc(subscribers, cap * sizeof *grown);
            if (grown == NULL) {
                pthread_mutex_unlock(&status_lock);
                log_warn("pipe: window #%lu gets no status frames: out of memory", conn->serial);
                return;
            }
            subscribers = grown;
            subscriber_cap = cap;
        }
        pipe_conn_ref(conn);
        subscribers[subscriber_count++] = (struct subscriber){ .conn = conn, .fresh = true };
        wake_locked();
    }
    pthread_mutex_unlock(&status_lock);
}

void
status_window_left(struct pipe_conn *conn)
{
    struct pipe_conn *found = NULL;
    pthread_mutex_lock(&status_lock);
    for (size_t i = 0; i < subscriber_count; i++) {
        if (subscribers[i].conn == conn) {
            found = conn;
            subscribers[i] = subscribers[--subscriber_count];
            break;
        }
    }
    wake_locked();
    pthread_mutex_unlock(&status_lock);
    if (found != NULL)
        pipe_conn_unref(found);
}

void
status_changed(void)
{
    pthread_mutex_lock(&status_lock);
    wake_locked();
    pthread_mutex_unlock(&status_lock);
}
