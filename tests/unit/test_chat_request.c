/* The Chat Completions request parser: what it accepts, what it refuses
 * (status, code, param), and the pipe frame it builds. */
#include <stdlib.h>
#include <string.h>

#include "chat_request.h"
#include "check.h"
#include "parse_check.h"

static int
parse(const char *body, struct chat_request *req, struct api_error *err)
{
    return parse_check_run(chat_request_parse, body, req, err);
}

static void
expect_error(const char *body, const char *code, const char *param)
{
    struct api_error err;
    if (parse_check_refused(chat_request_parse, body, code, param, &err))
        CHECK(strlen(err.message) > 10);
}

static void
expect_ok(const char *body)
{
    struct chat_request req;
    struct api_error err;
    int rc = parse(body, &req, &err);
    CHECK(rc == 0);
    if (rc != 0)
        fprintf(stderr, "  refused %s: %s\n", body, err.message);
    chat_request_free(&req);
}

static void
test_valid(void)
{
    struct chat_request req;
    struct api_error err;
    CHECK(parse("{\"model\":\"gpt-4o\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                "\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
                "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}],"
                "\"max_tokens\":50,\"temperature\":0.5,\"unknown_field\":{\"a\":1}}",
                &req, &err) == 0);
    CHECK_STR(req.model, "gpt-4o");
    CHECK(req.stream);
    CHECK(req.include_usage);
    CHECK(req.max_tokens == 50);
    CHECK(cJSON_GetArraySize(req.messages) == 2);

    cJSON *frame = chat_request_frame(&req, "req1", "test/gpt-4o");
    CHECK(frame != NULL);
    char *text = cJSON_PrintUnformatted(frame);
    cJSON *copy = cJSON_Parse(text);
    CHECK_STR(cJSON_GetObjectItem(copy, "type")->valuestring, "request");
    CHECK_STR(cJSON_GetObjectItem(copy, "id")->valuestring, "req1");
    CHECK_STR(cJSON_GetObjectItem(copy, "model")->valuestring, "test/gpt-4o");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(copy, "messages")) == 2);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(copy, "options"), "temperature")->valuedouble ==
          0.5);
    CHECK(cJSON_GetObjectItem(copy, "tools") == NULL);
    cJSON_Delete(copy);
    free(text);
    cJSON_Delete(frame);
    chat_request_free(&req);

    /* The model is optional (the one picked in VS Code is used). */
    CHECK(parse("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &req, &err) == 0);
    CHECK(req.model == NULL);
    CHECK(!req.stream);
    chat_request_free(&req);

    expect_ok(
        "{\"messages\":[{\"role\":\"developer\",\"content\":\"x\"},{\"role\":\"user\",\"content\":\"y\",\"name\":\"bob\"}]}");
    expect_ok(
        "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},"
        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
        "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"42\"}]}");
    expect_ok(
        "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":null,\"n\":1,\"stop\":[\"a\",\"b\"]}");
}

static void
test_tools(void)
{
    struct chat_request req;
    struct api_error err;
    const char *tools = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                        "\"parameters\":{\"type\":\"object\"}}}]";
    char body[512];
    snprintf(body, sizeof body,
             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],%s,"
             "\"tool_choice\":\"required\"}",
             tools);
    CHECK(parse(body, &req, &err) == 0);
    cJSON *frame = chat_request_frame(&req, "r", "m");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(frame, "tools")) == 1);
    CHECK_STR(cJSON_GetObjectItem(frame, "tool_choice")->valuestring, "required");
    cJSON_Delete(frame);
    chat_request_free(&req);

    /* tool_choice "none": the model gets no tools at all. */
    snprintf(body, sizeof body,
             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],%s,"
             "\"tool_choice\":\"none\"}",
             tools);
    CHECK(parse(body, &req, &err) == 0);
    frame = chat_request_frame(&req, "r", "m");
    CHECK(cJSON_GetObjectItem(frame, "tools") == NULL);
    cJSON_Delete(frame);
    chat_request_free(&req);

    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":{}}",
                 "invalid_type", "tools");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\"}]}",
                 "invalid_value", "tools[0]");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tool_choice\":\"sometimes\"}",
                 "invalid_value", "tool_choice");
}

static void
test_invalid(void)
{
    expect_error("{\"messages\":", "invalid_json", "");
    expect_error("", "invalid_json", "");
    /* Raw bytes that are not UTF-8: a stray byte, an overlong form, a
     * surrogate, past U+10FFFF; well-formed multi-byte text passes. */
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"a\xff\"}]}", "invalid_json", "");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"\xc0\xaf\"}]}", "invalid_json",
                 "");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"\xed\xa0\x80\"}]}",
                 "invalid_json", "");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"\xf4\x90\x80\x80\"}]}",
                 "invalid_json", "");
    expect_ok(
        "{\"messages\":[{\"role\":\"user\",\"content\":\"\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e\"}]}");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"a\\u0000b\"}]}", "invalid_value",
                 "");
    expect_ok("{\"messages\":[{\"role\":\"user\",\"content\":\"a\\\\u0000b\"}]}"); /* an escaped
                                                                                      backslash */
    expect_error("[1,2]", "invalid_type", "");
    expect_error("{\"model\":\"x\"}", "missing_required_parameter", "messages");
    expect_error("{\"messages\":{}}", "invalid_type", "messages");
    expect_error("{\"messages\":[]}", "empty_array", "messages");
    expect_error("{\"messages\":[\"hi\"]}", "invalid_type", "messages[0]");
    expect_error("{\"messages\":[{\"content\":\"x\"}]}", "invalid_type", "messages[0].role");
    expect_error("{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", "invalid_value",
                 "messages[0].role");
    expect_error("{\"messages\":[{\"role\":\"user\"}]}", "missing_required_parameter",
                 "messages[0].content");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":42}]}", "invalid_type",
                 "messages[0].content");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":"
                 "{\"url\":\"https://example.invalid/cat.png\"}}]}]}",
                 "invalid_image_url", "messages[0].content[0].image_url.url");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":"
                 "{\"url\":\"data:image/png;base64,not base64!\"}}]}]}",
                 "invalid_image_url", "messages[0].content[0].image_url.url");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":"
                 "{\"url\":\"data:image/tiff;base64,AAAA\"}}]}]}",
                 "invalid_image_url", "messages[0].content[0].image_url.url");
    expect_ok("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":"
              "{\"url\":\"data:image/png;base64,iVBORw0KGgo=\"}}]}]}");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"audio\"}]}]}",
                 "invalid_value", "messages[0].content[0]");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"tool\",\"content\":\"b\"}]}",
                 "missing_required_parameter", "messages[1].tool_call_id");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":\"yes\"}",
                 "invalid_type", "stream");
    expect_error("{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\","
                 "\"function\":{\"name\":\"f\",\"arguments\":\"[1]\"}}]}]}",
                 "invalid_value", "messages[0].tool_calls[0].function.arguments");
    expect_error("{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\","
                 "\"function\":{\"name\":\"f\",\"arguments\":\"{oops\"}}]}]}",
                 "invalid_value", "messages[0].tool_calls[0].function.arguments");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"model\":7}",
                 "invalid_type", "model");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":2}", "invalid_value",
                 "n");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}",
                 "invalid_value", "max_tokens");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":1e300}",
                 "invalid_value", "max_tokens");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":3}",
                 "invalid_value", "temperature");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[1]}",
                 "invalid_value", "stop");
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}",
                 "invalid_value", "stop");
}

static void
test_deep_nesting(void)
{
    /* cJSON refuses nesting past its limit instead of recursing without end. */
    size_t depth = 100000;
    char *body = malloc(2 * depth + 1);
    memset(body, '[', depth);
    memset(body + depth, ']', depth);
    body[2 * depth] = '\0';
    expect_error(body, "invalid_json", "");
    free(body);
}

int
main(void)
{
    test_valid();
    test_tools();
    test_invalid();
    test_deep_nesting();
    return check_summary("chat_request");
}
