/*
 * POST /v1/messages/count_tokens: the prompt of an Anthropic Messages body,
 * counted by the one estimator (token_estimate.c) the way a model call
 * counts it before dispatch, for the family of the model that would answer
 * (or the family the name says, when no window offers it: a count needs no
 * window).  Never a made-up 0: Claude Code decides from it when to compact
 * a conversation.  No model runs, so no limit is taken.
 */
#include <stdio.h>

#include "chat_request.h"
#include "handlers.h"
#include "log.h"
#include "messages_request.h"
#include "respond.h"
#include "router.h"
#include "token_estimate.h"

/* The family of the model that would serve `requested`, or of the name. */
static enum token_family
family_for(const struct config *cfg, const char *requested)
{
    const char *name = config_model_alias(cfg, requested);
    struct router_pick pick;
    struct dynbuf available;
    dynbuf_init(&available, 1u << 16);
    enum token_family family;
    if (router_resolve(name, &pick, &available) == ROUTER_OK)
        family = token_family_of(*pick.family ? pick.family : pick.model_id);
    else
        family = token_family_of(name);
    router_release(&pick);
    dynbuf_free(&available);
    return family;
}

void
handle_count_tokens(struct http_request *req, const struct request_context *ctx)
{
    struct api_error err;
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
    struct chat_request request;
    if (messages_request_parse_for_count(req->body.data ? req->body.data : "", req->body.len,
                                         &request, &err) != 0) {
        chat_request_free(&request);
        respond_error(req, &err);
        return;
    }
    if (request.notes != NULL)
        log_info("request %s: %s", req->request_id, request.notes);
    enum token_family family = family_for(ctx->cfg, request.model);
    long tokens = token_estimate_messages(request.messages, family) +
                  token_estimate_tools(request.tools, family);
    ctx->outcome->prompt_tokens = tokens;
    char answer[48];
    int len = snprintf(answer, sizeof answer, "{\"input_tokens\":%ld}", tokens);
    respond_body(req, 200, "application/json", answer, (size_t)len);
    chat_request_free(&request);
}
