/*
 * redis_link: a store's way to Redis (the limiter's, the usage store's).
 * One connection per thread, since a hiredis context is not thread-safe; a
 * short timeout; after a failure Redis counts as down for a few seconds, so
 * that requests go to the store's fallback at once instead of each waiting
 * out the timeout; one log line when Redis goes and one when it is back.
 */
#ifndef LITELLM_REDIS_LINK_H
#define LITELLM_REDIS_LINK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "redis_url.h"

#define REDIS_LINK_TIMEOUT_MS 300
#define REDIS_LINK_RETRY_S 5

struct redis_link {
    struct redis_address address;
    const char *who;            /* the log lines' prefix: "limits", "usage" */
    const char *fallback;       /* what happens while it is down, for the log */
    const char *back;           /* and once it is back */
    atomic_llong down_until_ms; /* monotonic: skip Redis until then */
    atomic_bool down;
    pthread_mutex_t error_lock;
    char last_error[256];
    pthread_key_t connection_key;
};

/* Parses `url` (redis_url.h); 0, or -1 with a reason in `err`. */
int redis_link_open(struct redis_link *link, const char *url, const char *who, const char *fallback,
                    const char *back, char *err, size_t err_size);
void redis_link_close(struct redis_link *link);

/* One command; NULL (and Redis marked down) on any failure.  A connection
 * cut since its last use (a Redis restart) is replaced once. */
redisReply *redis_link_command(struct redis_link *link, int argc, const char **argv,
                               const size_t *argv_len);

/* For pipelines: this thread's connection (NULL: down), `*reused` when it
 * was made before (and may have been cut since); then, when a reply on it
 * failed, drop it (marking Redis down unless the caller tries once more on
 * a new one), or when every reply came, say so. */
redisContext *redis_link_connection(struct redis_link *link, bool *reused);
void redis_link_drop(struct redis_link *link, redisContext *context, bool mark_down);
void redis_link_succeeded(struct redis_link *link);

/* A store of `size` zeroed bytes whose struct redis_link, at `link_offset`,
 * is open on `url` (redis_link_open's other arguments); NULL with a reason
 * in `err`.  The caller's to free, after redis_link_close. */
void *redis_link_new_store(size_t size, size_t link_offset, const char *url, const char *who,
                           const char *fallback, const char *back, char *err, size_t err_size);

/* Element `index` of an array reply as an integer; 0 when it is not one. */
long long redis_link_reply_integer(const redisReply *reply, size_t index);

/* Why Redis is down, into `buf`; NULL while it is up. */
const char *redis_link_outage(struct redis_link *link, char *buf, size_t size);

#endif
