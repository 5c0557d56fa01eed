/*
 * The Responses endpoints beside POST /v1/responses (a model call,
 * model_call.c): POST /v1/responses/input_tokens, answered by the token
 * estimator without a model call, and GET /v1/responses/{id}, which finds
 * nothing: the gateway stores no responses.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "log.h"
#include "respond.h"
#include "responses_request.h"
#include "router.h"
#include "token_estimate.h"

/* The family whose tokenizer counts: the model's that would answer (a
 * connected window knows it), else the family its name says. */
static enum token_family
family_for(const struct config *cfg, const char *requested)
{
    const char *name = config_model_alias(cfg, requested);
    struct router_pick pick = { 0 };
    enum token_family family = token_family_of(name);
    if (router_resolve(name, &pick, NULL) == ROUTER_OK) {
        family = token_family_of(*pick.family ? pick.family : pick.model_id);
        router_release(&pick);
    }
    return family;
}

void
handle_responses_input_tokens(struct http_request *req, const struct request_context *ctx)
{
    struct api_error err;
    struct chat_request request;
    memset(&request, 0, sizeof request);
    int body = http_read_body(req, ctx->cfg->max_body);
    if (body == HTTP_BODY_TOO_BIG) {
        api_error_set(&err, 413, "request_too_large", NULL,
                      "The request body is larger than %zu bytes (--max-body).", ctx->cfg->max_body);
        respond_error(req, &err);
        return;
    }
    if (body != HTTP_BODY_OK) {
        api_error_set(&err, 400, "invalid_body", NULL, "The request body could not be read.");
        respond_error(req, &err);
        return;
    }
    if (responses_request_parse_count(req->body.data ? req->body.data : "", req->body.len, &request,
                                      &err) != 0) {
        respond_error(req, &err);
        chat_request_free(&request);
        return;
    }
    if (request.notes != NULL)
        log_info("request %s: %s", req->request_id, request.notes);
    enum token_family family = family_for(ctx->cfg, request.model);
    long tokens = token_estimate_messages(request.messages, family) +
                  token_estimate_tools(request.tools, family);
    char body_text[96];
    snprintf(body_text, sizeof body_text,
             "{\"object\":\"response.input_tokens\",\"input_tokens\":%ld}", tokens);
    respond_body(req, 200, "application/json", body_text, strlen(body_text));
    chat_request_free(&request);
}

void
handle_responses_get(struct http_request *req, const struct request_context *ctx)
{
    struct api_error err;
    api_error_set(&err, 404, "response_not_found", NULL,
                  "Response with id '%.200s' not found: this gateway is stateless and stores no "
                  "responses, so there is nothing to retrieve. Keep what POST /v1/responses "
                  "returned, and send the whole conversation in 'input'.",
                  ctx->path_id);
    respond_error(req, &err);
}
