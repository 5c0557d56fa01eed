/*
 * reply_core: one request's reply, as the window's frames arrive, turned
 * into the core's events (wire_format.h) whatever wire format the client
 * speaks: text, tool call begin/arguments/end, heartbeat, finish with
 * reason and usage, error.  It owns the output policy: `stop` sequences
 * cut across frames, the max_tokens budget, the window's error codes and
 * their HTTP statuses, and usage (the window's count, or an estimate).
 *
 * Pure: no fds, no pipe, no limiter, no clock.  Frames in, events out to a
 * sink; the request's thread calls it (one core per request, not shared).
 */
#ifndef LITELLM_REPLY_CORE_H
#define LITELLM_REPLY_CORE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "dynbuf.h"
#include "stop_cutter.h"
#include "wire_format.h"

/* Where events go.  0: go on; -1: the reply cannot go on (the client left,
 * or it was answered with an error): the core stops and wants the window
 * cancelled. */
struct reply_sink {
    int (*event)(void *ctx, const struct reply_event *event);
    void *ctx;
};

struct reply_core_options {
    const char *request_id; /* for log lines */
    long prompt_tokens;     /* estimated before dispatch */
    long max_tokens;        /* 0: no cap */
    const cJSON *stop;      /* NULL, a string or an array of strings */
    size_t max_reply_bytes; /* what the reply may hold at most */
};

struct reply_core {
    struct reply_core_options options;
    struct reply_sink sink;
    struct stop_cutter stops;
    struct dynbuf sendable;  /* a delta's text once stop sequences are cut */
    size_t sent_bytes;       /* reply text passed on so far */
    size_t byte_budget;      /* from max_tokens; 0: no cap */
    size_t completion_bytes; /* text, tool names and arguments: for estimates */
    unsigned tool_calls;
    const char *cut_reason;   /* "stop" or "length" once the core ends it */
    bool finished;            /* the reply is complete, or failed */
    bool cancel_window;       /* the window should stop working on it */
    struct reply_usage usage; /* at the finish */
    const char *failure;      /* the error code it failed with, for the log */
};

/* -1: out of memory, or more stop sequences than it holds. */
int reply_core_init(struct reply_core *core, const struct reply_core_options *options,
                    struct reply_sink sink);
void reply_core_free(struct reply_core *core);

/* One frame from the window: delta, tool_call, done or error. */
void reply_core_frame(struct reply_core *core, const cJSON *frame);
/* The reply fails for a reason of the gateway's own (the window vanished,
 * the model was silent too long, the gateway is shutting down). */
void reply_core_fail(struct reply_core *core, const struct api_error *err, bool cancel_window);
/* The model is silent: a heartbeat event (the renderer decides its bytes). */
void reply_core_heartbeat(struct reply_core *core);

/* Tokens the reply cost: the counted usage, or the best estimate if it
 * never finished. */
long reply_core_tokens_used(const struct reply_core *core);

#endif
