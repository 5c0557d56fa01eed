/*
 * POST /v1/messages/count_tokens: the prompt of an Anthropic Messages body,
 * counted by the one estimator (token_estimate.c) the way a model call
 * counts it before dispatch, for the family of the model that would answer
 * (or the family the name says, when no window offers it: a count needs no
 * window).  Never a made-up 0: Claude Code decides from it when to compact
 * a conversation.  No model runs, so no limit is taken.
 */
#include "handlers.h"
#include "messages_request.h"
#include "prompt_count.h"
#include "respond.h"

void
handle_count_tokens(struct http_request *req, const struct request_context *ctx)
{
    prompt_count_answer(req, ctx, messages_request_parse_for_count, "input_tokens");
}
