/*
 * The chat core, the writer and the Chat Completions renderer together,
 * without a request: frames in, exact bytes out, through a transport that
 * writes into memory.  What the golden tests cannot reach because it takes
 * time: heartbeats, before the first token and after it.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "chat_reply.h"
#include "check.h"
#include "memory_client.h"
#include "reply_core.h"
#include "reply_writer.h"

struct reply_under_test {
    struct memory_client client;
    struct chat_reply reply;
    struct reply_writer writer;
    struct reply_core core;
};

static void
start(struct reply_under_test *t, bool stream)
{
    memset(t, 0, sizeof *t);
    struct reply_transport transport = memory_client_init(&t->client);
    CHECK(chat_reply_init(&t->reply, "r1", "copilot/gpt-4o", false, false, 1u << 20) == 0);
    reply_writer_init(&t->writer, &chat_wire_format, &t->reply, transport, stream);
    memory_core_start(&t->core, &t->writer, 0, NULL);
}

static void
frame(struct reply_under_test *t, const char *json)
{
    memory_frame(&t->core, json);
}

static void
stop(struct reply_under_test *t)
{
    reply_core_free(&t->core);
    reply_writer_free(&t->writer);
    chat_reply_free(&t->reply);
    memory_client_free(&t->client);
}

static const char *
text_of(const struct reply_under_test *t)
{
    return memory_client_text(&t->client);
}

/* A silent model's stream: the head and a heartbeat before any token. */
static void
test_heartbeat_before_first_token(void)
{
    struct reply_under_test t;
    start(&t, true);
    reply_core_heartbeat(&t.core);
    CHECK(t.client.heads > 0);
    CHECK(strncmp(text_of(&t), "HEAD 200 text/event-stream\ndata: {", 34) == 0);
    CHECK(strstr(text_of(&t), "\"role\":\"assistant\"") != NULL);
    /* Offsets, not pointers: the buffer grows as bytes arrive. */
    const char *found = strstr(text_of(&t), ": keep-alive\n\n");
    CHECK(found != NULL && strstr(text_of(&t), "\"content\":\"Hi\"") == NULL);
    size_t first_heartbeat = found ? (size_t)(found - text_of(&t)) : 0;
    reply_core_heartbeat(&t.core);
    frame(&t, "{\"type\":\"delta\",\"text\":\"Hi\"}");
    frame(&t, "{\"type\":\"done\",\"finish_reason\":\"stop\"}");
    const char *text = text_of(&t);
    const char *token = strstr(text, "\"content\":\"Hi\"");
    const char *second = strstr(text + first_heartbeat + 1, ": keep-alive\n\n");
    CHECK(token != NULL && second != NULL && second < token);
    CHECK(strstr(strstr(text, "HEAD") + 1, "HEAD") == NULL); /* one head */
    CHECK(strcmp(text_of(&t) + t.client.bytes.len - 14, "data: [DONE]\n\n") == 0);
    CHECK(t.core.finished && !t.core.cancel_window);
    stop(&t);
}

/* An error before the head keeps its status, even after heartbeats were
 * due on a non-streamed reply (which sends none). */
static void
test_error_before_head(void)
{
    struct reply_under_test t;
    start(&t, false);
    reply_core_heartbeat(&t.core);
    CHECK(t.client.bytes.len == 0);
    frame(&t, "{\"type\":\"error\",\"code\":\"rate_limited\",\"message\":\"quota\"}");
    CHECK(t.client.status == 429);
    CHECK(strcmp(text_of(&t), "ERROR 429 rate_limit_exceeded\n") == 0);
    CHECK(t.core.finished && !t.core.cancel_window);
    stop(&t);
}

/* After the head, an error is the format's in-stream error event. */
static void
test_error_after_heartbeat(void)
{
    struct reply_under_test t;
    start(&t, true);
    reply_core_heartbeat(&t.core);
    frame(&t, "{\"type\":\"error\",\"code\":\"not_found\"}");
    CHECK(t.client.status == 200);
    const char *tail = strstr(text_of(&t), "data: {\"error\":");
    CHECK(tail != NULL && strstr(tail, "\"code\":\"model_not_found\"") != NULL);
    stop(&t);
}

/* The core's own policy: stop sequences across frames, usage estimated
 * when the window counts none. */
static void
test_stop_and_usage(void)
{
    struct reply_under_test t;
    memset(&t, 0, sizeof t);
    start(&t, false);
    reply_core_free(&t.core);
    cJSON *stop_list = cJSON_Parse("[\"END\"]");
    memory_core_start(&t.core, &t.writer, 0, stop_list);
    frame(&t, "{\"type\":\"delta\",\"text\":\"one two E\"}");
    frame(&t, "{\"type\":\"delta\",\"text\":\"ND three\"}");
    CHECK(t.core.finished && t.core.cancel_window);
    CHECK(strstr(text_of(&t), "\"content\":\"one two \"") != NULL);
    CHECK(strstr(text_of(&t), "\"finish_reason\":\"stop\"") != NULL);
    CHECK(t.core.usage.prompt_tokens == 7 && t.core.usage.completion_tokens == 2);
    CHECK(reply_core_tokens_used(&t.core) == 9);
    stop(&t);
    cJSON_Delete(stop_list);
}

int
main(void)
{
    test_heartbeat_before_first_token();
    test_error_before_head();
    test_error_after_heartbeat();
    test_stop_and_usage();
    return check_summary("reply");
}
