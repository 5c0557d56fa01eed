/*
 * chat_reply: the OpenAI Chat Completions renderer (wire_format.h):
 * `chat.completion.chunk` events while streaming, or one `chat.completion`
 * object at the end, and OpenAI's error objects.  The chunks are written by
 * hand around escaped strings, since they are the hot path (one per model
 * delta).
 */
#ifndef LITELLM_CHAT_REPLY_H
#define LITELLM_CHAT_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "dynbuf.h"
#include "wire_format.h"

/* Chat Completions on the wire; its reply state is a struct chat_reply. */
extern const struct wire_format chat_wire_format;

struct chat_reply {
    struct dynbuf head;       /* "id","object":...,"model":"…", shared by all */
    struct dynbuf chunk;      /* the event being built; reused */
    struct dynbuf text;       /* non-stream: the content so far */
    struct dynbuf tool_calls; /* non-stream: tool call objects, comma-separated */
    unsigned tool_call_count;
    bool include_usage;
    bool legacy_functions;       /* answer with function_call, not tool_calls */
    const char *response_format; /* NULL, "json_object" or "json_schema" */
    char request_id[72];         /* for log lines */
};

int chat_reply_init(struct chat_reply *reply, const char *request_id, const char *model,
                    bool include_usage, bool legacy_functions, size_t max_bytes);
void chat_reply_free(struct chat_reply *reply);

/* Each returns the event's JSON in reply->chunk, or -1 (out of memory). */
int chat_reply_chunk_role(struct chat_reply *reply);
int chat_reply_chunk_content(struct chat_reply *reply, const char *text, size_t len);
/* A tool call streams as OpenAI streams it: a first fragment with index,
 * id, type and name (arguments ""), then the arguments. */
int chat_reply_chunk_tool_call(struct chat_reply *reply, const char *call_id, const char *name);
int chat_reply_chunk_tool_arguments(struct chat_reply *reply, const char *arguments);
int chat_reply_chunk_finish(struct chat_reply *reply, const char *finish_reason);
int chat_reply_chunk_usage(struct chat_reply *reply, const struct reply_usage *usage);

/* The finish reason as the client's API names it ("tool_calls" is
 * "function_call" for legacy clients). */
const char *chat_reply_finish_reason(const struct chat_reply *reply, const char *finish_reason);

/* Non-stream: collect, then build the whole object into reply->chunk. */
int chat_reply_add_text(struct chat_reply *reply, const char *text, size_t len);
int chat_reply_add_tool_call(struct chat_reply *reply, const char *call_id, const char *name,
                             const char *arguments);
int chat_reply_completion(struct chat_reply *reply, const char *finish_reason,
                          const struct reply_usage *usage);

/* response_format asked for JSON: true if the collected text parses, after
 * taking it out of a Markdown code fence if the model wrapped it in one. */
bool chat_reply_unwrap_json(struct chat_reply *reply);

#endif
