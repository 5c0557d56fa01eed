/*
 * memory_client: a client in memory for the unit tests that drive the chat
 * core, the writer and a renderer without a request (test_reply.c,
 * test_responses_reply.c): a reply transport (reply_writer.h) that writes
 * the head as "HEAD 200 <content type>\n", the bytes as they come, and an
 * error before the head as "ERROR <status> <code>\n"; the core started the
 * way every such test starts it; and a window's frame, as JSON text, fed
 * to the core.
 */
#ifndef LITELLM_MEMORY_CLIENT_H
#define LITELLM_MEMORY_CLIENT_H

#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "dynbuf.h"
#include "reply_core.h"
#include "reply_writer.h"

struct memory_client {
    struct dynbuf bytes;
    int status; /* of the head, or of an error response */
    int heads;  /* how many heads were sent */
};

static inline int
memory_head(void *ctx, const char *content_type)
{
    struct memory_client *client = ctx;
    client->heads++;
    client->status = 200;
    return dynbuf_appendf(&client->bytes, "HEAD 200 %s\n", content_type) == DYNBUF_OK ? 0 : -1;
}

static inline int
memory_send(void *ctx, const char *bytes, size_t len)
{
    struct memory_client *client = ctx;
    return dynbuf_append(&client->bytes, bytes, len) == DYNBUF_OK ? 0 : -1;
}

static inline int
memory_whole(void *ctx, const char *content_type, const char *body, size_t len)
{
    struct memory_client *client = ctx;
    client->status = 200;
    (void)content_type;
    return memory_send(ctx, body, len);
}

static inline int
memory_error(void *ctx, const struct api_error *err, const char *in_stream, size_t len)
{
    struct memory_client *client = ctx;
    if (in_stream != NULL)
        return memory_send(ctx, in_stream, len);
    client->status = err->status;
    return dynbuf_appendf(&client->bytes, "ERROR %d %s\n", err->status, err->code) == DYNBUF_OK
               ? 0
               : -1;
}

/* An empty client and the transport that writes into it. */
static inline struct reply_transport
memory_client_init(struct memory_client *client)
{
    memset(client, 0, sizeof *client);
    dynbuf_init(&client->bytes, 1u << 20);
    return (struct reply_transport){
        .ctx = client,
        .stream_head = memory_head,
        .send = memory_send,
        .send_whole = memory_whole,
        .send_error = memory_error,
    };
}

/* What reached the client so far ("" for nothing). */
static inline const char *
memory_client_text(const struct memory_client *client)
{
    return client->bytes.data ? client->bytes.data : "";
}

static inline void
memory_client_free(struct memory_client *client)
{
    dynbuf_free(&client->bytes);
}

/* The core as the tests run it, feeding `writer`: request "r1", 7 prompt
 * tokens, a reply of up to 1 MiB; `max_tokens` and `stop` as given (0,
 * NULL: none). */
static inline void
memory_core_start(struct reply_core *core, struct reply_writer *writer, long max_tokens,
                  const cJSON *stop)
{
    struct reply_core_options options = {
        .request_id = "r1",
        .prompt_tokens = 7,
        .max_tokens = max_tokens,
        .stop = stop,
        .max_reply_bytes = 1u << 20,
    };
    CHECK(reply_core_init(core, &options, (struct reply_sink){ reply_writer_event, writer }) == 0);
}

/* A window's frame (JSON text) into the core. */
static inline void
memory_frame(struct reply_core *core, const char *json)
{
    cJSON *parsed = cJSON_Parse(json);
    CHECK(parsed != NULL);
    reply_core_frame(core, parsed);
    cJSON_Delete(parsed);
}

#endif
