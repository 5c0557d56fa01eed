/* Maps method and path to a handler; 404 and 405 are answered here. */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "openai_error.h"

static bool
path_is(const char *path, const char *name)
{
    /* Each endpoint answers with and without OpenAI's /v1 prefix. */
    if (strncmp(path, "/v1/", 4) == 0)
        path += 3;
    return strcmp(path, name) == 0;
}

/* "/v1/models/ID" or "/models/ID" → "ID" */
static const char *
model_path_id(const char *path)
{
    if (strncmp(path, "/v1/", 4) == 0)
        path += 3;
    if (strncmp(path, "/models/", 8) != 0 || path[8] == '\0')
        return NULL;
    return path + 8;
}

static bool
method_is(const struct http_request *req, const char *method)
{
    return strcmp(req->method, method) == 0;
}

static void
method_not_allowed(struct http_request *req, const char *allowed)
{
    char header[64];
    snprintf(header, sizeof header, "Allow: %s\r\n", allowed);
    http_send_error(req, 405, header, "method_not_allowed", NULL,
                    "Method %s is not allowed on %s; use %s.", req->method, req->path, allowed);
}

/* The API routes need a key (when keys are in use); /health does not, so
 * that monitors and litellmctl can read it. */
static bool
authenticated(struct http_request *req, struct auth_identity *identity,
              struct request_outcome *outcome)
{
    if (auth_check(req, identity) != 0)
        return false;
    if (identity->has_key)
        snprintf(outcome->key_name, sizeof outcome->key_name, "%s", identity->name);
    return true;
}

void
handle_request(struct http_request *req, const struct config *cfg, struct request_outcome *outcome)
{
    bool get = method_is(req, "GET") || method_is(req, "HEAD");
    const char *model_id;
    struct auth_identity identity = { 0 };
    if (path_is(req->path, "/chat/completions")) {
        if (!method_is(req, "POST"))
            method_not_allowed(req, "POST");
        else if (authenticated(req, &identity, outcome))
            handle_chat_completions(req, cfg, &identity, outcome);
    } else if (path_is(req->path, "/models")) {
        if (!get)
            method_not_allowed(req, "GET");
        else if (authenticated(req, &identity, outcome))
            handle_models(req, NULL, &identity);
    } else if ((model_id = model_path_id(req->path)) != NULL) {
        if (!get)
            method_not_allowed(req, "GET");
        else if (authenticated(req, &identity, outcome))
            handle_models(req, config_model_alias(cfg, model_id), &identity);
    } else if (path_is(req->path, "/health")) {
        if (get)
            handle_health(req);
        else
            method_not_allowed(req, "GET");
    } else {
        http_send_error(req, 404, NULL, "unknown_url", NULL,
                        "Unknown request URL: %s %s. This server offers POST /v1/chat/completions, "
                        "GET /v1/models and GET /health.", req->method, req->path);
    }
    auth_identity_free(&identity);
}
