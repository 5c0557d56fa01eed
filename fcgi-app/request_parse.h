/*
 * request_parse: the frame the Anthropic Messages and Gemini parsers run
 * their builders in: the client's body as a JSON object (json_body), the
 * normalised request's root created, the builder run, and the notes it took
 * for the log moved to the request.  Everything the builder hangs off the
 * root is freed by chat_request_free, whatever the outcome.  Also the two
 * ways both builders add to what they build.
 */
#ifndef LITELLM_REQUEST_PARSE_H
#define LITELLM_REQUEST_PARSE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "api_error.h"
#include "chat_request.h"
#include "dynbuf.h"

/* What the notes for the log may hold, whatever the format. */
#define REQUEST_PARSE_NOTES_MAX 2048

struct request_builder {
    /* Builds `out` (its root created, the rest zeroed) from `body`, the
     * client's JSON object, which lives until request_parse returns;
     * 0, or -1 with the refusal in the parse's `err`. */
    int (*build)(void *builder, const cJSON *body, struct chat_request *out);
    void *builder;
    /* The builder's notes for the log: initialised (REQUEST_PARSE_NOTES_MAX)
     * and freed here; what they hold after a build that succeeded becomes
     * out->notes. */
    struct dynbuf *notes;
    /* The code of a refusal for a body that is no JSON object; NULL keeps
     * json_body's. */
    const char *malformed_code;
};

/* Adds `item` to `array`; false (and `item` deleted) when either fails. */
bool request_parse_append(cJSON *array, cJSON *item);
/* {"role": role, "content": text}, or NULL. */
cJSON *request_parse_text_message(const char *role, const char *text);

/* 0 with `out` filled in, or -1 with `err` filled in; `out` is the
 * caller's to free with chat_request_free either way. */
int request_parse(const char *body, size_t len, struct chat_request *out, struct api_error *err,
                  const struct request_builder *builder);

#endif
