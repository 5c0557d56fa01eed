#include "usage_shm.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "shm_file.h"

#define USAGE_MAGIC 0x4c4c5531u /* "LLU1" */
#define USAGE_VERSION 3u
/* Powers of two.  90 days of hours is 2160 buckets per key and model: the
 * table holds a team's quarter (about 30 key x model pairs used every
 * hour); past that new buckets are not counted and a warning says so. */
#define USAGE_BUCKETS 65536u
#define USAGE_KEY_DAYS 16384u

struct usage_bucket {
    uint64_t hash; /* 0: free */
    int64_t hour;
    char key[USAGE_KEY_MAX + 1];
    char model[USAGE_MODEL_MAX + 1];
    struct usage_counts counts;
};

struct usage_key_day {
    uint64_t hash; /* 0: free */
    int64_t day;
    char key[USAGE_KEY_MAX + 1];
    int64_t requests, tokens;
};

/* shm_file_probe finds both kinds of entry by their hash, first. */
_Static_assert(offsetof(struct usage_bucket, hash) == 0, "a bucket begins with its hash");
_Static_assert(offsetof(struct usage_key_day, hash) == 0, "a key-day begins with its hash");

struct usage_state {
    struct shm_file_header header; /* layout: the two capacities */
    int64_t swept_day;             /* the day of the last sweep */
    uint64_t dropped;              /* counts lost to a full table */
    /* The buckets in use, in the order made: what reads and the sweep
     * visit, so that they touch the pages of used buckets only. */
    uint32_t bucket_count;
    uint32_t used[USAGE_BUCKETS];
    struct usage_bucket buckets[USAGE_BUCKETS];
    struct usage_key_day key_days[USAGE_KEY_DAYS];
};

struct shm_usage_store {
    struct usage_store base;
    struct usage_state *state;
    int64_t retention;
};

static uint64_t
hash_text(uint64_t hash, const char *text)
{
    /* A separator: "a"+"bc" is not "ab"+"c". */
    return (shm_file_hash(hash, text) ^ 0xff) * SHM_FILE_HASH_PRIME;
}

static uint64_t
bucket_hash(const char *key, const char *model, int64_t hour)
{
    uint64_t hash = hash_text(hash_text(SHM_FILE_HASH_START, key), model);
    hash = (hash ^ (uint64_t)hour) * SHM_FILE_HASH_PRIME;
    return hash ? hash : 1;
}

static uint64_t
key_day_hash(const char *key, int64_t day)
{
    uint64_t hash = (hash_text(SHM_FILE_HASH_START, key) ^ (uint64_t)day) * SHM_FILE_HASH_PRIME;
    return hash ? hash : 1;
}

/* What a lookup wants, for shm_file_probe's comparisons. */
struct bucket_wanted {
    const char *key, *model;
    int64_t hour;
};

static bool
bucket_is(const void *slot, const void *wanted)
{
    const struct usage_bucket *bucket = slot;
    const struct bucket_wanted *w = wanted;
    return bucket->hour == w->hour && strcmp(bucket->key, w->key) == 0 &&
           strcmp(bucket->model, w->model) == 0;
}

static struct usage_bucket *
bucket_find(struct usage_state *state, const char *key, const char *model, int64_t hour, bool create)
{
    struct bucket_wanted wanted = { key, model, hour };
    bool created;
    struct usage_bucket *bucket = shm_file_probe(state->buckets, sizeof *state->buckets,
                                                 USAGE_BUCKETS, bucket_hash(key, model, hour),
                                                 bucket_is, &wanted,
                                                 create && state->bucket_count < USAGE_BUCKETS,
                                                 &created);
    if (created) {
        state->used[state->bucket_count++] = (uint32_t)(bucket - state->buckets);
        bucket->hour = hour;
        snprintf(bucket->key, sizeof bucket->key, "%s", key);
        snprintf(bucket->model, sizeof bucket->model, "%s", model);
    }
    return bucket;
}

struct key_day_wanted {
    const char *key;
    int64_t day;
};

static bool
key_day_is(const void *slot, const void *wanted)
{
    const struct usage_key_day *entry = slot;
    const struct key_day_wanted *w = wanted;
    return entry->day == w->day && strcmp(entry->key, w->key) == 0;
}

static struct usage_key_day *
key_day_find(struct usage_state *state, const char *key, int64_t day, bool create)
{
    struct key_day_wanted wanted = { key, day };
    bool created;
    struct usage_key_day *entry = shm_file_probe(state->key_days, sizeof *state->key_days,
                                                 USAGE_KEY_DAYS, key_day_hash(key, day), key_day_is,
                                                 &wanted, create, &created);
    if (created) {
        entry->day = day;
        snprintf(entry->key, sizeof entry->key, "%s", key);
    }
    return entry;
}

/* Rebuilds both tables without the entries older than the retention
 * (open addressing cannot simply blank them: probe chains would break).
 * The retention ends at a midnight, so once a day, by the first count of
 * the day (measured: about 60 ms with 30,000 buckets); skipped, to be tried
 * at the next count, if memory is short. */
static void
sweep(struct shm_usage_store *store, int64_t now)
{
    struct usage_state *state = store->state;
    int64_t day = usage_day_start(now);
    if (state->swept_day == day)
        return;
    int64_t oldest = usage_day_start(now) - store->retention;
    /* The file is shared memory: a count out of range is cut, not trusted. */
    uint32_t count = state->bucket_count < USAGE_BUCKETS ? state->bucket_count : USAGE_BUCKETS;
    struct usage_bucket *buckets = malloc((count ? count : 1) * sizeof *buckets);
    struct usage_key_day *key_days = malloc(sizeof state->key_days);
    if (buckets != NULL && key_days != NULL) {
        for (uint32_t n = 0; n < count; n++) {
            struct usage_bucket *bucket = &state->buckets[state->used[n] & (USAGE_BUCKETS - 1)];
            buckets[n] = *bucket;
            memset(bucket, 0, sizeof *bucket);
        }
        state->bucket_count = 0;
        memcpy(key_days, state->key_days, sizeof state->key_days);
        memset(state->key_days, 0, sizeof state->key_days);
        for (uint32_t n = 0; n < count; n++) {
            const struct usage_bucket *old = &buckets[n];
            if (old->hash == 0 || old->hour < oldest)
                continue;
            char key[USAGE_KEY_MAX + 1], model[USAGE_MODEL_MAX + 1];
            snprintf(key, sizeof key, "%.*s", USAGE_KEY_MAX, old->key);
            snprintf(model, sizeof model, "%.*s", USAGE_MODEL_MAX, old->model);
            struct usage_bucket *kept = bucket_find(state, key, model, old->hour, true);
            if (kept != NULL)
                kept->counts = old->counts;
        }
        for (uint32_t i = 0; i < USAGE_KEY_DAYS; i++) {
            const struct usage_key_day *old = &key_days[i];
            if (old->hash == 0 || old->day < oldest)
                continue;
            char key[USAGE_KEY_MAX + 1];
            snprintf(key, sizeof key, "%.*s", USAGE_KEY_MAX, old->key);
            struct usage_key_day *kept = key_day_find(state, key, old->day, true);
            if (kept != NULL) {
                kept->requests = old->requests;
                kept->tokens = old->tokens;
            }
        }
        state->swept_day = day;
    }
    free(buckets);
    free(key_days);
}

static void
period_spent(struct usage_state *state, const char *key, enum usage_period period, int64_t now,
             struct usage_spent *out)
{
    int64_t start, end;
    usage_period_bounds(period, now, &start, &end);
    out->requests = out->tokens = 0;
    for (int64_t day = start; day < end && day <= now; day += USAGE_DAY) {
        const struct usage_key_day *entry = key_day_find(state, key, day, false);
        if (entry != NULL) {
            out->requests += entry->requests;
            out->tokens += entry->tokens;
        }
    }
}

static int
shm_admit(struct usage_store *base, const struct usage_call *call, int64_t now,
          enum usage_admission *verdict, struct usage_spent *spent)
{
    struct shm_usage_store *store = (struct shm_usage_store *)base;
    struct usage_state *state = store->state;
    int rc = 0;
    *verdict = USAGE_ADMITTED;
    shm_file_lock(&state->header);
    sweep(store, now);
    struct usage_spent used = { 0, 0 };
    if (call->budget.period != USAGE_PERIOD_NONE) {
        period_spent(state, call->key, call->budget.period, now, &used);
        if (call->budget.requests > 0 && used.requests >= call->budget.requests)
            *verdict = USAGE_OVER_REQUESTS;
        else if (call->budget.tokens > 0 && used.tokens >= call->budget.tokens)
            *verdict = USAGE_OVER_TOKENS;
    }
    if (*verdict == USAGE_ADMITTED) {
        struct usage_bucket *bucket = bucket_find(state, call->key, call->model,
                                                  usage_hour_start(now), true);
        struct usage_key_day *day = key_day_find(state, call->key, usage_day_start(now), true);
        if (bucket != NULL) {
            bucket->counts.requests++;
            bucket->counts.premium_milli += call->premium_milli;
        }
        if (day != NULL)
            day->requests++;
        if (bucket == NULL || day == NULL) {
            state->dropped++;
            rc = -1;
        }
    }
    shm_file_unlock(&state->header);
    if (spent != NULL)
        *spent = used;
    return rc;
}

static int
shm_finish(struct usage_store *base, const struct usage_call *call, int64_t now)
{
    struct shm_usage_store *store = (struct shm_usage_store *)base;
    struct usage_state *state = store->state;
    int rc = 0;
    shm_file_lock(&state->header);
    sweep(store, now);
    struct usage_bucket *bucket = bucket_find(state, call->key, call->model, usage_hour_start(now),
                                              true);
    struct usage_key_day *day = key_day_find(state, call->key, usage_day_start(now), true);
    if (bucket != NULL) {
        if (!call->admitted) {
            bucket->counts.requests++;
            bucket->counts.premium_milli += call->premium_milli;
        }
        bucket->counts.input_tokens += call->input_tokens;
        bucket->counts.output_tokens += call->output_tokens;
        bucket->counts.errors += call->error;
    }
    if (day != NULL) {
        /* A refused request spent nothing of a budget. */
        day->tokens += call->input_tokens + call->output_tokens;
    }
    if (bucket == NULL || day == NULL) {
        state->dropped++;
        rc = -1;
    }
    shm_file_unlock(&state->header);
    return rc;
}

static int
shm_read(struct usage_store *base, int64_t since, int64_t until, const char *key, usage_row_fn *fn,
         void *ctx)
{
    struct shm_usage_store *store = (struct shm_usage_store *)base;
    struct usage_state *state = store->state;
    /* Rows are copied out under the lock and reported after it, so that a
     * slow reader never holds up the counting. */
    size_t count = 0, capacity = 0;
    struct usage_row *rows = NULL;
    int rc = 0;
    shm_file_lock(&state->header);
    uint32_t used = state->bucket_count < USAGE_BUCKETS ? state->bucket_count : USAGE_BUCKETS;
    for (uint32_t n = 0; n < used && rc == 0; n++) {
        const struct usage_bucket *bucket = &state->buckets[state->used[n] & (USAGE_BUCKETS - 1)];
        if (bucket->hash == 0 || bucket->hour < since || bucket->hour >= until)
            continue;
        if (key != NULL && strncmp(bucket->key, key, sizeof bucket->key) != 0)
            continue;
        if (count == capacity) {
            size_t grown = capacity ? capacity * 2 : 64;
            struct usage_row *more = realloc(rows, grown * sizeof *more);
            if (more == NULL) {
                rc = -1;
                break;
            }
            rows = more;
            capacity = grown;
        }
        struct usage_row *row = &rows[count++];
        row->start = bucket->hour;
        /* The file is another process's memory: never trust a NUL in it. */
        memcpy(row->key, bucket->key, sizeof row->key);
        row->key[USAGE_KEY_MAX] = '\0';
        memcpy(row->model, bucket->model, sizeof row->model);
        row->model[USAGE_MODEL_MAX] = '\0';
        row->counts = bucket->counts;
    }
    shm_file_unlock(&state->header);
    for (size_t i = 0; i < count && rc == 0; i++)
        fn(&rows[i], ctx);
    free(rows);
    return rc;
}

static int
shm_spent(struct usage_store *base, const char *key, enum usage_period period, int64_t now,
          struct usage_spent *out)
{
    struct shm_usage_store *store = (struct shm_usage_store *)base;
    shm_file_lock(&store->state->header);
    period_spent(store->state, key, period, now, out);
    shm_file_unlock(&store->state->header);
    return 0;
}

static void
shm_close(struct usage_store *base)
{
    struct shm_usage_store *store = (struct shm_usage_store *)base;
    munmap(store->state, sizeof *store->state);
    free(store);
}

struct usage_store *
usage_shm_open(const char *path, unsigned retention_days, char *err, size_t err_size)
{
    struct usage_state *state = shm_file_map(path, sizeof *state, USAGE_MAGIC, USAGE_VERSION,
                                             (uint64_t)USAGE_BUCKETS << 32 | USAGE_KEY_DAYS,
                                             "usage state", err, err_size);
    if (state == NULL)
        return NULL;
    struct shm_usage_store *store = calloc(1, sizeof *store);
    if (store == NULL) {
        munmap(state, sizeof *state);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    store->state = state;
    store->retention = (int64_t)(retention_days ? retention_days : 1) * USAGE_DAY;
    store->base = (struct usage_store){
        .name = "shm",
        .admit = shm_admit,
        .finish = shm_finish,
        .read = shm_read,
        .spent = shm_spent,
        .close = shm_close,
    };
    return &store->base;
}
