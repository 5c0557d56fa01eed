/*
 * metrics_store: the counters behind GET /metrics, shared by every responder
 * process on the host and kept across restarts.
 *
 * Each process claims one slot file, DIR/slot-N (DIR is "metrics" next to
 * --limits-state-file), with flock: a restarted process takes a free slot,
 * usually its old one, so its counters go on growing.  A slot is a fixed
 * table of series (one label set: api, model, requested model, key name,
 * status) with counters and histogram buckets, written only by its owner,
 * with relaxed atomics: recording a request takes no lock.  A new label set
 * takes a process-local lock once.  A full table counts into its overflow
 * series.  A scrape sums every slot file (metrics_store_collect).
 */
#ifndef LITELLM_METRICS_STORE_H
#define LITELLM_METRICS_STORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_SLOTS_MAX 64
#define METRICS_SERIES_MAX 1024 /* per slot; a power of two */
/* Label values are cut to these sizes (with the NUL): the requested model
 * is what any client sends. */
#define METRICS_API_MAX 16
#define METRICS_MODEL_MAX 160
#define METRICS_REQUESTED_MAX 64
#define METRICS_KEY_MAX 72
/* LiteLLM's LATENCY_BUCKETS (seconds), in microseconds; +Inf is the count. */
#define METRICS_BUCKETS 17
extern const int64_t metrics_bucket_bounds_us[METRICS_BUCKETS];

/* The label set of one request. */
struct metrics_labels {
    char api[METRICS_API_MAX];     /* "chat", "messages", "responses" */
    char model[METRICS_MODEL_MAX]; /* the model that answered, or "" */
    char requested_model[METRICS_REQUESTED_MAX];
    char key_alias[METRICS_KEY_MAX]; /* the API key's name, or "" */
    uint32_t status_code;
};

/* No count of its own: it is the sum of the buckets, one atomic add fewer
 * per observation. */
struct metrics_histogram {
    _Atomic uint64_t buckets[METRICS_BUCKETS + 1]; /* each alone; the last: over every bound */
    _Atomic uint64_t sum_us;
};

/* What one request adds. */
struct metrics_sample {
    long input_tokens, output_tokens;
    int64_t latency_us;
    int64_t ttft_us;     /* < 0: no first token */
    int64_t overhead_us; /* < 0: not measured */
};

/* A 429 of the gateway's limiter, by scope and kind. */
enum metrics_scope {
    METRICS_SCOPE_GLOBAL,
    METRICS_SCOPE_KEY,
    METRICS_SCOPE_MODEL,
    METRICS_SCOPE_KEY_MODEL,
    METRICS_SCOPE_COUNT
};
enum metrics_kind {
    METRICS_KIND_REQUESTS,
    METRICS_KIND_TOKENS,
    METRICS_KIND_CONCURRENT,
    METRICS_KIND_COUNT
};
enum metrics_pipe_counter {
    METRICS_PIPE_FRAMES_IN,
    METRICS_PIPE_FRAMES_OUT,
    METRICS_PIPE_ERRORS,
    METRICS_PIPE_COUNT
};

struct metrics_series {
    _Atomic uint32_t ready; /* labels written; set last, read first */
    uint32_t pad;
    uint64_t hash;
    struct metrics_labels labels;
    _Atomic uint64_t requests, input_tokens, output_tokens;
    struct metrics_histogram latency, ttft, overhead;
};

struct metrics_slot {
    uint32_t magic, version, series_capacity, pad;
    _Atomic uint64_t pipe[METRICS_PIPE_COUNT];
    _Atomic uint64_t rate_limited[METRICS_SCOPE_COUNT][METRICS_KIND_COUNT];
    _Atomic uint64_t overflowed; /* requests counted in the overflow series */
    struct metrics_series overflow;
    struct metrics_series series[METRICS_SERIES_MAX];
};

struct metrics_store;

/* Claims a slot in `dir` (created if missing); NULL with `err` on failure. */
struct metrics_store *metrics_store_open(const char *dir, char *err, size_t err_size);
void metrics_store_close(struct metrics_store *store);
/* The slot index claimed, for the log. */
int metrics_store_slot_index(const struct metrics_store *store);

/* Counts one request. */
void metrics_store_record(struct metrics_store *store, const struct metrics_labels *labels,
                          const struct metrics_sample *sample);
void metrics_store_rate_limited(struct metrics_store *store, enum metrics_scope scope,
                                enum metrics_kind kind);
void metrics_store_pipe(struct metrics_store *store, enum metrics_pipe_counter counter);

/* The sum of every slot's series, merged by label set: `rows` (malloc'd,
 * the caller frees) and the fixed counters in `totals`.  `live` counts
 * slots held by a running process (this one included). */
struct metrics_row {
    struct metrics_labels labels;
    uint64_t requests, input_tokens, output_tokens;
    struct metrics_histogram_sum {
        uint64_t buckets[METRICS_BUCKETS], count, sum_us;
    } latency, ttft, overhead;
};
struct metrics_totals {
    uint64_t pipe[METRICS_PIPE_COUNT];
    uint64_t rate_limited[METRICS_SCOPE_COUNT][METRICS_KIND_COUNT];
    uint64_t overflowed;
    unsigned live_slots;
};
int metrics_store_collect(struct metrics_store *store, struct metrics_row **rows, size_t *count,
                          struct metrics_totals *totals);

/* For tests: a table of `capacity` series (a power of two, at most
 * METRICS_SERIES_MAX) makes the overflow easy to reach. */
struct metrics_store *metrics_store_open_capacity(const char *dir, uint32_t capacity, char *err,
                                                  size_t err_size);

#endif
