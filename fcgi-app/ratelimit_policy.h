/*
 * limits_policy: which limits apply to a request, and what the client is
 * told.  It turns the configured rules (global, per model, per key from the
 * keys file, per key x model) into the scopes of a limit_request, admits it
 * through the store (waiting up to --limits-wait-max for capacity while the
 * client is still there), adds the x-ratelimit-* headers, and settles the
 * reservation with the real usage when the reply ends.
 */
#ifndef LITELLM_RATELIMIT_POLICY_H
#define LITELLM_RATELIMIT_POLICY_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "config.h"
#include "http.h"
#include "ratelimit.h"

int ratelimit_policy_init(const struct config *cfg);
void ratelimit_policy_shutdown(void);

/* Fills `lr` with the scopes that have a limit; false when none has. */
bool ratelimit_policy_prepare(struct limit_request *lr, const char *request_id,
                           const struct auth_identity *identity, const char *model_id,
                           const char *family, long tokens);
/* 0: admitted (headers added); -1: a 429 was sent or the client left. */
int ratelimit_policy_admit(struct limit_request *lr, struct http_request *req);
/* For a request refused before admission (bad body, unknown model...):
 * the x-ratelimit-* headers of its global and key scopes, unchanged. */
void ratelimit_policy_add_idle_headers(struct http_request *req,
                                       const struct auth_identity *identity);
/* The reply ended having used `tokens_used` in all: settle and free the slot. */
void ratelimit_policy_finish(struct limit_request *lr, long tokens_used);
/* Adds "limits" (each rule's current use) and "limits_store" to /health. */
int ratelimit_policy_describe(cJSON *health);

#endif
