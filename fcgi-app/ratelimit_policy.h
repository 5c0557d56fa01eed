/*
 * limits_policy: which limits apply to a request, and what the client is
 * told.  It turns the configured rules (global, per model, per key from the
 * keys file, per key x model) into the scopes of a limit_request, admits it
 * through the store (waiting up to --limits-wait-max for capacity while the
 * client is still there), says what the x-ratelimit-* headers report, and
 * settles the reservation with the real usage when the reply ends.  It
 * decides; it never answers the client (respond.c does).
 */
#ifndef LITELLM_RATELIMIT_POLICY_H
#define LITELLM_RATELIMIT_POLICY_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "api_error.h"
#include "auth.h"
#include "config.h"
#include "ratelimit.h"

int ratelimit_policy_init(const struct config *cfg);
void ratelimit_policy_shutdown(void);

/* Fills `lr` with the scopes that have a limit; false when none has. */
bool ratelimit_policy_prepare(struct limit_request *lr, const char *request_id,
                              const struct auth_identity *identity, const char *model_id,
                              const char *family, long tokens);
/* How a queued request's wait ended (the caller's wait: it watches the
 * client and the drain signal). */
enum limit_wait { LIMIT_WAIT_ELAPSED, LIMIT_WAIT_CLIENT_GONE, LIMIT_WAIT_SHUTDOWN };
typedef enum limit_wait (*limit_wait_fn)(void *ctx, int64_t ns);

enum limit_admission {
    LIMIT_ADMITTED,    /* `status` filled in */
    LIMIT_REFUSED,     /* `err` says why (429, or 503 when draining) */
    LIMIT_CLIENT_LEFT, /* the client left while queued */
};
enum limit_admission ratelimit_policy_admit(struct limit_request *lr, limit_wait_fn wait,
                                            void *wait_ctx, struct limit_status *status,
                                            struct api_error *err);
/* For a request refused before admission (bad body, unknown model...):
 * the state of its global and key scopes, unchanged. */
void ratelimit_policy_idle_status(const struct auth_identity *identity, struct limit_status *status);
/* The reply ended having used `tokens_used` in all: settle and free the slot. */
void ratelimit_policy_finish(struct limit_request *lr, long tokens_used);
/* Calls `visit` with the current use of every limit of an API key: each
 * key's own (model NULL) and each key x model rule; for /metrics. */
typedef void (*limit_key_visit)(void *ctx, const char *key, const char *model,
                                const struct limit_rule *rule, const struct limit_verdict *use);
void ratelimit_policy_each_key_limit(limit_key_visit visit, void *ctx);
/* Adds "limits" (each rule's current use) and "limits_store" to /health. */
int ratelimit_policy_describe(cJSON *health);

#endif
