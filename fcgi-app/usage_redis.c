#include "usage_redis.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "log.h"
#include "redis_link.h"

#define USAGE_REDIS_PREFIX "litellm:usage:"
/* Hours fetched per round trip when reading. */
#define USAGE_REDIS_BATCH 256

/* KEYS: the hour, today, then the budget period's days.  ARGV: key, model,
 * premium thousandths, request budget, token budget, expiry seconds.
 * Returns {verdict (0 admitted, 1 requests, 2 tokens), requests, tokens}. */
static const char admit_script[] =
    "local key, model = ARGV[1], ARGV[2]\n"
    "local premium, breq, btok, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), "
    "tonumber(ARGV[6])\n"
    "local r, t = 0, 0\n"
    "for i = 3, #KEYS do\n"
    "  r = r + (tonumber(redis.call('HGET', KEYS[i], key .. '\\tr')) or 0)\n"
    "  t = t + (tonumber(redis.call('HGET', KEYS[i], key .. '\\tt')) or 0)\n"
    "end\n"
    "if breq > 0 and r >= breq then return {1, r, t} end\n"
    "if btok > 0 and t >= btok then return {2, r, t} end\n"
    "local f = key .. '\\t' .. model .. '\\t'\n"
    "redis.call('HINCRBY', KEYS[1], f .. 'r', 1)\n"
    "if premium > 0 then redis.call('HINCRBY', KEYS[1], f .. 'p', premium) end\n"
    "redis.call('EXPIRE', KEYS[1], ttl)\n"
    "redis.call('HINCRBY', KEYS[2], key .. '\\tr', 1)\n"
    "redis.call('EXPIRE', KEYS[2], ttl)\n"
    "return {0, r, t}\n";

/* KEYS: the hour, today.  ARGV: key, model, expiry, then the requests,
 * input, output, errors and premium to add. */
static const char finish_script[] =
    "local f = ARGV[1] .. '\\t' .. ARGV[2] .. '\\t'\n"
    "local names = {'r', 'i', 'o', 'e', 'p'}\n"
    "for n = 1, 5 do\n"
    "  local v = tonumber(ARGV[3 + n])\n"
    "  if v > 0 then redis.call('HINCRBY', KEYS[1], f .. names[n], v) end\n"
    "end\n"
    "redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))\n"
    "local tokens = tonumber(ARGV[5]) + tonumber(ARGV[6])\n"
    "if tokens > 0 then\n"
    "  redis.call('HINCRBY', KEYS[2], ARGV[1] .. '\\tt', tokens)\n"
    "  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))\n"
    "end\n"
    "return 1\n";

struct redis_usage_store {
    struct usage_store base;
    struct usage_store *fallback;
    struct redis_link link;
    int64_t retention;
};

/* EVAL's arguments, every one a string of ours. */
struct script_args {
    const char *argv[64];
    size_t argv_len[64];
    char text[64][48];
    int argc;
};

static void
arg_text(struct script_args *args, const char *value)
{
    args->argv[args->argc] = value;
    args->argv_len[args->argc] = strlen(value);
    args->argc++;
}

static void
arg_format(struct script_args *args, const char *prefix, long long value)
{
    char *slot = args->text[args->argc];
    snprintf(slot, sizeof args->text[0], "%s%lld", prefix, value);
    arg_text(args, slot);
}

static long long
expiry(const struct redis_usage_store *store)
{
    /* The retention, and the day under way. */
    return (long long)(store->retention + USAGE_DAY);
}

static int
redis_admit(struct usage_store *base, const struct usage_call *call, int64_t now,
            enum usage_admission *verdict, struct usage_spent *spent)
{
    struct redis_usage_store *store = (struct redis_usage_store *)base;
    struct script_args args = { .argc = 0 };
    arg_text(&args, "EVAL");
    arg_text(&args, admit_script);
    int64_t start = 0, end = 0;
    int days = 0;
    if (call->budget.period != USAGE_PERIOD_NONE) {
        usage_period_bounds(call->budget.period, now, &start, &end);
        days = (int)((usage_day_start(now) - start) / USAGE_DAY) + 1;
    }
    arg_format(&args, "", 2 + days);
    arg_format(&args, USAGE_REDIS_PREFIX "h:", usage_hour_start(now));
    arg_format(&args, USAGE_REDIS_PREFIX "d:", usage_day_start(now));
    for (int i = 0; i < days; i++)
        arg_format(&args, USAGE_REDIS_PREFIX "d:", start + (int64_t)i * USAGE_DAY);
    arg_text(&args, call->key);
    arg_text(&args, call->model);
    arg_format(&args, "", call->premium_milli);
    arg_format(&args, "", call->budget.period != USAGE_PERIOD_NONE ? call->budget.requests : 0);
    arg_format(&args, "", call->budget.period != USAGE_PERIOD_NONE ? call->budget.tokens : 0);
    arg_format(&args, "", expiry(store));
    redisReply *reply = redis_link_command(&store->link, args.argc, args.argv, args.argv_len);
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) {
        freeReplyObject(reply);
        return store->fallback ? store->fallback->admit(store->fallback, call, now, verdict, spent)
                               : -1;
    }
    long long outcome = redis_link_reply_integer(reply, 0);
    *verdict = outcome == 1   ? USAGE_OVER_REQUESTS
               : outcome == 2 ? USAGE_OVER_TOKENS
                              : USAGE_ADMITTED;
    if (spent != NULL)
        *spent = (struct usage_spent){ redis_link_reply_integer(reply, 1),
                                       redis_link_reply_integer(reply, 2) };
    freeReplyObject(reply);
    return 0;
}

static int
redis_finish(struct usage_store *base, const struct usage_call *call, int64_t now)
{
    struct redis_usage_store *store = (struct redis_usage_store *)base;
    struct script_args args = { .argc = 0 };
    arg_text(&args, "EVAL");
    arg_text(&args, finish_script);
    arg_text(&args, "2");
    arg_format(&args, USAGE_REDIS_PREFIX "h:", usage_hour_start(now));
    arg_format(&args, USAGE_REDIS_PREFIX "d:", usage_day_start(now));
    arg_text(&args, call->key);
    arg_text(&args, call->model);
    arg_format(&args, "", expiry(store));
    arg_format(&args, "", call->admitted ? 0 : 1);
    arg_format(&args, "", call->input_tokens);
    arg_format(&args, "", call->output_tokens);
    arg_format(&args, "", call->error ? 1 : 0);
    arg_format(&args, "", call->admitted ? 0 : call->premium_milli);
    redisReply *reply = redis_link_command(&store->link, args.argc, args.argv, args.argv_len);
    if (reply == NULL)
        return store->fallback ? store->fallback->finish(store->fallback, call, now) : -1;
    freeReplyObject(reply);
    return 0;
}

int
usage_redis_parse_field(const char *field, size_t field_len, const char *value, size_t value_len,
                        struct usage_redis_field *out)
{
    const char *first = memchr(field, '\t', field_len);
    if (first == NULL || field_len < 4 || field[field_len - 2] != '\t' ||
        strchr("rioep", field[field_len - 1]) == NULL || field[field_len - 1] == '\0' ||
        memchr(field, '\0', field_len) != NULL)
        return -1;
    const char *last = field + field_len - 2;
    size_t key_len = (size_t)(first - field);
    if (last <= first || key_len == 0 || key_len > USAGE_KEY_MAX)
        return -1;
    size_t model_len = (size_t)(last - first - 1);
    if (model_len == 0 || model_len > USAGE_MODEL_MAX)
        return -1;
    long long number = 0;
    if (value_len == 0 || value_len > 18)
        return -1;
    for (size_t i = 0; i < value_len; i++) {
        if (value[i] < '0' || value[i] > '9')
            return -1;
        number = number * 10 + (value[i] - '0');
    }
    memset(out, 0, sizeof *out);
    memcpy(out->key, field, key_len);
    memcpy(out->model, first + 1, model_len);
    out->counter = field[field_len - 1];
    out->value = number;
    return 0;
}

/* The rows of the hours read so far. */
struct hour_rows {
    struct usage_row *rows;
    size_t count, capacity;
};

/* Adds one field of an hour's hash to its row; a field that is not a usage
 * counter, or of another key than `key_filter`, is skipped. */
static int
add_field(struct hour_rows *list, int64_t hour, const redisReply *field, const redisReply *value,
          const char *key_filter)
{
    struct usage_redis_field parsed;
    if (field->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING ||
        usage_redis_parse_field(field->str, field->len, value->str, value->len, &parsed) != 0)
        return 0;
    if (key_filter != NULL && strcmp(parsed.key, key_filter) != 0)
        return 0;
    struct usage_row *row = NULL;
    /* The rows of this hour are the last ones: a hash is read whole. */
    for (size_t i = list->count; i > 0 && row == NULL; i--) {
        struct usage_row *candidate = &list->rows[i - 1];
        if (candidate->start != hour)
            break;
        if (strcmp(candidate->key, parsed.key) == 0 && strcmp(candidate->model, parsed.model) == 0)
            row = candidate;
    }
    if (row == NULL) {
        if (list->count == list->capacity) {
            size_t grown = list->capacity ? list->capacity * 2 : 64;
            struct usage_row *more = realloc(list->rows, grown * sizeof *more);
            if (more == NULL)
                return -1;
            list->rows = more;
            list->capacity = grown;
        }
        row = &list->rows[list->count++];
        memset(row, 0, sizeof *row);
        row->start = hour;
        memcpy(row->key, parsed.key, sizeof row->key);
        memcpy(row->model, parsed.model, sizeof row->model);
    }
    switch (parsed.counter) {
    case 'r': row->counts.requests += parsed.value; break;
    case 'i': row->counts.input_tokens += parsed.value; break;
    case 'o': row->counts.output_tokens += parsed.value; break;
    case 'e': row->counts.errors += parsed.value; break;
    default: row->counts.premium_milli += parsed.value; break;
    }
    return 0;
}

static int
redis_read(struct usage_store *base, int64_t since, int64_t until, const char *key,
           usage_row_fn *fn, void *ctx)
{
    struct redis_usage_store *store = (struct redis_usage_store *)base;
    struct hour_rows list = { 0 };
    int rc = 0;
    /* Within the retention only: nothing older exists. */
    int64_t oldest = usage_day_start((int64_t)time(NULL)) - store->retention;
    int64_t first = usage_hour_start(since > oldest ? since : oldest);
    const int64_t step = (int64_t)USAGE_REDIS_BATCH * USAGE_HOUR;
    for (int64_t batch = first; batch < until && rc == 0;) {
        bool reused;
        redisContext *context = redis_link_connection(&store->link, &reused);
        if (context == NULL) {
            rc = -1;
            break;
        }
        int sent = 0, got = 0;
        for (int64_t hour = batch; hour < until && sent < USAGE_REDIS_BATCH;
             hour += USAGE_HOUR, sent++)
            if (redisAppendCommand(context, "HGETALL " USAGE_REDIS_PREFIX "h:%lld",
                                   (long long)hour) != REDIS_OK)
                rc = -1;
        bool cut = false;
        for (; got < sent && rc == 0; got++) {
            void *raw = NULL;
            if (redisGetReply(context, &raw) != REDIS_OK || raw == NULL) {
                cut = true;
                break;
            }
            redisReply *reply = raw;
            int64_t hour = batch + (int64_t)got * USAGE_HOUR;
            for (size_t j = 0;
                 reply->type == REDIS_REPLY_ARRAY && j + 1 < reply->elements && rc == 0; j += 2)
                rc = add_field(&list, hour, reply->element[j], reply->element[j + 1], key);
            freeReplyObject(reply);
        }
        if (cut) {
            /* A connection cut since its last use (a Redis restart) fails at
             * its first reply: the batch once more, on a new one. */
            bool again = reused && got == 0;
            redis_link_drop(&store->link, context, !again);
            if (!again)
                rc = -1;
            continue;
        }
        batch += step;
    }
    if (rc == 0) {
        redis_link_succeeded(&store->link);
        for (size_t i = 0; i < list.count; i++)
            fn(&list.rows[i], ctx);
    }
    free(list.rows);
    if (rc != 0 && store->fallback != NULL)
        return store->fallback->read(store->fallback, since, until, key, fn, ctx);
    return rc;
}

static int
redis_spent(struct usage_store *base, const char *key, enum usage_period period, int64_t now,
            struct usage_spent *out)
{
    struct redis_usage_store *store = (struct redis_usage_store *)base;
    int64_t start, end;
    usage_period_bounds(period, now, &start, &end);
    out->requests = out->tokens = 0;
    for (int64_t day = start; day <= now && day < end; day += USAGE_DAY) {
        char name[64];
        snprintf(name, sizeof name, USAGE_REDIS_PREFIX "d:%lld", (long long)day);
        char requests_field[USAGE_KEY_MAX + 3], tokens_field[USAGE_KEY_MAX + 3];
        snprintf(requests_field, sizeof requests_field, "%s\tr", key);
        snprintf(tokens_field, sizeof tokens_field, "%s\tt", key);
        const char *argv[] = { "HMGET", name, requests_field, tokens_field };
        size_t argv_len[] = { 5, strlen(name), strlen(requests_field), strlen(tokens_field) };
        redisReply *reply = redis_link_command(&store->link, 4, argv, argv_len);
        if (reply == NULL)
            return store->fallback ? store->fallback->spent(store->fallback, key, period, now, out)
                                   : -1;
        for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements && i < 2; i++) {
            const redisReply *item = reply->element[i];
            long long value = item->type == REDIS_REPLY_STRING ? strtoll(item->str, NULL, 10) : 0;
            if (i == 0)
                out->requests += value;
            else
                out->tokens += value;
        }
        freeReplyObject(reply);
    }
    return 0;
}

static void
redis_close(struct usage_store *base)
{
    struct redis_usage_store *store = (struct redis_usage_store *)base;
    if (store->fallback != NULL)
        store->fallback->close(store->fallback);
    redis_link_close(&store->link);
    free(store);
}

struct usage_store *
usage_redis_open(const char *url, unsigned retention_days, struct usage_store *fallback, char *err,
                 size_t err_size)
{
    struct redis_usage_store *store = redis_link_new_store(sizeof *store,
                                                           offsetof(struct redis_usage_store, link),
                                                           url, "usage",
                                                           "counting in the local file",
                                                           "usage is counted there again", err,
                                                           err_size);
    if (store == NULL)
        return NULL;
    store->fallback = fallback;
    store->retention = (int64_t)(retention_days ? retention_days : 1) * USAGE_DAY;
    store->base = (struct usage_store){
        .name = "redis",
        .admit = redis_admit,
        .finish = redis_finish,
        .read = redis_read,
        .spent = redis_spent,
        .close = redis_close,
    };
    return &store->base;
}
