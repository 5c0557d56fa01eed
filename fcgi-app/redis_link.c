#include "redis_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include "clock.h"
#include "log.h"

static void
free_connection(void *context)
{
    redisFree(context);
}

static void
mark_down(struct redis_link *link, const char *why)
{
    pthread_mutex_lock(&link->error_lock);
    snprintf(link->last_error, sizeof link->last_error, "%s", why);
    pthread_mutex_unlock(&link->error_lock);
    atomic_store(&link->down_until_ms, clock_monotonic_ms() + REDIS_LINK_RETRY_S * 1000);
    if (!atomic_exchange(&link->down, true))
        log_error("%s: Redis at %s:%d is unreachable (%s); %s until it is back", link->who,
                  link->address.host, link->address.port, why, link->fallback);
}

void
redis_link_succeeded(struct redis_link *link)
{
    if (atomic_exchange(&link->down, false))
        log_info("%s: Redis at %s:%d is back; %s", link->who, link->address.host,
                 link->address.port, link->back);
}

/* This thread's connection; `*reused` says whether it was made before this
 * call (and may have been cut since, by a Redis restart). */
static redisContext *
connection(struct redis_link *link, bool *reused)
{
    if (atomic_load(&link->down) && clock_monotonic_ms() < atomic_load(&link->down_until_ms))
        return NULL;
    redisContext *context = pthread_getspecific(link->connection_key);
    *reused = context != NULL;
    if (context != NULL)
        return context;
    struct timeval timeout = { .tv_sec = 0, .tv_usec = REDIS_LINK_TIMEOUT_MS * 1000 };
    context = redisConnectWithTimeout(link->address.host, link->address.port, timeout);
    if (context == NULL || context->err) {
        mark_down(link, context ? context->errstr : "out of memory");
        redisFree(context);
        return NULL;
    }
    if (redisSetTimeout(context, timeout) != REDIS_OK) {
        mark_down(link, "cannot set a timeout");
        redisFree(context);
        return NULL;
    }
    if (link->address.db > 0) {
        redisReply *reply = redisCommand(context, "SELECT %d", link->address.db);
        bool ok = reply != NULL && reply->type != REDIS_REPLY_ERROR;
        freeReplyObject(reply);
        if (!ok) {
            mark_down(link, "SELECT failed");
            redisFree(context);
            return NULL;
        }
    }
    if (pthread_setspecific(link->connection_key, context) != 0) {
        redisFree(context);
        return NULL;
    }
    return context;
}

redisContext *
redis_link_connection(struct redis_link *link, bool *reused)
{
    return connection(link, reused);
}

void
redis_link_drop(struct redis_link *link, redisContext *context, bool down)
{
    if (down)
        mark_down(link, context->errstr[0] ? context->errstr : "no reply");
    pthread_setspecific(link->connection_key, NULL);
    redisFree(context);
}

redisReply *
redis_link_command(struct redis_link *link, int argc, const char **argv, const size_t *argv_len)
{
    for (;;) {
        bool reused;
        redisContext *context = connection(link, &reused);
        if (context == NULL)
            return NULL;
        redisReply *reply = redisCommandArgv(context, argc, argv, argv_len);
        if (reply != NULL && reply->type != REDIS_REPLY_ERROR) {
            redis_link_succeeded(link);
            return reply;
        }
        char why[256];
        snprintf(why, sizeof why, "%s", reply ? reply->str : context->errstr);
        freeReplyObject(reply);
        if (reply == NULL) {
            pthread_setspecific(link->connection_key, NULL);
            redisFree(context);
            /* Every thread keeps a connection, and after a Redis restart each
             * finds its own cut at its next use ("Server closed the
             * connection"): try once more on a new one before calling Redis
             * down, which would send every thread to the fallback. */
            if (reused)
                continue;
        }
        mark_down(link, why);
        return NULL;
    }
}

const char *
redis_link_outage(struct redis_link *link, char *buf, size_t size)
{
    if (!atomic_load(&link->down))
        return NULL;
    pthread_mutex_lock(&link->error_lock);
    snprintf(buf, size, "%s", link->last_error);
    pthread_mutex_unlock(&link->error_lock);
    return buf;
}

int
redis_link_open(struct redis_link *link, const char *url, const char *who, const char *fallback,
                const char *back, char *err, size_t err_size)
{
    if (redis_url_parse(url, &link->address, err, err_size) != 0)
        return -1;
    if (pthread_key_create(&link->connection_key, free_connection) != 0) {
        free(link->address.host);
        snprintf(err, err_size, "cannot create a thread key");
        return -1;
    }
    pthread_mutex_init(&link->error_lock, NULL);
    link->who = who;
    link->fallback = fallback;
    link->back = back;
    atomic_init(&link->down_until_ms, 0);
    atomic_init(&link->down, false);
    return 0;
}

void *
redis_link_new_store(size_t size, size_t link_offset, const char *url, const char *who,
                     const char *fallback, const char *back, char *err, size_t err_size)
{
    char *store = calloc(1, size);
    if (store == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (redis_link_open((struct redis_link *)(store + link_offset), url, who, fallback, back, err,
                        err_size) != 0) {
        free(store);
        return NULL;
    }
    return store;
}

long long
redis_link_reply_integer(const redisReply *reply, size_t index)
{
    if (reply->type != REDIS_REPLY_ARRAY || index >= reply->elements)
        return 0;
    const redisReply *item = reply->element[index];
    return item->type == REDIS_REPLY_INTEGER ? item->integer : 0;
}

void
redis_link_close(struct redis_link *link)
{
    /* Other threads' connections were freed as they exited (the key's
     * destructor); this thread's is freed here. */
    redisContext *context = pthread_getspecific(link->connection_key);
    if (context != NULL) {
        pthread_setspecific(link->connection_key, NULL);
        redisFree(context);
    }
    pthread_key_delete(link->connection_key);
    pthread_mutex_destroy(&link->error_lock);
    free(link->address.host);
}
