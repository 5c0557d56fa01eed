/*
 * usage_redis: the usage store in Redis, for gateways on several hosts
 * (--limits-store redis://...).  One hash per hour,
 * litellm:usage:h:<hour>, with a field per key, model and counter
 * ("alice\tgpt-4o\tr": requests; i, o, e, p: input and output tokens,
 * errors, premium thousandths), and one per day, litellm:usage:d:<day>, with
 * each key's requests and tokens ("alice\tr", "alice\tt") for budgets; each
 * expires after the retention.  Admission is one Lua script: the budget's
 * days summed and the request counted atomically.
 *
 * A Redis that is down must not take the gateway down: every operation
 * falls back to the file store (as the limits do), and Redis is tried again
 * every few seconds.
 */
#ifndef LITELLM_USAGE_REDIS_H
#define LITELLM_USAGE_REDIS_H

#include <stddef.h>

#include "usage_store.h"

/* One field of an hour's hash and its value, as read back from Redis (any
 * host, or anything else with access to it, may have written them). */
struct usage_redis_field {
    char key[USAGE_KEY_MAX + 1];
    char model[USAGE_MODEL_MAX + 1];
    char counter; /* 'r', 'i', 'o', 'e' or 'p' */
    long long value;
};

/* "key\tmodel\tcounter" = a decimal >= 0, each `len` bytes (no NUL needed):
 * 0 and `out`, or -1 for anything else (skipped by the reader). */
int usage_redis_parse_field(const char *field, size_t field_len, const char *value,
                            size_t value_len, struct usage_redis_field *out);

/* `fallback` (may be NULL for a reader) is owned by the Redis store. */
struct usage_store *usage_redis_open(const char *url, unsigned retention_days,
                                     struct usage_store *fallback, char *err, size_t err_size);

#endif
