/*
 * usage_policy: the responder's side of usage and budgets.  A model call
 * is counted once: its request (and premium requests, --premium-multiplier)
 * when it is admitted, after the key's budget is checked in the same step;
 * its tokens and error at the end of the request (server.c, beside the log
 * line).  A call refused before admission counts as a request and an
 * error, and spends no budget.
 */
#ifndef LITELLM_USAGE_POLICY_H
#define LITELLM_USAGE_POLICY_H

#include "api_error.h"
#include "auth.h"
#include "config.h"
#include "handlers.h"
#include "http.h"
#include "usage_store.h"

/* Opens the store (--usage-state-file, or usage.state beside
 * --limits-state-file).  0, or -1 after logging why. */
int usage_policy_init(const struct config *cfg);
void usage_policy_shutdown(void);
/* The open store, for /usage and the status document; NULL before init. */
struct usage_store *usage_policy_store(void);
/* The usage file's path for `cfg`; the caller frees it.  NULL: no memory. */
char *usage_state_path(const struct config *cfg);

/* Checks the key's budget and counts the request: 0 (outcome marked
 * admitted), or -1 with a 429 budget_exceeded in `err`. */
int usage_policy_admit(const struct auth_identity *identity, const char *model_id,
                       const char *family, struct request_outcome *outcome, struct api_error *err);
/* At the end of every request: counts it if it was a model call. */
void usage_policy_record(const struct http_request *req, const struct request_outcome *outcome);

#endif
