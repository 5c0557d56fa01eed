/* The Anthropic Messages parser: the normalised request it builds (as the
 * pipe frame a window gets, compared whole), what it refuses (status, code,
 * the Anthropic-style field path), and what it notes for the log. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "messages_request.h"
#include "parse_check.h"

static int
parse(const char *body, struct chat_request *req, struct api_error *err)
{
    return parse_check_run(messages_request_parse, body, req, err);
}

/* The frame a window would get for `body`, or NULL if refused. */
static char *
frame_of(const char *body, struct chat_request *req)
{
    struct api_error err;
    if (parse(body, req, &err) != 0) {
        fprintf(stderr, "  refused %s: %s\n", body, err.message);
        return NULL;
    }
    cJSON *frame = chat_request_frame(req, "r1", "copilot/claude-sonnet-4.5");
    char *text = frame ? cJSON_PrintUnformatted(frame) : NULL;
    cJSON_Delete(frame);
    return text;
}

static void
expect_frame(const char *body, const char *expected)
{
    struct chat_request req;
    char *text = frame_of(body, &req);
    CHECK(text != NULL);
    if (text != NULL)
        CHECK_STR(text, expected);
    free(text);
    chat_request_free(&req);
}

static void
expect_error(const char *body, const char *code, const char *param)
{
    struct api_error err;
    /* Anthropic words them "path: reason". */
    if (parse_check_refused(messages_request_parse, body, code, param, &err) && param[0] != '\0')
        CHECK(strncmp(err.message, param, strlen(param)) == 0 && err.message[strlen(param)] == ':');
}

#define FRAME_HEAD "{\"type\":\"request\",\"id\":\"r1\",\"model\":\"copilot/claude-sonnet-4.5\","

static void
test_plain(void)
{
    struct chat_request req;
    struct api_error err;
    CHECK(parse("{\"model\":\"claude-sonnet-4-5-20250929\",\"max_tokens\":1024,\"stream\":true,"
                "\"temperature\":0.5,\"top_p\":0.9,\"top_k\":40,"
                "\"stop_sequences\":[\"END\",\"\\n\\nHuman:\"],"
                "\"metadata\":{\"user_id\":\"u\"},\"thinking\":{\"type\":\"adaptive\"},"
                "\"context_management\":{\"edits\":[]},\"output_config\":{\"effort\":\"medium\"},"
                "\"service_tier\":\"auto\",\"some_future_field\":[1,2],"
                "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}",
                &req, &err) == 0);
    CHECK_STR(req.model, "claude-sonnet-4-5-20250929");
    CHECK(req.stream);
    CHECK(req.max_tokens == 1024);
    CHECK(cJSON_GetArraySize(req.stop) == 2);
    CHECK(req.tools == NULL && req.tool_choice == NULL && !req.has_images && req.notes == NULL);
    chat_request_free(&req);

    expect_frame("{\"model\":\"m\",\"max_tokens\":8,\"temperature\":0.5,\"top_k\":40,"
                 "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}",
                 FRAME_HEAD
                 "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
                 "\"text\":\"Hello\"}]}],\"options\":{\"temperature\":0.5,\"top_k\":40}}");
}

static void
test_system(void)
{
    /* Blocks joined by a blank line, cache_control ignored; a system turn
     * mid-conversation stays in place. */
    expect_frame("{\"max_tokens\":8,\"system\":[{\"type\":\"text\",\"text\":\"x-anthropic-billing-header: "
                 "cc_version=1;\"},{\"type\":\"text\",\"text\":\"You are Claude Code.\","
                 "\"cache_control\":{\"type\":\"ephemeral\"}}],\"messages\":["
                 "{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"},"
                 "{\"role\":\"system\",\"content\":[{\"type\":\"text\",\"text\":\"Mind the budget.\"}],"
                 "\"output_config\":{}},{\"role\":\"user\",\"content\":\"c\"}]}",
                 FRAME_HEAD
                 "\"messages\":[{\"role\":\"system\",\"content\":\"x-anthropic-billing-header: "
                 "cc_version=1;\\n\\nYou are Claude Code.\"},{\"role\":\"user\",\"content\":[{"
                 "\"type\":\"text\",\"text\":\"a\"}]},{\"role\":\"assistant\",\"content\":\"b\"},"
                 "{\"role\":\"system\",\"content\":\"Mind the budget.\"},{\"role\":\"user\","
                 "\"content\":[{\"type\":\"text\",\"text\":\"c\"}]}],\"options\":{}}");
    expect_frame("{\"max_tokens\":8,\"system\":\"Be brief.\",\"messages\":[{\"role\":\"user\","
                 "\"content\":\"a\"}]}",
                 FRAME_HEAD "\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                            "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"}]}],"
                            "\"options\":{}}");
    expect_error("{\"max_tokens\":8,\"system\":[{\"type\":\"image\"}],\"messages\":[{\"role\":"
                 "\"user\",\"content\":\"a\"}]}",
                 "invalid_value", "system.0");
}

static void
test_images(void)
{
    struct chat_request req;
    char *text = frame_of("{\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":["
                          "{\"type\":\"text\",\"text\":\"What is this?\"},{\"type\":\"image\","
                          "\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\","
                          "\"data\":\"iVBORw0KGgo=\"}}]}]}",
                          &req);
    CHECK(req.has_images);
    CHECK_STR(text, FRAME_HEAD "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
                               "\"text\":\"What is this?\"},{\"type\":\"image_url\",\"image_url\":{"
                               "\"url\":\"data:image/png;base64,iVBORw0KGgo=\"}}]}],"
                               "\"options\":{}}");
    free(text);
    chat_request_free(&req);
    expect_error("{\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                 "\"image\",\"source\":{\"type\":\"url\",\"url\":\"https://x.test/a.png\"}}]}]}",
                 "invalid_image_source", "messages.0.content.0.source");
    expect_error("{\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                 "\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/tiff\","
                 "\"data\":\"AAAA\"}}]}]}",
                 "invalid_value", "messages.0.content.0.source");
    expect_error("{\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                 "\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\","
                 "\"data\":\"not base64!\"}}]}]}",
                 "invalid_value", "messages.0.content.0.source");
    expect_error("{\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                 "\"text\",\"text\":\"read\"},{\"type\":\"document\",\"source\":{\"type\":"
                 "\"base64\",\"media_type\":\"application/pdf\",\"data\":\"AAAA\"}}]}]}",
                 "unsupported_content", "messages.0.content.1.type");
}

static void
test_tool_round_trip(void)
{
    /* tool_use → tool_calls with the input as JSON text; tool_result →
     * a tool message (is_error said in words), its image in a user message
     * after the turn's tool messages; thinking dropped. */
    expect_frame(
        "{\"max_tokens\":8,\"tools\":[{\"name\":\"Read\",\"description\":\"Reads a file\","
        "\"input_schema\":{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}}}},"
        "{\"type\":\"web_search_20250305\",\"name\":\"web_search\",\"max_uses\":5},"
        "{\"type\":\"custom\",\"name\":\"Shot\",\"input_schema\":{\"type\":\"object\"}}],"
        "\"tool_choice\":{\"type\":\"auto\",\"disable_parallel_tool_use\":true},"
        "\"messages\":[{\"role\":\"user\",\"content\":\"look\"},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"hm\","
        "\"signature\":\"s\"},{\"type\":\"text\",\"text\":\"Reading.\"},{\"type\":\"tool_use\","
        "\"id\":\"toolu_1\",\"name\":\"Read\",\"input\":{\"path\":\"a.txt\"}},{\"type\":"
        "\"tool_use\",\"id\":\"toolu_2\",\"name\":\"Shot\",\"input\":{}}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\","
        "\"is_error\":true,\"content\":\"ENOENT\"},{\"type\":\"tool_result\",\"tool_use_id\":"
        "\"toolu_2\",\"content\":[{\"type\":\"text\",\"text\":\"done\"},{\"type\":\"image\","
        "\"source\":{\"type\":\"base64\",\"media_type\":\"image/gif\",\"data\":\"R0lG\"}}]},"
        "{\"type\":\"text\",\"text\":\"go on\"}]}]}",
        FRAME_HEAD
        "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"look\"}]},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"Reading.\"}],"
        "\"tool_calls\":[{\"id\":\"toolu_1\",\"type\":\"function\",\"function\":{\"name\":\"Read\","
        "\"arguments\":\"{\\\"path\\\":\\\"a.txt\\\"}\"}},{\"id\":\"toolu_2\",\"type\":\"function\","
        "\"function\":{\"name\":\"Shot\",\"arguments\":\"{}\"}}]},"
        "{\"role\":\"tool\",\"content\":\"The tool reported an error:\\nENOENT\",\"tool_call_id\":"
        "\"toolu_1\"},{\"role\":\"tool\",\"content\":\"done\",\"tool_call_id\":\"toolu_2\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"The result of tool call "
        "toolu_2 includes these images:\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
        "\"data:image/gif;base64,R0lG\"}},{\"type\":\"text\",\"text\":\"go on\"}]}],"
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"Read\",\"description\":"
        "\"Reads a file\",\"parameters\":{\"type\":\"object\",\"properties\":{\"path\":{\"type\":"
        "\"string\"}}}}},{\"type\":\"function\",\"function\":{\"name\":\"Shot\",\"parameters\":{"
        "\"type\":\"object\"}}}],\"tool_choice\":\"auto\",\"options\":{}}");

    struct chat_request req;
    struct api_error err;
    CHECK(parse("{\"max_tokens\":8,\"tools\":[{\"type\":\"bash_20250124\",\"name\":\"bash\"},"
                "{\"type\":\"text_editor_20250728\",\"name\":\"str_replace_based_edit_tool\"}],"
                "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                &req, &err) == 0);
    /* Only server tools: no tools at all, and one note for the log. */
    CHECK(req.tools == NULL);
    CHECK(req.notes != NULL && strstr(req.notes, "server tool bash (bash_20250124) skipped") &&
          strstr(req.notes, "str_replace_based_edit_tool"));
    chat_request_free(&req);
}

static void
test_tool_choice(void)
{
    static const char tools[] = "\"tools\":[{\"name\":\"a\",\"input_schema\":{\"type\":\"object\"}},"
                                "{\"name\":\"b\",\"input_schema\":{\"type\":\"object\"}}],"
                                "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]";
    char body[512];
    struct chat_request req;
    struct api_error err;
    static const struct {
        const char *choice, *expected;
        int tools;
    } cases[] = {
        { "{\"type\":\"any\"}", "required", 2 },
        { "{\"type\":\"none\"}", "none", 2 },
        { "{\"type\":\"tool\",\"name\":\"b\"}", "required", 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(body, sizeof body, "{\"max_tokens\":8,\"tool_choice\":%s,%s}", cases[i].choice,
                 tools);
        CHECK(parse(body, &req, &err) == 0);
        CHECK(cJSON_IsString(req.tool_choice) &&
              strcmp(req.tool_choice->valuestring, cases[i].expected) == 0);
        CHECK(cJSON_GetArraySize(req.tools) == cases[i].tools);
        chat_request_free(&req);
    }
    snprintf(body, sizeof body,
             "{\"max_tokens\":8,\"tool_choice\":{\"type\":\"tool\",\"name\":"
             "\"web_search\"},%s}",
             tools);
    expect_error(body, "invalid_value", "tool_choice.name");
    snprintf(body, sizeof body, "{\"max_tokens\":8,\"tool_choice\":{\"type\":\"sometimes\"},%s}",
             tools);
    expect_error(body, "invalid_value", "tool_choice.type");
    /* none: the frame carries no tools. */
    snprintf(body, sizeof body, "{\"max_tokens\":8,\"tool_choice\":{\"type\":\"none\"},%s}", tools);
    char *text = frame_of(body, &req);
    CHECK(text != NULL && strstr(text, "\"tools\"") == NULL);
    free(text);
    chat_request_free(&req);
}

static void
test_repairs(void)
{
    /* toolu_1 is never answered (the next user turn answers toolu_2 only),
     * toolu_9 answers nothing of the turn before, toolu_3 ends the
     * conversation unanswered. */
    struct chat_request req;
    char *text = frame_of(
        "{\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"go\"},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":"
        "\"A\",\"input\":{}},{\"type\":\"tool_use\",\"id\":\"toolu_2\",\"name\":\"A\",\"input\":{}}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_2\","
        "\"content\":\"two\"},{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_9\",\"content\":"
        "\"nine\"}]},{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_3\","
        "\"name\":\"A\"}]}]}",
        &req);
    CHECK_STR(text, FRAME_HEAD
              "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"go\"}]},"
              "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"toolu_1\","
              "\"type\":\"function\",\"function\":{\"name\":\"A\",\"arguments\":\"{}\"}},{\"id\":"
              "\"toolu_2\",\"type\":\"function\",\"function\":{\"name\":\"A\",\"arguments\":"
              "\"{}\"}}]},{\"role\":\"tool\",\"content\":\"two\",\"tool_call_id\":\"toolu_2\"},"
              "{\"role\":\"tool\",\"content\":\"No result was given for this tool call (the "
              "conversation continued without one).\",\"tool_call_id\":\"toolu_1\"},"
              "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"A result for tool "
              "call toolu_9, which is not in the conversation:\\nnine\"}]},"
              "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"toolu_3\","
              "\"type\":\"function\",\"function\":{\"name\":\"A\",\"arguments\":\"{}\"}}]},"
              "{\"role\":\"tool\",\"content\":\"No result was given for this tool call (the "
              "conversation continued without one).\",\"tool_call_id\":\"toolu_3\"}],"
              "\"options\":{}}");
    CHECK(req.notes != NULL && strstr(req.notes, "tool_use toolu_1 had no tool_result") &&
          strstr(req.notes, "tool_result toolu_9 answers no tool_use") &&
          strstr(req.notes, "tool_use toolu_3 had no tool_result"));
    free(text);
    chat_request_free(&req);

    /* A client's id goes into the log line tamed. */
    struct api_error err;
    CHECK(parse("{\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                "\"tool_result\",\"tool_use_id\":\"evil\\nINFO fake line\",\"content\":\"x\"}]}]}",
                &req, &err) == 0);
    CHECK(req.notes != NULL && strchr(req.notes, '\n') == NULL && strstr(req.notes, "evil?INFO"));
    chat_request_free(&req);
}

static void
test_refusals(void)
{
    expect_error("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                 "missing_required_parameter", "max_tokens");
    expect_error("{\"max_tokens\":0,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                 "invalid_value", "max_tokens");
    expect_error("{\"max_tokens\":1.5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                 "invalid_value", "max_tokens");
    expect_error("{\"max_tokens\":8}", "missing_required_parameter", "messages");
    expect_error("{\"max_tokens\":8,\"messages\":[]}", "empty_array", "messages");
    expect_error("{\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"x\"},"
                 "{\"role\":\"robot\",\"content\":\"x\"}]}",
                 "invalid_value", "messages.1.role");
    expect_error("{\"max_tokens\":8,\"messages\":[{\"role\":\"user\"}]}",
                 "missing_required_parameter", "messages.0.content");
    expect_error("{\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                 "\"text\",\"text\":\"x\"},{\"type\":\"text\",\"text\":\"y\"},{\"text\":\"z\"}]}]}",
                 "invalid_type", "messages.0.content.2.type");
    expect_error("{\"max_tokens\":8,\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":"
                 "\"tool_use\",\"id\":\"t\",\"name\":\"A\",\"input\":[1]}]}]}",
                 "invalid_type", "messages.0.content.0.input");
    expect_error("{\"max_tokens\":8,\"temperature\":1.5,\"messages\":[{\"role\":\"user\","
                 "\"content\":\"x\"}]}",
                 "invalid_value", "temperature");
    expect_error("{\"max_tokens\":8,\"stop_sequences\":\"END\",\"messages\":[{\"role\":\"user\","
                 "\"content\":\"x\"}]}",
                 "invalid_value", "stop_sequences");
    expect_error("{\"max_tokens\":8,\"stop_sequences\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\","
                 "\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"],"
                 "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                 "invalid_value", "stop_sequences");
    expect_error("{\"max_tokens\":8,\"stream\":\"yes\",\"messages\":[{\"role\":\"user\","
                 "\"content\":\"x\"}]}",
                 "invalid_type", "stream");
    expect_error("{\"max_tokens\":8,\"tools\":[{\"input_schema\":{}}],\"messages\":[{\"role\":"
                 "\"user\",\"content\":\"x\"}]}",
                 "missing_required_parameter", "tools.0.name");
    /* Only thinking: nothing left for the model. */
    expect_error("{\"max_tokens\":8,\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":"
                 "\"thinking\",\"thinking\":\"x\",\"signature\":\"s\"}]}]}",
                 "invalid_value", "messages");
    /* As chat refuses them. */
    expect_error("{\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"a\\u0000b\"}]}",
                 "invalid_value", "");
    expect_error("{\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}",
                 "invalid_json", "");
    expect_error("[1]", "invalid_type", "");

    /* count_tokens needs no max_tokens. */
    struct chat_request req;
    struct api_error err;
    static const char count[] =
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
    CHECK(messages_request_parse_for_count(count, strlen(count), &req, &err) == 0);
    CHECK(req.max_tokens == 0 && cJSON_GetArraySize(req.messages) == 1);
    chat_request_free(&req);
}

int
main(void)
{
    test_plain();
    test_system();
    test_images();
    test_tool_round_trip();
    test_tool_choice();
    test_repairs();
    test_refusals();
    return check_summary("messages_request");
}
