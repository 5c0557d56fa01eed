#include "inflight.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

#define INFLIGHT_BUCKETS 1024 /* a power of two; chains absorb any excess */

struct queued_event {
    enum inflight_event event;
    cJSON *frame;
    struct queued_event *next;
};

struct inflight {
    char *id;
    const struct pipe_conn *conn;
    int event_fd;         /* -1 until its thread first waits on it */
    pthread_mutex_t lock; /* guards everything below */
    struct queued_event *head, *tail;
    /* An event that could not be queued for want of memory; reported once
     * the queue is empty, so a lost window can never be missed. */
    enum inflight_event unqueued;
    bool has_unqueued;
    /* event_fd is readable: set by the push that finds the mailbox empty,
     * cleared by the pop that finds it empty again.  One write and one read
     * per burst of frames, however many frames the burst holds. */
    bool signalled;
    bool quiet;                   /* frames come from the box's own thread: no signal */
    struct inflight *bucket_next; /* guarded by table_lock */
};

/* The table's lock is held only to find, link or unlink a mailbox; a
 * mailbox's own lock guards its queue, so whoever reads the pipe and the request
 * threads of different requests do not wait for each other. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct inflight *inflight_table[INFLIGHT_BUCKETS];
static size_t inflight_total;

static size_t
bucket_of(const char *id)
{
    uint32_t hash = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        hash = (hash ^ *p) * 16777619u;
    return hash & (INFLIGHT_BUCKETS - 1);
}

/* Caller holds box->lock. */
static void
signal_locked(struct inflight *box)
{
    if (box->signalled)
        return;
    uint64_t one = 1;
    if (box->event_fd >= 0)
        (void)!write(box->event_fd, &one, sizeof one);
    box->signalled = true;
}

struct inflight *
inflight_open(const char *id, const struct pipe_conn *conn)
{
    struct inflight *box = calloc(1, sizeof *box);
    if (box == NULL)
        return NULL;
    box->id = strdup(id);
    box->event_fd = -1;
    if (box->id == NULL || pthread_mutex_init(&box->lock, NULL) != 0) {
        free(box->id);
        free(box);
        return NULL;
    }
    box->conn = conn;
    size_t bucket = bucket_of(id);
    pthread_mutex_lock(&table_lock);
    box->bucket_next = inflight_table[bucket];
    inflight_table[bucket] = box;
    inflight_total++;
    pthread_mutex_unlock(&table_lock);
    return box;
}

void
inflight_close(struct inflight *box)
{
    if (box == NULL)
        return;
    pthread_mutex_lock(&table_lock);
    for (struct inflight **link = &inflight_table[bucket_of(box->id)]; *link;
         link = &(*link)->bucket_next) {
        if (*link == box) {
            *link = box->bucket_next;
            inflight_total--;
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
    /* Unlinked: a reader that found the box before holds its lock, and
     * nobody can find it after. */
    pthread_mutex_lock(&box->lock);
    struct queued_event *queued = box->head;
    box->head = box->tail = NULL;
    pthread_mutex_unlock(&box->lock);
    while (queued != NULL) {
        struct queued_event *next = queued->next;
        cJSON_Delete(queued->frame);
        free(queued);
        queued = next;
    }
    if (box->event_fd >= 0)
        close(box->event_fd);
    pthread_mutex_destroy(&box->lock);
    free(box->id);
    free(box);
}

int
inflight_fd(struct inflight *box)
{
    pthread_mutex_lock(&box->lock);
    if (box->event_fd < 0) {
        box->event_fd = eventfd(box->signalled ? 1 : 0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (box->event_fd < 0)
            log_error("request %s: no eventfd to wait on: %s", box->id, strerror(errno));
    }
    int fd = box->event_fd;
    pthread_mutex_unlock(&box->lock);
    return fd;
}

bool
inflight_pop(struct inflight *box, enum inflight_event *event, cJSON **frame)
{
    pthread_mutex_lock(&box->lock);
    struct queued_event *queued = box->head;
    if (queued != NULL) {
        box->head = queued->next;
        if (box->head == NULL)
            box->tail = NULL;
        pthread_mutex_unlock(&box->lock);
        *event = queued->event;
        *frame = queued->frame;
        free(queued);
        return true;
    }
    if (box->has_unqueued) {
        box->has_unqueued = false;
        *event = box->unqueued;
        *frame = NULL;
        pthread_mutex_unlock(&box->lock);
        return true;
    }
    /* Empty: clear the signal under the lock, so the next push signals
     * again (the counter is exactly 1 here: one write per signal). */
    if (box->signalled) {
        uint64_t counter;
        if (box->event_fd >= 0)
            (void)!read(box->event_fd, &counter, sizeof counter);
        box->signalled = false;
    }
    pthread_mutex_unlock(&box->lock);
    *frame = NULL;
    return false;
}

void
inflight_quiet(struct inflight *box, bool quiet)
{
    pthread_mutex_lock(&box->lock);
    box->quiet = quiet;
    pthread_mutex_unlock(&box->lock);
}

bool
inflight_pending(struct inflight *box)
{
    pthread_mutex_lock(&box->lock);
    bool pending = box->head != NULL || box->has_unqueued;
    pthread_mutex_unlock(&box->lock);
    return pending;
}

/* Caller holds box->lock. */
static bool
push_locked(struct inflight *box, enum inflight_event event, cJSON *frame)
{
    struct queued_event *queued = malloc(sizeof *queued);
    if (queued == NULL) {
        if (event != INFLIGHT_FRAME) {
            box->unqueued = event;
            box->has_unqueued = true;
            signal_locked(box);
        }
        return false;
    }
    queued->event = event;
    queued->frame = frame;
    queued->next = NULL;
    if (box->tail != NULL)
        box->tail->next = queued;
    else
        box->head = queued;
    box->tail = queued;
    if (!box->quiet || event != INFLIGHT_FRAME)
        signal_locked(box);
    return true;
}

bool
inflight_deliver(const char *id, const struct pipe_conn *from, cJSON *frame)
{
    struct inflight *found = NULL;
    pthread_mutex_lock(&table_lock);
    for (struct inflight *box = inflight_table[bucket_of(id)]; box; box = box->bucket_next) {
        /* A window may only answer the requests sent to it. */
        if (box->conn == from && strcmp(box->id, id) == 0) {
            found = box;
            /* Taken before the table is let go, so the box cannot be
             * freed in between (inflight_close takes it after unlinking). */
            pthread_mutex_lock(&box->lock);
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
    if (found == NULL)
        return false;
    bool delivered = push_locked(found, INFLIGHT_FRAME, frame);
    pthread_mutex_unlock(&found->lock);
    return delivered;
}

void
inflight_window_lost(const struct pipe_conn *conn)
{
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < INFLIGHT_BUCKETS; i++)
        for (struct inflight *box = inflight_table[i]; box; box = box->bucket_next)
            if (box->conn == conn) {
                pthread_mutex_lock(&box->lock);
                (void)push_locked(box, INFLIGHT_WINDOW_LOST, NULL);
                pthread_mutex_unlock(&box->lock);
            }
    pthread_mutex_unlock(&table_lock);
}

size_t
inflight_count(void)
{
    pthread_mutex_lock(&table_lock);
    size_t total = inflight_total;
    pthread_mutex_unlock(&table_lock);
    return total;
}
