#include "inflight.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define INFLIGHT_BUCKETS 1024   /* a power of two; chains absorb any excess */

struct queued_event {
    enum inflight_event event;
    cJSON *frame;
    struct queued_event *next;
};

struct inflight {
    char *id;
    const struct pipe_conn *conn;
    int event_fd;
    struct queued_event *head, *tail;   /* guarded by inflight_lock */
    /* An event that could not be queued for want of memory; reported once
     * the queue is empty, so a lost window can never be missed. */
    enum inflight_event unqueued;
    bool has_unqueued;
    struct inflight *bucket_next;
};

/* One lock for the table and every queue: each critical section is a few
 * pointer moves, far shorter than the socket I/O around it. */
static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static struct inflight *inflight_table[INFLIGHT_BUCKETS];
static size_t inflight_total;
static bool inflight_shut_down;         /* inflight_shutdown_all() has run */
static pthread_once_t inflight_shutdown_once = PTHREAD_ONCE_INIT;
static int inflight_shutdown_event = -1;

static size_t
bucket_of(const char *id)
{
    uint32_t hash = 2166136261u;        /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        hash = (hash ^ *p) * 16777619u;
    return hash & (INFLIGHT_BUCKETS - 1);
}

struct inflight *
inflight_open(const char *id, const struct pipe_conn *conn)
{
    struct inflight *box = calloc(1, sizeof *box);
    if (box == NULL)
        return NULL;
    box->id = strdup(id);
    box->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (box->id == NULL || box->event_fd < 0) {
        if (box->event_fd >= 0)
            close(box->event_fd);
        free(box->id);
        free(box);
        return NULL;
    }
    box->conn = conn;
    size_t bucket = bucket_of(id);
    pthread_mutex_lock(&inflight_lock);
    box->bucket_next = inflight_table[bucket];
    inflight_table[bucket] = box;
    inflight_total++;
    if (inflight_shut_down) {
        uint64_t one = 1;
        box->unqueued = INFLIGHT_SHUTDOWN;  /* admitted after the deadline */
        box->has_unqueued = true;
        (void)!write(box->event_fd, &one, sizeof one);
    }
    pthread_mutex_unlock(&inflight_lock);
    return box;
}

void
inflight_close(struct inflight *box)
{
    if (box == NULL)
        return;
    pthread_mutex_lock(&inflight_lock);
    for (struct inflight **link = &inflight_table[bucket_of(box->id)]; *link;
         link = &(*link)->bucket_next) {
        if (*link == box) {
            *link = box->bucket_next;
            inflight_total--;
            break;
        }
    }
    struct queued_event *queued = box->head;
    box->head = box->tail = NULL;
    pthread_mutex_unlock(&inflight_lock);
    while (queued != NULL) {
        struct queued_event *next = queued->next;
        cJSON_Delete(queued->frame);
        free(queued);
        queued = next;
    }
    close(box->event_fd);
    free(box->id);
    free(box);
}

int
inflight_fd(const struct inflight *box)
{
    return box->event_fd;
}

bool
inflight_pop(struct inflight *box, enum inflight_event *event, cJSON **frame)
{
    uint64_t counter;
    /* Clearing first is safe: a push after this read bumps it again. */
    (void)!read(box->event_fd, &counter, sizeof counter);
    pthread_mutex_lock(&inflight_lock);
    struct queued_event *queued = box->head;
    bool more = false;
    if (queued != NULL) {
        box->head = queued->next;
        if (box->head == NULL)
            box->tail = NULL;
        more = box->head != NULL || box->has_unqueued;
    } else if (box->has_unqueued) {
        box->has_unqueued = false;
        *event = box->unqueued;
        *frame = NULL;
        pthread_mutex_unlock(&inflight_lock);
        return true;
    }
    pthread_mutex_unlock(&inflight_lock);
    if (queued == NULL) {
        *frame = NULL;
        return false;
    }
    *event = queued->event;
    *frame = queued->frame;
    free(queued);
    /* More is waiting: keep the fd readable so the next poll returns. */
    if (more) {
        uint64_t one = 1;
        (void)!write(box->event_fd, &one, sizeof one);
    }
    return true;
}

/* Caller holds inflight_lock. */
static bool
push_locked(struct inflight *box, enum inflight_event event, cJSON *frame)
{
    uint64_t one = 1;
    struct queued_event *queued = malloc(sizeof *queued);
    if (queued == NULL) {
        if (event != INFLIGHT_FRAME) {
            box->unqueued = event;
            box->has_unqueued = true;
            (void)!write(box->event_fd, &one, sizeof one);
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
    (void)!write(box->event_fd, &one, sizeof one);
    return true;
}

bool
inflight_deliver(const char *id, const struct pipe_conn *from, cJSON *frame)
{
    bool delivered = false;
    pthread_mutex_lock(&inflight_lock);
    for (struct inflight *box = inflight_table[bucket_of(id)]; box; box = box->bucket_next) {
        /* A window may only answer the requests sent to it. */
        if (box->conn == from && strcmp(box->id, id) == 0) {
            delivered = push_locked(box, INFLIGHT_FRAME, frame);
            break;
        }
    }
    pthread_mutex_unlock(&inflight_lock);
    return delivered;
}

static void
push_to_all(const struct pipe_conn *conn, enum inflight_event event)
{
    pthread_mutex_lock(&inflight_lock);
    for (size_t i = 0; i < INFLIGHT_BUCKETS; i++)
        for (struct inflight *box = inflight_table[i]; box; box = box->bucket_next)
            if (conn == NULL || box->conn == conn)
                (void)push_locked(box, event, NULL);
    pthread_mutex_unlock(&inflight_lock);
}

void
inflight_window_lost(const struct pipe_conn *conn)
{
    push_to_all(conn, INFLIGHT_WINDOW_LOST);
}

static void
create_shutdown_event(void)
{
    inflight_shutdown_event = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

int
inflight_shutdown_fd(void)
{
    pthread_once(&inflight_shutdown_once, create_shutdown_event);
    return inflight_shutdown_event;
}

void
inflight_shutdown_all(void)
{
    uint64_t one = 1;
    int fd = inflight_shutdown_fd();
    pthread_mutex_lock(&inflight_lock);
    inflight_shut_down = true;
    pthread_mutex_unlock(&inflight_lock);
    push_to_all(NULL, INFLIGHT_SHUTDOWN);
    if (fd >= 0)
        (void)!write(fd, &one, sizeof one);   /* never read: stays readable */
}

size_t
inflight_count(void)
{
    pthread_mutex_lock(&inflight_lock);
    size_t total = inflight_total;
    pthread_mutex_unlock(&inflight_lock);
    return total;
}
