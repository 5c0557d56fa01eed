#include "responses_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "chat_request.h"
#include "json_write.h"
#include "log.h"
#include "openai_error.h"
#include "responses_request.h"
#include "sse.h"

#define EVENT_MAX_BYTES (64u << 20)
#define HEAD_MAX_BYTES (1u << 12)

static int append_message(struct dynbuf *b, const struct responses_reply *r, unsigned index,
                          const char *status, bool with_text);

static int
result(int rc)
{
    return rc == DYNBUF_OK ? 0 : -1;
}

static int
append_string(struct dynbuf *out, const char *text, size_t len)
{
    return json_append_string(out, text ? text : "", text ? len : 0);
}

static int
append_buffer(struct dynbuf *out, const struct dynbuf *from)
{
    return from->len ? dynbuf_append(out, from->data, from->len) : DYNBUF_OK;
}

/* ---------------------------------------------------------------- set-up */

/* "instructions":…,"tools":…,…: the fields a Response echoes, then "model". */
static int
build_echo(struct responses_reply *r, const char *model_id)
{
    const cJSON *echo = responses_request_echo(r->request);
    if (echo == NULL)
        return -1;
    int rc = DYNBUF_OK;
    const cJSON *field;
    cJSON_ArrayForEach(field, echo) {
        char *value = cJSON_PrintUnformatted(field);
        if (value == NULL)
            return -1;
        rc = dynbuf_appendf(&r->echo, "\"%s\":", field->string);
        if (rc == DYNBUF_OK)
            rc = dynbuf_append_str(&r->echo, value);
        if (rc == DYNBUF_OK)
            rc = dynbuf_append(&r->echo, ",", 1);
        free(value);
        if (rc != DYNBUF_OK)
            return -1;
    }
    rc = dynbuf_append_str(&r->echo, "\"model\":");
    if (rc == DYNBUF_OK)
        rc = append_string(&r->echo, model_id, strlen(model_id));
    return result(rc);
}

static int
responses_setup(void *opaque, const struct reply_setup *setup)
{
    struct responses_reply *r = opaque;
    memset(r, 0, sizeof *r);
    r->request = setup->request;
    snprintf(r->request_id, sizeof r->request_id, "%s", setup->request_id);
    dynbuf_init(&r->head, HEAD_MAX_BYTES);
    dynbuf_init(&r->echo, setup->max_bytes);
    dynbuf_init(&r->event, EVENT_MAX_BYTES);
    dynbuf_init(&r->output, setup->max_bytes);
    dynbuf_init(&r->text, setup->max_bytes);
    dynbuf_init(&r->item, setup->max_bytes);
    dynbuf_init(&r->input, setup->max_bytes);
    r->parallel_tool_calls = responses_request_parallel_tool_calls(r->request);
    int rc = dynbuf_appendf(&r->head,
                            "\"id\":\"resp_%s\",\"object\":\"response\",\"created_at\":%lld",
                            r->request_id, (long long)time(NULL));
    if (rc != DYNBUF_OK || build_echo(r, setup->model_id) != 0)
        return -1;
    return 0;
}

static void
responses_release(void *opaque)
{
    struct responses_reply *r = opaque;
    dynbuf_free(&r->head);
    dynbuf_free(&r->echo);
    dynbuf_free(&r->event);
    dynbuf_free(&r->output);
    dynbuf_free(&r->text);
    dynbuf_free(&r->item);
    dynbuf_free(&r->input);
}

/* -------------------------------------------------------- the Response */

/* What a failure looks like in the stream: a code from the document's list
 * that Codex reads (rate_limit_exceeded: it waits "try again in Ns" before
 * its next try; the rest: server_error). */
static int
append_failure(struct dynbuf *b, const struct api_error *err)
{
    bool limited = err->status == 429;
    int rc = dynbuf_appendf(b, "{\"code\":\"%s\",\"message\":",
                            limited ? "rate_limit_exceeded" : "server_error");
    /* The Retry-After the refusal carries, in the words Codex parses. */
    const char *after = limited ? strcasestr(err->headers, "Retry-After: ") : NULL;
    long seconds = after ? strtol(after + strlen("Retry-After: "), NULL, 10) : 0;
    if (rc == DYNBUF_OK && seconds > 0) {
        size_t len = strlen(err->message);
        bool ends_sentence = len > 0 && strchr(".!?", err->message[len - 1]) != NULL;
        char *message = NULL;
        if (asprintf(&message, "%s%s Please try again in %lds.", err->message,
                     ends_sentence || len == 0 ? "" : ".", seconds) < 0)
            return DYNBUF_NO_MEMORY;
        rc = append_string(b, message, strlen(message));
        free(message);
    } else if (rc == DYNBUF_OK) {
        rc = append_string(b, err->message, strlen(err->message));
    }
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(b, "}", 1);
    return rc;
}

static int
append_usage(struct dynbuf *b, const struct reply_usage *usage)
{
    return dynbuf_appendf(b,
                          ",\"usage\":{\"input_tokens\":%ld,\"input_tokens_details\":{"
                          "\"cached_tokens\":0,\"cache_write_tokens\":0},\"output_tokens\":%ld,"
                          "\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":%ld}",
                          usage->prompt_tokens, usage->completion_tokens,
                          usage->prompt_tokens + usage->completion_tokens);
}

/* Why a finished reply is incomplete, or NULL. */
static const char *
incomplete_reason(const struct reply_event *end)
{
    if (end == NULL || end->kind != REPLY_FINISH)
        return NULL;
    if (strcmp(end->finish_reason, "length") == 0)
        return "max_output_tokens";
    if (strcmp(end->finish_reason, "content_filter") == 0)
        return "content_filter";
    return NULL;
}

/* The Response as it stands: `status`, its output items so far, and what
 * ended it (`end`: a finish, with usage; an error; NULL while in
 * progress). */
static int
append_response(const struct responses_reply *r, struct dynbuf *b, const char *status,
                const struct reply_event *end)
{
    const char *reason = incomplete_reason(end);
    int rc = dynbuf_append(b, "{", 1);
    if (rc == DYNBUF_OK)
        rc = append_buffer(b, &r->head);
    if (rc == DYNBUF_OK)
        rc = dynbuf_appendf(b, ",\"status\":\"%s\"", status);
    if (rc == DYNBUF_OK && strcmp(status, "completed") == 0)
        rc = dynbuf_appendf(b, ",\"completed_at\":%lld", (long long)time(NULL));
    if (rc == DYNBUF_OK && end != NULL && end->kind == REPLY_ERROR) {
        rc = dynbuf_append_str(b, ",\"error\":");
        if (rc == DYNBUF_OK)
            rc = append_failure(b, end->error);
    } else if (rc == DYNBUF_OK) {
        rc = dynbuf_append_str(b, ",\"error\":null");
    }
    if (rc == DYNBUF_OK)
        rc = reason ? dynbuf_appendf(b, ",\"incomplete_details\":{\"reason\":\"%s\"},", reason)
                    : dynbuf_append_str(b, ",\"incomplete_details\":null,");
    if (rc == DYNBUF_OK)
        rc = append_buffer(b, &r->echo);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(b, ",\"output\":[");
    if (rc == DYNBUF_OK)
        rc = append_buffer(b, &r->output);
    /* In progress (a heartbeat), the open message too, with its text so
     * far: the SDK's stream helper takes the event's Response as its new
     * snapshot, and the next delta adds to that message. */
    if (rc == DYNBUF_OK && end == NULL && r->message_open) {
        rc = r->output.len ? dynbuf_append(b, ",", 1) : DYNBUF_OK;
        if (rc == DYNBUF_OK)
            rc = append_message(b, r, r->items - 1, "in_progress", true);
    }
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(b, "]", 1);
    if (rc == DYNBUF_OK && end != NULL && end->kind == REPLY_FINISH)
        rc = append_usage(b, &end->usage);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(b, "}", 1);
    return rc;
}

/* ------------------------------------------------------------- events */

/* {"type":TYPE,"sequence_number":N — the caller adds the fields. */
static int
begin_event(struct responses_reply *r, const char *type)
{
    dynbuf_reset(&r->event);
    return dynbuf_appendf(&r->event, "{\"type\":\"%s\",\"sequence_number\":%lu", type,
                          r->sequence++);
}

/* Closes the event begun and appends it to `out` as a named SSE event. */
static int
end_event(struct responses_reply *r, const char *type, struct dynbuf *out, int rc)
{
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(&r->event, "}", 1);
    if (rc == DYNBUF_OK)
        rc = sse_append_event(out, type, r->event.data, r->event.len);
    return rc;
}

/* response.created, response.in_progress: the Response so far. */
static int
lifecycle_event(struct responses_reply *r, const char *type, const char *status,
                const struct reply_event *end, struct dynbuf *out)
{
    int rc = begin_event(r, type);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&r->event, ",\"response\":");
    if (rc == DYNBUF_OK)
        rc = append_response(r, &r->event, status, end);
    return end_event(r, type, out, rc);
}

/* ,"item_id":"msg_…","output_index":I */
static int
append_item_ref(struct dynbuf *b, const struct responses_reply *r, const char *prefix,
                unsigned index)
{
    return dynbuf_appendf(b, ",\"item_id\":\"%s_%s_%u\",\"output_index\":%u", prefix, r->request_id,
                          index, index);
}

/* ------------------------------------------------------------ messages */

/* {"type":"output_text","text":…,"annotations":[],"logprobs":[]} */
static int
append_text_part(struct dynbuf *b, const char *text, size_t len)
{
    int rc = dynbuf_append_str(b, "{\"type\":\"output_text\",\"text\":");
    if (rc == DYNBUF_OK)
        rc = append_string(b, text, len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(b, ",\"annotations\":[],\"logprobs\":[]}");
    return rc;
}

/* The message item, `with_text` so far (or without content: just added). */
static int
append_message(struct dynbuf *b, const struct responses_reply *r, unsigned index,
               const char *status, bool with_text)
{
    int rc = dynbuf_appendf(b,
                            "{\"id\":\"msg_%s_%u\",\"type\":\"message\",\"status\":\"%s\","
                            "\"role\":\"assistant\",\"content\":[",
                            r->request_id, index, status);
    if (rc == DYNBUF_OK && with_text)
        rc = append_text_part(b, r->text.data, r->text.len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(b, "]}");
    return rc;
}

/* A new message item; its events go to `out` (NULL: a whole reply, no events). */
static int
open_message(struct responses_reply *r, struct dynbuf *out)
{
    unsigned index = r->items++;
    r->message_open = true;
    dynbuf_reset(&r->text);
    if (out == NULL)
        return DYNBUF_OK;
    int rc = begin_event(r, "response.output_item.added");
    if (rc == DYNBUF_OK)
        rc = dynbuf_appendf(&r->event, ",\"output_index\":%u,\"item\":", index);
    if (rc == DYNBUF_OK)
        rc = append_message(&r->event, r, index, "in_progress", false);
    rc = end_event(r, "response.output_item.added", out, rc);
    if (rc == DYNBUF_OK)
        rc = begin_event(r, "response.content_part.added");
    if (rc == DYNBUF_OK)
        rc = append_item_ref(&r->event, r, "msg", index);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&r->event, ",\"content_index\":0,\"part\":");
    if (rc == DYNBUF_OK)
        rc = append_text_part(&r->event, "", 0);
    return end_event(r, "response.content_part.added", out, rc);
}

static int
add_text(struct responses_reply *r, const char *text, size_t len, struct dynbuf *out)
{
    int rc = r->message_open ? DYNBUF_OK : open_message(r, out);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(&r->text, text, len);
    if (rc != DYNBUF_OK || out == NULL)
        return rc;
    rc = begin_event(r, "response.output_text.delta");
    if (rc == DYNBUF_OK)
        rc = append_item_ref(&r->event, r, "msg", r->items - 1);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&r->event, ",\"content_index\":0,\"delta\":");
    if (rc == DYNBUF_OK)
        rc = append_string(&r->event, text, len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&r->event, ",\"logprobs\":[]");
    return end_event(r, "response.output_text.delta", out, rc);
}

/* Adds an item's JSON (in `item`) to the output. */
static int
add_output(struct responses_reply *r, const struct dynbuf *item)
{
    int rc = r->output.len ? dynbuf_append(&r->output, ",", 1) : DYNBUF_OK;
    if (rc == DYNBUF_OK)
        rc = append_buffer(&r->output, item);
    return rc;
}

/* Finishes the open message, if any, as `status` ("completed", or
 * "incomplete" when cut short); its closing events go to `out` (NULL: none). */
static int
close_message(struct responses_reply *r, const char *status, struct dynbuf *out)
{
    if (!r->message_open)
        return DYNBUF_OK;
    r->message_open = false;
    unsigned index = r->items - 1;
    dynbuf_reset(&r->item);
    int rc = append_message(&r->item, r, index, status, true);
    if (rc == DYNBUF_OK)
        rc = add_output(r, &r->item);
    if (rc != DYNBUF_OK || out == NULL)
        return rc;
    rc = begin_event(r, "response.output_text.done");
    if (rc == DYNBUF_OK)
        rc = append_item_ref(&r->event, r, "msg", index);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&r->event, ",\"content_index\":0,\"text\":");
    if (rc == DYNBUF_OK)
        rc = append_string(&r->event, r->text.data, r->text.len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&r->event, ",\"logprobs\":[]");
    rc = end_event(r, "response.output_text.done", out, rc);
    if (rc == DYNBUF_OK)
        rc = begin_event(r, "response.content_part.done");
    if (rc == DYNBUF_OK)
        rc = append_item_ref(&r->event, r, "msg", index);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&r->event, ",\"content_index\":0,\"part\":");
    if (rc == DYNBUF_OK)
        rc = append_text_part(&r->event, r->text.data, r->text.len);
    rc = end_event(r, "response.content_part.done", out, rc);
    if (rc == DYNBUF_OK)
        rc = begin_event(r, "response.output_item.done");
    if (rc == DYNBUF_OK)
        rc = dynbuf_appendf(&r->event, ",\"output_index\":%u,\"item\":", index);
    if (rc == DYNBUF_OK)
        rc = append_buffer(&r->event, &r->item);
    return end_event(r, "response.output_item.done", out, rc);
}

/* ---------------------------------------------------------- tool calls */

/* A custom tool's input: what the model put in {"input": "..."}, or, when
 * it sent something else, its arguments as they are. */
static int
unwrap_input(struct responses_reply *r, const char *arguments, size_t len)
{
    dynbuf_reset(&r->input);
    cJSON *parsed = cJSON_ParseWithLength(arguments, len);
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(parsed, "input");
    int rc = cJSON_IsString(input) ? dynbuf_append_str(&r->input, input->valuestring)
                                   : dynbuf_append(&r->input, arguments, len);
    cJSON_Delete(parsed);
    return rc;
}

/* The tool call item: a function_call (arguments) or a custom_tool_call
 * (input), named as the client named the tool; `payload` "" while in
 * progress. */
static int
append_tool_item(struct dynbuf *b, const struct responses_reply *r, const struct reply_event *event,
                 const char *status, const char *payload, size_t payload_len)
{
    bool custom = r->tool_known && r->tool.custom;
    int rc = custom ? dynbuf_appendf(b, "{\"id\":\"ctc_%s_%u\",\"type\":\"custom_tool_call\"",
                                     r->request_id, r->items - 1)
                    : dynbuf_appendf(b,
                                     "{\"id\":\"fc_%s_%u\",\"type\":\"function_call\","
                                     "\"status\":\"%s\"",
                                     r->request_id, r->items - 1, status);
    const char *name = r->tool_known ? r->tool.name : event->name;
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(b, ",\"call_id\":");
    if (rc == DYNBUF_OK)
        rc = append_string(b, event->call_id, strlen(event->call_id));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(b, ",\"name\":");
    if (rc == DYNBUF_OK)
        rc = append_string(b, name, strlen(name));
    if (rc == DYNBUF_OK && r->tool_known && r->tool.namespace_name != NULL) {
        rc = dynbuf_append_str(b, ",\"namespace\":");
        if (rc == DYNBUF_OK)
            rc = append_string(b, r->tool.namespace_name, strlen(r->tool.namespace_name));
    }
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(b, custom ? ",\"input\":" : ",\"arguments\":");
    if (rc == DYNBUF_OK)
        rc = append_string(b, payload, payload_len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(b, "}", 1);
    return rc;
}

static int
tool_begin(struct responses_reply *r, const struct reply_event *event, struct dynbuf *out)
{
    int rc = close_message(r, "completed", out);
    /* parallel_tool_calls false: VS Code cannot be told, so the first call
     * of a turn is the one answered. */
    r->skip_tool = !r->parallel_tool_calls && r->tool_calls > 0;
    if (rc != DYNBUF_OK || r->skip_tool) {
        if (r->skip_tool)
            log_info("request %s: parallel_tool_calls is false: the model's call of '%s' after "
                     "the first was dropped",
                     r->request_id, event->name);
        return rc;
    }
    r->tool_calls++;
    r->items++;
    r->tool_known = responses_request_tool(r->request, event->name, &r->tool);
    if (out == NULL)
        return DYNBUF_OK;
    rc = begin_event(r, "response.output_item.added");
    if (rc == DYNBUF_OK)
        rc = dynbuf_appendf(&r->event, ",\"output_index\":%u,\"item\":", r->items - 1);
    if (rc == DYNBUF_OK)
        rc = append_tool_item(&r->event, r, event, "in_progress", "", 0);
    return end_event(r, "response.output_item.added", out, rc);
}

static int
tool_arguments(struct responses_reply *r, const struct reply_event *event, struct dynbuf *out)
{
    if (r->skip_tool)
        return DYNBUF_OK;
    bool custom = r->tool_known && r->tool.custom;
    const char *payload = event->text;
    size_t len = event->len;
    int rc = DYNBUF_OK;
    if (custom) {
        rc = unwrap_input(r, event->text, event->len);
        payload = r->input.data ? r->input.data : "";
        len = r->input.len;
    }
    dynbuf_reset(&r->item);
    if (rc == DYNBUF_OK)
        rc = append_tool_item(&r->item, r, event, "completed", payload, len);
    if (rc != DYNBUF_OK || out == NULL)
        return rc;
    const char *delta = custom ? "response.custom_tool_call_input.delta"
                               : "response.function_call_arguments.delta";
    const char *done = custom ? "response.custom_tool_call_input.done"
                              : "response.function_call_arguments.done";
    const char *prefix = custom ? "ctc" : "fc";
    rc = begin_event(r, delta);
    if (rc == DYNBUF_OK)
        rc = append_item_ref(&r->event, r, prefix, r->items - 1);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&r->event, ",\"delta\":");
    if (rc == DYNBUF_OK)
        rc = append_string(&r->event, payload, len);
    rc = end_event(r, delta, out, rc);
    if (rc == DYNBUF_OK)
        rc = begin_event(r, done);
    if (rc == DYNBUF_OK)
        rc = append_item_ref(&r->event, r, prefix, r->items - 1);
    if (rc == DYNBUF_OK && !custom) {
        const char *name = r->tool_known ? r->tool.name : event->name;
        rc = dynbuf_append_str(&r->event, ",\"name\":");
        if (rc == DYNBUF_OK)
            rc = append_string(&r->event, name, strlen(name));
    }
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&r->event, custom ? ",\"input\":" : ",\"arguments\":");
    if (rc == DYNBUF_OK)
        rc = append_string(&r->event, payload, len);
    return end_event(r, done, out, rc);
}

static int
tool_end(struct responses_reply *r, struct dynbuf *out)
{
    if (r->skip_tool)
        return DYNBUF_OK;
    int rc = add_output(r, &r->item);
    if (rc != DYNBUF_OK || out == NULL)
        return rc;
    rc = begin_event(r, "response.output_item.done");
    if (rc == DYNBUF_OK)
        rc = dynbuf_appendf(&r->event, ",\"output_index\":%u,\"item\":", r->items - 1);
    if (rc == DYNBUF_OK)
        rc = append_buffer(&r->event, &r->item);
    return end_event(r, "response.output_item.done", out, rc);
}

/* ------------------------------------------------------ the wire format */

static const char *
final_status(const struct reply_event *finish)
{
    return incomplete_reason(finish) ? "incomplete" : "completed";
}

static int
responses_error_body(struct dynbuf *out, const struct api_error *err, const char *request_id)
{
    (void)request_id; /* OpenAI's error object carries none: x-request-id does */
    return result(openai_error_format(out, err->status, err->code,
                                      err->param[0] ? err->param : NULL, err->message));
}

/* Codex retries a 5xx about 30 times in 25 s and a 429 six times, each try
 * perhaps a paid model call, but it reads a response.failed: so a failure of
 * the model call (never a refusal before it: those keep their 4xx) opens
 * the stream and fails in it. */
static bool
responses_error_opens_stream(const struct api_error *err)
{
    return err->status == 429 || err->status >= 500;
}

static int
responses_stream_start(void *opaque, struct dynbuf *out)
{
    struct responses_reply *r = opaque;
    int rc = lifecycle_event(r, "response.created", "in_progress", NULL, out);
    if (rc == DYNBUF_OK)
        rc = lifecycle_event(r, "response.in_progress", "in_progress", NULL, out);
    return result(rc);
}

static int
responses_stream_event(void *opaque, const struct reply_event *event, struct dynbuf *out)
{
    struct responses_reply *r = opaque;
    int rc = DYNBUF_NO_MEMORY;
    switch (event->kind) {
    case REPLY_TEXT: rc = add_text(r, event->text, event->len, out); break;
    case REPLY_TOOL_BEGIN: rc = tool_begin(r, event, out); break;
    case REPLY_TOOL_ARGUMENTS: rc = tool_arguments(r, event, out); break;
    case REPLY_TOOL_END: rc = tool_end(r, out); break;
    case REPLY_HEARTBEAT:
        /* A parsed event the document allows, unlike a comment (which
         * Codex's idle timer does not count). */
        rc = lifecycle_event(r, "response.in_progress", "in_progress", NULL, out);
        break;
    case REPLY_FINISH: {
        const char *status = final_status(event);
        rc = close_message(r, status, out);
        if (rc == DYNBUF_OK)
            rc = lifecycle_event(r,
                                 strcmp(status, "completed") == 0 ? "response.completed"
                                                                  : "response.incomplete",
                                 status, event, out);
        break;
    }
    case REPLY_ERROR:
        /* The text so far stays in the failed Response, marked incomplete. */
        rc = close_message(r, "incomplete", NULL);
        if (rc == DYNBUF_OK)
            rc = lifecycle_event(r, "response.failed", "failed", event, out);
        break;
    }
    return result(rc);
}

static int
responses_collect(void *opaque, const struct reply_event *event)
{
    struct responses_reply *r = opaque;
    switch (event->kind) {
    case REPLY_TEXT: return result(add_text(r, event->text, event->len, NULL));
    case REPLY_TOOL_BEGIN: return result(tool_begin(r, event, NULL));
    case REPLY_TOOL_ARGUMENTS: return result(tool_arguments(r, event, NULL));
    case REPLY_TOOL_END: return result(tool_end(r, NULL));
    default: return 0;
    }
}

static int
responses_complete(void *opaque, const struct reply_event *finish, struct dynbuf *out)
{
    struct responses_reply *r = opaque;
    const char *status = final_status(finish);
    int rc = close_message(r, status, NULL);
    if (rc == DYNBUF_OK)
        rc = append_response(r, out, status, finish);
    return result(rc);
}

const struct wire_format responses_wire_format = {
    .name = "responses",
    .stream_type = "text/event-stream",
    .conversation_param = "input",
    .parse = responses_request_parse,
    .reply_size = sizeof(struct responses_reply),
    .reply_init = responses_setup,
    .reply_free = responses_release,
    .error_body = responses_error_body,
    .error_opens_stream = responses_error_opens_stream,
    .stream_start = responses_stream_start,
    .stream_event = responses_stream_event,
    .collect = responses_collect,
    .complete = responses_complete,
};
