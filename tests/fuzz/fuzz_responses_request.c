/*
 * fuzz_responses_request: an OpenAI Responses body, as any client may send
 * it, through responses_request_parse() (fcgi-app/responses_request.h), and
 * what the responder does next with it: the pipe `request` frame, the
 * prompt's token estimate, and a reply rendered for it (responses_reply.c),
 * streamed and whole, in which the model calls the first tool it was given.
 *
 * Invariants (abort on violation): a refusal is a 4xx/5xx with a code and a
 * message, and its error object is valid JSON in valid UTF-8; an accepted
 * body is a chat-shaped request the extension can map (messages of known
 * roles, tool messages with a tool_call_id, tool calls with an id, a name and
 * arguments that are a JSON object, function tools with names the renderer
 * maps back), whose frame prints and parses back with the same id and
 * message count, which /v1/responses/input_tokens accepts too; its stream is
 * events of increasing sequence_number, response.completed last, and the
 * whole reply a Response object; both name the tool as the client did.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "reply_core.h"
#include "reply_writer.h"
#include "responses_reply.h"
#include "responses_request.h"
#include "token_estimate.h"

static const char *
string_of(const cJSON *object, const char *field)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(object, field);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

/* What the extension's mapping (extension/src/mapping.ts) relies on. */
static void
check_messages(const cJSON *messages)
{
    FUZZ_CHECK(cJSON_IsArray(messages));
    const cJSON *message;
    cJSON_ArrayForEach(message, messages) {
        const char *role = string_of(message, "role");
        FUZZ_CHECK(role != NULL);
        FUZZ_CHECK(strcmp(role, "system") == 0 || strcmp(role, "developer") == 0 ||
                   strcmp(role, "user") == 0 || strcmp(role, "assistant") == 0 ||
                   strcmp(role, "tool") == 0);
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(message, "content");
        const cJSON *calls = cJSON_GetObjectItemCaseSensitive(message, "tool_calls");
        FUZZ_CHECK(cJSON_IsString(content) || cJSON_IsArray(content) ||
                   (content == NULL && cJSON_IsArray(calls)));
        if (strcmp(role, "tool") == 0)
            FUZZ_CHECK(string_of(message, "tool_call_id") != NULL && cJSON_IsString(content));
        if (calls != NULL) {
            FUZZ_CHECK(strcmp(role, "assistant") == 0 && cJSON_GetArraySize(calls) > 0);
            const cJSON *call;
            cJSON_ArrayForEach(call, calls) {
                const cJSON *function = cJSON_GetObjectItemCaseSensitive(call, "function");
                const char *arguments = string_of(function, "arguments");
                FUZZ_CHECK(string_of(call, "id") != NULL && string_of(function, "name") != NULL &&
                           arguments != NULL);
                cJSON *parsed = cJSON_Parse(arguments);
                FUZZ_CHECK(cJSON_IsObject(parsed));
                cJSON_Delete(parsed);
            }
        }
        const cJSON *part;
        const cJSON *parts = cJSON_IsArray(content) ? content->child : NULL;
        for (part = parts; part != NULL; part = part->next) {
            const char *type = string_of(part, "type");
            FUZZ_CHECK(type != NULL);
            if (strcmp(type, "text") == 0)
                FUZZ_CHECK(string_of(part, "text") != NULL);
            else
                FUZZ_CHECK(strcmp(type, "image_url") == 0 && strcmp(role, "user") == 0 &&
                           string_of(cJSON_GetObjectItemCaseSensitive(part, "image_url"), "url"));
        }
    }
}

/* ------------------------------------------------------------- a reply */

struct memory {
    struct dynbuf bytes;
    bool error_response;
};

static int
memory_head(void *ctx, const char *content_type)
{
    (void)ctx;
    (void)content_type;
    return 0;
}

static int
memory_send(void *ctx, const char *bytes, size_t len)
{
    struct memory *memory = ctx;
    return dynbuf_append(&memory->bytes, bytes, len) == DYNBUF_OK ? 0 : -1;
}

static int
memory_whole(void *ctx, const char *content_type, const char *body, size_t len)
{
    (void)content_type;
    return memory_send(ctx, body, len);
}

static int
memory_error(void *ctx, const struct api_error *err, const char *in_stream, size_t len)
{
    struct memory *memory = ctx;
    (void)err;
    memory->error_response = in_stream == NULL;
    return in_stream ? memory_send(ctx, in_stream, len) : 0;
}

/* The name the client gave the tool the model calls, for the check. */
static void
called_tool(const struct chat_request *req, const char **called, struct responses_tool *tool)
{
    const cJSON *first = cJSON_GetArrayItem(req->tools, 0);
    *called = string_of(cJSON_GetObjectItemCaseSensitive(first, "function"), "name");
    if (*called != NULL)
        FUZZ_CHECK(responses_request_tool(req, *called, tool));
}

static void
check_item(const cJSON *item, const struct responses_tool *tool)
{
    const char *type = string_of(item, "type");
    FUZZ_CHECK(type != NULL && string_of(item, "id") != NULL);
    if (strcmp(type, "message") == 0)
        return;
    FUZZ_CHECK(strcmp(type, tool->custom ? "custom_tool_call" : "function_call") == 0);
    FUZZ_CHECK(strcmp(string_of(item, "name"), tool->name) == 0);
    FUZZ_CHECK(string_of(item, tool->custom ? "input" : "arguments") != NULL);
    const char *namespace_name = string_of(item, "namespace");
    FUZZ_CHECK((namespace_name == NULL) == (tool->namespace_name == NULL));
}

/* The Response object: required fields present, output items named back. */
static void
check_response(const cJSON *response, const char *status, const struct responses_tool *tool)
{
    static const char *const required[] = {
        "id",           "object",      "created_at",  "error",  "incomplete_details",
        "instructions", "model",       "tools",       "output", "parallel_tool_calls",
        "metadata",     "tool_choice", "temperature", "top_p",
    };
    FUZZ_CHECK(cJSON_IsObject(response));
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(response, required[i]) != NULL);
    FUZZ_CHECK(strcmp(string_of(response, "status"), status) == 0);
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(response, "output")) {
        check_item(item, tool);
    }
}

/* The model answers "ok" and calls the first tool (if any) with `arguments`. */
static void
render(const struct chat_request *req, bool stream, const char *arguments)
{
    struct memory memory = { .error_response = false };
    dynbuf_init(&memory.bytes, 1u << 24);
    struct responses_reply reply;
    struct reply_setup setup = {
        .request_id = "fuzz",
        .model_id = "copilot/gpt-4o",
        .request = req,
        .max_bytes = 1u << 24,
    };
    FUZZ_CHECK(responses_wire_format.reply_init(&reply, &setup) == 0);
    struct reply_transport transport = { &memory, memory_head, memory_send, memory_whole,
                                         memory_error };
    struct reply_writer writer;
    reply_writer_init(&writer, &responses_wire_format, &reply, transport, stream);
    struct reply_core core;
    struct reply_core_options options = {
        .request_id = "fuzz",
        .prompt_tokens = 1,
        .max_tokens = req->max_tokens,
        .max_reply_bytes = 1u << 24,
    };
    FUZZ_CHECK(
        reply_core_init(&core, &options, (struct reply_sink){ reply_writer_event, &writer }) == 0);
    const char *called = NULL;
    struct responses_tool tool = { .name = "" };
    called_tool(req, &called, &tool);
    cJSON *frame = cJSON_CreateObject();
    cJSON_AddStringToObject(frame, "type", "delta");
    cJSON_AddStringToObject(frame, "text", "ok");
    reply_core_frame(&core, frame);
    cJSON_Delete(frame);
    if (called != NULL) {
        frame = cJSON_CreateObject();
        cJSON_AddStringToObject(frame, "type", "tool_call");
        cJSON_AddStringToObject(frame, "call_id", "call_1");
        cJSON_AddStringToObject(frame, "name", called);
        cJSON_AddStringToObject(frame, "arguments", arguments);
        reply_core_frame(&core, frame);
        cJSON_Delete(frame);
    }
    frame = cJSON_Parse(
        "{\"type\":\"done\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}");
    reply_core_frame(&core, frame);
    cJSON_Delete(frame);
    FUZZ_CHECK(core.finished && !memory.error_response);
    FUZZ_CHECK(fuzz_valid_utf8(memory.bytes.data, memory.bytes.len));
    /* max_output_tokens may cut the reply short. */
    const char *status = core.cut_reason != NULL && strcmp(core.cut_reason, "length") == 0
                             ? "incomplete"
                             : "completed";
    if (!stream) {
        cJSON *response = cJSON_ParseWithLength(memory.bytes.data, memory.bytes.len);
        check_response(response, status, &tool);
        cJSON_Delete(response);
    } else {
        long sequence = -1;
        char last_type[64] = "";
        for (const char *at = memory.bytes.data; at && (at = strstr(at, "data: ")) != NULL;) {
            at += 6;
            const char *end = strstr(at, "\n\n");
            FUZZ_CHECK(end != NULL);
            cJSON *event = cJSON_ParseWithLength(at, (size_t)(end - at));
            const cJSON *number = cJSON_GetObjectItemCaseSensitive(event, "sequence_number");
            FUZZ_CHECK(cJSON_IsNumber(number) && number->valuedouble == (double)(sequence + 1));
            sequence++;
            snprintf(last_type, sizeof last_type, "%s", string_of(event, "type"));
            const cJSON *item = cJSON_GetObjectItemCaseSensitive(event, "item");
            if (item != NULL)
                check_item(item, &tool);
            if (strcmp(last_type, "response.completed") == 0 ||
                strcmp(last_type, "response.incomplete") == 0)
                check_response(cJSON_GetObjectItemCaseSensitive(event, "response"), status, &tool);
            cJSON_Delete(event);
            at = end;
        }
        FUZZ_CHECK(strcmp(last_type, strcmp(status, "completed") == 0 ? "response.completed"
                                                                      : "response.incomplete") == 0);
    }
    reply_core_free(&core);
    reply_writer_free(&writer);
    responses_wire_format.reply_free(&reply);
    dynbuf_free(&memory.bytes);
}

static void
check_accepted(struct chat_request *req, const uint8_t *data, size_t size)
{
    FUZZ_CHECK(cJSON_GetArraySize(req->messages) > 0);
    check_messages(req->messages);
    FUZZ_CHECK(req->tools == NULL || (cJSON_IsArray(req->tools) && req->tools->child != NULL));
    FUZZ_CHECK(req->max_tokens >= 0 && req->stop == NULL);
    const cJSON *tool;
    cJSON_ArrayForEach(tool, req->tools) {
        struct responses_tool mapped;
        const char *name = string_of(cJSON_GetObjectItemCaseSensitive(tool, "function"), "name");
        FUZZ_CHECK(name != NULL && responses_request_tool(req, name, &mapped));
    }
    const cJSON *echo = responses_request_echo(req);
    FUZZ_CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(echo, "tools")));
    fuzz_check_frame(req, "copilot/gpt-4o");
    for (int family = 0; family < TOKEN_FAMILY_COUNT; family += 4)
        FUZZ_CHECK(token_estimate_messages(req->messages, (enum token_family)family) >= 3);

    struct chat_request counted;
    struct api_error err;
    FUZZ_CHECK(responses_request_parse_count((const char *)data, size, &counted, &err) == 0);
    FUZZ_CHECK(cJSON_GetArraySize(counted.messages) == cJSON_GetArraySize(req->messages));
    chat_request_free(&counted);

    render(req, true, "{\"input\":\"x\"}");
    render(req, false, "{\"a\":[1,2]}");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parse_request(data, size, responses_request_parse, check_accepted, &responses_wire_format,
                       NULL);
    return 0;
}
