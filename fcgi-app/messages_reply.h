/*
 * messages_reply: the Anthropic Messages renderer (wire_format.h).
 *
 * Streaming, named events in Anthropic's order: message_start (the message
 * with no content and the prompt's estimated input_tokens), then per
 * content block content_block_start, content_block_delta (text_delta, or
 * one input_json_delta with a tool call's whole input), content_block_stop;
 * then message_delta (stop_reason, stop_sequence, cumulative usage) and
 * message_stop.  A silent model gets `event: ping`; an error after the head
 * is an `event: error`.  Whole replies are one Message object.  Errors are
 * Anthropic's (anthropic_error.h) with the request id, and a `request-id`
 * header beside x-request-id.
 *
 * A tool call's input must be a JSON object: the window's arguments are
 * passed on when they are one; anything else (the model wrote broken JSON)
 * becomes {} and a warning, so that the client's tool validation tells the
 * model what is missing and the turn goes on, where an error would end it.
 */
#ifndef LITELLM_MESSAGES_REPLY_H
#define LITELLM_MESSAGES_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "dynbuf.h"
#include "wire_format.h"

/* Anthropic Messages on the wire; its reply state is a struct messages_reply. */
extern const struct wire_format messages_wire_format;

enum messages_block { MESSAGES_BLOCK_NONE, MESSAGES_BLOCK_TEXT, MESSAGES_BLOCK_TOOL };

struct messages_reply {
    char request_id[72];      /* for ids and log lines */
    struct dynbuf model;      /* the model's name, as a JSON string */
    long input_tokens;        /* the prompt's estimate, until the window counts */
    struct dynbuf event;      /* the event or object being built; reused */
    unsigned blocks;          /* content blocks started so far */
    enum messages_block open; /* the block a delta goes to (streaming) */
    unsigned tool_calls;
    struct dynbuf content; /* whole replies: the blocks so far, comma-separated */
    struct dynbuf text;    /* whole replies: the text block being collected */
};

int messages_reply_init(struct messages_reply *reply, const char *request_id, const char *model,
                        long input_tokens, size_t max_bytes);
void messages_reply_free(struct messages_reply *reply);

/* Anthropic's stop_reason for the core's finish event. */
const char *messages_stop_reason(const struct messages_reply *reply,
                                 const struct reply_event *finish);

#endif
