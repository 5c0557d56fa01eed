/*
 * prompt_count: a request body read and parsed into the normalised request
 * (struct chat_request) by a format's parser, and the prompt it holds
 * counted by the one estimator (token_estimate.c) the way a model call
 * counts it before dispatch.  Shared by the model call (model_call.c) and
 * the endpoints that only count (POST /v1/messages/count_tokens, POST
 * /v1/responses/input_tokens), which keep only their answer's shape.
 */
#ifndef LITELLM_PROMPT_COUNT_H
#define LITELLM_PROMPT_COUNT_H

#include <stddef.h>

#include "api_error.h"
#include "chat_request.h"
#include "handlers.h"
#include "http.h"

/* A format's parser (wire_format.h's parse, messages_request_parse_for_count,
 * ...): 0, or -1 with `err` filled in. */
typedef int prompt_parser(const char *body, size_t len, struct chat_request *out,
                          struct api_error *err);

/* Reads the request's body (at most max_body bytes) and parses it with
 * `parse`; what the parser left out or repaired is logged beside the
 * request's id.  0, or -1 with `err` filled in (413, 400, or the parser's).
 * Either way `out` is the caller's to free with chat_request_free. */
int prompt_read(struct http_request *req, size_t max_body, prompt_parser *parse,
                struct chat_request *out, struct api_error *err);

/* The estimated prompt tokens of the request's body as `parse` reads it,
 * for the family of the model that would answer (or the family the name
 * says, when no window offers it: a count needs no window).  No model runs,
 * so no limit is taken.  0 with *tokens set, or -1 once the refusal is
 * answered. */
int prompt_count(struct http_request *req, const struct request_context *ctx, prompt_parser *parse,
                 long *tokens);

/* A count endpoint's whole answer: prompt_count, the tokens kept in the
 * request's outcome, and {"<field>": tokens} (`field` one of ours). */
void prompt_count_answer(struct http_request *req, const struct request_context *ctx,
                         prompt_parser *parse, const char *field);

#endif
