#include "usage_report.h"

#include <stdlib.h>
#include <string.h>

struct row_list {
    struct usage_row *rows;
    size_t count, capacity;
    int64_t granule; /* USAGE_HOUR or USAGE_DAY */
    bool failed;
};

static void
collect(const struct usage_row *row, void *ctx)
{
    struct row_list *list = ctx;
    if (list->failed)
        return;
    if (list->count == list->capacity) {
        size_t grown = list->capacity ? list->capacity * 2 : 64;
        struct usage_row *more = realloc(list->rows, grown * sizeof *more);
        if (more == NULL) {
            list->failed = true;
            return;
        }
        list->rows = more;
        list->capacity = grown;
    }
    struct usage_row *copy = &list->rows[list->count++];
    *copy = *row;
    copy->start = row->start - (row->start % list->granule + list->granule) % list->granule;
}

static int
row_order(const void *a, const void *b)
{
    const struct usage_row *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    int by_key = strcmp(x->key, y->key);
    return by_key != 0 ? by_key : strcmp(x->model, y->model);
}

static void
counts_add(struct usage_counts *sum, const struct usage_counts *more)
{
    sum->requests += more->requests;
    sum->input_tokens += more->input_tokens;
    sum->output_tokens += more->output_tokens;
    sum->errors += more->errors;
    sum->premium_milli += more->premium_milli;
}

/* Sorts and sums the rows of one granule, key and model into one. */
static void
merge(struct row_list *list)
{
    if (list->count == 0)
        return;
    qsort(list->rows, list->count, sizeof *list->rows, row_order);
    size_t kept = 0;
    for (size_t i = 1; i < list->count; i++) {
        if (row_order(&list->rows[kept], &list->rows[i]) == 0)
            counts_add(&list->rows[kept].counts, &list->rows[i].counts);
        else
            list->rows[++kept] = list->rows[i];
    }
    list->count = kept + 1;
}

static int
read_rows(struct usage_store *store, int64_t since, int64_t until, const char *key, int64_t granule,
          struct row_list *list)
{
    memset(list, 0, sizeof *list);
    list->granule = granule;
    if (store->read(store, since, until, key, collect, list) != 0 || list->failed) {
        free(list->rows);
        return -1;
    }
    merge(list);
    return 0;
}

static bool
add_time(cJSON *object, const char *name, int64_t t)
{
    char text[USAGE_TIME_TEXT_SIZE];
    usage_format_time(t, text);
    return cJSON_AddStringToObject(object, name, text) != NULL;
}

static bool
add_counts(cJSON *object, const struct usage_counts *counts, bool with_errors)
{
    return cJSON_AddNumberToObject(object, "requests", (double)counts->requests) != NULL &&
           cJSON_AddNumberToObject(object, "input_tokens", (double)counts->input_tokens) != NULL &&
           cJSON_AddNumberToObject(object, "output_tokens", (double)counts->output_tokens) != NULL &&
           (!with_errors ||
            cJSON_AddNumberToObject(object, "errors", (double)counts->errors) != NULL) &&
           cJSON_AddNumberToObject(object, "premium_requests",
                                   (double)counts->premium_milli / 1000.0) != NULL;
}

static cJSON *
limit_used(long limit, int64_t used)
{
    cJSON *pair = cJSON_CreateObject();
    if (pair != NULL && (cJSON_AddNumberToObject(pair, "limit", (double)limit) == NULL ||
                         cJSON_AddNumberToObject(pair, "used", (double)used) == NULL)) {
        cJSON_Delete(pair);
        return NULL;
    }
    return pair;
}

cJSON *
usage_budget_entry(struct usage_store *store, const struct usage_key_budget *budget, int64_t now)
{
    struct usage_spent spent;
    int64_t start, end;
    usage_period_bounds(budget->budget.period, now, &start, &end);
    cJSON *entry = cJSON_CreateObject();
    if (entry == NULL || store->spent(store, budget->key, budget->budget.period, now, &spent) != 0)
        goto fail;
    cJSON *requests = limit_used(budget->budget.requests, spent.requests);
    if (!cJSON_AddItemToObject(entry, "requests", requests)) {
        cJSON_Delete(requests);
        goto fail;
    }
    cJSON *tokens = limit_used(budget->budget.tokens, spent.tokens);
    if (!cJSON_AddItemToObject(entry, "tokens", tokens)) {
        cJSON_Delete(tokens);
        goto fail;
    }
    if (cJSON_AddStringToObject(entry, "key", budget->key) == NULL ||
        cJSON_AddStringToObject(entry, "period", usage_period_name(budget->budget.period)) == NULL ||
        !add_time(entry, "resets_at", end))
        goto fail;
    return entry;
fail:
    cJSON_Delete(entry);
    return NULL;
}

static bool
add_buckets(cJSON *doc, const struct row_list *list, struct usage_counts *totals)
{
    cJSON *buckets = cJSON_AddArrayToObject(doc, "buckets");
    if (buckets == NULL)
        return false;
    for (size_t i = 0; i < list->count; i++) {
        const struct usage_row *row = &list->rows[i];
        cJSON *bucket = cJSON_CreateObject();
        if (bucket == NULL || !cJSON_AddItemToArray(buckets, bucket)) {
            cJSON_Delete(bucket);
            return false;
        }
        if (!add_time(bucket, "start", row->start) ||
            cJSON_AddStringToObject(bucket, "key", row->key) == NULL ||
            cJSON_AddStringToObject(bucket, "model", row->model) == NULL ||
            !add_counts(bucket, &row->counts, true))
            return false;
        counts_add(totals, &row->counts);
    }
    return true;
}

cJSON *
usage_report(struct usage_store *store, const struct usage_query *query,
             const struct usage_key_budget *budgets, size_t budget_count, int64_t now)
{
    struct row_list list;
    if (read_rows(store, query->since, query->until, query->has_key ? query->key : NULL,
                  query->daily ? USAGE_DAY : USAGE_HOUR, &list) != 0)
        return NULL;
    struct usage_counts totals = { 0 };
    cJSON *doc = cJSON_CreateObject();
    bool ok = doc != NULL && cJSON_AddStringToObject(doc, "object", "usage") != NULL &&
              cJSON_AddStringToObject(doc, "store", store->name) != NULL &&
              add_time(doc, "since", query->since) && add_time(doc, "until", query->until) &&
              cJSON_AddStringToObject(doc, "granularity", query->daily ? "day" : "hour") != NULL &&
              add_buckets(doc, &list, &totals);
    free(list.rows);
    cJSON *total = ok ? cJSON_AddObjectToObject(doc, "totals") : NULL;
    cJSON *entries = total != NULL && add_counts(total, &totals, true)
                         ? cJSON_AddArrayToObject(doc, "budgets")
                         : NULL;
    ok = entries != NULL;
    for (size_t i = 0; ok && i < budget_count; i++) {
        if (query->has_key && strcmp(query->key, budgets[i].key) != 0)
            continue;
        cJSON *entry = usage_budget_entry(store, &budgets[i], now);
        ok = entry != NULL && cJSON_AddItemToArray(entries, entry);
        if (!ok)
            cJSON_Delete(entry);
    }
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

cJSON *
usage_today(struct usage_store *store, int64_t now)
{
    int64_t day = usage_day_start(now);
    struct row_list list;
    if (read_rows(store, day, day + USAGE_DAY, NULL, USAGE_DAY, &list) != 0)
        return NULL;
    /* Per key: the rows are sorted by key within the day. */
    struct usage_counts all = { 0 };
    cJSON *doc = cJSON_CreateObject();
    cJSON *keys = doc ? cJSON_AddArrayToObject(doc, "keys") : NULL;
    bool ok = keys != NULL && add_time(doc, "day", day);
    for (size_t i = 0; ok && i < list.count;) {
        struct usage_counts sum = { 0 };
        size_t j = i;
        for (; j < list.count && strcmp(list.rows[j].key, list.rows[i].key) == 0; j++)
            counts_add(&sum, &list.rows[j].counts);
        counts_add(&all, &sum);
        cJSON *entry = cJSON_CreateObject();
        if (entry == NULL || !cJSON_AddItemToArray(keys, entry)) {
            cJSON_Delete(entry);
            ok = false;
            break;
        }
        ok = cJSON_AddStringToObject(entry, "key", list.rows[i].key) != NULL &&
             add_counts(entry, &sum, false);
        i = j;
    }
    free(list.rows);
    if (!ok || !add_counts(doc, &all, false)) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}
