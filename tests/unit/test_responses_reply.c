/*
 * The Responses renderer with the core and the writer, without a request:
 * frames in, bytes out, through a transport that writes into memory.  What
 * the golden tests cannot reach because it takes time: heartbeats (a
 * repeated response.in_progress, a parsed event Codex's idle timer counts),
 * before the first token and between items, and a failure after them.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "memory_client.h"
#include "reply_core.h"
#include "reply_writer.h"
#include "responses_reply.h"
#include "responses_request.h"

struct reply_under_test {
    struct memory_client client;
    struct chat_request request;
    struct responses_reply reply;
    struct reply_writer writer;
    struct reply_core core;
};

static void
start(struct reply_under_test *t, const char *body)
{
    memset(t, 0, sizeof *t);
    struct reply_transport transport = memory_client_init(&t->client);
    struct api_error err;
    CHECK(responses_request_parse(body, strlen(body), &t->request, &err) == 0);
    struct reply_setup setup = {
        .request_id = "r1",
        .model_id = "copilot/gpt-4o",
        .request = &t->request,
        .max_bytes = 1u << 20,
    };
    CHECK(responses_wire_format.reply_init(&t->reply, &setup) == 0);
    reply_writer_init(&t->writer, &responses_wire_format, &t->reply, transport, t->request.stream);
    memory_core_start(&t->core, &t->writer, t->request.max_tokens, NULL);
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
    responses_wire_format.reply_free(&t->reply);
    chat_request_free(&t->request);
    memory_client_free(&t->client);
}

static const char *
text_of(const struct reply_under_test *t)
{
    return memory_client_text(&t->client);
}

/* The event types in the order they came, and every sequence_number one
 * more than the last, from 0; "" if an event is not well formed. */
static char *
event_types(const struct reply_under_test *t)
{
    struct dynbuf types;
    dynbuf_init(&types, 1u << 16);
    long expected = 0;
    const char *at = text_of(t);
    while ((at = strstr(at, "\ndata: ")) != NULL) {
        at += 7;
        const char *end = strstr(at, "\n\n");
        cJSON *event = end ? cJSON_ParseWithLength(at, (size_t)(end - at)) : NULL;
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(event, "type");
        const cJSON *sequence = cJSON_GetObjectItemCaseSensitive(event, "sequence_number");
        bool ok = cJSON_IsString(type) && cJSON_IsNumber(sequence) &&
                  sequence->valuedouble == (double)expected++;
        CHECK(ok);
        if (ok)
            (void)dynbuf_appendf(&types, "%s%s", types.len ? " " : "", type->valuestring);
        cJSON_Delete(event);
    }
    return dynbuf_take(&types, NULL);
}

static void
expect_events(struct reply_under_test *t, const char *expected)
{
    char *types = event_types(t);
    CHECK_STR(types, expected);
    free(types);
}

/* A silent model's stream: its head and a parsed heartbeat before any
 * token, then the reply; heartbeats between items carry the items done. */
static void
test_heartbeats(void)
{
    struct reply_under_test t;
    start(&t,
          "{\"stream\":true,\"input\":\"hi\",\"tools\":[{\"type\":\"function\",\"name\":\"f\"}]}");
    reply_core_heartbeat(&t.core);
    CHECK(t.client.heads == 1);
    CHECK(strncmp(text_of(&t), "HEAD 200 text/event-stream\nevent: response.created\n", 51) == 0);
    expect_events(&t, "response.created response.in_progress response.in_progress");
    /* Not a comment, which Codex's idle timer would not count. */
    CHECK(strstr(text_of(&t), "\n:") == NULL);
    reply_core_heartbeat(&t.core);
    frame(&t, "{\"type\":\"delta\",\"text\":\"Hi\"}");
    frame(&t, "{\"type\":\"tool_call\",\"call_id\":\"c1\",\"name\":\"f\",\"arguments\":\"{}\"}");
    size_t before = t.client.bytes.len;
    reply_core_heartbeat(&t.core);
    /* The heartbeat after the first items: the Response so far, its message
     * and its tool call finished. */
    const char *beat = text_of(&t) + before;
    CHECK(strncmp(beat, "event: response.in_progress\ndata: {", 35) == 0);
    CHECK(strstr(beat, "\"status\":\"in_progress\"") != NULL);
    CHECK(strstr(beat, "\"output\":[{\"id\":\"msg_r1_0\"") != NULL);
    CHECK(strstr(beat, "\"call_id\":\"c1\"") != NULL);
    frame(&t, "{\"type\":\"done\",\"finish_reason\":\"tool_calls\"}");
    expect_events(&t, "response.created response.in_progress response.in_progress "
                      "response.in_progress response.output_item.added "
                      "response.content_part.added response.output_text.delta "
                      "response.output_text.done response.content_part.done "
                      "response.output_item.done response.output_item.added "
                      "response.function_call_arguments.delta "
                      "response.function_call_arguments.done response.output_item.done "
                      "response.in_progress response.completed");
    CHECK(t.client.heads == 1);
    CHECK(t.core.finished && !t.core.cancel_window);
    stop(&t);
}

/* A heartbeat in the middle of a message: its Response (which the SDK's
 * stream helper takes as its snapshot) holds the open message and its text
 * so far, so that the next delta has a message to add to. */
static void
test_heartbeat_mid_message(void)
{
    struct reply_under_test t;
    start(&t, "{\"stream\":true,\"input\":\"hi\"}");
    frame(&t, "{\"type\":\"delta\",\"text\":\"Hel\"}");
    size_t before = t.client.bytes.len;
    reply_core_heartbeat(&t.core);
    const char *beat = text_of(&t) + before;
    CHECK(strstr(beat, "\"output\":[{\"id\":\"msg_r1_0\",\"type\":\"message\",\"status\":"
                       "\"in_progress\",\"role\":\"assistant\",\"content\":[{\"type\":"
                       "\"output_text\",\"text\":\"Hel\",\"annotations\":[],\"logprobs\":[]}]}]") !=
          NULL);
    frame(&t, "{\"type\":\"delta\",\"text\":\"lo\"}");
    frame(&t, "{\"type\":\"done\"}");
    expect_events(&t, "response.created response.in_progress response.output_item.added "
                      "response.content_part.added response.output_text.delta "
                      "response.in_progress response.output_text.delta response.output_text.done "
                      "response.content_part.done response.output_item.done response.completed");
    CHECK(strstr(text_of(&t), "\"text\":\"Hello\",\"logprobs\":[]}") != NULL);
    stop(&t);
}

/* After heartbeats (the head is out), a failure is response.failed. */
static void
test_failure_after_heartbeat(void)
{
    struct reply_under_test t;
    start(&t, "{\"stream\":true,\"input\":\"hi\"}");
    reply_core_heartbeat(&t.core);
    frame(&t, "{\"type\":\"error\",\"code\":\"not_found\"}");
    CHECK(t.client.status == 200);
    expect_events(&t, "response.created response.in_progress response.in_progress "
                      "response.failed");
    CHECK(strstr(text_of(&t), "\"status\":\"failed\",\"error\":{\"code\":\"server_error\"") != NULL);
    stop(&t);
}

/* Before the head: a failure of the model call (5xx, 429) opens the stream
 * and fails in it; others keep their status; a whole reply keeps any. */
static void
test_failure_before_head(void)
{
    struct reply_under_test t;
    start(&t, "{\"stream\":true,\"input\":\"hi\"}");
    frame(&t, "{\"type\":\"error\",\"code\":\"rate_limited\",\"message\":\"Quota used up.\"}");
    CHECK(t.client.status == 200 && t.client.heads == 1);
    expect_events(&t, "response.created response.in_progress response.failed");
    CHECK(strstr(text_of(&t), "{\"code\":\"rate_limit_exceeded\",\"message\":\"Quota used up. "
                              "Please try again in 10s.\"}") != NULL);
    stop(&t);

    start(&t, "{\"stream\":true,\"input\":\"hi\"}");
    frame(&t, "{\"type\":\"error\",\"code\":\"no_permissions\"}");
    CHECK(t.client.status == 403 && t.client.heads == 0);
    CHECK_STR(text_of(&t), "ERROR 403 no_permissions\n");
    stop(&t);

    start(&t, "{\"input\":\"hi\"}");
    frame(&t, "{\"type\":\"error\",\"code\":\"internal\",\"message\":\"boom\"}");
    CHECK(t.client.status == 502 && t.client.heads == 0);
    CHECK_STR(text_of(&t), "ERROR 502 upstream_error\n");
    stop(&t);
}

/* A whole reply: one Response; custom tool input unwrapped, and its
 * arguments kept as they are when the model did not wrap them. */
static void
test_whole_reply(void)
{
    struct reply_under_test t;
    start(&t,
          "{\"input\":\"hi\",\"tools\":[{\"type\":\"custom\",\"name\":\"sh\"},"
          "{\"type\":\"namespace\",\"name\":\"ns\",\"tools\":[{\"type\":\"custom\",\"name\":\"x\"}]}]}");
    frame(&t, "{\"type\":\"tool_call\",\"call_id\":\"c1\",\"name\":\"sh\",\"arguments\":"
              "\"{\\\"input\\\":\\\"ls\\\"}\"}");
    frame(&t, "{\"type\":\"tool_call\",\"call_id\":\"c2\",\"name\":\"ns__x\",\"arguments\":"
              "\"{\\\"cmd\\\":1}\"}");
    frame(&t, "{\"type\":\"done\",\"finish_reason\":\"tool_calls\",\"usage\":"
              "{\"prompt_tokens\":5,\"completion_tokens\":2}}");
    cJSON *response = cJSON_Parse(text_of(&t));
    CHECK(response != NULL);
    char *output = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(response, "output"));
    CHECK_STR(output, "[{\"id\":\"ctc_r1_0\",\"type\":\"custom_tool_call\",\"call_id\":\"c1\","
                      "\"name\":\"sh\",\"input\":\"ls\"},{\"id\":\"ctc_r1_1\",\"type\":"
                      "\"custom_tool_call\",\"call_id\":\"c2\",\"name\":\"x\",\"namespace\":\"ns\","
                      "\"input\":\"{\\\"cmd\\\":1}\"}]");
    char *usage = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(response, "usage"));
    CHECK_STR(usage, "{\"input_tokens\":5,\"input_tokens_details\":{\"cached_tokens\":0,"
                     "\"cache_write_tokens\":0},\"output_tokens\":2,\"output_tokens_details\":"
                     "{\"reasoning_tokens\":0},\"total_tokens\":7}");
    free(output);
    free(usage);
    cJSON_Delete(response);
    stop(&t);
}

int
main(void)
{
    test_heartbeats();
    test_heartbeat_mid_message();
    test_failure_after_heartbeat();
    test_failure_before_head();
    test_whole_reply();
    return check_summary("responses_reply");
}
