#include "messages_reply.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "anthropic_error.h"
#include "chat_request.h"
#include "json_write.h"
#include "log.h"
#include "messages_request.h"
#include "sse.h"

#define EVENT_MAX_BYTES (64u << 20)

int
messages_reply_init(struct messages_reply *reply, const char *request_id, const char *model,
                    long input_tokens, size_t max_bytes)
{
    memset(reply, 0, sizeof *reply);
    snprintf(reply->request_id, sizeof reply->request_id, "%s", request_id);
    dynbuf_init(&reply->model, 1u << 16);
    dynbuf_init(&reply->event, EVENT_MAX_BYTES);
    dynbuf_init(&reply->content, max_bytes);
    dynbuf_init(&reply->text, max_bytes);
    reply->input_tokens = input_tokens;
    return json_append_string(&reply->model, model, strlen(model)) == DYNBUF_OK ? 0 : -1;
}

void
messages_reply_free(struct messages_reply *reply)
{
    dynbuf_free(&reply->model);
    dynbuf_free(&reply->event);
    dynbuf_free(&reply->content);
    dynbuf_free(&reply->text);
}

const char *
messages_stop_reason(const struct messages_reply *reply, const struct reply_event *finish)
{
    const char *reason = finish->finish_reason;
    if (strcmp(reason, "length") == 0)
        return "max_tokens";
    if (strcmp(reason, "content_filter") == 0)
        return "refusal";
    if (strcmp(reason, "stop") == 0 && finish->stop_sequence != NULL)
        return "stop_sequence";
    /* Clients run the tools of a turn that stopped for them: a window that
     * called tools and said "stop" means tool_use. */
    if (strcmp(reason, "tool_calls") == 0 || reply->tool_calls > 0)
        return "tool_use";
    return "end_turn";
}

/* The window's arguments when they are one JSON object (the whole text),
 * else "{}" (messages_reply.h says why). */
static const char *
tool_input(const struct messages_reply *reply, const char *arguments, size_t len)
{
    const char *end = NULL;
    cJSON *parsed = cJSON_ParseWithLengthOpts(arguments, len, &end, false);
    bool object = cJSON_IsObject(parsed) && end != NULL &&
                  strspn(end, " \t\r\n") == (size_t)(arguments + len - end);
    cJSON_Delete(parsed);
    if (object)
        return arguments;
    log_warn("request %s: the model's tool input (%zu bytes) is not a JSON object; sent as {}",
             reply->request_id, len);
    return "{}";
}

/* ------------------------------------------------------------ objects */

static int
append_usage(struct dynbuf *out, long input_tokens, long output_tokens)
{
    return dynbuf_appendf(out,
                          "\"usage\":{\"input_tokens\":%ld,\"cache_creation_input_tokens\":0,"
                          "\"cache_read_input_tokens\":0,\"output_tokens\":%ld}",
                          input_tokens, output_tokens);
}

static int
append_nullable(struct dynbuf *out, const char *text)
{
    if (text == NULL)
        return dynbuf_append_str(out, "null");
    return json_append_string(out, text, strlen(text));
}

/* The Message object: `content` is its blocks' JSON, comma-separated. */
static int
append_message(struct dynbuf *out, const struct messages_reply *reply, const struct dynbuf *content,
               const char *stop_reason, const char *stop_sequence, long input_tokens,
               long output_tokens)
{
    int rc = dynbuf_appendf(out,
                            "{\"id\":\"msg_%s\",\"type\":\"message\",\"role\":\"assistant\","
                            "\"model\":",
                            reply->request_id);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(out, reply->model.data, reply->model.len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, ",\"content\":[");
    if (rc == DYNBUF_OK && content != NULL && content->len > 0)
        rc = dynbuf_append(out, content->data, content->len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, "],\"stop_reason\":");
    if (rc == DYNBUF_OK)
        rc = append_nullable(out, stop_reason);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, ",\"stop_sequence\":");
    if (rc == DYNBUF_OK)
        rc = append_nullable(out, stop_sequence);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(out, ",", 1);
    if (rc == DYNBUF_OK)
        rc = append_usage(out, input_tokens, output_tokens);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(out, "}", 1);
    return rc;
}

/* {"type":"tool_use","id":…,"name":…,"input":INPUT} */
static int
append_tool_use(struct dynbuf *out, const char *call_id, const char *name, const char *input)
{
    int rc = dynbuf_append_str(out, "{\"type\":\"tool_use\",\"id\":");
    if (rc == DYNBUF_OK)
        rc = json_append_string(out, call_id, strlen(call_id));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, ",\"name\":");
    if (rc == DYNBUF_OK)
        rc = json_append_string(out, name, strlen(name));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, ",\"input\":");
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, input);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(out, "}", 1);
    return rc;
}

/* ------------------------------------------------------------ streaming */

/* reply->event as the SSE event `name`, appended to `out`. */
static int
send_event(struct messages_reply *reply, const char *name, int built, struct dynbuf *out)
{
    if (built != DYNBUF_OK)
        return -1;
    return sse_append_event(out, name, reply->event.data, reply->event.len) == DYNBUF_OK ? 0 : -1;
}

static int
block_stop(struct messages_reply *reply, struct dynbuf *out)
{
    if (reply->open == MESSAGES_BLOCK_NONE)
        return 0;
    reply->open = MESSAGES_BLOCK_NONE;
    dynbuf_reset(&reply->event);
    int rc = dynbuf_appendf(&reply->event, "{\"type\":\"content_block_stop\",\"index\":%u}",
                            reply->blocks - 1);
    return send_event(reply, "content_block_stop", rc, out);
}

static int
text_delta(struct messages_reply *reply, const char *text, size_t len, struct dynbuf *out)
{
    if (reply->open != MESSAGES_BLOCK_TEXT) {
        if (block_stop(reply, out) != 0)
            return -1;
        dynbuf_reset(&reply->event);
        int rc = dynbuf_appendf(&reply->event,
                                "{\"type\":\"content_block_start\",\"index\":%u,"
                                "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
                                reply->blocks++);
        reply->open = MESSAGES_BLOCK_TEXT;
        if (send_event(reply, "content_block_start", rc, out) != 0)
            return -1;
    }
    dynbuf_reset(&reply->event);
    int rc = dynbuf_appendf(&reply->event,
                            "{\"type\":\"content_block_delta\",\"index\":%u,"
                            "\"delta\":{\"type\":\"text_delta\",\"text\":",
                            reply->blocks - 1);
    if (rc == DYNBUF_OK)
        rc = json_append_string(&reply->event, text, len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&reply->event, "}}");
    return send_event(reply, "content_block_delta", rc, out);
}

static int
tool_start(struct messages_reply *reply, const char *call_id, const char *name, struct dynbuf *out)
{
    if (block_stop(reply, out) != 0)
        return -1;
    reply->tool_calls++;
    dynbuf_reset(&reply->event);
    int rc = dynbuf_appendf(&reply->event,
                            "{\"type\":\"content_block_start\",\"index\":%u,\"content_block\":",
                            reply->blocks++);
    if (rc == DYNBUF_OK)
        rc = append_tool_use(&reply->event, call_id, name, "{}");
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(&reply->event, "}", 1);
    reply->open = MESSAGES_BLOCK_TOOL;
    return send_event(reply, "content_block_start", rc, out);
}

static int
tool_input_delta(struct messages_reply *reply, const char *arguments, size_t len, struct dynbuf *out)
{
    const char *input = tool_input(reply, arguments, len);
    dynbuf_reset(&reply->event);
    int rc = dynbuf_appendf(&reply->event,
                            "{\"type\":\"content_block_delta\",\"index\":%u,"
                            "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":",
                            reply->blocks - 1);
    if (rc == DYNBUF_OK)
        rc = json_append_string(&reply->event, input, input == arguments ? len : strlen(input));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&reply->event, "}}");
    return send_event(reply, "content_block_delta", rc, out);
}

static int
stream_finish(struct messages_reply *reply, const struct reply_event *finish, struct dynbuf *out)
{
    if (block_stop(reply, out) != 0)
        return -1;
    const char *reason = messages_stop_reason(reply, finish);
    const char *sequence = strcmp(reason, "stop_sequence") == 0 ? finish->stop_sequence : NULL;
    dynbuf_reset(&reply->event);
    int rc = dynbuf_append_str(&reply->event,
                               "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":");
    if (rc == DYNBUF_OK)
        rc = json_append_string(&reply->event, reason, strlen(reason));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&reply->event, ",\"stop_sequence\":");
    if (rc == DYNBUF_OK)
        rc = append_nullable(&reply->event, sequence);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&reply->event, "},");
    /* Cumulative, as Anthropic's are: the window's count of the prompt
     * replaces message_start's estimate. */
    if (rc == DYNBUF_OK)
        rc = append_usage(&reply->event, finish->usage.prompt_tokens,
                          finish->usage.completion_tokens);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(&reply->event, "}", 1);
    if (send_event(reply, "message_delta", rc, out) != 0)
        return -1;
    static const char stop[] = "{\"type\":\"message_stop\"}";
    return sse_append_event(out, "message_stop", stop, sizeof stop - 1) == DYNBUF_OK ? 0 : -1;
}

static int
messages_stream_start(void *opaque, struct dynbuf *out)
{
    struct messages_reply *reply = opaque;
    dynbuf_reset(&reply->event);
    int rc = dynbuf_append_str(&reply->event, "{\"type\":\"message_start\",\"message\":");
    /* output_tokens 1, as Anthropic's own message_start says. */
    if (rc == DYNBUF_OK)
        rc = append_message(&reply->event, reply, NULL, NULL, NULL, reply->input_tokens, 1);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(&reply->event, "}", 1);
    return send_event(reply, "message_start", rc, out);
}

static int
messages_stream_event(void *opaque, const struct reply_event *event, struct dynbuf *out)
{
    struct messages_reply *reply = opaque;
    switch (event->kind) {
    case REPLY_TEXT: return text_delta(reply, event->text, event->len, out);
    case REPLY_TOOL_BEGIN: return tool_start(reply, event->call_id, event->name, out);
    case REPLY_TOOL_ARGUMENTS: return tool_input_delta(reply, event->text, event->len, out);
    case REPLY_TOOL_END: return block_stop(reply, out);
    case REPLY_HEARTBEAT: {
        static const char ping[] = "{\"type\": \"ping\"}";
        return sse_append_event(out, "ping", ping, sizeof ping - 1) == DYNBUF_OK ? 0 : -1;
    }
    case REPLY_FINISH: return stream_finish(reply, event, out);
    case REPLY_ERROR:
        /* What Anthropic's SDKs raise as an APIError: the shape of an error
         * response, without the request id (the header has it). */
        dynbuf_reset(&reply->event);
        return send_event(reply, "error",
                          anthropic_error_format(&reply->event, event->error->status,
                                                 event->error->message, NULL),
                          out);
    }
    return -1;
}

/* ------------------------------------------------------- whole replies */

/* The text collected so far as a text block of `content`. */
static int
flush_text(struct messages_reply *reply)
{
    if (reply->text.len == 0)
        return DYNBUF_OK;
    int rc = reply->content.len > 0 ? dynbuf_append(&reply->content, ",", 1) : DYNBUF_OK;
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&reply->content, "{\"type\":\"text\",\"text\":");
    if (rc == DYNBUF_OK)
        rc = json_append_string(&reply->content, reply->text.data, reply->text.len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(&reply->content, "}", 1);
    dynbuf_reset(&reply->text);
    return rc;
}

static int
messages_collect(void *opaque, const struct reply_event *event)
{
    struct messages_reply *reply = opaque;
    int rc = DYNBUF_OK;
    if (event->kind == REPLY_TEXT) {
        rc = dynbuf_append(&reply->text, event->text, event->len);
    } else if (event->kind == REPLY_TOOL_ARGUMENTS) {
        reply->tool_calls++;
        rc = flush_text(reply);
        if (rc == DYNBUF_OK && reply->content.len > 0)
            rc = dynbuf_append(&reply->content, ",", 1);
        if (rc == DYNBUF_OK)
            rc = append_tool_use(&reply->content, event->call_id, event->name,
                                 tool_input(reply, event->text, event->len));
    }
    return rc == DYNBUF_OK ? 0 : -1;
}

static int
messages_complete(void *opaque, const struct reply_event *finish, struct dynbuf *out)
{
    struct messages_reply *reply = opaque;
    if (flush_text(reply) != DYNBUF_OK)
        return -1;
    const char *reason = messages_stop_reason(reply, finish);
    const char *sequence = strcmp(reason, "stop_sequence") == 0 ? finish->stop_sequence : NULL;
    return append_message(out, reply, &reply->content, reason, sequence,
                          finish->usage.prompt_tokens, finish->usage.completion_tokens) == DYNBUF_OK
               ? 0
               : -1;
}

/* ---------------------------------------------------------- the format */

static int
messages_error_body(struct dynbuf *out, const struct api_error *err, const char *request_id)
{
    return anthropic_error_format(out, err->status, err->message, request_id) == DYNBUF_OK ? 0 : -1;
}

/* What Claude Code does with a status (AGENT-APIS.md 1.5, measured): it
 * retries a 429 for minutes unless told x-should-retry: false, and stops
 * after three 529s with "check your inference gateway".  So a spent VS Code
 * quota says no retry (each may cost a premium request), and a gateway
 * without capacity (no VS Code window, a drain) answers 529 overloaded, as
 * Anthropic does when it has none, instead of a 503 retried ten times. */
static void
messages_adapt_error(struct api_error *err)
{
    if (err->status == 503)
        err->status = 529;
    if (err->quota_exhausted)
        api_error_add_header(err, "x-should-retry", "false");
}

static int
messages_setup(void *reply, const struct reply_setup *setup)
{
    return messages_reply_init(reply, setup->request_id, setup->model_id, setup->prompt_tokens,
                               setup->max_bytes);
}

static void
messages_release(void *reply)
{
    messages_reply_free(reply);
}

const struct wire_format messages_wire_format = {
    .name = "messages",
    .stream_type = "text/event-stream",
    .request_id_header = "request-id",
    .parse = messages_request_parse,
    .reply_size = sizeof(struct messages_reply),
    .reply_init = messages_setup,
    .reply_free = messages_release,
    .error_body = messages_error_body,
    .adapt_error = messages_adapt_error,
    .stream_start = messages_stream_start,
    .stream_event = messages_stream_event,
    .collect = messages_collect,
    .complete = messages_complete,
};
