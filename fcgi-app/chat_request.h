/*
 * chat_request: the normalised request (the pipe's request, in Chat
 * Completions' shape, whatever wire format the client spoke); the Chat
 * Completions parser, which validates a body into it; and the pipe
 * `request` frame built from it.  Fields OpenAI clients send that we do
 * not use are ignored, as OpenAI's own server does for unknown fields.
 */
#ifndef LITELLM_CHAT_REQUEST_H
#define LITELLM_CHAT_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "api_error.h"

struct chat_request {
    cJSON *root; /* owned: the parsed body */
    /* owned, or NULL: what another wire format's parser learned and its
     * renderer needs (tool names to map back, fields to echo) */
    cJSON *format_state;
    const char *model; /* NULL when omitted */
    bool stream;
    bool include_usage; /* stream_options.include_usage */
    const cJSON *messages;
    const cJSON *tools;          /* NULL or a non-empty array */
    const cJSON *tool_choice;    /* NULL, a string or an object */
    long max_tokens;             /* 0: no cap asked for */
    const cJSON *stop;           /* NULL, a string or an array of strings */
    bool legacy_functions;       /* asked with functions/function_call: answer so */
    bool has_images;             /* some message carries an image part */
    const char *response_format; /* NULL, "json_object" or "json_schema" */
    char *notes; /* owned, or NULL: what the parser left out or repaired, for the log */
};

/* Returns 0, or -1 with `err` filled in (400s). */
int chat_request_parse(const char *body, size_t len, struct chat_request *req,
                       struct api_error *err);
void chat_request_free(struct chat_request *req);
/* {"type":"request","id","model","messages","tools","tool_choice","options"};
 * it refers to the request's own nodes, so delete it before the request. */
cJSON *chat_request_frame(const struct chat_request *req, const char *id, const char *model_id);

#endif
