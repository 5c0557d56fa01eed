#include "ratelimit_redis.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "log.h"
#include "redis_link.h"

#define REDIS_KEY_PREFIX "litellm:"

/* All times in the scripts are milliseconds: Lua 5.1 prints numbers with 14
 * significant digits, enough for milliseconds since 1970, not for less. */
static const char admit_script[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local P = 60000\n"
    "local cost = tonumber(ARGV[1])\n"
    "local lease, ttl = ARGV[2], tonumber(ARGV[3])\n"
    "local st = {-1, 0, 0, -1, 0, 0}\n"
    "local function merge(base, limit, rem, reset)\n"
    "  if st[base] < 0 or rem < st[base + 1] then st[base] = limit; st[base + 1] = rem; st[base + 2] = reset end\n"
    "end\n"
    "local function gcra(tat, limit, c)\n"
    "  local interval = P / limit\n"
    "  local start = math.max(tat, now)\n"
    "  if c > limit then return false, tat, -1, math.floor((now + P - start) / interval), start - now end\n"
    "  local nt = math.floor(start + c * interval)\n"
    "  local over = nt - (now + P)\n"
    "  if over <= 0 then return true, nt, 0, math.floor((now + P - nt) / interval), nt - now end\n"
    "  return false, tat, over, math.floor((now + P - start) / interval), start - now\n"
    "end\n"
    "local newr, newt = {}, {}\n"
    "local refused = nil\n"
    "local function refuse(kind, i, retry)\n"
    "  if refused == nil or (retry < 0 and refused[3] >= 0) or (refused[3] >= 0 and retry > refused[3]) then refused = {kind, i - 1, retry} end\n"
    "end\n"
    "for i = 1, #KEYS do\n"
    "  local rpm, tpm, conc = tonumber(ARGV[3 * i + 1]), tonumber(ARGV[3 * i + 2]), tonumber(ARGV[3 * i + 3])\n"
    "  local h = redis.call('HMGET', KEYS[i], 'r', 't')\n"
    "  local rt, tt = tonumber(h[1]) or 0, tonumber(h[2]) or 0\n"
    "  if rpm > 0 then\n"
    "    local ok, nt, retry, rem, reset = gcra(rt, rpm, 1)\n"
    "    merge(1, rpm, rem, reset)\n"
    "    if not ok then refuse(0, i, retry) end\n"
    "    newr[i] = nt\n"
    "  end\n"
    "  if tpm > 0 then\n"
    "    local ok, nt, retry, rem, reset = gcra(tt, tpm, cost)\n"
    "    merge(4, tpm, rem, reset)\n"
    "    if not ok then refuse(1, i, retry) end\n"
    "    newt[i] = nt\n"
    "  end\n"
    "  if conc > 0 then\n"
    "    local z = KEYS[i] .. ':c'\n"
    "    redis.call('ZREMRANGEBYSCORE', z, '-inf', now)\n"
    "    if redis.call('ZCARD', z) >= conc then refuse(2, i, 1000) end\n"
    "  end\n"
    "end\n"
    "if refused then return {0, refused[1], refused[2], refused[3], st[1], st[2], st[3], st[4], st[5], st[6]} end\n"
    "for i = 1, #KEYS do\n"
    "  local last = now\n"
    "  if newr[i] then redis.call('HSET', KEYS[i], 'r', newr[i]); last = math.max(last, newr[i]) end\n"
    "  if newt[i] then redis.call('HSET', KEYS[i], 't', newt[i]); last = math.max(last, newt[i]) end\n"
    "  if newr[i] or newt[i] then redis.call('PEXPIRE', KEYS[i], last - now + P) end\n"
    "  if tonumber(ARGV[3 * i + 3]) > 0 then\n"
    "    local z = KEYS[i] .. ':c'\n"
    "    redis.call('ZADD', z, now + ttl, lease)\n"
    "    redis.call('PEXPIRE', z, ttl)\n"
    "  end\n"
    "end\n"
    "return {1, 0, 0, 0, st[1], st[2], st[3], st[4], st[5], st[6]}\n";

/* ARGV[1] = token delta; then one tokens-per-minute limit per key. */
static const char adjust_script[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local delta = tonumber(ARGV[1])\n"
    "for i = 1, #KEYS do\n"
    "  local tpm = tonumber(ARGV[i + 1])\n"
    "  local tt = tonumber(redis.call('HGET', KEYS[i], 't'))\n"
    "  if tpm > 0 and tt then\n"
    "    tt = math.max(now, math.floor(tt + delta * 60000 / tpm))\n"
    "    redis.call('HSET', KEYS[i], 't', tt)\n"
    "    redis.call('PEXPIRE', KEYS[i], math.max(redis.call('PTTL', KEYS[i]), tt - now + 60000))\n"
    "  end\n"
    "end\n"
    "return 1\n";

/* ARGV[1] = the lease; frees its concurrency slot in every scope given. */
static const char release_script[] =
    "for i = 1, #KEYS do redis.call('ZREM', KEYS[i] .. ':c', ARGV[1]) end\n"
    "return 1\n";

/* KEYS[1] = scope; returns request tat, token tat, in-flight count, now. */
static const char peek_script[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local h = redis.call('HMGET', KEYS[1], 'r', 't')\n"
    "local c = redis.call('ZCOUNT', KEYS[1] .. ':c', now, '+inf')\n"
    "return {tonumber(h[1]) or 0, tonumber(h[2]) or 0, c, now}\n";

/* A concurrency slot whose release did not reach Redis; retried once Redis
 * answers again, so that a short outage does not hold slots until their
 * lease expires. */
struct pending_release {
    struct limit_request req;
    struct pending_release *next;
};
#define REDIS_PENDING_MAX 10000

struct redis_store {
    struct limit_store base;
    pthread_mutex_t pending_lock;
    struct pending_release *pending;
    atomic_uint pending_count;
    struct limit_store *fallback;
    struct redis_link link;
};

/* Builds EVAL's arguments: script, key count, keys, then `extra` args.
 * Plain EVAL: Redis caches each compiled script by its hash anyway. */
struct script_call {
    const char *argv[2 + 2 * LIMIT_MAX_SCOPES + 4 + 3 * LIMIT_MAX_SCOPES];
    size_t argv_len[2 + 2 * LIMIT_MAX_SCOPES + 4 + 3 * LIMIT_MAX_SCOPES];
    char keys[LIMIT_MAX_SCOPES][LIMIT_SCOPE_KEY_MAX + 16];
    char numbers[4 + 3 * LIMIT_MAX_SCOPES][24];
    int argc, numbers_used;
};

static void
call_begin(struct script_call *call, const char *script, const struct limit_request *req,
           bool (*include)(const struct limit_scope *))
{
    call->argc = 0;
    call->numbers_used = 0;
    call->argv[call->argc++] = "EVAL";
    call->argv[call->argc++] = script;
    call->argc++; /* key count, filled below */
    int keys = 0;
    for (size_t i = 0; i < req->scope_count; i++) {
        if (include && !include(&req->scopes[i]))
            continue;
        snprintf(call->keys[keys], sizeof call->keys[keys], REDIS_KEY_PREFIX "%s",
                 req->scopes[i].key);
        call->argv[call->argc++] = call->keys[keys++];
    }
    snprintf(call->numbers[call->numbers_used], sizeof call->numbers[0], "%d", keys);
    call->argv[2] = call->numbers[call->numbers_used++];
}

static void
call_number(struct script_call *call, long long value)
{
    char *slot = call->numbers[call->numbers_used++];
    snprintf(slot, sizeof call->numbers[0], "%lld", value);
    call->argv[call->argc++] = slot;
}

static void
call_lengths(struct script_call *call)
{
    for (int i = 0; i < call->argc; i++)
        call->argv_len[i] = strlen(call->argv[i]);
}

static void retry_pending_releases(struct redis_store *store);

static int
redis_admit(struct limit_store *base, struct limit_request *req, int64_t now_ns,
            struct limit_verdict *verdict)
{
    struct redis_store *store = (struct redis_store *)base;
    struct script_call call;
    call_begin(&call, admit_script, req, NULL);
    call_number(&call, req->tokens);
    call.argv[call.argc++] = req->lease;
    /* A concurrency slot expires by itself if its owner vanishes. */
    call_number(&call, 15LL * 60 * 1000);
    for (size_t i = 0; i < req->scope_count; i++) {
        call_number(&call, req->scopes[i].rule.rpm);
        call_number(&call, req->scopes[i].rule.tpm);
        call_number(&call, req->scopes[i].rule.concurrent);
    }
    call_lengths(&call);
    redisReply *reply = redis_link_command(&store->link, call.argc, call.argv, call.argv_len);
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 10) {
        freeReplyObject(reply);
        req->local_fallback = true;
        return store->fallback->admit(store->fallback, req, now_ns, verdict);
    }
    req->local_fallback = false;
    if (atomic_load(&store->pending_count) > 0)
        retry_pending_releases(store);
    memset(verdict, 0, sizeof *verdict);
    verdict->allowed = redis_link_reply_integer(reply, 0) == 1;
    verdict->kind = (enum limit_kind)redis_link_reply_integer(reply, 1);
    verdict->scope = (size_t)redis_link_reply_integer(reply, 2);
    long long retry_ms = redis_link_reply_integer(reply, 3);
    verdict->retry_after_ns = retry_ms < 0 ? -1 : retry_ms * 1000000LL;
    if (redis_link_reply_integer(reply, 4) >= 0)
        limit_status_merge(&verdict->status, LIMIT_REQUESTS,
                           (long)redis_link_reply_integer(reply, 4),
                           (long)redis_link_reply_integer(reply, 5),
                           redis_link_reply_integer(reply, 6) * 1000000LL);
    if (redis_link_reply_integer(reply, 7) >= 0)
        limit_status_merge(&verdict->status, LIMIT_TOKENS, (long)redis_link_reply_integer(reply, 7),
                           (long)redis_link_reply_integer(reply, 8),
                           redis_link_reply_integer(reply, 9) * 1000000LL);
    freeReplyObject(reply);
    return 0;
}

static bool
has_tpm(const struct limit_scope *scope)
{
    return scope->rule.tpm > 0;
}

static void
redis_adjust_tokens(struct limit_store *base, const struct limit_request *req, long delta,
                    int64_t now_ns)
{
    struct redis_store *store = (struct redis_store *)base;
    if (req->local_fallback) {
        store->fallback->adjust_tokens(store->fallback, req, delta, now_ns);
        return;
    }
    struct script_call call;
    call_begin(&call, adjust_script, req, has_tpm);
    call_number(&call, delta);
    for (size_t i = 0; i < req->scope_count; i++)
        if (has_tpm(&req->scopes[i]))
            call_number(&call, req->scopes[i].rule.tpm);
    call_lengths(&call);
    freeReplyObject(redis_link_command(&store->link, call.argc, call.argv, call.argv_len));
}

static bool
has_concurrency(const struct limit_scope *scope)
{
    return scope->rule.concurrent > 0;
}

/* 0 when Redis took the release (or there was nothing to release). */
static int
release_in_redis(struct redis_store *store, const struct limit_request *req)
{
    struct script_call call;
    call_begin(&call, release_script, req, has_concurrency);
    if (strcmp(call.argv[2], "0") == 0)
        return 0; /* no concurrency limit: nothing to free */
    call.argv[call.argc++] = req->lease;
    call_lengths(&call);
    redisReply *reply = redis_link_command(&store->link, call.argc, call.argv, call.argv_len);
    freeReplyObject(reply);
    return reply != NULL ? 0 : -1;
}

static void
retry_pending_releases(struct redis_store *store)
{
    pthread_mutex_lock(&store->pending_lock);
    struct pending_release *list = store->pending;
    store->pending = NULL;
    atomic_store(&store->pending_count, 0);
    pthread_mutex_unlock(&store->pending_lock);
    while (list != NULL) {
        struct pending_release *next = list->next;
        if (release_in_redis(store, &list->req) != 0) {
            /* Down again: keep the rest for the next time. */
            pthread_mutex_lock(&store->pending_lock);
            struct pending_release *tail = list;
            unsigned count = 1;
            while (tail->next != NULL) {
                tail = tail->next;
                count++;
            }
            tail->next = store->pending;
            store->pending = list;
            atomic_fetch_add(&store->pending_count, count);
            pthread_mutex_unlock(&store->pending_lock);
            return;
        }
        free(list);
        list = next;
    }
}

static void
redis_release(struct limit_store *base, const struct limit_request *req)
{
    struct redis_store *store = (struct redis_store *)base;
    if (req->local_fallback) {
        store->fallback->release(store->fallback, req);
        return;
    }
    if (release_in_redis(store, req) == 0)
        return;
    struct pending_release *pending = malloc(sizeof *pending);
    if (pending == NULL || atomic_load(&store->pending_count) >= REDIS_PENDING_MAX) {
        free(pending);
        log_warn("limits: a concurrency slot of request %s stays taken in Redis until its "
                 "lease expires",
                 req->lease);
        return;
    }
    pending->req = *req;
    pthread_mutex_lock(&store->pending_lock);
    pending->next = store->pending;
    store->pending = pending;
    atomic_fetch_add(&store->pending_count, 1);
    pthread_mutex_unlock(&store->pending_lock);
}

static int
redis_peek(struct limit_store *base, const struct limit_scope *scope, int64_t now_ns,
           struct limit_verdict *use)
{
    struct redis_store *store = (struct redis_store *)base;
    struct limit_request one = { .scope_count = 1 };
    one.scopes[0] = *scope;
    struct script_call call;
    call_begin(&call, peek_script, &one, NULL);
    call_lengths(&call);
    redisReply *reply = redis_link_command(&store->link, call.argc, call.argv, call.argv_len);
    if (reply == NULL || reply->elements < 4) {
        freeReplyObject(reply);
        return store->fallback->peek(store->fallback, scope, now_ns, use);
    }
    memset(use, 0, sizeof *use);
    int64_t redis_now = redis_link_reply_integer(reply, 3) * 1000000LL;
    struct gcra_result result;
    if (scope->rule.rpm > 0) {
        gcra_check(redis_link_reply_integer(reply, 0) * 1000000LL, redis_now, scope->rule.rpm, 0,
                   &result);
        limit_status_merge(&use->status, LIMIT_REQUESTS, scope->rule.rpm, result.remaining,
                           result.reset_ns);
    }
    if (scope->rule.tpm > 0) {
        gcra_check(redis_link_reply_integer(reply, 1) * 1000000LL, redis_now, scope->rule.tpm, 0,
                   &result);
        limit_status_merge(&use->status, LIMIT_TOKENS, scope->rule.tpm, result.remaining,
                           result.reset_ns);
    }
    use->in_flight = (long)redis_link_reply_integer(reply, 2);
    freeReplyObject(reply);
    return 0;
}

static void
redis_close(struct limit_store *base)
{
    struct redis_store *store = (struct redis_store *)base;
    store->fallback->close(store->fallback);
    while (store->pending != NULL) {
        struct pending_release *next = store->pending->next;
        free(store->pending);
        store->pending = next;
    }
    pthread_mutex_destroy(&store->pending_lock);
    redis_link_close(&store->link);
    free(store);
}

const char *
ratelimit_redis_outage(const struct limit_store *base, char *buf, size_t size)
{
    struct redis_store *store = (struct redis_store *)base;
    return redis_link_outage(&store->link, buf, size);
}

struct limit_store *
ratelimit_redis_open(const char *url, struct limit_store *fallback, char *err, size_t err_size)
{
    struct redis_store *store = redis_link_new_store(sizeof *store,
                                                     offsetof(struct redis_store, link), url,
                                                     "limits",
                                                     "enforcing limits from the local state file",
                                                     "limits are shared again", err, err_size);
    if (store == NULL)
        return NULL;
    pthread_mutex_init(&store->pending_lock, NULL);
    store->fallback = fallback;
    store->base = (struct limit_store){
        .name = "redis",
        .admit = redis_admit,
        .adjust_tokens = redis_adjust_tokens,
        .release = redis_release,
        .peek = redis_peek,
        .close = redis_close,
    };
    return &store->base;
}
