/*
 * reply_writer: takes the core's events (reply_core.h) and gets them to
 * the client through the request's wire format (wire_format.h), whether
 * the client streams or waits for the whole reply.  It decides where an
 * error goes: before the response head it keeps its HTTP status (unless the
 * format has such an error open the stream: error_opens_stream), after it
 * it is the format's in-stream error.  A streamed reply's head goes out
 * with its first event, a heartbeat included, so a model that fails at once
 * still gets a proper status and a silent one still gets its head.
 *
 * Pure: bytes leave through a transport (respond.c's functions in the
 * responder, a buffer in the golden tests).
 */
#ifndef LITELLM_REPLY_WRITER_H
#define LITELLM_REPLY_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include "dynbuf.h"
#include "wire_format.h"

/* Each returns 0, or -1 when the client is gone. */
struct reply_transport {
    void *ctx;
    /* The head of a streamed reply: 200 and `content_type`; it may wait
     * in a buffer until the next send. */
    int (*stream_head)(void *ctx, const char *content_type);
    /* Stream bytes, flushed to the client now. */
    int (*send)(void *ctx, const char *bytes, size_t len);
    /* A whole 200 response of `content_type`. */
    int (*send_whole)(void *ctx, const char *content_type, const char *body, size_t len);
    /* An error: a response of its own when `in_stream` is NULL, else the
     * bytes that carry it inside the stream. */
    int (*send_error)(void *ctx, const struct api_error *err, const char *in_stream, size_t len);
};

struct reply_writer {
    const struct wire_format *format;
    void *reply; /* the format's state for this request */
    struct reply_transport transport;
    bool stream;
    bool head_sent;
    unsigned long sends; /* writes so far: the relay's clock for heartbeats */
    const char *failure; /* the code of the error it sent, for the log */
    struct dynbuf out;   /* the bytes being built; reused */
};

void reply_writer_init(struct reply_writer *writer, const struct wire_format *format, void *reply,
                       struct reply_transport transport, bool stream);
void reply_writer_free(struct reply_writer *writer);
/* The core's sink (struct reply_sink's event): `writer` is a reply_writer. */
int reply_writer_event(void *writer, const struct reply_event *event);

#endif
