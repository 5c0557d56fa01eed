/*
 * GET /usage: the usage document (usage_report.h) for the status page and
 * dashboards; no API key, the operations access (ops_access.h).  The query
 * string is parsed strictly (usage_query.h): a bad one is a 400.
 */
#include <stdlib.h>
#include <time.h>

#include "handlers.h"
#include "ops_access.h"
#include "respond.h"
#include "usage_policy.h"
#include "usage_query.h"
#include "usage_report.h"

void
handle_usage(struct http_request *req, const struct request_context *ctx)
{
    struct api_error err;
    if (ops_access_check(req, ctx->cfg, &err) != 0) {
        respond_error(req, &err);
        return;
    }
    int64_t now = (int64_t)time(NULL);
    struct usage_query query;
    char reason[256];
    if (usage_query_parse(http_param(req, "QUERY_STRING"), now, &query, reason, sizeof reason) !=
        0) {
        respond_refusal(req, 400, "invalid_query", "%s", reason);
        return;
    }
    struct usage_store *store = usage_policy_store();
    struct usage_key_budget *budgets = NULL;
    size_t budget_count = 0;
    cJSON *doc = NULL;
    if (store != NULL && auth_budgets(&budgets, &budget_count) == 0)
        doc = usage_report(store, &query, budgets, budget_count, now);
    free(budgets);
    if (doc == NULL) {
        respond_refusal(req, 500, "internal_error", "The usage could not be read.");
        return;
    }
    respond_json(req, doc);
    cJSON_Delete(doc);
}
