/* The chunks and completion objects clients receive: valid JSON with the
 * fields OpenAI's clients read. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "chat_reply.h"
#include "check.h"
#include "token_estimate.h"

static cJSON *
parsed_chunk(struct chat_reply *reply)
{
    cJSON *json = cJSON_ParseWithLength(reply->chunk.data, reply->chunk.len);
    CHECK(json != NULL);
    if (json == NULL)
        fprintf(stderr, "  not JSON: %s\n", reply->chunk.data);
    return json;
}

static const cJSON *
first_choice(const cJSON *json)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(json, "choices"), 0);
}

static void
test_stream_chunks(void)
{
    struct chat_reply reply;
    CHECK(chat_reply_init(&reply, "abc", "test/gpt-\"4o\"", true, false, 1 << 20) == 0);

    CHECK(chat_reply_chunk_role(&reply) == 0);
    cJSON *json = parsed_chunk(&reply);
    CHECK_STR(cJSON_GetObjectItem(json, "id")->valuestring, "chatcmpl-abc");
    CHECK_STR(cJSON_GetObjectItem(json, "object")->valuestring, "chat.completion.chunk");
    CHECK_STR(cJSON_GetObjectItem(json, "model")->valuestring, "test/gpt-\"4o\"");
    CHECK(cJSON_IsNumber(cJSON_GetObjectItem(json, "created")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(json, "usage")));
    const cJSON *delta = cJSON_GetObjectItem(first_choice(json), "delta");
    CHECK_STR(cJSON_GetObjectItem(delta, "role")->valuestring, "assistant");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(first_choice(json), "finish_reason")));
    cJSON_Delete(json);

    CHECK(chat_reply_chunk_content(&reply, "line\n\"quoted\"", 13) == 0);
    json = parsed_chunk(&reply);
    delta = cJSON_GetObjectItem(first_choice(json), "delta");
    CHECK_STR(cJSON_GetObjectItem(delta, "content")->valuestring, "line\n\"quoted\"");
    cJSON_Delete(json);

    CHECK(chat_reply_chunk_tool_call(&reply, "call_1", "get_weather") == 0);
    json = parsed_chunk(&reply);
    const cJSON *call =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(first_choice(json), "delta"),
                                               "tool_calls"),
                           0);
    CHECK(cJSON_GetObjectItem(call, "index")->valueint == 0);
    CHECK_STR(cJSON_GetObjectItem(call, "id")->valuestring, "call_1");
    CHECK_STR(cJSON_GetObjectItem(call, "type")->valuestring, "function");
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(call, "function"), "name")->valuestring,
              "get_weather");
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(call, "function"), "arguments")->valuestring,
              "");
    cJSON_Delete(json);
    CHECK(chat_reply_chunk_tool_arguments(&reply, "{\"city\":\"Paris\"}") == 0);
    json = parsed_chunk(&reply);
    call = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(first_choice(json), "delta"),
                                                  "tool_calls"),
                              0);
    CHECK(cJSON_GetObjectItem(call, "index")->valueint == 0);
    CHECK(cJSON_GetObjectItem(call, "id") == NULL);
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(call, "function"), "arguments")->valuestring,
              "{\"city\":\"Paris\"}");
    cJSON_Delete(json);

    CHECK(chat_reply_chunk_finish(&reply, "tool_calls") == 0);
    json = parsed_chunk(&reply);
    CHECK_STR(cJSON_GetObjectItem(first_choice(json), "finish_reason")->valuestring, "tool_calls");
    cJSON_Delete(json);

    struct reply_usage usage = { 10, 5 };
    CHECK(chat_reply_chunk_usage(&reply, &usage) == 0);
    json = parsed_chunk(&reply);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(json, "choices")) == 0);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "usage"), "total_tokens")->valueint == 15);
    cJSON_Delete(json);
    chat_reply_free(&reply);
}

static void
test_completion(void)
{
    struct chat_reply reply;
    CHECK(chat_reply_init(&reply, "xyz", "m", false, false, 1 << 20) == 0);
    CHECK(chat_reply_add_text(&reply, "Hello, ", 7) == 0);
    CHECK(chat_reply_add_text(&reply, "world", 5) == 0);
    struct reply_usage usage = { 3, 2 };
    CHECK(chat_reply_completion(&reply, "stop", &usage) == 0);
    cJSON *json = parsed_chunk(&reply);
    CHECK_STR(cJSON_GetObjectItem(json, "object")->valuestring, "chat.completion");
    const cJSON *message = cJSON_GetObjectItem(first_choice(json), "message");
    CHECK_STR(cJSON_GetObjectItem(message, "role")->valuestring, "assistant");
    CHECK_STR(cJSON_GetObjectItem(message, "content")->valuestring, "Hello, world");
    CHECK(cJSON_GetObjectItem(message, "tool_calls") == NULL);
    CHECK(cJSON_GetObjectItem(json, "usage") != NULL);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "usage"), "prompt_tokens")->valueint == 3);
    cJSON_Delete(json);
    chat_reply_free(&reply);

    /* Only tool calls: content is null, as OpenAI sends it. */
    CHECK(chat_reply_init(&reply, "t", "m", false, false, 1 << 20) == 0);
    CHECK(chat_reply_add_tool_call(&reply, "c1", "f", "{}") == 0);
    CHECK(chat_reply_add_tool_call(&reply, "c2", "g", "{\"a\":1}") == 0);
    CHECK(chat_reply_completion(&reply, "tool_calls", &usage) == 0);
    json = parsed_chunk(&reply);
    message = cJSON_GetObjectItem(first_choice(json), "message");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(message, "content")));
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(message, "tool_calls")) == 2);
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(message, "tool_calls"), 1),
                                  "id")
                  ->valuestring,
              "c2");
    cJSON_Delete(json);
    chat_reply_free(&reply);

    /* Legacy functions: function_call instead of tool_calls. */
    CHECK(chat_reply_init(&reply, "f", "m", false, true, 1 << 20) == 0);
    CHECK(chat_reply_add_tool_call(&reply, "c1", "f", "{}") == 0);
    CHECK(chat_reply_completion(&reply, "tool_calls", &usage) == 0);
    json = parsed_chunk(&reply);
    message = cJSON_GetObjectItem(first_choice(json), "message");
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(message, "function_call"), "name")->valuestring,
              "f");
    CHECK(cJSON_GetObjectItem(message, "tool_calls") == NULL);
    CHECK_STR(cJSON_GetObjectItem(first_choice(json), "finish_reason")->valuestring,
              "function_call");
    cJSON_Delete(json);
    chat_reply_free(&reply);
}

static void
test_limit(void)
{
    struct chat_reply reply;
    CHECK(chat_reply_init(&reply, "l", "m", false, false, 8) == 0);
    CHECK(chat_reply_add_text(&reply, "12345678", 8) == 0);
    CHECK(chat_reply_add_text(&reply, "9", 1) == -1);
    chat_reply_free(&reply);
    CHECK(token_estimate_bytes(0) == 0);
    CHECK(token_estimate_bytes(9) == 3);
}

int
main(void)
{
    test_stream_chunks();
    test_completion();
    test_limit();
    return check_summary("chat_reply");
}
