#include "usage_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "usage_redis.h"
#include "usage_shm.h"

static struct usage_store *policy_store;
static const struct config *policy_cfg;

char *
usage_state_path(const struct config *cfg)
{
    if (cfg->usage_state_file != NULL)
        return strdup(cfg->usage_state_file);
    const char *limits = cfg->limits_state_file;
    const char *slash = strrchr(limits, '/');
    size_t dir = slash ? (size_t)(slash - limits) + 1 : 0;
    static const char name[] = "usage.state";
    char *path = malloc(dir + sizeof name);
    if (path != NULL) {
        memcpy(path, limits, dir);
        memcpy(path + dir, name, sizeof name);
    }
    return path;
}

int
usage_policy_init(const struct config *cfg)
{
    policy_cfg = cfg;
    char err[512];
    char *path = usage_state_path(cfg);
    if (path == NULL) {
        log_error("usage: out of memory");
        return -1;
    }
    /* The store follows the limits': the file, or Redis with the file as
     * its fallback. */
    struct usage_store *local = usage_shm_open(path, cfg->usage_retention_days, err, sizeof err);
    policy_store = local;
    if (local != NULL && strcmp(cfg->limits_store, "shm") != 0) {
        policy_store = usage_redis_open(cfg->limits_store, cfg->usage_retention_days, local, err,
                                        sizeof err);
        if (policy_store == NULL)
            local->close(local);
    }
    if (policy_store == NULL)
        log_error("usage: %s", err);
    else
        log_info("usage: counted in %s%s%s, %u days kept",
                 policy_store == local ? "" : cfg->limits_store,
                 policy_store == local ? "" : ", falling back to ", path, cfg->usage_retention_days);
    free(path);
    return policy_store != NULL ? 0 : -1;
}

void
usage_policy_shutdown(void)
{
    if (policy_store != NULL)
        policy_store->close(policy_store);
    policy_store = NULL;
}

struct usage_store *
usage_policy_store(void)
{
    return policy_store;
}

static const char *
key_of(const char *name)
{
    return name[0] != '\0' ? name : USAGE_NO_KEY;
}

/* "The API key 'alice' has used its budget of 100 requests per day; it
 * resets at 2026-12-06T00:00:00Z." with Retry-After to the reset. */
static void
refuse(const struct auth_identity *identity, enum usage_admission verdict, int64_t now,
       struct api_error *err)
{
    const struct usage_budget *budget = &identity->budget;
    int64_t start, end;
    usage_period_bounds(budget->period, now, &start, &end);
    char reset[USAGE_TIME_TEXT_SIZE];
    usage_format_time(end, reset);
    bool requests = verdict == USAGE_OVER_REQUESTS;
    api_error_set(err, 429, "budget_exceeded", NULL,
                  "The API key '%s' has used its budget of %ld %s per %s; it resets at %s.",
                  identity->name, requests ? budget->requests : budget->tokens,
                  requests ? (budget->requests == 1 ? "request" : "requests")
                           : (budget->tokens == 1 ? "token" : "tokens"),
                  usage_period_name(budget->period), reset);
    api_error_add_header(err, "Retry-After", "%lld", (long long)(end - now));
    api_error_add_header(err, "x-should-retry", "false");
}

int
usage_policy_admit(const struct auth_identity *identity, const char *model_id, const char *family,
                   struct request_outcome *outcome, struct api_error *err)
{
    if (policy_store == NULL)
        return 0;
    int64_t now = (int64_t)time(NULL);
    struct usage_call call = {
        .key = key_of(identity->name),
        .model = model_id,
        .premium_milli = config_premium_milli(policy_cfg, model_id, family),
        .budget = identity->has_key ? identity->budget : (struct usage_budget){ 0 },
    };
    enum usage_admission verdict;
    if (policy_store->admit(policy_store, &call, now, &verdict, NULL) != 0)
        log_warn("usage: the store is full; request %s is not counted", model_id);
    if (verdict != USAGE_ADMITTED) {
        refuse(identity, verdict, now, err);
        return -1;
    }
    outcome->usage_admitted = true;
    return 0;
}

void
usage_policy_record(const struct http_request *req, const struct request_outcome *outcome)
{
    if (policy_store == NULL || !outcome->model_call)
        return;
    const char *model = outcome->model[0] != '\0'             ? outcome->model
                        : outcome->requested_model[0] != '\0' ? outcome->requested_model
                                                              : "default";
    struct usage_call call = {
        .key = key_of(outcome->key_name),
        .model = model,
        .admitted = outcome->usage_admitted,
        .input_tokens = outcome->prompt_tokens > 0 ? outcome->prompt_tokens : 0,
        .output_tokens = outcome->completion_tokens > 0 ? outcome->completion_tokens : 0,
        .error = req->status >= 400,
    };
    if (policy_store->finish(policy_store, &call, (int64_t)time(NULL)) != 0)
        log_warn("usage: the store is full; request %s is not counted", req->request_id);
}
