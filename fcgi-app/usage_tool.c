/*
 * litellm-usage: prints the usage store (litellmctl usage calls it), read
 * directly from the usage file, so it works with the responder stopped:
 *
 *   litellm-usage --state-file PATH [--store shm|redis://HOST[:PORT][/DB]]
 *                 [--keys-file PATH] [--key NAME] [--since YYYY-MM-DD] [--json]
 *
 * Daily rows (key, model, day, requests, input, output, errors, premium)
 * and their totals, from --since (default: 6 days ago) to today, UTC; the
 * keys file adds each budget's use.  --json prints the document GET /usage
 * serves for ?since= (tests/spec/usage.schema.json).  With --store redis://
 * (the responders' --limits-store) it reads Redis, and the file while Redis
 * does not answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "api_keys.h"
#include "usage_query.h"
#include "usage_report.h"
#include "usage_redis.h"
#include "usage_shm.h"

struct options {
    const char *state_file, *store, *keys_file, *key, *since;
    int json;
};

static int
usage(FILE *out, int status)
{
    fprintf(out, "Usage: litellm-usage --state-file PATH [--store shm|redis://HOST[:PORT][/DB]]\n"
                 "                     [--keys-file PATH] [--key NAME] [--since YYYY-MM-DD]\n"
                 "                     [--json]\n"
                 "Prints requests, tokens, errors and premium requests per API key, model and\n"
                 "day (UTC) from --since (default: 6 days ago) to today, with totals; and each\n"
                 "budget's use when --keys-file is given.\n");
    return status;
}

/* Nothing recorded yet (no file): an empty store, not an error. */
static int
empty_read(struct usage_store *store, int64_t since, int64_t until, const char *key,
           usage_row_fn *fn, void *ctx)
{
    (void)store, (void)since, (void)until, (void)key, (void)fn, (void)ctx;
    return 0;
}

static int
empty_spent(struct usage_store *store, const char *key, enum usage_period period, int64_t now,
            struct usage_spent *out)
{
    (void)store, (void)key, (void)period, (void)now;
    out->requests = out->tokens = 0;
    return 0;
}

static int
parse_options(int argc, char **argv, struct options *opt)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--json") == 0) {
            opt->json = 1;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return 1;
        const char **target = strcmp(arg, "--state-file") == 0  ? &opt->state_file
                              : strcmp(arg, "--store") == 0     ? &opt->store
                              : strcmp(arg, "--keys-file") == 0 ? &opt->keys_file
                              : strcmp(arg, "--key") == 0       ? &opt->key
                              : strcmp(arg, "--since") == 0     ? &opt->since
                                                                : NULL;
        if (target == NULL || i + 1 >= argc) {
            fprintf(stderr, "litellm-usage: %s %s\n", arg,
                    target ? "needs a value" : "is not an option");
            return -1;
        }
        *target = argv[++i];
    }
    if (opt->state_file == NULL) {
        fprintf(stderr, "litellm-usage: --state-file is required\n");
        return -1;
    }
    return 0;
}

static int
load_budgets(const char *path, struct usage_key_budget **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (path == NULL)
        return 0;
    struct api_key_set set;
    char err[512];
    if (api_keys_load(path, &set, err, sizeof err) != 0) {
        fprintf(stderr, "litellm-usage: %s\n", err);
        return -1;
    }
    int rc = 0;
    if (set.count > 0 && (*out = calloc(set.count, sizeof **out)) == NULL)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < set.count; i++) {
        if (set.keys[i].budget_period == USAGE_PERIOD_NONE)
            continue;
        struct usage_key_budget *entry = &(*out)[(*count)++];
        snprintf(entry->key, sizeof entry->key, "%s", set.keys[i].name);
        entry->budget = (struct usage_budget){ set.keys[i].budget_period,
                                               set.keys[i].budget_requests,
                                               set.keys[i].budget_tokens };
    }
    api_keys_free(&set);
    return rc;
}

static double
number(const cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

static const char *
text(const cJSON *object, const char *name)
{
    const char *value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(object, name));
    return value ? value : "";
}

static void
print_table(const cJSON *doc)
{
    printf("%-20s %-28s %-10s %9s %12s %12s %7s %9s\n", "KEY", "MODEL", "DAY", "REQUESTS", "INPUT",
           "OUTPUT", "ERRORS", "PREMIUM");
    const cJSON *bucket;
    cJSON_ArrayForEach(bucket, cJSON_GetObjectItemCaseSensitive(doc, "buckets")) {
        printf("%-20s %-28s %-10.10s %9.0f %12.0f %12.0f %7.0f %9.12g\n", text(bucket, "key"),
               text(bucket, "model"), text(bucket, "start"), number(bucket, "requests"),
               number(bucket, "input_tokens"), number(bucket, "output_tokens"),
               number(bucket, "errors"), number(bucket, "premium_requests"));
    }
    const cJSON *totals = cJSON_GetObjectItemCaseSensitive(doc, "totals");
    printf("%-20s %-28s %-10s %9.0f %12.0f %12.0f %7.0f %9.12g\n", "TOTAL", "", "",
           number(totals, "requests"), number(totals, "input_tokens"),
           number(totals, "output_tokens"), number(totals, "errors"),
           number(totals, "premium_requests"));
    const cJSON *budget;
    cJSON_ArrayForEach(budget, cJSON_GetObjectItemCaseSensitive(doc, "budgets")) {
        const cJSON *requests = cJSON_GetObjectItemCaseSensitive(budget, "requests");
        const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(budget, "tokens");
        printf("budget %s: %.0f/%.0f requests, %.0f/%.0f tokens per %s; resets at %s\n",
               text(budget, "key"), number(requests, "used"), number(requests, "limit"),
               number(tokens, "used"), number(tokens, "limit"), text(budget, "period"),
               text(budget, "resets_at"));
    }
}

int
main(int argc, char **argv)
{
    struct options opt = { 0 };
    int parsed = parse_options(argc, argv, &opt);
    if (parsed != 0)
        return usage(parsed > 0 ? stdout : stderr, parsed > 0 ? 0 : 2);
    int64_t now = (int64_t)time(NULL);
    struct usage_query query = { 0 };
    int64_t since = usage_day_start(now) - 6 * USAGE_DAY;
    if (opt.since != NULL && usage_parse_date(opt.since, strlen(opt.since), &since) != 0) {
        fprintf(stderr, "litellm-usage: --since takes a date, YYYY-MM-DD (UTC)\n");
        return 2;
    }
    usage_query_days(&query, since, now);
    if (opt.key != NULL) {
        if (!usage_key_name_valid(opt.key)) {
            fprintf(stderr, "litellm-usage: --key takes a key's name, or - for none\n");
            return 2;
        }
        snprintf(query.key, sizeof query.key, "%s", opt.key);
        query.has_key = true;
    }

    struct usage_store empty = { .name = "shm", .read = empty_read, .spent = empty_spent };
    struct usage_store *store = &empty;
    struct stat st;
    char err[512];
    if (stat(opt.state_file, &st) == 0) {
        /* The retention is the responder's to apply: never drop rows here. */
        store = usage_shm_open(opt.state_file, 3650, err, sizeof err);
        if (store == NULL) {
            fprintf(stderr, "litellm-usage: %s\n", err);
            return 1;
        }
    } else if (errno != ENOENT) {
        fprintf(stderr, "litellm-usage: cannot read %s: %s\n", opt.state_file, strerror(errno));
        return 1;
    }
    if (opt.store != NULL && strcmp(opt.store, "shm") != 0) {
        struct usage_store *redis = usage_redis_open(opt.store, 3650, store != &empty ? store : NULL,
                                                     err, sizeof err);
        if (redis == NULL) {
            fprintf(stderr, "litellm-usage: %s\n", err);
            if (store != &empty)
                store->close(store);
            return 1;
        }
        store = redis;
    }
    struct usage_key_budget *budgets;
    size_t budget_count;
    int status = 1;
    if (load_budgets(opt.keys_file, &budgets, &budget_count) == 0) {
        cJSON *doc = usage_report(store, &query, budgets, budget_count, now);
        char *json = doc && opt.json ? cJSON_PrintUnformatted(doc) : NULL;
        if (doc == NULL || (opt.json && json == NULL)) {
            fprintf(stderr, "litellm-usage: out of memory\n");
        } else {
            if (opt.json)
                printf("%s\n", json);
            else
                print_table(doc);
            status = fflush(stdout) == 0 ? 0 : 1;
        }
        free(json);
        cJSON_Delete(doc);
        free(budgets);
    }
    if (store != &empty)
        store->close(store);
    return status;
}
