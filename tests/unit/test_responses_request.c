/* The Responses request parser: the normalised (chat-shaped) request it
 * builds from input items and tools, what the renderer reads back (echo,
 * tool names), and what it refuses (status, code, param). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "parse_check.h"
#include "responses_request.h"

static int
parse(const char *body, struct chat_request *req, struct api_error *err)
{
    return parse_check_run(responses_request_parse, body, req, err);
}

static void
expect_error(const char *body, const char *code, const char *param)
{
    struct api_error err;
    if (parse_check_refused(responses_request_parse, body, code, param, &err))
        CHECK(strlen(err.message) > 10);
}

/* The request printed as JSON (root and what the renderer reads). */
static char *
printed(const cJSON *item)
{
    char *text = cJSON_PrintUnformatted(item);
    CHECK(text != NULL);
    return text;
}

static void
expect_json(const cJSON *item, const char *expected)
{
    char *text = printed(item);
    CHECK_STR(text, expected);
    free(text);
}

static const cJSON *
at(const cJSON *array, int index)
{
    return cJSON_GetArrayItem(array, index);
}

static const cJSON *
field(const cJSON *object, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(object, name);
}

static void
test_text_input(void)
{
    struct chat_request req;
    struct api_error err;
    CHECK(
        parse("{\"model\":\"gpt-4o\",\"input\":\"hi\",\"instructions\":\"be brief\",\"stream\":true,"
              "\"store\":true,\"unknown\":{\"a\":1},\"max_output_tokens\":64,"
              "\"temperature\":0.5,\"top_p\":0.9,\"reasoning\":{\"effort\":\"high\"}}",
              &req, &err) == 0);
    CHECK_STR(req.model, "gpt-4o");
    CHECK(req.stream);
    CHECK(req.max_tokens == 64);
    CHECK(req.stop == NULL && req.tools == NULL && req.tool_choice == NULL);
    expect_json(req.messages, "[{\"role\":\"system\",\"content\":\"be brief\"},"
                              "{\"role\":\"user\",\"content\":\"hi\"}]");
    cJSON *frame = chat_request_frame(&req, "r1", "copilot/gpt-4o");
    CHECK(frame != NULL);
    expect_json(field(frame, "options"), "{\"temperature\":0.5,\"top_p\":0.9}");
    cJSON_Delete(frame);
    expect_json(responses_request_echo(&req),
                "{\"instructions\":\"be brief\",\"tools\":[],\"tool_choice\":\"auto\","
                "\"temperature\":0.5,\"top_p\":0.9,\"parallel_tool_calls\":true,"
                "\"metadata\":null,\"max_output_tokens\":64}");
    CHECK(responses_request_parallel_tool_calls(&req));
    CHECK(req.notes == NULL);
    chat_request_free(&req);
}

static void
test_message_items(void)
{
    struct chat_request req;
    struct api_error err;
    CHECK(
        parse("{\"input\":["
              "{\"type\":\"message\",\"role\":\"developer\",\"content\":[{\"type\":\"input_text\","
              "\"text\":\"rules\"}]},"
              "{\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"look\"},"
              "{\"type\":\"input_image\",\"image_url\":\"data:image/png;base64,iVBORw0K\","
              "\"detail\":\"low\"}]},"
              "{\"type\":\"reasoning\",\"id\":\"rs_1\",\"summary\":[],\"encrypted_content\":\"xyz\"},"
              "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
              "\"text\":\"a cat\",\"annotations\":[]}]},"
              "{\"type\":\"item_reference\",\"id\":\"msg_9\"},"
              "{\"type\":\"agent_message\",\"author\":\"a1\",\"recipient\":\"root\","
              "\"content\":[{\"type\":\"input_text\",\"text\":\"later\"},"
              "{\"type\":\"encrypted_content\",\"encrypted_content\":\"gAAA\"}]},"
              "{\"type\":\"web_search_call\",\"id\":\"ws_1\",\"status\":\"completed\"},"
              "{\"role\":\"system\",\"content\":\"mid\"}],"
              "\"metadata\":{\"k\":\"v\"},\"parallel_tool_calls\":false}",
              &req, &err) == 0);
    CHECK(req.has_images);
    expect_json(req.messages,
                "[{\"role\":\"developer\",\"content\":[{\"type\":\"text\",\"text\":\"rules\"}]},"
                "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"look\"},"
                "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0K\","
                "\"detail\":\"low\"}}]},"
                "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"a cat\"}]},"
                "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
                "\"[agent_message from a1 to root]\"},{\"type\":\"text\",\"text\":\"later\"}]},"
                "{\"role\":\"system\",\"content\":\"mid\"}]");
    /* Reasoning is dropped by design; what is not known here, noted. */
    CHECK_STR(req.notes, "input items dropped (not known here): item_reference, web_search_call");
    const cJSON *echo = responses_request_echo(&req);
    expect_json(field(echo, "metadata"), "{\"k\":\"v\"}");
    CHECK(!responses_request_parallel_tool_calls(&req));
    chat_request_free(&req);
}

/* Tool calls and their outputs, as Codex replays a turn. */
static void
test_tool_history(void)
{
    struct chat_request req;
    struct api_error err;
    CHECK(
        parse("{\"input\":[{\"role\":\"user\",\"content\":\"go\"},"
              "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
              "\"text\":\"running\"}]},"
              "{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":\"exec\","
              "\"arguments\":\"{\\\"cmd\\\":\\\"ls\\\"}\"},"
              "{\"type\":\"custom_tool_call\",\"call_id\":\"c2\",\"name\":\"apply_patch\","
              "\"input\":\"*** Begin\"},"
              "{\"type\":\"function_call\",\"call_id\":\"c3\",\"name\":\"spawn\","
              "\"namespace\":\"agents\",\"arguments\":\"\"},"
              "{\"type\":\"function_call_output\",\"call_id\":\"c1\",\"output\":\"a.txt\"},"
              "{\"type\":\"custom_tool_call_output\",\"call_id\":\"c2\",\"output\":\"done\"},"
              "{\"type\":\"function_call_output\",\"call_id\":\"c3\",\"output\":["
              "{\"type\":\"input_text\",\"text\":\"see \"},{\"type\":\"input_text\",\"text\":\"this\"},"
              "{\"type\":\"input_image\",\"image_url\":\"data:image/gif;base64,R0lGOD==\"}]},"
              "{\"type\":\"function_call\",\"call_id\":\"c4\",\"name\":\"exec\","
              "\"arguments\":\"{}\"}]}",
              &req, &err) == 0);
    CHECK(req.has_images);
    expect_json(req.messages,
                "[{\"role\":\"user\",\"content\":\"go\"},"
                "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"running\"}],"
                "\"tool_calls\":["
                "{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"exec\","
                "\"arguments\":\"{\\\"cmd\\\":\\\"ls\\\"}\"}},"
                "{\"id\":\"c2\",\"type\":\"function\",\"function\":{\"name\":\"apply_patch\","
                "\"arguments\":\"{\\\"input\\\":\\\"*** Begin\\\"}\"}},"
                "{\"id\":\"c3\",\"type\":\"function\",\"function\":{\"name\":\"agents__spawn\","
                "\"arguments\":\"{}\"}}]},"
                "{\"role\":\"tool\",\"content\":\"a.txt\",\"tool_call_id\":\"c1\"},"
                "{\"role\":\"tool\",\"content\":\"done\",\"tool_call_id\":\"c2\"},"
                "{\"role\":\"tool\",\"content\":\"see this\",\"tool_call_id\":\"c3\"},"
                "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"(The images the "
                "tool calls above returned.)\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
                "\"data:image/gif;base64,R0lGOD==\"}}]},"
                "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c4\",\"type\":\"function\","
                "\"function\":{\"name\":\"exec\",\"arguments\":\"{}\"}}]}]");
    chat_request_free(&req);
}

static void
test_tools(void)
{
    struct chat_request req;
    struct api_error err;
    CHECK(
        parse("{\"input\":[{\"role\":\"user\",\"content\":\"x\"},"
              "{\"type\":\"additional_tools\",\"tools\":[{\"type\":\"function\",\"name\":\"late\"}]}],"
              "\"tools\":["
              "{\"type\":\"function\",\"name\":\"exec\",\"description\":\"run\",\"strict\":false,"
              "\"parameters\":{\"type\":\"object\"}},"
              "{\"type\":\"custom\",\"name\":\"apply_patch\",\"description\":\"patch\","
              "\"format\":{\"type\":\"grammar\",\"syntax\":\"lark\",\"definition\":\"start: x\"}},"
              "{\"type\":\"namespace\",\"name\":\"agents\",\"description\":\"Sub-agents.\","
              "\"tools\":[{\"type\":\"function\",\"name\":\"spawn\",\"description\":\"Start one.\"},"
              "{\"type\":\"custom\",\"name\":\"note\"}]},"
              "{\"type\":\"web_search\",\"external_web_access\":false},"
              "{\"type\":\"file_search\"},{\"type\":\"web_search\"},"
              "{\"type\":\"function\",\"name\":\"exec\",\"description\":\"second\"}]}",
              &req, &err) == 0);
    CHECK(cJSON_GetArraySize(req.tools) == 5);
    expect_json(at(req.tools, 0),
                "{\"type\":\"function\",\"function\":{\"name\":\"exec\",\"description\":\"run\","
                "\"parameters\":{\"type\":\"object\"}}}");
    expect_json(at(req.tools, 1),
                "{\"type\":\"function\",\"function\":{\"name\":\"apply_patch\",\"description\":"
                "\"patch\\n\\nPut the tool's whole input, as free text, in the string 'input'. "
                "It must follow this lark grammar:\\nstart: x\",\"parameters\":{\"type\":\"object\","
                "\"properties\":{\"input\":{\"type\":\"string\",\"description\":\"The tool's input, "
                "as free text.\"}},\"required\":[\"input\"],\"additionalProperties\":false}}}");
    expect_json(at(req.tools, 2), "{\"type\":\"function\",\"function\":{\"name\":\"agents__spawn\","
                                  "\"description\":\"Sub-agents.\\n\\nStart one.\"}}");
    CHECK_STR(field(field(at(req.tools, 3), "function"), "name")->valuestring, "agents__note");
    CHECK_STR(field(field(at(req.tools, 4), "function"), "name")->valuestring, "late");
    CHECK_STR(req.notes, "hosted tools skipped (VS Code's models cannot run them): web_search, "
                         "file_search");
    expect_json(field(responses_request_echo(&req), "tools"),
                "[{\"type\":\"function\",\"name\":\"exec\",\"description\":\"run\","
                "\"parameters\":{\"type\":\"object\"},\"strict\":false},"
                "{\"type\":\"custom\",\"name\":\"apply_patch\",\"description\":\"patch\","
                "\"format\":{\"type\":\"grammar\",\"syntax\":\"lark\",\"definition\":\"start: x\"}},"
                "{\"type\":\"namespace\",\"name\":\"agents\",\"description\":\"Sub-agents.\","
                "\"tools\":[{\"type\":\"function\",\"name\":\"spawn\",\"description\":\"Start one.\","
                "\"parameters\":null,\"strict\":null},"
                "{\"type\":\"custom\",\"name\":\"note\"}]},"
                "{\"type\":\"function\",\"name\":\"late\",\"parameters\":null,\"strict\":null}]");

    struct responses_tool tool;
    CHECK(responses_request_tool(&req, "apply_patch", &tool));
    CHECK(tool.custom && tool.namespace_name == NULL);
    CHECK_STR(tool.name, "apply_patch");
    CHECK(responses_request_tool(&req, "agents__note", &tool));
    CHECK(tool.custom);
    CHECK_STR(tool.name, "note");
    CHECK_STR(tool.namespace_name, "agents");
    CHECK(responses_request_tool(&req, "exec", &tool));
    CHECK(!tool.custom && tool.namespace_name == NULL);
    CHECK(!responses_request_tool(&req, "spawn", &tool));
    CHECK(!responses_request_tool(&req, "nope", &tool));
    chat_request_free(&req);
}

/* The tool_choice the model gets, and the tools left for it. */
static void
expect_choice(const char *choice, const char *sent, int tools_left)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"input\":\"x\",\"tools\":[{\"type\":\"function\",\"name\":\"a\"},"
             "{\"type\":\"custom\",\"name\":\"b\"},{\"type\":\"namespace\",\"name\":\"n\","
             "\"tools\":[{\"type\":\"function\",\"name\":\"c\"}]},{\"type\":\"web_search\"}],"
             "\"tool_choice\":%s}",
             choice);
    struct chat_request req;
    struct api_error err;
    CHECK(parse(body, &req, &err) == 0);
    CHECK_STR(cJSON_IsString(req.tool_choice) ? req.tool_choice->valuestring : "(none)", sent);
    CHECK(cJSON_GetArraySize(req.tools) == tools_left);
    /* The Response echoes what the client asked for. */
    char *echoed = printed(field(responses_request_echo(&req), "tool_choice"));
    CHECK_STR(echoed, choice);
    free(echoed);
    chat_request_free(&req);
}

static void
test_tool_choice(void)
{
    expect_choice("\"auto\"", "auto", 3);
    expect_choice("\"none\"", "none", 3);
    expect_choice("\"required\"", "required", 3);
    expect_choice("{\"type\":\"function\",\"name\":\"a\"}", "required", 1);
    expect_choice("{\"type\":\"custom\",\"name\":\"b\"}", "required", 1);
    /* A namespaced function by its flattened name, or by its own when that
     * is unambiguous. */
    expect_choice("{\"type\":\"function\",\"name\":\"n__c\"}", "required", 1);
    expect_choice("{\"type\":\"function\",\"name\":\"c\"}", "required", 1);
    expect_choice("{\"type\":\"allowed_tools\",\"mode\":\"auto\",\"tools\":[{\"type\":\"function\","
                  "\"name\":\"a\"},{\"type\":\"custom\",\"name\":\"b\"},{\"type\":\"web_search\"}]}",
                  "auto", 2);
    const char *tools = "\"tools\":[{\"type\":\"function\",\"name\":\"a\"}]";
    char body[512];
    snprintf(body, sizeof body, "{\"input\":\"x\",%s,\"tool_choice\":\"sometimes\"}", tools);
    expect_error(body, "invalid_value", "tool_choice");
    snprintf(body, sizeof body, "{\"input\":\"x\",%s,\"tool_choice\":{\"type\":\"web_search\"}}",
             tools);
    expect_error(body, "invalid_value", "tool_choice");
    snprintf(body, sizeof body,
             "{\"input\":\"x\",%s,\"tool_choice\":{\"type\":\"function\",\"name\":\"z\"}}", tools);
    expect_error(body, "invalid_value", "tool_choice");
    snprintf(body, sizeof body,
             "{\"input\":\"x\",%s,\"tool_choice\":{\"type\":\"custom\",\"name\":\"a\"}}", tools);
    expect_error(body, "invalid_value", "tool_choice");
    snprintf(body, sizeof body,
             "{\"input\":\"x\",%s,\"tool_choice\":{\"type\":\"allowed_tools\",\"mode\":\"x\","
             "\"tools\":[]}}",
             tools);
    expect_error(body, "invalid_value", "tool_choice.mode");
}

static void
test_stateless_refusals(void)
{
    expect_error("{\"input\":\"x\",\"previous_response_id\":\"resp_1\"}",
                 "previous_response_not_found", "previous_response_id");
    expect_error("{\"input\":\"x\",\"conversation\":\"conv_1\"}", "invalid_value", "conversation");
    expect_error("{\"input\":\"x\",\"background\":true}", "invalid_value", "background");
    expect_error("{\"input\":\"x\",\"prompt\":{\"id\":\"pmpt_1\"}}", "invalid_value", "prompt");
    /* What means "nothing stored" passes. */
    struct chat_request req;
    struct api_error err;
    CHECK(parse("{\"input\":\"x\",\"previous_response_id\":null,\"store\":false,"
                "\"background\":false,\"conversation\":null}",
                &req, &err) == 0);
    chat_request_free(&req);
}

static void
test_invalid(void)
{
    expect_error("{\"input\":", "invalid_json", "");
    expect_error("[1]", "invalid_type", "");
    expect_error("{\"input\":\"\\u0000\"}", "invalid_value", "");
    expect_error("{\"model\":\"gpt-4o\"}", "missing_required_parameter", "input");
    expect_error("{\"input\":null}", "missing_required_parameter", "input");
    expect_error("{\"input\":[]}", "invalid_value", "input");
    expect_error("{\"input\":[{\"type\":\"reasoning\",\"summary\":[]}]}", "invalid_value", "input");
    expect_error("{\"input\":7}", "invalid_type", "input");
    expect_error("{\"input\":[7]}", "invalid_type", "input[0]");
    expect_error("{\"input\":\"x\",\"model\":5}", "invalid_type", "model");
    expect_error("{\"input\":\"x\",\"stream\":\"yes\"}", "invalid_type", "stream");
    expect_error("{\"input\":\"x\",\"instructions\":[]}", "invalid_type", "instructions");
    expect_error("{\"input\":\"x\",\"parallel_tool_calls\":1}", "invalid_type",
                 "parallel_tool_calls");
    expect_error("{\"input\":\"x\",\"metadata\":{\"a\":1}}", "invalid_type", "metadata");
    expect_error("{\"input\":\"x\",\"max_output_tokens\":0}", "invalid_value", "max_output_tokens");
    expect_error("{\"input\":\"x\",\"max_output_tokens\":1.5}", "invalid_value",
                 "max_output_tokens");
    expect_error("{\"input\":\"x\",\"temperature\":2.5}", "invalid_value", "temperature");
    expect_error("{\"input\":\"x\",\"top_p\":\"1\"}", "invalid_value", "top_p");
    expect_error("{\"input\":[{\"role\":\"tool\",\"content\":\"x\"}]}", "invalid_value",
                 "input[0].role");
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":5}]}", "invalid_type",
                 "input[0].content");
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":[\"x\"]}]}", "invalid_value",
                 "input[0].content[0]");
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\"}]}]}",
                 "missing_required_parameter", "input[0].content[0].text");
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\"}]}]}",
                 "invalid_value", "input[0].content[0]");
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_file\","
                 "\"file_data\":\"x\"}]}]}",
                 "invalid_value", "input[0].content[0]");
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\","
                 "\"image_url\":\"https://example.com/a.png\"}]}]}",
                 "invalid_image_url", "input[0].content[0].image_url");
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\","
                 "\"image_url\":\"data:image/bmp;base64,AAAA\"}]}]}",
                 "invalid_image_url", "input[0].content[0].image_url");
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\","
                 "\"file_id\":\"file_1\"}]}]}",
                 "invalid_value", "input[0].content[0].image_url");
    expect_error("{\"input\":[{\"role\":\"assistant\",\"content\":[{\"type\":\"input_image\","
                 "\"image_url\":\"data:image/png;base64,AAAA\"}]}]}",
                 "invalid_value", "input[0].content[0]");
    expect_error("{\"input\":[{\"type\":\"function_call\",\"name\":\"a\",\"arguments\":\"{}\"}]}",
                 "missing_required_parameter", "input[0].call_id");
    expect_error("{\"input\":[{\"type\":\"function_call\",\"call_id\":\"c\",\"name\":\"a\","
                 "\"arguments\":\"[1]\"}]}",
                 "invalid_value", "input[0].arguments");
    expect_error("{\"input\":[{\"type\":\"custom_tool_call\",\"call_id\":\"c\",\"name\":\"a\"}]}",
                 "missing_required_parameter", "input[0].input");
    expect_error("{\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c\",\"output\":5}]}",
                 "invalid_type", "input[0].output");
    expect_error("{\"input\":[{\"type\":\"function_call_output\",\"output\":\"x\"}]}",
                 "missing_required_parameter", "input[0].call_id");
    expect_error("{\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c\",\"output\":"
                 "[{\"type\":\"input_file\",\"file_id\":\"f\"}]}]}",
                 "invalid_value", "input[0].output[0]");
    expect_error("{\"input\":\"x\",\"tools\":{}}", "invalid_type", "tools");
    expect_error("{\"input\":\"x\",\"tools\":[5]}", "invalid_value", "tools[0]");
    expect_error("{\"input\":\"x\",\"tools\":[{\"type\":\"function\"}]}", "invalid_value",
                 "tools[0].name");
    expect_error("{\"input\":\"x\",\"tools\":[{\"type\":\"function\",\"name\":\"a\","
                 "\"parameters\":[]}]}",
                 "invalid_value", "tools[0].parameters");
    expect_error("{\"input\":\"x\",\"tools\":[{\"type\":\"custom\",\"name\":\"a\","
                 "\"format\":{\"type\":\"grammar\"}}]}",
                 "invalid_value", "tools[0].format");
    expect_error("{\"input\":\"x\",\"tools\":[{\"type\":\"namespace\",\"name\":\"n\"}]}",
                 "invalid_value", "tools[0].tools");
    expect_error("{\"input\":\"x\",\"tools\":[{\"type\":\"namespace\",\"name\":\"n\",\"tools\":"
                 "[{\"type\":\"web_search\"}]}]}",
                 "invalid_value", "tools[0].tools[0]");
    expect_error("{\"input\":[{\"type\":\"additional_tools\",\"tools\":[{\"type\":\"custom\"}]},"
                 "\"x\"]}",
                 "invalid_value", "input[0].tools[0].name");
}

/* text.format: JSON asked for in words, first. */
static void
test_text_format(void)
{
    struct chat_request req;
    struct api_error err;
    CHECK(parse("{\"input\":\"x\",\"instructions\":\"i\",\"text\":{\"verbosity\":\"low\","
                "\"format\":{\"type\":\"json_schema\",\"name\":\"r\",\"schema\":{\"type\":"
                "\"object\"}}}}",
                &req, &err) == 0);
    expect_json(req.messages,
                "[{\"role\":\"system\",\"content\":\"Respond with one valid JSON value and nothing "
                "else: no prose, no Markdown code fences. It must conform to this JSON Schema: "
                "{\\\"type\\\":\\\"object\\\"}\"},{\"role\":\"system\",\"content\":\"i\"},"
                "{\"role\":\"user\",\"content\":\"x\"}]");
    chat_request_free(&req);
    CHECK(parse("{\"input\":\"x\",\"text\":{\"format\":{\"type\":\"text\"}}}", &req, &err) == 0);
    CHECK(cJSON_GetArraySize(req.messages) == 1);
    chat_request_free(&req);
    expect_error("{\"input\":\"x\",\"text\":{\"format\":{\"type\":\"xml\"}}}", "invalid_value",
                 "text.format");
    expect_error("{\"input\":\"x\",\"text\":{\"format\":{\"type\":\"json_schema\"}}}",
                 "missing_required_parameter", "text.format.schema");
}

/* /v1/responses/input_tokens: input may be left out. */
static void
test_count(void)
{
    struct chat_request req;
    struct api_error err;
    const char *body = "{\"model\":\"gpt-4o\",\"tools\":[{\"type\":\"function\",\"name\":\"a\"}]}";
    CHECK(responses_request_parse_count(body, strlen(body), &req, &err) == 0);
    CHECK(cJSON_GetArraySize(req.messages) == 0);
    CHECK(cJSON_GetArraySize(req.tools) == 1);
    chat_request_free(&req);
    body = "{\"input\":\"x\",\"previous_response_id\":\"resp_1\"}";
    CHECK(responses_request_parse_count(body, strlen(body), &req, &err) == -1);
    CHECK_STR(err.code, "previous_response_not_found");
    chat_request_free(&req);
}

int
main(void)
{
    test_text_input();
    test_message_items();
    test_tool_history();
    test_tools();
    test_tool_choice();
    test_stateless_refusals();
    test_invalid();
    test_text_format();
    test_count();
    return check_summary("responses_request");
}
