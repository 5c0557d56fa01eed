/*
 * limits_redis: the limiter's state in Redis, for gateways on several hosts.
 * Each operation is one Lua script, so checking every scope and taking from
 * all of them is atomic; Redis's own clock (TIME) is the one clock of all
 * hosts, and every key expires once its bucket is full again.
 *
 * A Redis that is down must not take the gateway down: operations fall back
 * to the local file store, the outage is logged once, /health reports it,
 * and Redis is tried again every few seconds.
 */
#ifndef LITELLM_RATELIMIT_REDIS_H
#define LITELLM_RATELIMIT_REDIS_H

#include <stdbool.h>

#include "ratelimit.h"

/* `url` is redis://host[:port][/db]; `fallback` is used while Redis is
 * unreachable and is owned (closed) by the Redis store. */
struct limit_store *ratelimit_redis_open(const char *url, struct limit_store *fallback, char *err,
                                         size_t err_size);
/* For /health: NULL while Redis answers, else the last error. */
const char *ratelimit_redis_outage(const struct limit_store *store, char *buf, size_t size);

#endif
