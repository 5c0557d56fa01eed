/*
 * fuzz_usage: what the usage code takes from outside.  The /usage query
 * string (fcgi-app/usage_query.h), arbitrary bytes; a field and value of a
 * Redis usage hash as read back (usage_redis_parse_field: the query line as
 * the field, the rest as the value); and the names a store keeps and reads
 * back (fcgi-app/usage_shm.c, usage_report.c): keys and models of any bytes
 * and length counted in a real usage file, then read and reported.
 *
 * Input: the query string up to the first newline; after it, NUL-separated
 * (key, model) pairs that are counted.
 *
 * Invariants (abort on violation): a parsed query has since < until, whole
 * hours (or days for since=), at most USAGE_QUERY_MAX_HOURS of them, a
 * valid key name; a refused one has a reason.  A Redis field accepted has a
 * key and a model within their sizes, NUL-terminated, a known counter and a
 * value >= 0.  Every counted name reads
 * back NUL-terminated within its size; the report prints, parses back, its
 * totals equal the sum of its buckets, and they grew by what was counted.
 */
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "usage_query.h"
#include "usage_redis.h"
#include "usage_report.h"
#include "usage_shm.h"

static struct usage_store *store;
static char store_path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(store_path, sizeof store_path, "/tmp/fuzz_usage.%ld", (long)getpid());
    char err[256];
    /* A day kept: the hours of earlier inputs are dropped as time goes on. */
    store = usage_shm_open(store_path, 1, err, sizeof err);
    FUZZ_CHECK(store != NULL);
    unlink(store_path); /* mapped: the file goes when the fuzzer does */
    return 0;
}

static void
check_query(const char *text)
{
    const int64_t now = 1796472000 + 1234; /* 2026-12-05T12:20:34Z */
    struct usage_query query;
    char err[256] = "";
    if (usage_query_parse(text, now, &query, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != '\0');
        return;
    }
    FUZZ_CHECK(query.since < query.until);
    int64_t granule = query.daily ? USAGE_DAY : USAGE_HOUR;
    FUZZ_CHECK(query.since % granule == 0 && query.until % granule == 0);
    FUZZ_CHECK(query.daily || (query.until - query.since) / USAGE_HOUR <= USAGE_QUERY_MAX_HOURS);
    FUZZ_CHECK(query.until > now);
    FUZZ_CHECK(memchr(query.key, '\0', sizeof query.key) != NULL);
    FUZZ_CHECK(!query.has_key || usage_key_name_valid(query.key));
}

static void
check_redis_field(const char *field, size_t field_len, const char *value, size_t value_len)
{
    struct usage_redis_field parsed;
    if (usage_redis_parse_field(field, field_len, value, value_len, &parsed) != 0)
        return;
    FUZZ_CHECK(memchr(parsed.key, '\0', sizeof parsed.key) != NULL && parsed.key[0] != '\0');
    FUZZ_CHECK(memchr(parsed.model, '\0', sizeof parsed.model) != NULL && parsed.model[0] != '\0');
    FUZZ_CHECK(strchr(parsed.key, '\t') == NULL);
    FUZZ_CHECK(parsed.counter != '\0' && strchr("rioep", parsed.counter) != NULL);
    FUZZ_CHECK(parsed.value >= 0);
}

static void
check_row(const struct usage_row *row, void *ctx)
{
    (void)ctx;
    FUZZ_CHECK(memchr(row->key, '\0', sizeof row->key) != NULL);
    FUZZ_CHECK(memchr(row->model, '\0', sizeof row->model) != NULL);
}

static double
number(const cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    FUZZ_CHECK(cJSON_IsNumber(item));
    return item->valuedouble;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *newline = memchr(text, '\n', size);
    size_t query_len = newline ? (size_t)(newline - text) : size;
    char *query = strndup(text, query_len);
    FUZZ_CHECK(query != NULL);
    check_query(query);
    free(query);
    check_redis_field(text, query_len, newline ? newline + 1 : text + size,
                      newline ? size - query_len - 1 : 0);
    if (newline == NULL)
        return 0;

    /* Inputs share an hour, a new day every 256 of them: the store's sweep
     * (a rebuild of its tables) then drops the older ones, so the tables
     * never fill.  What an input adds is measured against the totals before. */
    static int64_t hour = 1796472000;
    static unsigned inputs;
    if (++inputs % 256 == 0)
        hour += USAGE_DAY;
    struct usage_query range = { .since = hour, .until = hour + USAGE_HOUR };
    cJSON *before = usage_report(store, &range, NULL, 0, hour);
    FUZZ_CHECK(before != NULL);
    const cJSON *before_totals = cJSON_GetObjectItemCaseSensitive(before, "totals");
    double requests_before = number(before_totals, "requests");
    double input_before = number(before_totals, "input_tokens");
    cJSON_Delete(before);
    const char *p = newline + 1, *end = text + size;
    long counted = 0;
    while (p < end && counted < 64) {
        const char *key_end = memchr(p, '\0', (size_t)(end - p));
        const char *model = key_end ? key_end + 1 : end;
        const char *model_end = model < end ? memchr(model, '\0', (size_t)(end - model)) : NULL;
        char *key_text = strndup(p, key_end ? (size_t)(key_end - p) : (size_t)(end - p));
        char *model_text = strndup(model, model_end     ? (size_t)(model_end - model)
                                          : model < end ? (size_t)(end - model)
                                                        : 0);
        FUZZ_CHECK(key_text != NULL && model_text != NULL);
        struct usage_call call = {
            .key = key_text, .model = model_text, .input_tokens = 3, .error = counted % 2 == 0
        };
        FUZZ_CHECK(store->finish(store, &call, hour) == 0);
        counted++;
        free(key_text);
        free(model_text);
        p = model_end ? model_end + 1 : end;
    }
    FUZZ_CHECK(store->read(store, hour, hour + USAGE_HOUR, NULL, check_row, NULL) == 0);

    cJSON *doc = usage_report(store, &range, NULL, 0, hour);
    FUZZ_CHECK(doc != NULL);
    char *printed = cJSON_PrintUnformatted(doc);
    FUZZ_CHECK(printed != NULL);
    cJSON *parsed = cJSON_Parse(printed);
    FUZZ_CHECK(parsed != NULL);
    double requests = 0;
    const cJSON *bucket;
    cJSON_ArrayForEach(bucket, cJSON_GetObjectItemCaseSensitive(parsed, "buckets")) {
        requests += number(bucket, "requests");
    }
    const cJSON *totals = cJSON_GetObjectItemCaseSensitive(parsed, "totals");
    FUZZ_CHECK(number(totals, "requests") == requests);
    FUZZ_CHECK(requests - requests_before == (double)counted);
    FUZZ_CHECK(number(totals, "input_tokens") - input_before == 3.0 * (double)counted);
    cJSON_Delete(parsed);
    free(printed);
    cJSON_Delete(doc);
    return 0;
}
