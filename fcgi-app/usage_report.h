/*
 * usage_report: the usage document, one producer for GET /usage, the
 * status page and `litellmctl usage` (tests/spec/usage.schema.json):
 *
 *   {"object":"usage","store","since","until","granularity":"hour"|"day",
 *    "buckets":[{"start","key","model","requests","input_tokens",
 *                "output_tokens","errors","premium_requests"}],
 *    "totals":{...},
 *    "budgets":[{"key","period","requests":{"limit","used"},
 *                "tokens":{"limit","used"},"resets_at"}]}
 *
 * Buckets are sorted by start, key and model; a day is the sum of its hours.
 */
#ifndef LITELLM_USAGE_REPORT_H
#define LITELLM_USAGE_REPORT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "usage_query.h"
#include "usage_store.h"

struct usage_key_budget {
    char key[USAGE_KEY_MAX + 1];
    struct usage_budget budget;
};

/* NULL when out of memory or the store failed.  The caller owns it. */
cJSON *usage_report(struct usage_store *store, const struct usage_query *query,
                    const struct usage_key_budget *budgets, size_t budget_count, int64_t now);
/* One budget's entry ({"key","period","requests","tokens","resets_at"}). */
cJSON *usage_budget_entry(struct usage_store *store, const struct usage_key_budget *budget,
                          int64_t now);
/* Today's totals (UTC), all keys and per key: {"day","requests",
 * "input_tokens","output_tokens","premium_requests","keys":[...]}, for
 * the status document.  NULL when out of memory or the store failed. */
cJSON *usage_today(struct usage_store *store, int64_t now);

#endif
