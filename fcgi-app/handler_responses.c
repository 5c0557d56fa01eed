/*
 * The Responses endpoints beside POST /v1/responses (a model call,
 * model_call.c): POST /v1/responses/input_tokens, answered by the token
 * estimator without a model call, and GET /v1/responses/{id}, which finds
 * nothing: the gateway stores no responses.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "prompt_count.h"
#include "respond.h"
#include "responses_request.h"

void
handle_responses_input_tokens(struct http_request *req, const struct request_context *ctx)
{
    long tokens;
    if (prompt_count(req, ctx, responses_request_parse_count, &tokens) != 0)
        return;
    char body_text[96];
    snprintf(body_text, sizeof body_text,
             "{\"object\":\"response.input_tokens\",\"input_tokens\":%ld}", tokens);
    respond_body(req, 200, "application/json", body_text, strlen(body_text));
}

void
handle_responses_get(struct http_request *req, const struct request_context *ctx)
{
    respond_refusal(req, 404, "response_not_found",
                    "Response with id '%.200s' not found: this gateway is stateless and stores no "
                    "responses, so there is nothing to retrieve. Keep what POST /v1/responses "
                    "returned, and send the whole conversation in 'input'.",
                    ctx->path_id);
}
