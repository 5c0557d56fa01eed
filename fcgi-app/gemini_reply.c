#include "gemini_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gemini_error.h"
#include "gemini_request.h"
#include "json_write.h"
#include "log.h"
#include "sse.h"

#define CHUNK_MAX_BYTES (64u << 20)

int
gemini_reply_init(struct gemini_reply *reply, const char *request_id, const char *model,
                  size_t max_bytes)
{
    memset(reply, 0, sizeof *reply);
    snprintf(reply->request_id, sizeof reply->request_id, "%s", request_id);
    dynbuf_init(&reply->model, 1u << 16);
    dynbuf_init(&reply->chunk, CHUNK_MAX_BYTES);
    dynbuf_init(&reply->parts, max_bytes);
    dynbuf_init(&reply->text, max_bytes);
    return json_append_string(&reply->model, model, strlen(model)) == DYNBUF_OK ? 0 : -1;
}

void
gemini_reply_free(struct gemini_reply *reply)
{
    dynbuf_free(&reply->model);
    dynbuf_free(&reply->chunk);
    dynbuf_free(&reply->parts);
    dynbuf_free(&reply->text);
}

const char *
gemini_finish_reason(const struct reply_event *finish)
{
    const char *reason = finish->finish_reason;
    if (strcmp(reason, "length") == 0)
        return "MAX_TOKENS";
    if (strcmp(reason, "content_filter") == 0)
        return "SAFETY";
    return "STOP"; /* stop, and tool_calls: Gemini has no reason of its own for calls */
}

/* The window's arguments as one line of JSON when they are an object,
 * else "{}" (gemini_reply.h says why); the caller frees it.  Printed again
 * rather than passed through: JSON whitespace may be a line break, and a
 * chunk must be one line.  NULL: out of memory. */
static char *
call_args(const struct gemini_reply *reply, const char *arguments, size_t len)
{
    const char *end = NULL;
    cJSON *parsed = cJSON_ParseWithLengthOpts(arguments, len, &end, false);
    bool object = cJSON_IsObject(parsed) && end != NULL &&
                  strspn(end, " \t\r\n") == (size_t)(arguments + len - end);
    char *line = object ? json_print_line(parsed) : NULL;
    cJSON_Delete(parsed);
    if (object)
        return line;
    log_warn("request %s: the model's call arguments (%zu bytes) are not a JSON object; sent as {}",
             reply->request_id, len);
    return strdup("{}");
}

/* ------------------------------------------------------------ pieces */

static int
append_text_part(struct dynbuf *out, const char *text, size_t len)
{
    int rc = dynbuf_append_str(out, "{\"text\":");
    if (rc == DYNBUF_OK)
        rc = json_append_string(out, text, len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(out, "}", 1);
    return rc;
}

/* {"functionCall":{"id","name","args"}} */
static int
append_call_part(struct gemini_reply *reply, struct dynbuf *out, const struct reply_event *event)
{
    char *args = call_args(reply, event->text, event->len);
    if (args == NULL)
        return DYNBUF_NO_MEMORY;
    int rc = dynbuf_append_str(out, "{\"functionCall\":{\"id\":");
    if (rc == DYNBUF_OK)
        rc = json_append_string(out, event->call_id, strlen(event->call_id));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, ",\"name\":");
    if (rc == DYNBUF_OK)
        rc = json_append_string(out, event->name, strlen(event->name));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, ",\"args\":");
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, args);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, "}}");
    free(args);
    return rc;
}

/* A GenerateContentResponse whose one candidate holds `parts` (JSON,
 * comma-separated); with the finish reason and usage when `finish`. */
static int
append_response(struct dynbuf *out, const struct gemini_reply *reply, const char *parts,
                size_t parts_len, const struct reply_event *finish)
{
    int rc = dynbuf_append_str(out, "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[");
    if (rc == DYNBUF_OK && parts_len > 0)
        rc = dynbuf_append(out, parts, parts_len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, "]}");
    if (rc == DYNBUF_OK && finish != NULL)
        rc = dynbuf_appendf(out, ",\"finishReason\":\"%s\"", gemini_finish_reason(finish));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, ",\"index\":0}]");
    if (rc == DYNBUF_OK && finish != NULL) {
        long prompt = finish->usage.prompt_tokens, completion = finish->usage.completion_tokens;
        rc = dynbuf_appendf(out,
                            ",\"usageMetadata\":{\"promptTokenCount\":%ld,"
                            "\"candidatesTokenCount\":%ld,\"totalTokenCount\":%ld}",
                            prompt, completion, prompt + completion);
    }
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, ",\"modelVersion\":");
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(out, reply->model.data, reply->model.len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_appendf(out, ",\"responseId\":\"%s\"}", reply->request_id);
    return rc;
}

/* ------------------------------------------------------------ streaming */

/* reply->chunk (its parts) as one response chunk, appended to `out`. */
static int
send_chunk(struct gemini_reply *reply, int built, const struct reply_event *finish,
           struct dynbuf *out)
{
    struct dynbuf response;
    dynbuf_init(&response, CHUNK_MAX_BYTES);
    int rc = built;
    if (rc == DYNBUF_OK)
        rc = append_response(&response, reply, reply->chunk.data, reply->chunk.len, finish);
    if (rc == DYNBUF_OK)
        rc = sse_append_data(out, response.data, response.len);
    dynbuf_free(&response);
    return rc == DYNBUF_OK ? 0 : -1;
}

static int
gemini_stream_start(void *opaque, struct dynbuf *out)
{
    (void)opaque;
    (void)out;
    return 0; /* Gemini's stream has no opening event */
}

static int
gemini_stream_event(void *opaque, const struct reply_event *event, struct dynbuf *out)
{
    struct gemini_reply *reply = opaque;
    dynbuf_reset(&reply->chunk);
    switch (event->kind) {
    case REPLY_TEXT:
        return send_chunk(reply, append_text_part(&reply->chunk, event->text, event->len), NULL,
                          out);
    case REPLY_TOOL_ARGUMENTS:
        return send_chunk(reply, append_call_part(reply, &reply->chunk, event), NULL, out);
    case REPLY_TOOL_BEGIN:
    case REPLY_TOOL_END: return 0; /* a call goes out whole, with its arguments */
    case REPLY_HEARTBEAT:
        /* The one heartbeat Gemini CLI's parser skips (gemini_reply.h). */
        return dynbuf_append(out, "\n", 1) == DYNBUF_OK ? 0 : -1;
    case REPLY_FINISH: return send_chunk(reply, DYNBUF_OK, event, out);
    case REPLY_ERROR: {
        int rc = gemini_error_format(&reply->chunk, event->error);
        if (rc == DYNBUF_OK)
            rc = sse_append_data(out, reply->chunk.data, reply->chunk.len);
        return rc == DYNBUF_OK ? 0 : -1;
    }
    }
    return -1;
}

/* ------------------------------------------------------- whole replies */

/* The text collected so far as a text part. */
static int
flush_text(struct gemini_reply *reply)
{
    if (reply->text.len == 0)
        return DYNBUF_OK;
    int rc = reply->parts.len > 0 ? dynbuf_append(&reply->parts, ",", 1) : DYNBUF_OK;
    if (rc == DYNBUF_OK)
        rc = append_text_part(&reply->parts, reply->text.data, reply->text.len);
    dynbuf_reset(&reply->text);
    return rc;
}

static int
gemini_collect(void *opaque, const struct reply_event *event)
{
    struct gemini_reply *reply = opaque;
    int rc = DYNBUF_OK;
    if (event->kind == REPLY_TEXT) {
        rc = dynbuf_append(&reply->text, event->text, event->len);
    } else if (event->kind == REPLY_TOOL_ARGUMENTS) {
        rc = flush_text(reply);
        if (rc == DYNBUF_OK && reply->parts.len > 0)
            rc = dynbuf_append(&reply->parts, ",", 1);
        if (rc == DYNBUF_OK)
            rc = append_call_part(reply, &reply->parts, event);
    }
    return rc == DYNBUF_OK ? 0 : -1;
}

static int
gemini_complete(void *opaque, const struct reply_event *finish, struct dynbuf *out)
{
    struct gemini_reply *reply = opaque;
    if (flush_text(reply) != DYNBUF_OK)
        return -1;
    return append_response(out, reply, reply->parts.data, reply->parts.len, finish) == DYNBUF_OK
               ? 0
               : -1;
}

/* ---------------------------------------------------------- the format */

static int
gemini_error_body(struct dynbuf *out, const struct api_error *err, const char *request_id)
{
    (void)request_id; /* x-request-id carries it */
    return gemini_error_format(out, err) == DYNBUF_OK ? 0 : -1;
}

static int
gemini_setup(void *reply, const struct reply_setup *setup)
{
    return gemini_reply_init(reply, setup->request_id, setup->model_id, setup->max_bytes);
}

static void
gemini_release(void *reply)
{
    gemini_reply_free(reply);
}

const struct wire_format gemini_wire_format = {
    .name = "gemini",
    .conversation_param = "contents",
    .stream_type = "text/event-stream",
    .parse = gemini_request_parse,
    .reply_size = sizeof(struct gemini_reply),
    .reply_init = gemini_setup,
    .reply_free = gemini_release,
    .error_body = gemini_error_body,
    .short_head_wait = true,
    .stream_start = gemini_stream_start,
    .stream_event = gemini_stream_event,
    .collect = gemini_collect,
    .complete = gemini_complete,
};
