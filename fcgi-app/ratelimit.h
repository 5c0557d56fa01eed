/*
 * limits: the gateway's shared rate limits.  Requests per minute, tokens per
 * minute and concurrent requests, each for up to four scopes of a request:
 * global, its API key, its model, and key x model.
 *
 * Algorithm: GCRA (the generic cell rate algorithm, a leaky bucket kept as
 * one timestamp, the "theoretical arrival time").  A limit of L per minute
 * lets a burst of L through at once and then one every 60/L seconds, with
 * no fixed-window edge where 2L could pass.  Tokens work the same way with
 * a request's cost being its reserved tokens; the reservation (prompt
 * estimate + max_tokens or a default) is corrected with the real usage when
 * the reply ends.
 *
 * The state lives in a store shared by every responder: a memory-mapped
 * file for processes on one host (limits_shm.c), or Redis for several hosts
 * (limits_redis.c), which falls back to the file while Redis is down.
 */
#ifndef LITELLM_RATELIMIT_H
#define LITELLM_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define LIMIT_MAX_SCOPES 4
#define LIMIT_PERIOD_NS (60LL * 1000000000LL)
#define LIMIT_SCOPE_KEY_MAX 112

struct limit_rule {
    long rpm, tpm, concurrent; /* 0: no limit */
};

struct limit_scope {
    char key[LIMIT_SCOPE_KEY_MAX]; /* "global", "key:alice", "model:gpt-4o", ... */
    struct limit_rule rule;
};

struct limit_request {
    struct limit_scope scopes[LIMIT_MAX_SCOPES];
    size_t scope_count;
    long tokens;         /* reserved at admission */
    char lease[72];      /* the request id: names its concurrency slot */
    bool local_fallback; /* Redis was down: admitted by the file store */
    /* The limit that refused it with a 429 (ratelimit_policy_admit), for
     * metrics: "global", "key", "model", "key_model" and "requests",
     * "tokens", "concurrent"; NULL when admitted. */
    const char *refused_scope, *refused_kind;
};

enum limit_kind { LIMIT_REQUESTS = 0, LIMIT_TOKENS, LIMIT_CONCURRENT };

/* What x-ratelimit-* headers say: the tightest scope of each kind. */
struct limit_status {
    bool has_requests, has_tokens;
    long limit_requests, remaining_requests;
    int64_t reset_requests_ns;
    long limit_tokens, remaining_tokens;
    int64_t reset_tokens_ns;
};

struct limit_verdict {
    bool allowed;
    enum limit_kind kind;   /* which limit refused */
    size_t scope;           /* and in which scope */
    int64_t retry_after_ns; /* < 0: never (larger than the limit) */
    struct limit_status status;
    long in_flight; /* peek only: requests holding a slot */
};

/* A store keeps the shared state; see limits_shm.c and limits_redis.c. */
struct limit_store {
    const char *name;
    int (*admit)(struct limit_store *store, struct limit_request *req, int64_t now_ns,
                 struct limit_verdict *verdict);
    /* Corrects a reservation by `delta` tokens (negative: gives back). */
    void (*adjust_tokens)(struct limit_store *store, const struct limit_request *req, long delta,
                          int64_t now_ns);
    void (*release)(struct limit_store *store, const struct limit_request *req);
    /* Current use of one scope, for /health. */
    int (*peek)(struct limit_store *store, const struct limit_scope *scope, int64_t now_ns,
                struct limit_verdict *use);
    void (*close)(struct limit_store *store);
};

/* --- the GCRA arithmetic, shared by the stores ----------------------- */

/* One dimension of one scope: `tat` is its stored arrival time. */
struct gcra_result {
    bool allowed;
    int64_t new_tat;        /* store it when every check passed */
    int64_t retry_after_ns; /* when refused; < 0 never */
    long remaining;
    int64_t reset_ns;
};

void gcra_check(int64_t tat, int64_t now_ns, long limit_per_minute, long cost,
                struct gcra_result *out);
/* Keeps the tightest limit of each kind in `status`. */
void limit_status_merge(struct limit_status *status, enum limit_kind kind, long limit,
                        long remaining, int64_t reset_ns);

/* "6m0s", "1.5s", "20ms": the Go duration format OpenAI's headers use. */
void limit_format_duration(int64_t ns, char *out, size_t size);
/* "requests per minute"; singular when `limit` is 1. */
const char *limit_kind_name(enum limit_kind kind, long limit);

int64_t limit_now_ns(void);

#endif
