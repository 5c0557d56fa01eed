/*
 * POST /v1beta/models/{model}:{action}: Google's Gemini API, whose path
 * names the model and the call.  {model} may hold '/' (the gateway's own
 * ids, "copilot/gpt-4o", arrive so from Gemini CLI's -m and the SDK); the
 * action is after the last ':'; the query string (alt=sse, key=) never
 * changes the route.  generateContent and streamGenerateContent are model
 * calls (model_call.c) whose model and streaming the path gives;
 * countTokens answers {"totalTokens": N} from the one estimator, for the
 * family of the model that would answer, as the other formats' counts do
 * (never a made-up 0: Gemini CLI sizes its context from it).
 */
#include <stdlib.h>
#include <string.h>

#include "gemini_request.h"
#include "handlers.h"
#include "prompt_count.h"
#include "respond.h"

static void
count_tokens(struct http_request *req, const struct request_context *ctx)
{
    prompt_count_answer(req, ctx, gemini_request_parse_for_count, "totalTokens");
}

static void
unknown_action(struct http_request *req, const char *action)
{
    respond_refusal(req, 404, "not_found",
                    "Unknown method ':%.64s' on %.200s. This server offers :generateContent, "
                    ":streamGenerateContent and :countTokens on /v1beta/models/{model}.",
                    action ? action : "", req->path);
}

void
handle_gemini_unknown(struct http_request *req, const struct request_context *ctx)
{
    (void)ctx;
    respond_refusal(req, 404, "not_found",
                    "Unknown request URL: %.32s %.200s. This server offers Gemini's POST "
                    "/v1beta/models/{model}:generateContent, :streamGenerateContent, :countTokens "
                    "and GET /v1beta/models.",
                    req->method, req->path);
}

void
handle_gemini_action(struct http_request *req, const struct request_context *ctx)
{
    const char *colon = strrchr(ctx->path_id, ':');
    if (colon == NULL || colon == ctx->path_id) {
        ctx->outcome->api = NULL;
        unknown_action(req, colon ? colon + 1 : NULL);
        return;
    }
    const char *action = colon + 1;
    bool generate = strcmp(action, "generateContent") == 0;
    bool stream = strcmp(action, "streamGenerateContent") == 0;
    if (!generate && !stream && strcmp(action, "countTokens") != 0) {
        ctx->outcome->api = NULL;
        unknown_action(req, action);
        return;
    }
    char *model = strndup(ctx->path_id, (size_t)(colon - ctx->path_id));
    if (model == NULL) {
        respond_refusal(req, 500, "internal_error", "Out of memory.");
        return;
    }
    struct request_context call = *ctx;
    call.path_model = model;
    call.path_stream = stream;
    if (generate || stream) {
        handle_model_call(req, &call);
    } else {
        ctx->outcome->api = NULL;
        count_tokens(req, &call);
    }
    free(model);
}
