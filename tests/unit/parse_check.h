/*
 * parse_check: what the wire-format parsers' unit tests share (chat,
 * Messages, Responses, Gemini): a body given as a C string through a
 * format's parser, and the checks every refusal gets.  Include after
 * check.h.
 */
#ifndef LITELLM_PARSE_CHECK_H
#define LITELLM_PARSE_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api_error.h"
#include "chat_request.h"

typedef int parse_check_parser(const char *body, size_t len, struct chat_request *req,
                               struct api_error *err);

/* `body` through `parse` with a cleared `err`; the parser's result.  `req`
 * is the caller's to free either way. */
static inline int
parse_check_run(parse_check_parser *parse, const char *body, struct chat_request *req,
                struct api_error *err)
{
    memset(err, 0, sizeof *err);
    return parse(body, strlen(body), req, err);
}

/* Checks that `parse` refuses `body` with a 400 of `code` naming `param`;
 * true with the refusal in `err` for the caller's own checks of its words,
 * false (the body named) when it was accepted. */
static inline bool
parse_check_refused(parse_check_parser *parse, const char *body, const char *code,
                    const char *param, struct api_error *err)
{
    struct chat_request req;
    int rc = parse_check_run(parse, body, &req, err);
    chat_request_free(&req);
    CHECK(rc == -1);
    if (rc != -1) {
        fprintf(stderr, "  accepted: %s\n", body);
        return false;
    }
    CHECK(err->status == 400);
    CHECK_STR(err->code, code);
    CHECK_STR(err->param, param);
    if (err->code == NULL || strcmp(err->code, code) != 0 || strcmp(err->param, param) != 0)
        fprintf(stderr, "  for %s\n  got %s %s: %s\n", body, err->code ? err->code : "(null)",
                err->param, err->message);
    return true;
}

#endif
