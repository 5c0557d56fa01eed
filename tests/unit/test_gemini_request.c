/* The Gemini parser: the normalised request it builds (as the pipe frame a
 * window gets, compared whole), what it refuses (400 INVALID_ARGUMENT with
 * the field's path), and what it notes for the log. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "parse_check.h"
#include "gemini_request.h"

#define FRAME_HEAD "{\"type\":\"request\",\"id\":\"r1\",\"model\":\"copilot/gpt-4o\","

static int
parse(const char *body, struct chat_request *req, struct api_error *err)
{
    return parse_check_run(gemini_request_parse, body, req, err);
}

/* `body`'s frame against `expected`; the request stays for more checks. */
static void
expect_frame_of(const char *body, struct chat_request *req, const char *expected)
{
    struct api_error err;
    int rc = parse(body, req, &err);
    CHECK(rc == 0);
    if (rc != 0) {
        fprintf(stderr, "  refused %s: %s\n", body, err.message);
        return;
    }
    cJSON *frame = chat_request_frame(req, "r1", "copilot/gpt-4o");
    char *text = frame ? cJSON_PrintUnformatted(frame) : NULL;
    CHECK(text != NULL);
    if (text != NULL)
        CHECK_STR(text, expected);
    free(text);
    cJSON_Delete(frame);
}

static void
expect_error(const char *body, const char *param, const char *words)
{
    struct api_error err;
    if (parse_check_refused(gemini_request_parse, body, "invalid_argument", param, &err))
        CHECK(strstr(err.message, words) != NULL);
}

/* What Gemini CLI sends (GEMINI-API.md 2.3): two text parts, a model turn
 * with a thought and a signed call, tool results, a string system
 * instruction, OpenAPI upper-case types, ANY, generationConfig with
 * thinkingConfig and safetySettings beside it. */
static void
test_agent_turn(void)
{
    struct chat_request req;
    expect_frame_of(
        "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"ctx\"},{\"text\":\"hi\"}]},"
        "{\"role\":\"model\",\"parts\":[{\"text\":\"hmm\",\"thought\":true},{\"text\":\"Let me run "
        "it.\"},{\"functionCall\":{\"name\":\"run\",\"args\":{\"c\":\"ls\"}},\"thoughtSignature\":"
        "\"x\"},{\"functionCall\":{\"name\":\"run\",\"args\":{\"c\":\"pwd\"}}}]},"
        "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"run\",\"response\":{"
        "\"output\":\"a b\"}}},{\"functionResponse\":{\"name\":\"run\",\"response\":{\"error\":"
        "\"denied\"}}},{\"text\":\"and?\"}]}],\"systemInstruction\":\"Be brief.\","
        "\"tools\":[{\"functionDeclarations\":[{\"name\":\"run\",\"description\":\"Runs.\","
        "\"parameters\":{\"type\":\"OBJECT\",\"properties\":{\"c\":{\"type\":\"STRING\"},\"n\":{"
        "\"type\":[\"INTEGER\",\"NULL\"]}}}}]},{\"googleSearch\":{}}],"
        "\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"ANY\"}},"
        "\"generationConfig\":{\"temperature\":0.5,\"topP\":0.9,\"topK\":64,\"maxOutputTokens\":"
        "100,\"stopSequences\":[\"END\"],\"thinkingConfig\":{\"thinkingBudget\":8192}},"
        "\"safetySettings\":[]}",
        &req,
        FRAME_HEAD
        "\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\","
        "\"content\":[{\"type\":\"text\",\"text\":\"ctx\"},{\"type\":\"text\",\"text\":\"hi\"}]},"
        "{\"role\":\"assistant\",\"content\":\"Let me run it.\",\"tool_calls\":[{\"id\":\"call_1\","
        "\"type\":\"function\",\"function\":{\"name\":\"run\",\"arguments\":\"{\\\"c\\\":\\\"ls\\\"}"
        "\"}},{\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":\"run\",\"arguments\":"
        "\"{\\\"c\\\":\\\"pwd\\\"}\"}}]},{\"role\":\"tool\",\"content\":\"a b\",\"tool_call_id\":"
        "\"call_1\"},{\"role\":\"tool\",\"content\":\"The tool reported an error:\\ndenied\","
        "\"tool_call_id\":\"call_2\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
        "\"and?\"}]}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"run\","
        "\"description\":\"Runs.\",\"parameters\":{\"type\":\"object\",\"properties\":{\"c\":{"
        "\"type\":\"string\"},\"n\":{\"type\":[\"integer\",\"null\"]}}}}}],\"tool_choice\":"
        "\"required\",\"options\":{\"temperature\":0.5,\"top_p\":0.9,\"top_k\":64}}");
    CHECK(req.max_tokens == 100);
    CHECK(cJSON_GetArraySize(req.stop) == 1);
    CHECK(req.model == NULL && !req.stream); /* the path's, set by the handler */
    CHECK(req.notes != NULL && strstr(req.notes, "googleSearch skipped") != NULL);
    chat_request_free(&req);
}

/* Pairing by id wins over the name; a call nothing answered gets a
 * placeholder; a response to no call is user text; both noted. */
static void
test_pairing_repairs(void)
{
    struct chat_request req;
    expect_frame_of(
        "{\"contents\":[{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"id\":\"a1\",\"name\":"
        "\"x\",\"args\":{}}},{\"functionCall\":{\"id\":\"a2\",\"name\":\"x\"}}]},"
        "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"id\":\"a2\",\"name\":\"x\","
        "\"response\":{\"output\":\"second\"}}},{\"functionResponse\":{\"id\":\"zz\",\"name\":"
        "\"y\",\"response\":{\"k\":1}}}]}]}",
        &req,
        FRAME_HEAD
        "\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"a1\","
        "\"type\":\"function\",\"function\":{\"name\":\"x\",\"arguments\":\"{}\"}},{\"id\":\"a2\","
        "\"type\":\"function\",\"function\":{\"name\":\"x\",\"arguments\":\"{}\"}}]},{\"role\":"
        "\"tool\",\"content\":\"second\",\"tool_call_id\":\"a2\"},{\"role\":\"tool\",\"content\":"
        "\"No result was given for this tool call (the conversation continued without one).\","
        "\"tool_call_id\":\"a1\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
        "\"Result of the tool y:\\n{\\\"k\\\":1}\"}]}],\"options\":{}}");
    CHECK(req.notes != NULL && strstr(req.notes, "answered no call") != NULL &&
          strstr(req.notes, "call a1 of x had no functionResponse") != NULL);
    chat_request_free(&req);
}

/* Two model turns in a row: the first one's calls are answered before
 * the second. */
static void
test_model_after_model(void)
{
    struct chat_request req;
    expect_frame_of("{\"contents\":[{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":"
                    "\"x\"}}]},{\"role\":\"model\",\"parts\":[{\"text\":\"then\"}]}]}",
                    &req,
                    FRAME_HEAD "\"messages\":[{\"role\":\"assistant\",\"content\":null,"
                               "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
                               "\"function\":{\"name\":\"x\",\"arguments\":\"{}\"}}]},{\"role\":"
                               "\"tool\",\"content\":\"No result was given for this tool call "
                               "(the conversation continued without one).\",\"tool_call_id\":"
                               "\"call_1\"},{\"role\":\"assistant\",\"content\":\"then\"}],"
                               "\"options\":{}}");
    chat_request_free(&req);
}

/* An inline image, a Content system instruction, JSON mode with an OpenAPI
 * responseSchema (Gemini CLI's classifier asks in JSON mode). */
static void
test_image_and_json_mode(void)
{
    struct chat_request req;
    expect_frame_of("{\"contents\":[{\"parts\":[{\"text\":\"see\"},{\"inlineData\":{\"mimeType\":"
                    "\"image/png\",\"data\":\"iVBORw0KGgo=\"}}]}],\"systemInstruction\":{\"role\":\"user\","
                    "\"parts\":[{\"text\":\"One.\"},{\"text\":\"Two.\"}]},\"generationConfig\":{"
                    "\"responseMimeType\":\"application/json\",\"responseSchema\":{\"type\":\"OBJECT\"}}}",
                    &req,
                    FRAME_HEAD
                    "\"messages\":[{\"role\":\"system\",\"content\":\"Respond with one valid JSON "
                    "value and nothing else: no prose, no Markdown code fences. It must conform "
                    "to this JSON Schema: {\\\"type\\\":\\\"object\\\"}\"},{\"role\":\"system\","
                    "\"content\":\"One.\\n\\nTwo.\"},{\"role\":\"user\",\"content\":[{\"type\":"
                    "\"text\",\"text\":\"see\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
                    "\"data:image/png;base64,iVBORw0KGgo=\"}}]}],\"options\":{}}");
    CHECK(req.has_images);
    chat_request_free(&req);
}

/* toolConfig: allowedFunctionNames narrow the tools; NONE sends none. */
static void
test_tool_config(void)
{
    struct chat_request req;
    expect_frame_of("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"tools\":[{\"functionDeclarations\":[{"
                    "\"name\":\"a\"},{\"name\":\"b\"}]}],\"toolConfig\":{\"functionCallingConfig\":{\"mode\":"
                    "\"ANY\",\"allowedFunctionNames\":[\"b\"]}}}",
                    &req,
                    FRAME_HEAD
                    "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
                    "\"x\"}]}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"b\","
                    "\"parameters\":{\"type\":\"object\",\"properties\":{}}}}],\"tool_choice\":"
                    "\"required\",\"options\":{}}");
    chat_request_free(&req);
    expect_frame_of("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"tools\":[{"
                    "\"functionDeclarations\":[{\"name\":\"a\"}]}],\"toolConfig\":{"
                    "\"functionCallingConfig\":{\"mode\":\"NONE\"}}}",
                    &req,
                    FRAME_HEAD "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
                               "\"text\":\"x\"}]}],\"options\":{}}");
    chat_request_free(&req);
}

static void
test_count_body(void)
{
    struct chat_request req;
    struct api_error err;
    static const char body[] = "{\"generateContentRequest\":{\"model\":\"models/gpt-4o\","
                               "\"contents\":[{\"parts\":[{\"text\":\"Hello\"}]}]}}";
    CHECK(gemini_request_parse_for_count(body, strlen(body), &req, &err) == 0);
    CHECK(cJSON_GetArraySize(req.messages) == 1);
    chat_request_free(&req);
    /* A model call takes no such wrapper: it has no contents of its own. */
    CHECK(gemini_request_parse(body, strlen(body), &req, &err) == -1 && err.status == 400);
    chat_request_free(&req);
}

static void
test_refusals(void)
{
    expect_error("[1]", "", "JSON object");
    expect_error("{\"contents\": [", "", "JSON");
    expect_error("{\"contents\":[]}", "contents", "non-empty list");
    expect_error("{\"contents\":[{\"role\":\"robot\",\"parts\":[]}]}", "contents[0]", "robot");
    expect_error("{\"contents\":[{\"role\":\"user\",\"parts\":[{\"functionCall\":{\"name\":"
                 "\"x\"}}]}]}",
                 "contents[0].parts[0]", "belong to role \"model\"");
    expect_error("{\"contents\":[{\"parts\":[{\"inlineData\":{\"mimeType\":\"application/pdf\","
                 "\"data\":\"AAAA\"}}]}]}",
                 "contents[0].parts[0]", "must be an image");
    expect_error("{\"contents\":[{\"parts\":[{\"fileData\":{\"fileUri\":\"gs://x\"}}]}]}",
                 "contents[0].parts[0]", "fetches nothing");
    expect_error("{\"contents\":[{\"parts\":[{\"text\":\"t\",\"thought\":true}]}]}", "contents",
                 "nothing is left");
    expect_error("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{\"topP\":2}}",
                 "generationConfig.topP", "from 0 to 1");
    expect_error("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{"
                 "\"candidateCount\":2}}",
                 "generationConfig.candidateCount", "only 1");
    expect_error("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{"
                 "\"maxOutputTokens\":0}}",
                 "generationConfig.maxOutputTokens", "at least 1");
    expect_error("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{"
                 "\"stopSequences\":[\"a\",1]}}",
                 "generationConfig.stopSequences", "strings");
    expect_error("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"toolConfig\":{"
                 "\"functionCallingConfig\":{\"mode\":\"SOMETIMES\"}}}",
                 "toolConfig.functionCallingConfig.mode", "SOMETIMES");
    expect_error("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"tools\":[{"
                 "\"functionDeclarations\":[{\"name\":\"a\"}]}],\"toolConfig\":{"
                 "\"functionCallingConfig\":{\"mode\":\"ANY\",\"allowedFunctionNames\":[\"z\"]}}}",
                 "toolConfig.functionCallingConfig.allowedFunctionNames", "none of these");
    expect_error("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"tools\":[{"
                 "\"functionDeclarations\":[{\"description\":\"no name\"}]}]}",
                 "tools[0].functionDeclarations[0]", "needs a name");
    expect_error("{\"contents\":[{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":"
                 "\"x\",\"args\":[1]}}]}]}",
                 "contents[0].parts[0]", "args an object");
    expect_error("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{"
                 "\"responseMimeType\":\"application/json\",\"responseJsonSchema\":42}}",
                 "generationConfig.responseJsonSchema", "an object");
    expect_error("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{"
                 "\"responseMimeType\":\"application/json\",\"responseSchema\":42}}",
                 "generationConfig.responseSchema", "an object");
}

int
main(void)
{
    test_agent_turn();
    test_pairing_repairs();
    test_model_after_model();
    test_image_and_json_mode();
    test_tool_config();
    test_count_body();
    test_refusals();
    return check_summary("gemini_request");
}
