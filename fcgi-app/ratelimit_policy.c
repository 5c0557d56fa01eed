#include "ratelimit_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "model_name.h"
#include "ratelimit_redis.h"
#include "ratelimit_shm.h"

static const struct config *policy_cfg;
static struct limit_store *policy_store;

int
ratelimit_policy_init(const struct config *cfg)
{
    policy_cfg = cfg;
    char err[512];
    struct limit_store *local = ratelimit_shm_open(cfg->limits_state_file, err, sizeof err);
    if (local == NULL) {
        log_error("limits: %s", err);
        return -1;
    }
    if (strcmp(cfg->limits_store, "shm") == 0) {
        policy_store = local;
    } else {
        policy_store = ratelimit_redis_open(cfg->limits_store, local, err, sizeof err);
        if (policy_store == NULL) {
            local->close(local);
            log_error("limits: %s", err);
            return -1;
        }
    }
    log_info("limits: state in %s%s%s",
             strcmp(policy_store->name, "shm") == 0 ? "" : cfg->limits_store,
             strcmp(policy_store->name, "shm") == 0 ? "" : ", falling back to ",
             cfg->limits_state_file);
    return 0;
}

void
ratelimit_policy_shutdown(void)
{
    if (policy_store != NULL)
        policy_store->close(policy_store);
    policy_store = NULL;
}

static bool
rule_set(const struct limit_rule *rule)
{
    return rule->rpm > 0 || rule->tpm > 0 || rule->concurrent > 0;
}

/* Scope keys: "global", "key:NAME", "model:MODEL", "key:NAME|model:MODEL". */
static void
add_scope(struct limit_request *lr, const struct limit_rule *rule, const char *key,
          const char *model)
{
    if (!rule_set(rule) || lr->scope_count == LIMIT_MAX_SCOPES)
        return;
    struct limit_scope *scope = &lr->scopes[lr->scope_count++];
    if (key == NULL && model == NULL)
        snprintf(scope->key, sizeof scope->key, "global");
    else if (model == NULL)
        snprintf(scope->key, sizeof scope->key, "key:%s", key);
    else if (key == NULL)
        snprintf(scope->key, sizeof scope->key, "model:%s", model);
    else
        snprintf(scope->key, sizeof scope->key, "key:%s|model:%s", key, model);
    scope->rule = *rule;
}

bool
ratelimit_policy_prepare(struct limit_request *lr, const char *request_id,
                         const struct auth_identity *identity, const char *model_id,
                         const char *family, long tokens)
{
    memset(lr, 0, sizeof *lr);
    snprintf(lr->lease, sizeof lr->lease, "%s", request_id);
    lr->tokens = tokens;
    const char *key = identity->has_key ? identity->name : NULL;
    add_scope(lr, &policy_cfg->global_limit, NULL, NULL);
    if (key != NULL)
        add_scope(lr, &identity->rule, key, NULL);
    /* The first matching rule of each kind applies; scope keys use the rule's
     * own model name, so "gpt-4o" by id or by family is one budget. */
    bool model_done = false, key_model_done = false;
    for (size_t i = 0; i < policy_cfg->model_rule_count; i++) {
        const struct scoped_rule *rule = &policy_cfg->model_rules[i];
        if (!model_name_names(rule->model, model_id, family))
            continue;
        if (rule->key == NULL && !model_done) {
            add_scope(lr, &rule->rule, NULL, rule->model);
            model_done = true;
        } else if (rule->key != NULL && key != NULL && strcmp(rule->key, key) == 0 &&
                   !key_model_done) {
            add_scope(lr, &rule->rule, key, rule->model);
            key_model_done = true;
        }
    }
    return lr->scope_count > 0;
}

static const char *
scope_label(const struct limit_scope *scope, char *buf, size_t size)
{
    if (strcmp(scope->key, "global") == 0)
        snprintf(buf, size, "the gateway as a whole");
    else if (strncmp(scope->key, "key:", 4) == 0 && strchr(scope->key, '|') != NULL)
        snprintf(buf, size, "API key '%.*s' on model '%s'",
                 (int)(strchr(scope->key, '|') - scope->key - 4), scope->key + 4,
                 strchr(scope->key, '|') + 7);
    else if (strncmp(scope->key, "key:", 4) == 0)
        snprintf(buf, size, "API key '%s'", scope->key + 4);
    else
        snprintf(buf, size, "model '%s'", scope->key + 6);
    return buf;
}

/* "global", "key", "model" or "key_model": what a scope limits. */
static const char *
scope_kind(const struct limit_scope *scope)
{
    if (strcmp(scope->key, "global") == 0)
        return "global";
    if (strncmp(scope->key, "key:", 4) == 0)
        return strchr(scope->key, '|') != NULL ? "key_model" : "key";
    return "model";
}

static long
rule_value(const struct limit_rule *rule, enum limit_kind kind)
{
    return kind == LIMIT_REQUESTS ? rule->rpm : kind == LIMIT_TOKENS ? rule->tpm : rule->concurrent;
}

void
ratelimit_policy_idle_status(const struct auth_identity *identity, struct limit_status *out)
{
    struct limit_request lr;
    if (!ratelimit_policy_prepare(&lr, "", identity, NULL, NULL, 0))
        return;
    struct limit_status status = { 0 };
    int64_t now = limit_now_ns();
    for (size_t i = 0; i < lr.scope_count; i++) {
        struct limit_verdict use;
        if (policy_store->peek(policy_store, &lr.scopes[i], now, &use) != 0)
            continue;
        if (use.status.has_requests)
            limit_status_merge(&status, LIMIT_REQUESTS, use.status.limit_requests,
                               use.status.remaining_requests, use.status.reset_requests_ns);
        if (use.status.has_tokens)
            limit_status_merge(&status, LIMIT_TOKENS, use.status.limit_tokens,
                               use.status.remaining_tokens, use.status.reset_tokens_ns);
    }
    *out = status;
}

enum limit_admission
ratelimit_policy_admit(struct limit_request *lr, limit_wait_fn wait, void *wait_ctx,
                       struct limit_status *status, struct api_error *err)
{
    const int64_t wait_budget = (int64_t)policy_cfg->wait_max * 1000000000LL;
    const int64_t first_try = limit_now_ns();
    struct limit_verdict verdict;
    for (;;) {
        int64_t now = limit_now_ns();
        policy_store->admit(policy_store, lr, now, &verdict);
        if (verdict.allowed)
            break;
        int64_t waited = now - first_try;
        if (verdict.retry_after_ns < 0 || waited + verdict.retry_after_ns > wait_budget)
            break;
        /* Queue: wait for capacity; a client that leaves stops waiting. */
        enum limit_wait woke = wait(wait_ctx, verdict.retry_after_ns + 1000000);
        if (woke == LIMIT_WAIT_CLIENT_GONE)
            return LIMIT_CLIENT_LEFT;
        if (woke == LIMIT_WAIT_SHUTDOWN) {
            api_error_set(err, 503, "server_shutting_down", NULL,
                          "The gateway is shutting down; retry in a moment.");
            return LIMIT_REFUSED;
        }
    }
    *status = verdict.status;
    if (verdict.allowed)
        return LIMIT_ADMITTED;

    const struct limit_scope *scope = &lr->scopes[verdict.scope];
    lr->refused_scope = scope_kind(scope);
    lr->refused_kind = verdict.kind == LIMIT_REQUESTS ? "requests"
                       : verdict.kind == LIMIT_TOKENS ? "tokens"
                                                      : "concurrent";
    char label[200];
    scope_label(scope, label, sizeof label);
    long limit = rule_value(&scope->rule, verdict.kind);
    if (verdict.retry_after_ns < 0) {
        api_error_set(err, 429, "rate_limit_exceeded", NULL,
                      "Request too large: it needs about %ld tokens, more than the limit of %ld "
                      "tokens per minute for %s. Send less, or lower max_tokens.",
                      lr->tokens, limit, label);
        api_error_add_header(err, "x-should-retry", "false");
        return LIMIT_REFUSED;
    }
    int64_t retry_ms = (verdict.retry_after_ns + 999999) / 1000000;
    const char *what = limit_kind_name(verdict.kind, limit);
    char retry[32];
    limit_format_duration(verdict.retry_after_ns, retry, sizeof retry);
    api_error_set(err, 429, "rate_limit_exceeded", NULL,
                  "Rate limit reached: %ld %s for %s. Please try again in %s.", limit, what, label,
                  retry);
    api_error_add_header(err, "Retry-After", "%lld", (long long)((retry_ms + 999) / 1000));
    api_error_add_header(err, "retry-after-ms", "%lld", (long long)retry_ms);
    return LIMIT_REFUSED;
}

void
ratelimit_policy_finish(struct limit_request *lr, long tokens_used)
{
    int64_t now = limit_now_ns();
    long delta = tokens_used - lr->tokens;
    if (delta != 0)
        policy_store->adjust_tokens(policy_store, lr, delta, now);
    policy_store->release(policy_store, lr);
}

/* One rate's use in /health, under `name`: its limit, what is left, and
 * when all of it is back. */
static void
add_rate_use(cJSON *item, const char *name, long limit, long remaining, int64_t reset_ns)
{
    char reset[32];
    limit_format_duration(reset_ns, reset, sizeof reset);
    cJSON *rate = cJSON_AddObjectToObject(item, name);
    cJSON_AddNumberToObject(rate, "limit", (double)limit);
    cJSON_AddNumberToObject(rate, "remaining", (double)remaining);
    cJSON_AddStringToObject(rate, "reset", reset);
}

/* Adds one limit's use to /health: structured in `list`, and as one line
 * for people in `summary` (what `litellmctl status` prints). */
static void
describe_rule(cJSON *list, cJSON *summary, const char *scope_key, const char *label,
              const struct limit_rule *rule)
{
    if (!rule_set(rule))
        return;
    struct limit_scope scope = { .rule = *rule };
    snprintf(scope.key, sizeof scope.key, "%s", scope_key);
    struct limit_verdict use;
    if (policy_store->peek(policy_store, &scope, limit_now_ns(), &use) != 0)
        return;
    cJSON *item = cJSON_CreateObject();
    if (item == NULL)
        return;
    cJSON_AddStringToObject(item, "scope", label);
    if (rule->rpm > 0)
        add_rate_use(item, "requests_per_minute", rule->rpm, use.status.remaining_requests,
                     use.status.reset_requests_ns);
    if (rule->tpm > 0)
        add_rate_use(item, "tokens_per_minute", rule->tpm, use.status.remaining_tokens,
                     use.status.reset_tokens_ns);
    if (rule->concurrent > 0) {
        cJSON *concurrent = cJSON_AddObjectToObject(item, "concurrent");
        cJSON_AddNumberToObject(concurrent, "limit", (double)rule->concurrent);
        cJSON_AddNumberToObject(concurrent, "in_flight", (double)use.in_flight);
    }
    cJSON_AddItemToArray(list, item);

    char line[512];
    int used = snprintf(line, sizeof line, "%s:", label);
    if (rule->rpm > 0 && used < (int)sizeof line)
        used += snprintf(line + used, sizeof line - (size_t)used, " %ld/%ld requests a minute left,",
                         use.status.remaining_requests, rule->rpm);
    if (rule->tpm > 0 && used < (int)sizeof line)
        used += snprintf(line + used, sizeof line - (size_t)used, " %ld/%ld tokens a minute left,",
                         use.status.remaining_tokens, rule->tpm);
    if (rule->concurrent > 0 && used < (int)sizeof line)
        used += snprintf(line + used, sizeof line - (size_t)used, " %ld/%ld in flight,",
                         use.in_flight, rule->concurrent);
    if (used > 0 && used < (int)sizeof line && line[used - 1] == ',')
        line[used - 1] = '\0';
    cJSON_AddItemToArray(summary, cJSON_CreateString(line));
}

int
ratelimit_policy_describe(cJSON *health)
{
    /* The limits first: reading them is what notices a Redis outage, which
     * the store's status below then reports. */
    cJSON *list = cJSON_AddArrayToObject(health, "limits");
    cJSON *summary = cJSON_AddArrayToObject(health, "limits_summary");
    if (list == NULL || summary == NULL)
        return -1;
    describe_rule(list, summary, "global", "global", &policy_cfg->global_limit);
    for (size_t i = 0; i < policy_cfg->model_rule_count; i++) {
        const struct scoped_rule *rule = &policy_cfg->model_rules[i];
        char key[LIMIT_SCOPE_KEY_MAX], label[LIMIT_SCOPE_KEY_MAX];
        if (rule->key == NULL) {
            snprintf(key, sizeof key, "model:%s", rule->model);
            snprintf(label, sizeof label, "model %s", rule->model);
        } else {
            snprintf(key, sizeof key, "key:%s|model:%s", rule->key, rule->model);
            snprintf(label, sizeof label, "key %s on model %s", rule->key, rule->model);
        }
        describe_rule(list, summary, key, label, &rule->rule);
    }

    cJSON *store = cJSON_AddObjectToObject(health, "limits_store");
    if (store == NULL)
        return -1;
    cJSON_AddStringToObject(store, "configured", policy_cfg->limits_store);
    char outage[256];
    const char *down = strcmp(policy_store->name, "redis") == 0
                           ? ratelimit_redis_outage(policy_store, outage, sizeof outage)
                           : NULL;
    cJSON_AddStringToObject(store, "active",
                            down ? "shm (Redis unreachable: local fallback)" : policy_store->name);
    if (down != NULL)
        cJSON_AddStringToObject(store, "error", down);
    return 0;
}

static void
visit_key_limit(limit_key_visit visit, void *ctx, const char *key, const char *model,
                const struct limit_rule *rule)
{
    if (!rule_set(rule))
        return;
    struct limit_scope scope = { .rule = *rule };
    if (model == NULL)
        snprintf(scope.key, sizeof scope.key, "key:%s", key);
    else
        snprintf(scope.key, sizeof scope.key, "key:%s|model:%s", key, model);
    struct limit_verdict use;
    if (policy_store->peek(policy_store, &scope, limit_now_ns(), &use) == 0)
        visit(ctx, key, model, rule, &use);
}

void
ratelimit_policy_each_key_limit(limit_key_visit visit, void *ctx)
{
    if (policy_store == NULL)
        return;
    struct auth_key_rule *keys = NULL;
    size_t count = 0;
    if (auth_key_rules(&keys, &count) == 0) {
        for (size_t i = 0; i < count; i++)
            visit_key_limit(visit, ctx, keys[i].name, NULL, &keys[i].rule);
        free(keys);
    }
    for (size_t i = 0; i < policy_cfg->model_rule_count; i++) {
        const struct scoped_rule *rule = &policy_cfg->model_rules[i];
        if (rule->key != NULL)
            visit_key_limit(visit, ctx, rule->key, rule->model, &rule->rule);
    }
}
