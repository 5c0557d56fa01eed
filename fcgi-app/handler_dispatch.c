/* Maps method and path to a handler; refuses unknown paths (404), other
 * methods (405) and unauthenticated calls (401) through the finisher. */
#include <stdio.h>
#include <string.h>

#include "chat_reply.h"
#include "handlers.h"
#include "respond.h"

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
    struct api_error err;
    api_error_set(&err, 405, "method_not_allowed", NULL,
                  "Method %.32s is not allowed on %.200s; use %s.", req->method, req->path, allowed);
    api_error_add_header(&err, "Allow", "%s", allowed);
    respond_error(req, &err);
}

/* The API routes need a key (when keys are in use); /health does not, so
 * that monitors and litellmctl can read it. */
static bool
authenticated(struct http_request *req, struct auth_identity *identity,
              struct request_outcome *outcome)
{
    struct api_error err;
    if (auth_check(req, identity, &err) != 0) {
        respond_error(req, &err);
        return false;
    }
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
    req->wire = &chat_wire_format; /* every route speaks OpenAI's shapes today */
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
        struct api_error err;
        api_error_set(&err, 404, "unknown_url", NULL,
                      "Unknown request URL: %.32s %.2000s. This server offers POST "
                      "/v1/chat/completions, GET /v1/models and GET /health.",
                      req->method, req->path);
        respond_error(req, &err);
    }
    auth_identity_free(&identity);
}
