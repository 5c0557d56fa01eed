/*
 * responses_reply: the OpenAI Responses renderer (wire_format.h): named SSE
 * events (`event: TYPE` + `data: {"type": TYPE, "sequence_number": N, ...}`,
 * N counting up from 0) while streaming, or one `Response` object, and
 * OpenAI's error objects before the head.
 *
 * A stream: response.created, response.in_progress; per output item
 * response.output_item.added, its content (a message: content_part.added,
 * output_text.delta..., output_text.done, content_part.done; a function
 * call: function_call_arguments.delta/.done; a custom tool call:
 * custom_tool_call_input.delta/.done), response.output_item.done with the
 * whole item; last response.completed with usage, response.incomplete
 * (max_output_tokens, content_filter) or response.failed.  A silent model
 * gets response.in_progress again as the heartbeat, with the Response so
 * far (the open message's text included: the SDK's stream helper takes it
 * as its snapshot): Codex's idle timer counts parsed events only (it skips
 * SSE comments), and the document allows the event.
 *
 * The model's calls of custom and namespaced tools are named back as the
 * client gave them (responses_request.h).
 */
#ifndef LITELLM_RESPONSES_REPLY_H
#define LITELLM_RESPONSES_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "dynbuf.h"
#include "responses_request.h"
#include "wire_format.h"

/* OpenAI Responses on the wire; its reply state is a struct responses_reply. */
extern const struct wire_format responses_wire_format;

struct chat_request;

struct responses_reply {
    const struct chat_request *request;
    char request_id[72];        /* ids and log lines */
    struct dynbuf head;         /* "id":…,"object":"response","created_at":… */
    struct dynbuf echo;         /* "instructions":…,"tools":…,…,"model":… */
    struct dynbuf event;        /* the event or object being built; reused */
    struct dynbuf output;       /* the finished output items, comma-separated */
    struct dynbuf text;         /* the open message's text */
    struct dynbuf item;         /* the item being finished */
    struct dynbuf input;        /* a custom tool call's input, unwrapped */
    unsigned long sequence;     /* the next event's sequence_number */
    unsigned items;             /* output items so far: the next output_index */
    unsigned tool_calls;        /* tool calls rendered */
    bool message_open;          /* a message item is open (index items - 1) */
    bool skip_tool;             /* the tool call being told is dropped */
    bool tool_known;            /* ... is of a tool the request gave: */
    struct responses_tool tool; /* its name as the client gave it */
    bool parallel_tool_calls;
};

#endif
