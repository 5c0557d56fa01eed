/*
 * usage_store: what each API key spent, per model and hour, shared by every
 * responder and kept across restarts, like the limits: a memory-mapped
 * file on one host (usage_shm.c).  Counted: requests, input and output
 * tokens, errors and premium requests (VS Code's quota counts requests, a
 * multiplier per model; kept in thousandths).  Nothing of a prompt is
 * stored.  Beside the hours, the store keeps each key's requests and tokens
 * per day, so that a budget's period (a day, a week, a month) is checked and
 * counted in one step under the store's lock.
 */
#ifndef LITELLM_USAGE_STORE_H
#define LITELLM_USAGE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "usage_period.h"

#define USAGE_KEY_MAX 64   /* an API key's name (api_keys.h) */
#define USAGE_MODEL_MAX 95 /* longer model ids are cut */
#define USAGE_NO_KEY "-"   /* requests made without a key */

struct usage_counts {
    int64_t requests, input_tokens, output_tokens, errors;
    int64_t premium_milli; /* premium requests x 1000 */
};

/* One bucket: an hour (or, once summed by a reader, a day). */
struct usage_row {
    int64_t start;
    char key[USAGE_KEY_MAX + 1];
    char model[USAGE_MODEL_MAX + 1];
    struct usage_counts counts;
};

struct usage_budget {
    enum usage_period period; /* NONE: no budget */
    long requests, tokens;    /* 0: no limit of that kind */
};

/* What a key used in its budget's period. */
struct usage_spent {
    int64_t requests, tokens;
};

enum usage_admission {
    USAGE_ADMITTED = 0,
    USAGE_OVER_REQUESTS, /* the request budget is used up */
    USAGE_OVER_TOKENS,   /* the token budget is used up */
};

/* One model call, as it is admitted and as it ends. */
struct usage_call {
    const char *key;   /* USAGE_NO_KEY without one */
    const char *model; /* the resolved id, or the name asked for */
    int64_t premium_milli;
    struct usage_budget budget;
    /* At the end: */
    bool admitted; /* counted by admit() already */
    int64_t input_tokens, output_tokens;
    bool error;
};

typedef void usage_row_fn(const struct usage_row *row, void *ctx);

struct usage_store {
    const char *name; /* "shm" */
    /* Counts the call's request and premium in its hour and its key's day,
     * unless its budget is spent: then nothing is counted and `verdict`
     * says which budget.  `spent` (may be NULL): the period's use before
     * this request.  0, or -1 when the store failed (the call goes on). */
    int (*admit)(struct usage_store *store, const struct usage_call *call, int64_t now,
                 enum usage_admission *verdict, struct usage_spent *spent);
    /* Adds the call's tokens and error, and its request when it was never
     * admitted (refused before, or by a limit). */
    int (*finish)(struct usage_store *store, const struct usage_call *call, int64_t now);
    /* Calls `fn` for each hour bucket in [since, until), of `key` only
     * unless NULL.  Rows are copies, valid during the call. */
    int (*read)(struct usage_store *store, int64_t since, int64_t until, const char *key,
                usage_row_fn *fn, void *ctx);
    /* What `key` used in the `period` holding `now`. */
    int (*spent)(struct usage_store *store, const char *key, enum usage_period period, int64_t now,
                 struct usage_spent *out);
    void (*close)(struct usage_store *store);
};

#endif
