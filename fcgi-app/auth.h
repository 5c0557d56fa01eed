/*
 * auth: who is calling.  A key comes as "Authorization: Bearer KEY" or
 * "x-api-key: KEY" and is looked up in the keys file (api_keys.c), which is
 * re-read when it changes.  Policy (--auth auto): once any key exists every
 * request needs one; with no keys, only requests that reached nginx on a
 * loopback address may go without, so a gateway listening beyond loopback
 * is never open.
 */
#ifndef LITELLM_AUTH_H
#define LITELLM_AUTH_H

#include <stdbool.h>

#include "api_error.h"
#include "api_keys.h"
#include "config.h"
#include "http.h"
#include "ratelimit.h"
#include "usage_report.h"
#include "usage_store.h"

struct auth_identity {
    bool has_key;
    char name[API_KEY_NAME_MAX + 1]; /* for logs and limit scopes */
    struct limit_rule rule;          /* the key's own limits */
    char *models;                    /* allowed models, NULL: any; owned */
    struct usage_budget budget;      /* the key's budget (period NONE: none) */
};

int auth_init(const struct config *cfg);
void auth_shutdown(void);
/* 0: allowed (identity filled in); -1: refused, `err` says how (401). */
int auth_check(const struct http_request *req, struct auth_identity *identity,
               struct api_error *err);
bool auth_allows_model(const struct auth_identity *identity, const char *model_id,
                       const char *family);
void auth_identity_free(struct auth_identity *identity);
/* The keys that have limits of their own, copied (the caller frees
 * `*rules`): for /metrics.  0, or -1 when out of memory. */
struct auth_key_rule {
    char name[API_KEY_NAME_MAX + 1];
    struct limit_rule rule;
};
int auth_key_rules(struct auth_key_rule **rules, size_t *count);
/* For /health and status: how many keys, and whether keys are required. */
int auth_describe(cJSON *out);
/* The keys that have a budget, for /usage: an array the caller frees. */
int auth_budgets(struct usage_key_budget **out, size_t *count);

#endif
