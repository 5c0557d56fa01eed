/*
 * handlers: one function per HTTP endpoint, and the router from method and
 * path to them.
 */
#ifndef LITELLM_HANDLERS_H
#define LITELLM_HANDLERS_H

#include "auth.h"
#include "config.h"
#include "http.h"

/* What a handler tells the request log beyond status and time. */
struct request_outcome {
    char model[160];                     /* resolved model id, when one was picked */
    char key_name[API_KEY_NAME_MAX + 1]; /* the API key's name, never the key */
    unsigned long window;                /* window #n that served it, 0 if none */
    long prompt_tokens, completion_tokens;
    const char *note; /* "client gone", "timeout", ... */
};

void handle_request(struct http_request *req, const struct config *cfg,
                    struct request_outcome *outcome);
void handle_chat_completions(struct http_request *req, const struct config *cfg,
                             const struct auth_identity *identity, struct request_outcome *outcome);
void handle_health(struct http_request *req);
/* The models a key may use (every model without keys). */
void handle_models(struct http_request *req, const char *model_id,
                   const struct auth_identity *identity);

#endif
