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

/* What a handler is given besides the request. */
struct request_context {
    const struct config *cfg;
    const struct auth_identity *identity; /* the caller (no key: has_key false) */
    struct request_outcome *outcome;
    const char *path_id; /* the id of a path such as /v1/models/{id} */
    /* A model call whose model and streaming the path says, not the body
     * (Gemini's /v1beta/models/{model}:{action}): the model, or NULL. */
    const char *path_model;
    bool path_stream;
};

typedef void route_handler(struct http_request *req, const struct request_context *ctx);

void handle_request(struct http_request *req, const struct config *cfg,
                    struct request_outcome *outcome);
/* A model call in the route's wire format (req->wire): chat completions,
 * messages, ... */
route_handler handle_model_call;
/* POST /v1/messages/count_tokens: {"input_tokens": N}. */
route_handler handle_count_tokens;
route_handler handle_health;
/* GET /health/liveliness and /health/readiness: probes, JSON, no key. */
route_handler handle_liveliness;
route_handler handle_readiness;
/* The models a key may use (every model without keys), and one of them. */
route_handler handle_models;
route_handler handle_model;
/* POST /v1/responses/input_tokens (the token estimator) and GET
 * /v1/responses/{id} (404: nothing is stored). */
route_handler handle_responses_input_tokens;
route_handler handle_responses_get;
/* Gemini: POST /v1beta/models/{model}:generateContent, :streamGenerateContent,
 * :countTokens ({model} may hold '/'); GET /v1beta/models and
 * /v1beta/models/{model} in Google's list shape. */
route_handler handle_gemini_action;
route_handler handle_gemini_models;
route_handler handle_gemini_model;
/* The rest of /v1beta/: 404 in Google's shape. */
route_handler handle_gemini_unknown;

/* The models the caller's key may use (every model without keys), in
 * OpenAI's list shape; NULL when out of memory.  The caller frees it. */
cJSON *handlers_allowed_models(const struct request_context *ctx);

#endif
