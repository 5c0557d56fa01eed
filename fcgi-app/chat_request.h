/*
 * chat_request: parses and validates a Chat Completions body, and builds
 * the pipe `request` frame from it.  Fields OpenAI clients send that we do
 * not use are ignored, as OpenAI's own server does for unknown fields.
 */
#ifndef LITELLM_CHAT_REQUEST_H
#define LITELLM_CHAT_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "api_error.h"

struct chat_request {
    cJSON *root;       /* owned: the parsed body */
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
    /* owned: what another wire format's parser learned and its renderer
     * needs (tool names to map back, fields to echo); NULL for chat */
    cJSON *format_state;
};

/* Returns 0, or -1 with `err` filled in (400s). */
int chat_request_parse(const char *body, size_t len, struct chat_request *req,
                       struct api_error *err);
void chat_request_free(struct chat_request *req);
/* What every wire format's parser refuses in a body, before parsing it:
 * bytes that are not UTF-8, and an escaped NUL (which cJSON would cut a
 * string at).  0, or -1 with `err` (a 400). */
int chat_request_check_text(const char *body, size_t len, struct api_error *err);
/* data:image/(png|jpeg|gif|webp)[;params];base64,<base64>: an image VS
 * Code's models can take (the payload's alphabet and length checked). */
bool chat_image_data_url_valid(const char *url);
/* {"type":"request","id","model","messages","tools","tool_choice","options"};
 * it refers to the request's own nodes, so delete it before the request. */
cJSON *chat_request_frame(const struct chat_request *req, const char *id, const char *model_id);

#endif
