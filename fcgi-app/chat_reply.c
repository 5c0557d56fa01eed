#include "chat_reply.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "chat_request.h"
#include "json_write.h"
#include "log.h"
#include "openai_error.h"
#include "sse.h"

#define CHUNK_MAX_BYTES (64u << 20)

int
chat_reply_init(struct chat_reply *reply, const char *request_id, const char *model,
                bool include_usage, bool legacy_functions, size_t max_bytes)
{
    memset(reply, 0, sizeof *reply);
    dynbuf_init(&reply->head, 1u << 16);
    dynbuf_init(&reply->chunk, CHUNK_MAX_BYTES);
    dynbuf_init(&reply->text, max_bytes);
    dynbuf_init(&reply->tool_calls, max_bytes);
    reply->include_usage = include_usage;
    reply->legacy_functions = legacy_functions;
    snprintf(reply->request_id, sizeof reply->request_id, "%s", request_id);
    int rc = dynbuf_appendf(&reply->head,
                            "\"id\":\"chatcmpl-%s\",\"created\":%lld,\"model\":", request_id,
                            (long long)time(NULL));
    if (rc == DYNBUF_OK)
        rc = json_append_string(&reply->head, model, strlen(model));
    return rc == DYNBUF_OK ? 0 : -1;
}

void
chat_reply_free(struct chat_reply *reply)
{
    dynbuf_free(&reply->head);
    dynbuf_free(&reply->chunk);
    dynbuf_free(&reply->text);
    dynbuf_free(&reply->tool_calls);
}

static int
begin_object(struct chat_reply *reply, const char *object)
{
    dynbuf_reset(&reply->chunk);
    int rc = dynbuf_append(&reply->chunk, "{", 1);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(&reply->chunk, reply->head.data, reply->head.len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_appendf(&reply->chunk, ",\"object\":\"%s\",", object);
    return rc;
}

/* A chunk whose choice carries `delta_body` (already JSON) and a reason. */
static int
delta_chunk(struct chat_reply *reply, int rc, const char *finish_reason)
{
    if (rc == DYNBUF_OK)
        rc = dynbuf_appendf(&reply->chunk, "},\"logprobs\":null,\"finish_reason\":%s%s%s}]%s}",
                            finish_reason ? "\"" : "", finish_reason ? finish_reason : "null",
                            finish_reason ? "\"" : "",
                            reply->include_usage ? ",\"usage\":null" : "");
    return rc == DYNBUF_OK ? 0 : -1;
}

static int
begin_delta(struct chat_reply *reply)
{
    int rc = begin_object(reply, "chat.completion.chunk");
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&reply->chunk, "\"choices\":[{\"index\":0,\"delta\":{");
    return rc;
}

int
chat_reply_chunk_role(struct chat_reply *reply)
{
    int rc = begin_delta(reply);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&reply->chunk,
                               "\"role\":\"assistant\",\"content\":\"\",\"refusal\":null");
    return delta_chunk(reply, rc, NULL);
}

int
chat_reply_chunk_content(struct chat_reply *reply, const char *text, size_t len)
{
    int rc = begin_delta(reply);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&reply->chunk, "\"content\":");
    if (rc == DYNBUF_OK)
        rc = json_append_string(&reply->chunk, text, len);
    return delta_chunk(reply, rc, NULL);
}

/* {"index":i,"id":…,"type":"function","function":{"name":…,"arguments":…}} */
static int
append_tool_call(struct dynbuf *out, int index, const char *call_id, const char *name,
                 const char *arguments)
{
    int rc = index >= 0 ? dynbuf_appendf(out, "{\"index\":%d,\"id\":", index)
                        : dynbuf_append_str(out, "{\"id\":");
    if (rc == DYNBUF_OK)
        rc = json_append_string(out, call_id, strlen(call_id));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, ",\"type\":\"function\",\"function\":{\"name\":");
    if (rc == DYNBUF_OK)
        rc = json_append_string(out, name, strlen(name));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, ",\"arguments\":");
    if (rc == DYNBUF_OK)
        rc = json_append_string(out, arguments, strlen(arguments));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, "}}");
    return rc;
}

int
chat_reply_chunk_tool_call(struct chat_reply *reply, const char *call_id, const char *name)
{
    int rc = begin_delta(reply);
    if (reply->legacy_functions) {
        reply->tool_call_count++;
        if (rc == DYNBUF_OK)
            rc = dynbuf_append_str(&reply->chunk, "\"function_call\":{\"name\":");
        if (rc == DYNBUF_OK)
            rc = json_append_string(&reply->chunk, name, strlen(name));
        if (rc == DYNBUF_OK)
            rc = dynbuf_append_str(&reply->chunk, ",\"arguments\":\"\"}");
        return delta_chunk(reply, rc, NULL);
    }
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&reply->chunk, "\"tool_calls\":[");
    if (rc == DYNBUF_OK)
        rc = append_tool_call(&reply->chunk, (int)reply->tool_call_count++, call_id, name, "");
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(&reply->chunk, "]", 1);
    return delta_chunk(reply, rc, NULL);
}

int
chat_reply_chunk_tool_arguments(struct chat_reply *reply, const char *arguments)
{
    int rc = begin_delta(reply);
    if (rc == DYNBUF_OK)
        rc = reply->legacy_functions
                 ? dynbuf_append_str(&reply->chunk, "\"function_call\":{\"arguments\":")
                 : dynbuf_appendf(&reply->chunk,
                                  "\"tool_calls\":[{\"index\":%u,\"function\":{\"arguments\":",
                                  reply->tool_call_count - 1);
    if (rc == DYNBUF_OK)
        rc = json_append_string(&reply->chunk, arguments, strlen(arguments));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&reply->chunk, reply->legacy_functions ? "}" : "}}]");
    return delta_chunk(reply, rc, NULL);
}

const char *
chat_reply_finish_reason(const struct chat_reply *reply, const char *finish_reason)
{
    if (reply->legacy_functions && strcmp(finish_reason, "tool_calls") == 0)
        return "function_call";
    return finish_reason;
}

int
chat_reply_chunk_finish(struct chat_reply *reply, const char *finish_reason)
{
    return delta_chunk(reply, begin_delta(reply), chat_reply_finish_reason(reply, finish_reason));
}

static int
append_usage(struct dynbuf *out, const struct reply_usage *usage)
{
    return dynbuf_appendf(out,
                          "\"usage\":{\"prompt_tokens\":%ld,\"completion_tokens\":%ld,"
                          "\"total_tokens\":%ld,\"prompt_tokens_details\":{\"cached_tokens\":0},"
                          "\"completion_tokens_details\":{\"reasoning_tokens\":0}}",
                          usage->prompt_tokens, usage->completion_tokens,
                          usage->prompt_tokens + usage->completion_tokens);
}

int
chat_reply_chunk_usage(struct chat_reply *reply, const struct reply_usage *usage)
{
    int rc = begin_object(reply, "chat.completion.chunk");
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&reply->chunk, "\"choices\":[],");
    if (rc == DYNBUF_OK)
        rc = append_usage(&reply->chunk, usage);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(&reply->chunk, "}", 1);
    return rc == DYNBUF_OK ? 0 : -1;
}

int
chat_reply_add_text(struct chat_reply *reply, const char *text, size_t len)
{
    return dynbuf_append(&reply->text, text, len) == DYNBUF_OK ? 0 : -1;
}

int
chat_reply_add_tool_call(struct chat_reply *reply, const char *call_id, const char *name,
                         const char *arguments)
{
    int rc = DYNBUF_OK;
    /* The legacy API has one function call per reply: keep the first. */
    if (reply->legacy_functions) {
        if (reply->tool_call_count++ > 0)
            return 0;
        rc = dynbuf_append_str(&reply->tool_calls, "{\"name\":");
        if (rc == DYNBUF_OK)
            rc = json_append_string(&reply->tool_calls, name, strlen(name));
        if (rc == DYNBUF_OK)
            rc = dynbuf_append_str(&reply->tool_calls, ",\"arguments\":");
        if (rc == DYNBUF_OK)
            rc = json_append_string(&reply->tool_calls, arguments, strlen(arguments));
        if (rc == DYNBUF_OK)
            rc = dynbuf_append(&reply->tool_calls, "}", 1);
        return rc == DYNBUF_OK ? 0 : -1;
    }
    if (reply->tool_call_count++ > 0)
        rc = dynbuf_append(&reply->tool_calls, ",", 1);
    if (rc == DYNBUF_OK)
        rc = append_tool_call(&reply->tool_calls, -1, call_id, name, arguments);
    return rc == DYNBUF_OK ? 0 : -1;
}

int
chat_reply_completion(struct chat_reply *reply, const char *finish_reason,
                      const struct reply_usage *usage)
{
    int rc = begin_object(reply, "chat.completion");
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&reply->chunk,
                               "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
    /* OpenAI sends content null when the reply is only tool calls. */
    if (rc == DYNBUF_OK && reply->text.len == 0 && reply->tool_call_count > 0)
        rc = dynbuf_append_str(&reply->chunk, "null");
    else if (rc == DYNBUF_OK)
        rc = json_append_string(&reply->chunk, reply->text.data ? reply->text.data : "",
                                reply->text.len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&reply->chunk, ",\"refusal\":null");
    if (rc == DYNBUF_OK && reply->tool_call_count > 0) {
        rc = dynbuf_append_str(&reply->chunk, reply->legacy_functions ? ",\"function_call\":"
                                                                      : ",\"tool_calls\":[");
        if (rc == DYNBUF_OK)
            rc = dynbuf_append(&reply->chunk, reply->tool_calls.data, reply->tool_calls.len);
        if (rc == DYNBUF_OK && !reply->legacy_functions)
            rc = dynbuf_append(&reply->chunk, "]", 1);
    }
    if (rc == DYNBUF_OK)
        rc = dynbuf_appendf(&reply->chunk, "},\"logprobs\":null,\"finish_reason\":\"%s\"}],",
                            chat_reply_finish_reason(reply, finish_reason));
    if (rc == DYNBUF_OK)
        rc = append_usage(&reply->chunk, usage);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(&reply->chunk, "}", 1);
    return rc == DYNBUF_OK ? 0 : -1;
}

static bool
parses_as_json(const char *text, size_t len)
{
    cJSON *parsed = cJSON_ParseWithLength(text, len);
    bool ok = parsed != NULL;
    cJSON_Delete(parsed);
    return ok;
}

bool
chat_reply_unwrap_json(struct chat_reply *reply)
{
    const char *text = reply->text.data ? reply->text.data : "";
    if (parses_as_json(text, reply->text.len))
        return true;
    /* ```json\n{...}\n``` : models often fence JSON despite being told not to. */
    const char *open = strstr(text, "```");
    const char *body = open ? strchr(open + 3, '\n') : NULL;
    const char *close = body ? strstr(body + 1, "```") : NULL;
    if (close == NULL || !parses_as_json(body + 1, (size_t)(close - body - 1)))
        return false;
    size_t inner = (size_t)(close - body - 1);
    memmove(reply->text.data, body + 1, inner);
    reply->text.len = inner;
    reply->text.data[inner] = '\0';
    return true;
}

/* ------------------------------------------------ the wire format */

/* The chunk just built, as an SSE data event. */
static int
append_chunk(struct dynbuf *out, const struct chat_reply *reply, int built)
{
    if (built != 0)
        return -1;
    return sse_append_data(out, reply->chunk.data, reply->chunk.len) == DYNBUF_OK ? 0 : -1;
}

static int
chat_stream_start(void *opaque, struct dynbuf *out)
{
    struct chat_reply *reply = opaque;
    return append_chunk(out, reply, chat_reply_chunk_role(reply));
}

static int
chat_error_body(struct dynbuf *out, const struct api_error *err, const char *request_id)
{
    (void)request_id; /* OpenAI's error object carries none: x-request-id does */
    int rc = openai_error_format(out, err->status, err->code, err->param[0] ? err->param : NULL,
                                 err->message);
    return rc == DYNBUF_OK ? 0 : -1;
}

static int
chat_stream_finish(struct chat_reply *reply, const struct reply_event *event, struct dynbuf *out)
{
    if (append_chunk(out, reply, chat_reply_chunk_finish(reply, event->finish_reason)) != 0 ||
        (reply->include_usage &&
         append_chunk(out, reply, chat_reply_chunk_usage(reply, &event->usage)) != 0))
        return -1;
    return sse_append_data(out, "[DONE]", 6) == DYNBUF_OK ? 0 : -1;
}

static int
chat_stream_event(void *opaque, const struct reply_event *event, struct dynbuf *out)
{
    struct chat_reply *reply = opaque;
    switch (event->kind) {
    case REPLY_TEXT:
        return append_chunk(out, reply, chat_reply_chunk_content(reply, event->text, event->len));
    case REPLY_TOOL_BEGIN:
        return append_chunk(out, reply,
                            chat_reply_chunk_tool_call(reply, event->call_id, event->name));
    case REPLY_TOOL_ARGUMENTS:
        return append_chunk(out, reply, chat_reply_chunk_tool_arguments(reply, event->text));
    case REPLY_TOOL_END: return 0;
    case REPLY_HEARTBEAT: return sse_append_comment(out, "keep-alive") == DYNBUF_OK ? 0 : -1;
    case REPLY_FINISH: return chat_stream_finish(reply, event, out);
    case REPLY_ERROR: {
        /* OpenAI's error object as a data event: what its SDKs raise. */
        dynbuf_reset(&reply->chunk);
        return append_chunk(out, reply,
                            chat_error_body(&reply->chunk, event->error, reply->request_id));
    }
    }
    return -1;
}

static int
chat_collect(void *opaque, const struct reply_event *event)
{
    struct chat_reply *reply = opaque;
    if (event->kind == REPLY_TEXT)
        return chat_reply_add_text(reply, event->text, event->len);
    if (event->kind == REPLY_TOOL_ARGUMENTS)
        return chat_reply_add_tool_call(reply, event->call_id, event->name, event->text);
    return 0;
}

static int
chat_complete(void *opaque, const struct reply_event *finish, struct dynbuf *out)
{
    struct chat_reply *reply = opaque;
    if (reply->response_format != NULL && !chat_reply_unwrap_json(reply))
        log_warn("request %s: asked for %s, but the model's reply is not JSON", reply->request_id,
                 reply->response_format);
    if (chat_reply_completion(reply, finish->finish_reason, &finish->usage) != 0)
        return -1;
    return dynbuf_append(out, reply->chunk.data, reply->chunk.len) == DYNBUF_OK ? 0 : -1;
}

static int
chat_setup(void *reply, const struct reply_setup *setup)
{
    struct chat_reply *chat = reply;
    const struct chat_request *request = setup->request;
    if (chat_reply_init(chat, setup->request_id, setup->model_id, request->include_usage,
                        request->legacy_functions, setup->max_bytes) != 0)
        return -1;
    chat->response_format = request->response_format;
    return 0;
}

static void
chat_release(void *reply)
{
    chat_reply_free(reply);
}

const struct wire_format chat_wire_format = {
    .name = "chat",
    .stream_type = "text/event-stream",
    .parse = chat_request_parse,
    .reply_size = sizeof(struct chat_reply),
    .reply_init = chat_setup,
    .reply_free = chat_release,
    .error_body = chat_error_body,
    .stream_start = chat_stream_start,
    .stream_event = chat_stream_event,
    .collect = chat_collect,
    .complete = chat_complete,
};
