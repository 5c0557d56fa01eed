#include "metrics_store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLOT_MAGIC 0x4c4d5431u /* "LMT1" */
#define SLOT_VERSION 2u

const int64_t metrics_bucket_bounds_us[METRICS_BUCKETS] = {
    5000,    10000,    25000,    50000,    100000,    250000,    500000,    1000000,   2000000,
    5000000, 10000000, 30000000, 60000000, 120000000, 300000000, 420000000, 600000000,
};

struct metrics_store {
    char *dir;
    int fd; /* holds the slot's flock for the process's life */
    int index;
    struct metrics_slot *slot;
    /* Taken only to add a label set: readers never take it. */
    pthread_mutex_t create_lock;
};

static uint64_t
hash_bytes(uint64_t hash, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        hash = (hash ^ p[i]) * 1099511628211ULL; /* FNV-1a */
    return hash;
}

static uint64_t
labels_hash(const struct metrics_labels *labels)
{
    uint64_t hash = 1469598103934665603ULL;
    hash = hash_bytes(hash, labels->api, strlen(labels->api) + 1);
    hash = hash_bytes(hash, labels->model, strlen(labels->model) + 1);
    hash = hash_bytes(hash, labels->requested_model, strlen(labels->requested_model) + 1);
    hash = hash_bytes(hash, labels->key_alias, strlen(labels->key_alias) + 1);
    hash = hash_bytes(hash, &labels->status_code, sizeof labels->status_code);
    return hash ? hash : 1;
}

static bool
labels_equal(const struct metrics_labels *a, const struct metrics_labels *b)
{
    return a->status_code == b->status_code && strcmp(a->api, b->api) == 0 &&
           strcmp(a->model, b->model) == 0 && strcmp(a->requested_model, b->requested_model) == 0 &&
           strcmp(a->key_alias, b->key_alias) == 0;
}

/* A slot file's bytes for `capacity` series. */
static size_t
slot_size(uint32_t capacity)
{
    return offsetof(struct metrics_slot, series) + (size_t)capacity * sizeof(struct metrics_series);
}

static bool
slot_valid(const struct metrics_slot *slot, size_t file_size)
{
    return file_size >= offsetof(struct metrics_slot, series) &&
           __atomic_load_n(&slot->magic, __ATOMIC_ACQUIRE) == SLOT_MAGIC &&
           slot->version == SLOT_VERSION && slot->series_capacity > 0 &&
           slot->series_capacity <= METRICS_SERIES_MAX &&
           (slot->series_capacity & (slot->series_capacity - 1)) == 0 &&
           file_size >= slot_size(slot->series_capacity);
}

static void
slot_path(const char *dir, int index, char *path, size_t size)
{
    snprintf(path, size, "%s/slot-%d", dir, index);
}

/* Opens slot `index` and takes its lock; -1 when another process holds it
 * (errno EWOULDBLOCK) or on an error. */
static int
claim_slot(const char *dir, int index)
{
    char path[4096];
    slot_path(dir, index, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Maps the claimed slot; a file of another layout (or a new one) starts
 * from zero. */
static struct metrics_slot *
map_slot(int fd, uint32_t capacity, char *err, size_t err_size)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, err_size, "metrics slot: %s", strerror(errno));
        return NULL;
    }
    size_t size = slot_size(capacity);
    bool reuse = false;
    if ((size_t)st.st_size == size) {
        struct metrics_slot *old = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
        if (old != MAP_FAILED) {
            reuse = slot_valid(old, size) && old->series_capacity == capacity;
            munmap(old, size);
        }
    }
    /* Never shorter than the header meanwhile: a scraper may have it mapped. */
    if (!reuse && ftruncate(fd, (off_t)size) != 0) {
        snprintf(err, err_size, "metrics slot: cannot size it: %s", strerror(errno));
        return NULL;
    }
    struct metrics_slot *slot = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (slot == MAP_FAILED) {
        snprintf(err, err_size, "metrics slot: cannot map it: %s", strerror(errno));
        return NULL;
    }
    if (!reuse) {
        /* Invalid first, so a scraper skips the slot while it is cleared. */
        __atomic_store_n(&slot->magic, 0, __ATOMIC_RELEASE);
        memset((char *)slot + sizeof slot->magic, 0, size - sizeof slot->magic);
        slot->series_capacity = capacity;
        slot->version = SLOT_VERSION;
        snprintf(slot->overflow.labels.model, sizeof slot->overflow.labels.model, "%s",
                 "(overflow)");
        snprintf(slot->overflow.labels.requested_model,
                 sizeof slot->overflow.labels.requested_model, "%s", "(overflow)");
        atomic_store(&slot->overflow.ready, 1);
        /* Last: a scraper that sees the magic sees the rest. */
        __atomic_store_n(&slot->magic, SLOT_MAGIC, __ATOMIC_RELEASE);
    }
    return slot;
}

struct metrics_store *
metrics_store_open_capacity(const char *dir, uint32_t capacity, char *err, size_t err_size)
{
    if (capacity == 0 || capacity > METRICS_SERIES_MAX || (capacity & (capacity - 1)) != 0) {
        snprintf(err, err_size, "metrics: series capacity %u is not a power of two up to %u",
                 capacity, METRICS_SERIES_MAX);
        return NULL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_size, "metrics: cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    int fd = -1, index;
    for (index = 0; index < METRICS_SLOTS_MAX; index++) {
        fd = claim_slot(dir, index);
        if (fd >= 0)
            break;
        if (errno != EWOULDBLOCK) {
            snprintf(err, err_size, "metrics: cannot open a slot in %s: %s", dir, strerror(errno));
            return NULL;
        }
    }
    if (fd < 0) {
        snprintf(err, err_size, "metrics: all %d slots in %s are held by running processes",
                 METRICS_SLOTS_MAX, dir);
        return NULL;
    }
    struct metrics_store *store = calloc(1, sizeof *store);
    if (store == NULL || (store->dir = strdup(dir)) == NULL) {
        snprintf(err, err_size, "metrics: out of memory");
        free(store);
        close(fd);
        return NULL;
    }
    store->slot = map_slot(fd, capacity, err, err_size);
    if (store->slot == NULL) {
        free(store->dir);
        free(store);
        close(fd);
        return NULL;
    }
    store->fd = fd;
    store->index = index;
    pthread_mutex_init(&store->create_lock, NULL);
    return store;
}

struct metrics_store *
metrics_store_open(const char *dir, char *err, size_t err_size)
{
    return metrics_store_open_capacity(dir, METRICS_SERIES_MAX, err, err_size);
}

void
metrics_store_close(struct metrics_store *store)
{
    if (store == NULL)
        return;
    munmap(store->slot, slot_size(store->slot->series_capacity));
    close(store->fd); /* frees the slot for the next process */
    pthread_mutex_destroy(&store->create_lock);
    free(store->dir);
    free(store);
}

int
metrics_store_slot_index(const struct metrics_store *store)
{
    return store->index;
}

/* The series of `labels`, or NULL once the table is full.  Lock-free when
 * it exists; the owner alone writes, so a creator under the process lock
 * races only with readers, who ignore a series until `ready`. */
static struct metrics_series *
series_find(struct metrics_store *store, const struct metrics_labels *labels, uint64_t hash)
{
    struct metrics_slot *slot = store->slot;
    uint32_t mask = slot->series_capacity - 1;
    for (uint32_t probe = 0; probe <= mask; probe++) {
        struct metrics_series *series = &slot->series[(hash + probe) & mask];
        if (!atomic_load_explicit(&series->ready, memory_order_acquire))
            return NULL; /* chains have no holes: not there */
        if (series->hash == hash && labels_equal(&series->labels, labels))
            return series;
    }
    return NULL;
}

static struct metrics_series *
series_create(struct metrics_store *store, const struct metrics_labels *labels, uint64_t hash)
{
    struct metrics_slot *slot = store->slot;
    uint32_t mask = slot->series_capacity - 1;
    struct metrics_series *found = NULL;
    pthread_mutex_lock(&store->create_lock);
    for (uint32_t probe = 0; probe <= mask; probe++) {
        struct metrics_series *series = &slot->series[(hash + probe) & mask];
        if (!atomic_load_explicit(&series->ready, memory_order_acquire)) {
            series->hash = hash;
            series->labels = *labels;
            atomic_store_explicit(&series->ready, 1, memory_order_release);
            found = series;
            break;
        }
        if (series->hash == hash && labels_equal(&series->labels, labels)) {
            found = series;
            break;
        }
    }
    pthread_mutex_unlock(&store->create_lock);
    return found;
}

static void
observe(struct metrics_histogram *histogram, int64_t us)
{
    if (us < 0)
        return;
    int i = 0;
    while (i < METRICS_BUCKETS && us > metrics_bucket_bounds_us[i])
        i++;
    atomic_fetch_add_explicit(&histogram->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&histogram->sum_us, (uint64_t)us, memory_order_relaxed);
}

static void
add(_Atomic uint64_t *counter, long value)
{
    if (value > 0)
        atomic_fetch_add_explicit(counter, (uint64_t)value, memory_order_relaxed);
}

void
metrics_store_record(struct metrics_store *store, const struct metrics_labels *labels,
                     const struct metrics_sample *sample)
{
    if (store == NULL)
        return;
    uint64_t hash = labels_hash(labels);
    struct metrics_series *series = series_find(store, labels, hash);
    if (series == NULL)
        series = series_create(store, labels, hash);
    if (series == NULL) {
        series = &store->slot->overflow;
        atomic_fetch_add_explicit(&store->slot->overflowed, 1, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&series->requests, 1, memory_order_relaxed);
    add(&series->input_tokens, sample->input_tokens);
    add(&series->output_tokens, sample->output_tokens);
    observe(&series->latency, sample->latency_us);
    observe(&series->ttft, sample->ttft_us);
    observe(&series->overhead, sample->overhead_us);
}

void
metrics_store_rate_limited(struct metrics_store *store, enum metrics_scope scope,
                           enum metrics_kind kind)
{
    if (store != NULL && scope < METRICS_SCOPE_COUNT && kind < METRICS_KIND_COUNT)
        atomic_fetch_add_explicit(&store->slot->rate_limited[scope][kind], 1, memory_order_relaxed);
}

void
metrics_store_pipe(struct metrics_store *store, enum metrics_pipe_counter counter)
{
    if (store != NULL && counter < METRICS_PIPE_COUNT)
        atomic_fetch_add_explicit(&store->slot->pipe[counter], 1, memory_order_relaxed);
}

/* ------------------------------------------------------------ collect */

struct row_list {
    struct metrics_row *rows;
    size_t count, cap;
};

static void
sum_histogram(struct metrics_histogram_sum *out, const struct metrics_histogram *in)
{
    for (int i = 0; i <= METRICS_BUCKETS; i++) {
        uint64_t n = atomic_load_explicit(&in->buckets[i], memory_order_relaxed);
        if (i < METRICS_BUCKETS)
            out->buckets[i] += n;
        out->count += n;
    }
    out->sum_us += atomic_load_explicit(&in->sum_us, memory_order_relaxed);
}

static void
sum_series(struct metrics_row *row, const struct metrics_series *series)
{
    row->requests += atomic_load_explicit(&series->requests, memory_order_relaxed);
    row->input_tokens += atomic_load_explicit(&series->input_tokens, memory_order_relaxed);
    row->output_tokens += atomic_load_explicit(&series->output_tokens, memory_order_relaxed);
    sum_histogram(&row->latency, &series->latency);
    sum_histogram(&row->ttft, &series->ttft);
    sum_histogram(&row->overhead, &series->overhead);
}

static int
rows_add(struct row_list *list, const struct metrics_series *series)
{
    if (!atomic_load_explicit(&series->ready, memory_order_acquire) ||
        atomic_load_explicit(&series->requests, memory_order_relaxed) == 0)
        return 0;
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        struct metrics_row *rows = realloc(list->rows, cap * sizeof *rows);
        if (rows == NULL)
            return -1;
        list->rows = rows;
        list->cap = cap;
    }
    struct metrics_row *row = &list->rows[list->count++];
    memset(row, 0, sizeof *row);
    row->labels = series->labels;
    /* Another process's slot is read as it is: cut every label to its
     * field, whatever the file holds. */
    row->labels.api[METRICS_API_MAX - 1] = '\0';
    row->labels.model[METRICS_MODEL_MAX - 1] = '\0';
    row->labels.requested_model[METRICS_REQUESTED_MAX - 1] = '\0';
    row->labels.key_alias[METRICS_KEY_MAX - 1] = '\0';
    sum_series(row, series);
    return 0;
}

static void
sum_fixed(struct metrics_totals *totals, const struct metrics_slot *slot)
{
    for (int i = 0; i < METRICS_PIPE_COUNT; i++)
        totals->pipe[i] += atomic_load_explicit(&slot->pipe[i], memory_order_relaxed);
    for (int s = 0; s < METRICS_SCOPE_COUNT; s++)
        for (int k = 0; k < METRICS_KIND_COUNT; k++)
            totals->rate_limited[s][k] += atomic_load_explicit(&slot->rate_limited[s][k],
                                                               memory_order_relaxed);
    totals->overflowed += atomic_load_explicit(&slot->overflowed, memory_order_relaxed);
}

static int
collect_slot(struct row_list *list, struct metrics_totals *totals, const struct metrics_slot *slot)
{
    sum_fixed(totals, slot);
    if (rows_add(list, &slot->overflow) != 0)
        return -1;
    for (uint32_t i = 0; i < slot->series_capacity; i++)
        if (rows_add(list, &slot->series[i]) != 0)
            return -1;
    return 0;
}

/* Another process's slot, mapped read-only for the scrape; whether a
 * process still holds it is its flock. */
static int
collect_other(struct row_list *list, struct metrics_totals *totals, const char *dir, int index)
{
    char path[4096];
    slot_path(dir, index, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0)
        totals->live_slots++;
    else
        flock(fd, LOCK_UN);
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) == 0 && (size_t)st.st_size >= offsetof(struct metrics_slot, series)) {
        size_t size = (size_t)st.st_size;
        struct metrics_slot *slot = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
        if (slot != MAP_FAILED) {
            if (slot_valid(slot, size))
                rc = collect_slot(list, totals, slot);
            munmap(slot, size);
        }
    }
    close(fd);
    return rc;
}

static int
compare_labels(const struct metrics_labels *a, const struct metrics_labels *b)
{
    int c;
    if ((c = strcmp(a->api, b->api)) != 0 || (c = strcmp(a->model, b->model)) != 0 ||
        (c = strcmp(a->requested_model, b->requested_model)) != 0 ||
        (c = strcmp(a->key_alias, b->key_alias)) != 0)
        return c;
    return (a->status_code > b->status_code) - (a->status_code < b->status_code);
}

static int
compare_rows(const void *a, const void *b)
{
    return compare_labels(&((const struct metrics_row *)a)->labels,
                          &((const struct metrics_row *)b)->labels);
}

static void
merge_histogram(struct metrics_histogram_sum *into, const struct metrics_histogram_sum *from)
{
    for (int i = 0; i < METRICS_BUCKETS; i++)
        into->buckets[i] += from->buckets[i];
    into->count += from->count;
    into->sum_us += from->sum_us;
}

/* Sorted by labels, with one row per label set. */
static size_t
merge_rows(struct metrics_row *rows, size_t count)
{
    if (count == 0)
        return 0;
    qsort(rows, count, sizeof *rows, compare_rows);
    size_t out = 0;
    for (size_t i = 1; i < count; i++) {
        struct metrics_row *last = &rows[out];
        if (compare_labels(&last->labels, &rows[i].labels) == 0) {
            last->requests += rows[i].requests;
            last->input_tokens += rows[i].input_tokens;
            last->output_tokens += rows[i].output_tokens;
            merge_histogram(&last->latency, &rows[i].latency);
            merge_histogram(&last->ttft, &rows[i].ttft);
            merge_histogram(&last->overhead, &rows[i].overhead);
        } else {
            rows[++out] = rows[i];
        }
    }
    return out + 1;
}

int
metrics_store_collect(struct metrics_store *store, struct metrics_row **rows, size_t *count,
                      struct metrics_totals *totals)
{
    struct row_list list = { 0 };
    memset(totals, 0, sizeof *totals);
    *rows = NULL;
    *count = 0;
    if (store == NULL)
        return 0;
    totals->live_slots = 1;
    int rc = collect_slot(&list, totals, store->slot);
    for (int i = 0; i < METRICS_SLOTS_MAX && rc == 0; i++)
        if (i != store->index)
            rc = collect_other(&list, totals, store->dir, i);
    if (rc != 0) {
        free(list.rows);
        return -1;
    }
    *rows = list.rows;
    *count = merge_rows(list.rows, list.count);
    return 0;
}
