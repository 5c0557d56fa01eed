/*
 * wire_format: what one client API (OpenAI Chat Completions today;
 * Anthropic Messages, OpenAI Responses and Gemini next) looks like on the
 * wire, as seen from the core: how a request body becomes the normalised
 * request (struct chat_request: the pipe's request, in Chat Completions'
 * shape), how its errors are shaped, and how the core's reply events
 * become its bytes.
 *
 * A format knows no pipe, fd or limiter: a body in, a request out; events
 * in, bytes out, into a dynbuf the caller sends.  `reply` is the format's
 * own per-request state, reply_size bytes that reply_init sets up.
 */
#ifndef LITELLM_WIRE_FORMAT_H
#define LITELLM_WIRE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"
#include "dynbuf.h"

/* One event of a reply, from the core (reply_core.h). */
enum reply_event_kind {
    REPLY_TEXT,           /* text, len */
    REPLY_TOOL_BEGIN,     /* call_id, name */
    REPLY_TOOL_ARGUMENTS, /* text, len: the call's arguments (JSON text) */
    REPLY_TOOL_END,
    REPLY_HEARTBEAT, /* the model is silent; keep the client's timers fed */
    REPLY_FINISH,    /* finish_reason, usage */
    REPLY_ERROR,     /* error */
};

struct reply_usage {
    long prompt_tokens;
    long completion_tokens;
};

struct reply_event {
    enum reply_event_kind kind;
    const char *text;
    size_t len;
    const char *call_id, *name;
    const char *finish_reason; /* "stop", "length", "tool_calls", "content_filter" */
    const char *stop_sequence; /* the stop sequence that ended it, if one did */
    struct reply_usage usage;
    const struct api_error *error;
};

struct chat_request;

/* What a reply's state is set up from. */
struct reply_setup {
    const char *request_id;
    const char *model_id; /* the model that answers */
    const struct chat_request *request;
    long prompt_tokens; /* the core's estimate of the prompt, before dispatch */
    size_t max_bytes;   /* what a whole (non-streamed) reply may hold */
};

struct wire_format {
    const char *name;              /* "chat": logs and metrics */
    const char *stream_type;       /* the Content-Type of a streamed reply */
    const char *request_id_header; /* another header that carries the request id, or NULL */
    /* The body's field that holds the conversation, named by the errors
     * about it (a prompt over the context, images): NULL for "messages". */
    const char *conversation_param;

    /* The body into the normalised request; 0, or -1 with `err` (a 400). */
    int (*parse)(const char *body, size_t len, struct chat_request *out, struct api_error *err);
    size_t reply_size;
    int (*reply_init)(void *reply, const struct reply_setup *setup);
    void (*reply_free)(void *reply);

    /* Before the response head: the body of an error response (its
     * status and headers are the finisher's). */
    int (*error_body)(struct dynbuf *out, const struct api_error *err, const char *request_id);
    /* Optional: the format's own reading of a refusal before it is sent,
     * another status or headers its clients need (Anthropic's 529, say).
     * NULL: sent as decided. */
    void (*adapt_error)(struct api_error *err);

    /* The reply.  Each returns 0, or -1 when `out` could not hold it. */
    /* Streaming: the bytes that follow the head (before the first event). */
    int (*stream_start)(void *reply, struct dynbuf *out);
    /* Streaming: one event's bytes (an error after the head included). */
    int (*stream_event)(void *reply, const struct reply_event *event, struct dynbuf *out);
    /* Streaming, before the head: whether this failure of the model call
     * should open the stream and travel in it (stream_start, then the
     * error event) instead of keeping its HTTP status, for clients that
     * retry some statuses in storms but read a failure event.  NULL: every
     * error before the head keeps its status. */
    bool (*error_opens_stream)(const struct api_error *err);
    /* Streaming: the head (with a first heartbeat) goes out after
     * --stream-head-wait-ms of silence instead of --keepalive-interval:
     * for clients that have a short head timeout and read no error inside
     * a stream, so a quick failure still keeps its HTTP status (Gemini). */
    bool short_head_wait;
    /* Whole replies: keep a text or tool event... */
    int (*collect)(void *reply, const struct reply_event *event);
    /* ...and, at REPLY_FINISH, build the response body. */
    int (*complete)(void *reply, const struct reply_event *finish, struct dynbuf *out);
};

#endif
