/*
 * prompt_count: reading a body into the normalised request, and counting
 * its prompt without a model call (prompt_count.h).
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "prompt_count.h"
#include "respond.h"
#include "router.h"
#include "token_estimate.h"

int
prompt_read(struct http_request *req, size_t max_body, prompt_parser *parse,
            struct chat_request *out, struct api_error *err)
{
    memset(out, 0, sizeof *out);
    int body = http_read_body(req, max_body);
    if (body == HTTP_BODY_TOO_BIG) {
        api_error_set(err, 413, "request_too_large", NULL,
                      "The request body is larger than %zu bytes (--max-body).", max_body);
        return -1;
    }
    if (body != HTTP_BODY_OK) {
        api_error_set(err, 400, "invalid_body", NULL, "The request body could not be read.");
        return -1;
    }
    if (parse(req->body.data ? req->body.data : "", req->body.len, out, err) != 0)
        return -1;
    /* What the parser left out or repaired (server tools, unpaired tool
     * calls...): said once, beside the request's id. */
    if (out->notes != NULL)
        log_info("request %s: %s", req->request_id, out->notes);
    return 0;
}

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

int
prompt_count(struct http_request *req, const struct request_context *ctx, prompt_parser *parse,
             long *tokens)
{
    struct chat_request request;
    struct api_error err;
    if (prompt_read(req, ctx->cfg->max_body, parse, &request, &err) != 0) {
        chat_request_free(&request);
        respond_error(req, &err);
        return -1;
    }
    enum token_family family = family_for(ctx->cfg, ctx->path_model != NULL ? ctx->path_model
                                                                            : request.model);
    *tokens = token_estimate_messages(request.messages, family) +
              token_estimate_tools(request.tools, family);
    chat_request_free(&request);
    return 0;
}

void
prompt_count_answer(struct http_request *req, const struct request_context *ctx,
                    prompt_parser *parse, const char *field)
{
    long tokens;
    if (prompt_count(req, ctx, parse, &tokens) != 0)
        return;
    ctx->outcome->prompt_tokens = tokens;
    char answer[96];
    int len = snprintf(answer, sizeof answer, "{\"%s\":%ld}", field, tokens);
    if (len < 0 || (size_t)len >= sizeof answer) { /* a field name of ours too long: a bug */
        (void)respond_refusal(req, 500, "internal_error", "The count did not fit its answer.");
        return;
    }
    (void)respond_body(req, 200, "application/json", answer, (size_t)len);
}
