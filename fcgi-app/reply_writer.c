#include "reply_writer.h"

#include <string.h>

#define WRITER_MAX_BYTES (64u << 20)

void
reply_writer_init(struct reply_writer *writer, const struct wire_format *format, void *reply,
                  struct reply_transport transport, bool stream)
{
    memset(writer, 0, sizeof *writer);
    writer->format = format;
    writer->reply = reply;
    writer->transport = transport;
    writer->stream = stream;
    dynbuf_init(&writer->out, WRITER_MAX_BYTES);
}

void
reply_writer_free(struct reply_writer *writer)
{
    dynbuf_free(&writer->out);
}

/* Whether an error before the head goes in the stream (the format asks
 * for it) rather than out with its own status. */
static bool
error_in_stream(const struct reply_writer *writer, const struct api_error *err)
{
    if (!writer->stream)
        return false;
    if (writer->head_sent)
        return true;
    return writer->format->error_opens_stream != NULL && writer->format->error_opens_stream(err);
}

enum opening { OPENED = 0, OPEN_CLIENT_GONE, OPEN_TOO_LARGE };

/* Before a stream's first bytes: the head, then the format's opening bytes
 * into writer->out (emptied first). */
static enum opening
open_stream(struct reply_writer *writer)
{
    dynbuf_reset(&writer->out);
    if (writer->head_sent)
        return OPENED;
    if (writer->transport.stream_head(writer->transport.ctx, writer->format->stream_type) != 0)
        return OPEN_CLIENT_GONE;
    writer->head_sent = true;
    return writer->format->stream_start(writer->reply, &writer->out) == 0 ? OPENED : OPEN_TOO_LARGE;
}

static int
send_error(struct reply_writer *writer, const struct api_error *err)
{
    writer->sends++;
    writer->failure = err->code;
    if (!error_in_stream(writer, err))
        return writer->transport.send_error(writer->transport.ctx, err, NULL, 0);
    struct reply_event event = { .kind = REPLY_ERROR, .error = err };
    if (open_stream(writer) != OPENED)
        return -1;
    if (writer->format->stream_event(writer->reply, &event, &writer->out) != 0)
        return -1;
    return writer->transport.send_error(writer->transport.ctx, err, writer->out.data,
                                        writer->out.len);
}

/* A reply the format could not hold (past WRITER_MAX_BYTES or the reply's
 * own limit): the client is told, and the reply ends. */
static int
too_large(struct reply_writer *writer)
{
    struct api_error err;
    api_error_set(&err, 502, "reply_too_large", NULL,
                  "The model's reply is larger than this gateway keeps.");
    (void)send_error(writer, &err);
    return -1;
}

/* Streaming: the event's bytes, after the head and the format's opening
 * bytes if this is the first event. */
static int
stream(struct reply_writer *writer, const struct reply_event *event)
{
    switch (open_stream(writer)) {
    case OPENED: break;
    case OPEN_CLIENT_GONE: return -1;
    case OPEN_TOO_LARGE: return too_large(writer);
    }
    if (writer->format->stream_event(writer->reply, event, &writer->out) != 0)
        return too_large(writer);
    writer->sends++;
    return writer->transport.send(writer->transport.ctx, writer->out.data, writer->out.len);
}

/* A whole reply: collect until the finish, then one response. */
static int
collect(struct reply_writer *writer, const struct reply_event *event)
{
    switch (event->kind) {
    case REPLY_HEARTBEAT: return 0; /* nothing to send before the whole reply */
    case REPLY_FINISH:
        dynbuf_reset(&writer->out);
        if (writer->format->complete(writer->reply, event, &writer->out) != 0)
            return too_large(writer);
        writer->sends++;
        return writer->transport.send_whole(writer->transport.ctx, "application/json",
                                            writer->out.data, writer->out.len);
    default: return writer->format->collect(writer->reply, event) == 0 ? 0 : too_large(writer);
    }
}

int
reply_writer_event(void *opaque, const struct reply_event *event)
{
    struct reply_writer *writer = opaque;
    if (event->kind == REPLY_ERROR) {
        (void)send_error(writer, event->error);
        return -1; /* an error ends the reply */
    }
    return writer->stream ? stream(writer, event) : collect(writer, event);
}
