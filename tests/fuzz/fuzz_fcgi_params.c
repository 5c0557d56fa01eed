/*
 * fuzz_fcgi_params: one FastCGI request through the responder's whole
 * request path (request_harness.h says how, and the input's format), with
 * invariants checked on what the client gets.
 *
 * Invariants (abort on violation): every request is answered (or the client
 * was gone); the response head is well formed (Status line, no control
 * characters or injected lines, the sanitised x-request-id, Allow on 405);
 * a JSON body is a valid JSON object in valid UTF-8, an error one an OpenAI
 * error object; an SSE body is "data: <JSON object>" events of one
 * completion id, nothing after an error event, [DONE] only last.  A request
 * answered in Anthropic's shape (the Messages routes, or anthropic-version)
 * carries request-id, its errors are Anthropic error objects with the
 * request's id, a Message has typed content blocks and usage, and a stream
 * is named events in Anthropic's order (message_start first and once,
 * blocks opened, filled with deltas of their own type and closed in index
 * order, each tool input a JSON object, message_delta then message_stop,
 * nothing after them or an error; pings anywhere after the start).  A Responses
 * stream (/v1/responses) is named events of increasing sequence_number,
 * response.created first and one completed, incomplete or failed event
 * last, and its JSON a Response whose usage adds up.  A Gemini answer
 * (/v1beta/models...) is Google's JSON, or a stream in the strict framing
 * Gemini CLI needs (fuzz_gemini_checks.h).  No mailbox,
 * window reference or in-flight count outlives its request.  Web pages
 * (web_guard.h): a request with a foreign Host (on loopback) or Origin runs
 * no model and gets 403; Access-Control-Allow-Origin is never "*", only
 * ever the request's own Origin, with Vary: Origin; a 204 (a preflight's
 * answer) has Allow and no body.
 */
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "fuzz_gemini_checks.h"
#include "gemini_reply.h"
#include "loopback.h"
#include "messages_reply.h"
#include "metrics_text.h"
#include "request_harness.h"
#include "responses_reply.h"
#include "web_guard.h"

/* The harness's responder allows no names or origins beyond the defaults. */
static const struct config default_config;

static bool
is_token_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_' || c == '.';
}

static void
check_error_object(const cJSON *object)
{
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(object, "error");
    FUZZ_CHECK(cJSON_IsObject(error));
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(error, "message");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(error, "type");
    const cJSON *param = cJSON_GetObjectItemCaseSensitive(error, "param");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
    FUZZ_CHECK(cJSON_IsString(message) && message->valuestring[0] != '\0');
    FUZZ_CHECK(cJSON_IsString(type));
    FUZZ_CHECK(cJSON_IsString(param) || cJSON_IsNull(param));
    FUZZ_CHECK(cJSON_IsString(code) || cJSON_IsNull(code));
}

/* The head said Prometheus's text format (GET /metrics): set by check_head. */
static bool head_metrics_text;

/* "Name: value" lines up to the empty line; returns the body's offset. */
static size_t
check_head(const struct http_request *req, const char *text, size_t len, int *status, bool *json,
           bool *event_stream)
{
    const char *end = memmem(text, len, "\r\n\r\n", 4);
    FUZZ_CHECK(end != NULL);
    size_t head_len = (size_t)(end - text) + 2;
    FUZZ_CHECK(len >= 13 && memcmp(text, "Status: ", 8) == 0);
    *status = atoi(text + 8);
    /* A stream's head says 200; what went wrong later is in its events. */
    FUZZ_CHECK(*status == (req->event_stream ? 200 : req->status));
    static const int known[] = { 200, 204, 400, 401, 403, 404, 405,
                                 413, 429, 500, 502, 503, 504, 529 };
    bool is_known = false;
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        is_known = is_known || known[i] == *status;
    FUZZ_CHECK(is_known);
    bool request_id_seen = false, allow_seen = false, vary_origin_seen = false;
    bool anthropic_id_seen = false;
    const char *allow_origin = NULL;
    size_t allow_origin_len = 0;
    *json = *event_stream = head_metrics_text = false;
    for (size_t at = 0; at < head_len;) {
        const char *line = text + at;
        const char *crlf = memmem(line, head_len - at, "\r\n", 2);
        FUZZ_CHECK(crlf != NULL);
        size_t line_len = (size_t)(crlf - line);
        const char *colon = memchr(line, ':', line_len);
        FUZZ_CHECK(colon != NULL && colon > line && colon[1] == ' ');
        for (const char *c = line; c < colon; c++)
            FUZZ_CHECK(is_token_char(*c));
        for (const char *c = colon + 1; c < crlf; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
        size_t name_len = (size_t)(colon - line);
        const char *value = colon + 2;
        size_t value_len = (size_t)(crlf - value);
        if (name_len == 12 && strncasecmp(line, "x-request-id", 12) == 0) {
            FUZZ_CHECK(value_len == strlen(req->request_id) &&
                       memcmp(value, req->request_id, value_len) == 0);
            request_id_seen = true;
        } else if (name_len == 10 && strncasecmp(line, "request-id", 10) == 0) {
            FUZZ_CHECK(value_len == strlen(req->request_id) &&
                       memcmp(value, req->request_id, value_len) == 0);
            anthropic_id_seen = true;
        } else if (name_len == 5 && strncasecmp(line, "Allow", 5) == 0) {
            allow_seen = true;
        } else if (name_len == 27 && strncasecmp(line, "Access-Control-Allow-Origin", 27) == 0) {
            FUZZ_CHECK(allow_origin == NULL);
            allow_origin = value;
            allow_origin_len = value_len;
        } else if (name_len == 4 && strncasecmp(line, "Vary", 4) == 0) {
            vary_origin_seen = value_len == 6 && memcmp(value, "Origin", 6) == 0;
        } else if (name_len == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
            *json = value_len == 16 && memcmp(value, "application/json", 16) == 0;
            *event_stream = value_len == 17 && memcmp(value, "text/event-stream", 17) == 0;
            head_metrics_text = value_len == strlen(METRICS_TEXT_CONTENT_TYPE) &&
                                memcmp(value, METRICS_TEXT_CONTENT_TYPE, value_len) == 0;
        }
        at += line_len + 2;
    }
    FUZZ_CHECK(request_id_seen && (*json || *event_stream || *status == 204 || head_metrics_text));
    /* Only /metrics answers in the text format, and only with a 200. */
    FUZZ_CHECK(!head_metrics_text || (*status == 200 && (strcmp(req->path, "/metrics") == 0 ||
                                                         strcmp(req->path, "/v1/metrics") == 0)));
    FUZZ_CHECK(anthropic_id_seen == (req->wire == &messages_wire_format));
    /* Only Anthropic's answers say 529. */
    FUZZ_CHECK(*status != 529 || req->wire == &messages_wire_format);
    FUZZ_CHECK(allow_seen == (*status == 405 || *status == 204));
    if (allow_origin != NULL) {
        const char *origin = http_param(req, "HTTP_ORIGIN");
        FUZZ_CHECK(origin != NULL && strlen(origin) == allow_origin_len &&
                   memcmp(origin, allow_origin, allow_origin_len) == 0);
        FUZZ_CHECK(web_origin_allowed(&default_config, origin) && vary_origin_seen);
    }
    return head_len + 2;
}

static void
check_json_body(int status, const char *body, size_t len)
{
    cJSON *parsed = cJSON_ParseWithLength(body, len);
    FUZZ_CHECK(cJSON_IsObject(parsed));
    if (status != 200) {
        check_error_object(parsed);
    } else {
        const cJSON *object = cJSON_GetObjectItemCaseSensitive(parsed, "object");
        if (cJSON_IsString(object) && strcmp(object->valuestring, "response") == 0) {
            const cJSON *state = cJSON_GetObjectItemCaseSensitive(parsed, "status");
            const cJSON *usage = cJSON_GetObjectItemCaseSensitive(parsed, "usage");
            const cJSON *input = cJSON_GetObjectItemCaseSensitive(usage, "input_tokens");
            const cJSON *output = cJSON_GetObjectItemCaseSensitive(usage, "output_tokens");
            const cJSON *total = cJSON_GetObjectItemCaseSensitive(usage, "total_tokens");
            FUZZ_CHECK(cJSON_IsString(state) && (strcmp(state->valuestring, "completed") == 0 ||
                                                 strcmp(state->valuestring, "incomplete") == 0));
            FUZZ_CHECK(cJSON_IsNumber(input) && cJSON_IsNumber(output) && cJSON_IsNumber(total));
            FUZZ_CHECK(input->valuedouble >= 0 && output->valuedouble >= 0 &&
                       total->valuedouble == input->valuedouble + output->valuedouble);
            FUZZ_CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(parsed, "output")));
        } else if (cJSON_IsString(object) &&
                   strcmp(object->valuestring, "response.input_tokens") == 0) {
            const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(parsed, "input_tokens");
            FUZZ_CHECK(cJSON_IsNumber(tokens) && tokens->valuedouble >= 0);
        } else if (cJSON_IsString(object) && strcmp(object->valuestring, "chat.completion") == 0) {
            const cJSON *usage = cJSON_GetObjectItemCaseSensitive(parsed, "usage");
            const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
            const cJSON *completion = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");
            const cJSON *total = cJSON_GetObjectItemCaseSensitive(usage, "total_tokens");
            FUZZ_CHECK(cJSON_IsNumber(prompt) && cJSON_IsNumber(completion) &&
                       cJSON_IsNumber(total));
            FUZZ_CHECK(prompt->valuedouble >= 0 && completion->valuedouble >= 0 &&
                       total->valuedouble == prompt->valuedouble + completion->valuedouble);
            const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(parsed,
                                                                                      "choices"),
                                                     0);
            FUZZ_CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(choice, "message")));
            FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(choice, "finish_reason")));
        }
    }
    cJSON_Delete(parsed);
}

/* The next event of an SSE body: from body[*at] to its blank line, which
 * must come (every event is complete); *at moves past it. */
static size_t
next_event(const char *body, size_t len, size_t *at, const char **event)
{
    *event = body + *at;
    const char *end = memmem(*event, len - *at, "\n\n", 2);
    FUZZ_CHECK(end != NULL); /* every event is complete */
    size_t event_len = (size_t)(end - *event);
    *at += event_len + 2;
    return event_len;
}

/* "event: NAME\ndata: DATA", one line each. */
struct named_event {
    const char *name, *data;
    size_t name_len, data_len;
};

static struct named_event
named_event_of(const char *event, size_t event_len)
{
    const char *end = event + event_len;
    const char *newline = memchr(event, '\n', event_len);
    FUZZ_CHECK(newline != NULL && event_len > 7 && memcmp(event, "event: ", 7) == 0);
    FUZZ_CHECK((size_t)(end - newline) > 7 && memcmp(newline, "\ndata: ", 7) == 0);
    FUZZ_CHECK(memchr(newline + 1, '\n', (size_t)(end - newline - 1)) == NULL);
    return (struct named_event){ .name = event + 7,
                                 .name_len = (size_t)(newline - event) - 7,
                                 .data = newline + 7,
                                 .data_len = (size_t)(end - newline - 7) };
}

static void
check_event_stream(const char *body, size_t len)
{
    char completion_id[160] = "";
    bool done = false, failed = false;
    size_t at = 0;
    while (at < len) {
        const char *event;
        size_t event_len = next_event(body, len, &at, &event);
        FUZZ_CHECK(memchr(event, '\n', event_len) == NULL);
        if (event_len == 12 && memcmp(event, ": keep-alive", 12) == 0)
            continue;
        FUZZ_CHECK(!done && !failed); /* nothing after [DONE] or an error */
        FUZZ_CHECK(event_len > 6 && memcmp(event, "data: ", 6) == 0);
        const char *data = event + 6;
        size_t data_len = event_len - 6;
        if (data_len == 6 && memcmp(data, "[DONE]", 6) == 0) {
            done = true;
            continue;
        }
        cJSON *chunk = cJSON_ParseWithLength(data, data_len);
        FUZZ_CHECK(cJSON_IsObject(chunk));
        if (cJSON_GetObjectItemCaseSensitive(chunk, "error") != NULL) {
            check_error_object(chunk);
            failed = true;
        } else {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(chunk, "id");
            const cJSON *object = cJSON_GetObjectItemCaseSensitive(chunk, "object");
            FUZZ_CHECK(cJSON_IsString(id) && strncmp(id->valuestring, "chatcmpl-", 9) == 0);
            FUZZ_CHECK(cJSON_IsString(object) &&
                       strcmp(object->valuestring, "chat.completion.chunk") == 0);
            if (completion_id[0] == '\0')
                snprintf(completion_id, sizeof completion_id, "%s", id->valuestring);
            FUZZ_CHECK(strcmp(completion_id, id->valuestring) == 0);
        }
        cJSON_Delete(chunk);
    }
}

/* ------------------------------------------------- Anthropic's shapes */

static bool
string_is(const cJSON *object, const char *field, const char *value)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, field);
    return cJSON_IsString(item) && strcmp(item->valuestring, value) == 0;
}

static bool
count_ok(const cJSON *object, const char *field)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, field);
    return cJSON_IsNumber(item) && item->valuedouble >= 0;
}

/* {"type":"error","error":{"type","message"}[,"request_id"]} */
static void
check_anthropic_error(const cJSON *object, const char *request_id)
{
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(object, "error");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(error, "message");
    FUZZ_CHECK(string_is(object, "type", "error") && cJSON_IsObject(error));
    FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(error, "type")));
    FUZZ_CHECK(cJSON_IsString(message) && message->valuestring[0] != '\0');
    if (request_id != NULL)
        FUZZ_CHECK(string_is(object, "request_id", request_id));
    else
        FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(object, "request_id") == NULL);
}

static void
check_usage(const cJSON *usage)
{
    FUZZ_CHECK(count_ok(usage, "input_tokens") && count_ok(usage, "output_tokens"));
}

/* A whole Message: typed blocks, a stop_reason, usage. */
static void
check_message(const cJSON *message)
{
    FUZZ_CHECK(string_is(message, "type", "message") && string_is(message, "role", "assistant"));
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(message, "id");
    FUZZ_CHECK(cJSON_IsString(id) && strncmp(id->valuestring, "msg_", 4) == 0);
    FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(message, "model")));
    const cJSON *block;
    cJSON_ArrayForEach(block, cJSON_GetObjectItemCaseSensitive(message, "content")) {
        if (string_is(block, "type", "text"))
            FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(block, "text")));
        else
            FUZZ_CHECK(string_is(block, "type", "tool_use") &&
                       cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(block, "input")));
    }
    FUZZ_CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(message, "content")));
    FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(message, "stop_reason")));
    check_usage(cJSON_GetObjectItemCaseSensitive(message, "usage"));
}

static void
check_anthropic_json(const struct http_request *req, int status, const char *body, size_t len)
{
    cJSON *parsed = cJSON_ParseWithLength(body, len);
    FUZZ_CHECK(cJSON_IsObject(parsed));
    if (status != 200)
        check_anthropic_error(parsed, req->request_id);
    else if (string_is(parsed, "type", "message"))
        check_message(parsed);
    else if (cJSON_GetObjectItemCaseSensitive(parsed, "input_tokens") != NULL)
        FUZZ_CHECK(count_ok(parsed, "input_tokens")); /* count_tokens */
    else if (cJSON_GetObjectItemCaseSensitive(parsed, "data") != NULL)
        FUZZ_CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(parsed, "has_more")));
    cJSON_Delete(parsed);
}

/* Where an Anthropic stream is: its order is a small state machine. */
struct anthropic_stream {
    bool started, block_open, delta_sent, stopped, failed;
    int blocks;       /* content blocks started */
    bool tool;        /* the open block is a tool_use */
    char input[4096]; /* its input so far (the harness's are short) */
    size_t input_len;
    bool input_overflow;
};

static void
check_anthropic_event(struct anthropic_stream *st, const char *name, const cJSON *data)
{
    FUZZ_CHECK(string_is(data, "type", name)); /* the event line names the data's type */
    FUZZ_CHECK(!st->stopped && !st->failed);   /* nothing after message_stop or an error */
    if (strcmp(name, "error") == 0) {
        check_anthropic_error(data, NULL);
        st->failed = true;
        return;
    }
    if (strcmp(name, "message_start") == 0) {
        FUZZ_CHECK(!st->started);
        st->started = true;
        const cJSON *message = cJSON_GetObjectItemCaseSensitive(data, "message");
        FUZZ_CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(message, "content")) == 0);
        FUZZ_CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(message, "stop_reason")));
        check_usage(cJSON_GetObjectItemCaseSensitive(message, "usage"));
        return;
    }
    FUZZ_CHECK(st->started);
    if (strcmp(name, "ping") == 0)
        return;
    const cJSON *index = cJSON_GetObjectItemCaseSensitive(data, "index");
    if (strcmp(name, "content_block_start") == 0) {
        FUZZ_CHECK(!st->block_open && !st->delta_sent);
        FUZZ_CHECK(cJSON_IsNumber(index) && index->valueint == st->blocks);
        const cJSON *block = cJSON_GetObjectItemCaseSensitive(data, "content_block");
        st->tool = string_is(block, "type", "tool_use");
        FUZZ_CHECK(st->tool || string_is(block, "type", "text"));
        st->blocks++;
        st->block_open = true;
        st->input_len = 0;
        st->input_overflow = false;
    } else if (strcmp(name, "content_block_delta") == 0) {
        FUZZ_CHECK(st->block_open && cJSON_IsNumber(index) && index->valueint == st->blocks - 1);
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(data, "delta");
        if (st->tool) {
            const cJSON *part = cJSON_GetObjectItemCaseSensitive(delta, "partial_json");
            FUZZ_CHECK(string_is(delta, "type", "input_json_delta") && cJSON_IsString(part));
            size_t part_len = strlen(part->valuestring);
            if (st->input_len + part_len < sizeof st->input) {
                memcpy(st->input + st->input_len, part->valuestring, part_len);
                st->input_len += part_len;
            } else {
                st->input_overflow = true;
            }
        } else {
            FUZZ_CHECK(string_is(delta, "type", "text_delta") &&
                       cJSON_IsString(cJSON_GetObjectItemCaseSensitive(delta, "text")));
        }
    } else if (strcmp(name, "content_block_stop") == 0) {
        FUZZ_CHECK(st->block_open && cJSON_IsNumber(index) && index->valueint == st->blocks - 1);
        if (st->tool && !st->input_overflow) {
            /* What a client parses at the block's end: one JSON object. */
            cJSON *input = cJSON_ParseWithLength(st->input, st->input_len);
            FUZZ_CHECK(cJSON_IsObject(input));
            cJSON_Delete(input);
        }
        st->block_open = false;
    } else if (strcmp(name, "message_delta") == 0) {
        FUZZ_CHECK(!st->block_open && !st->delta_sent);
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(data, "delta");
        FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(delta, "stop_reason")));
        check_usage(cJSON_GetObjectItemCaseSensitive(data, "usage"));
        st->delta_sent = true;
    } else {
        FUZZ_CHECK(strcmp(name, "message_stop") == 0 && st->delta_sent);
        st->stopped = true;
    }
}

/* "event: NAME\ndata: JSON\n\n" events. */
static void
check_anthropic_stream(const char *body, size_t len)
{
    struct anthropic_stream st;
    memset(&st, 0, sizeof st);
    size_t at = 0;
    while (at < len) {
        const char *event;
        size_t event_len = next_event(body, len, &at, &event);
        struct named_event named = named_event_of(event, event_len);
        char name[32];
        FUZZ_CHECK(named.name_len > 0 && named.name_len < sizeof name);
        memcpy(name, named.name, named.name_len);
        name[named.name_len] = '\0';
        cJSON *data = cJSON_ParseWithLength(named.data, named.data_len);
        FUZZ_CHECK(cJSON_IsObject(data));
        check_anthropic_event(&st, name, data);
        cJSON_Delete(data);
    }
    /* A stream the client saw to its end ends in message_stop or an error. */
    FUZZ_CHECK(st.stopped || st.failed);
}

/* A Responses stream: "event: TYPE\ndata: {JSON of that type}" blocks,
 * sequence_number 0, 1, 2...; response.created first (after nothing), the
 * same response id throughout, and one terminal event (completed,
 * incomplete or failed) last. */
static void
check_responses_stream(const char *body, size_t len)
{
    char response_id[160] = "";
    long sequence = 0;
    bool ended = false;
    size_t at = 0;
    while (at < len) {
        FUZZ_CHECK(!ended); /* nothing after the terminal event */
        const char *event;
        size_t event_len = next_event(body, len, &at, &event);
        struct named_event named = named_event_of(event, event_len);
        cJSON *data = cJSON_ParseWithLength(named.data, named.data_len);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(data, "type");
        const cJSON *number = cJSON_GetObjectItemCaseSensitive(data, "sequence_number");
        FUZZ_CHECK(cJSON_IsString(type) && cJSON_IsNumber(number));
        FUZZ_CHECK(strlen(type->valuestring) == named.name_len &&
                   memcmp(type->valuestring, named.name, named.name_len) == 0);
        FUZZ_CHECK(number->valuedouble == (double)sequence);
        FUZZ_CHECK((sequence == 0) == (strcmp(type->valuestring, "response.created") == 0));
        sequence++;
        const cJSON *response = cJSON_GetObjectItemCaseSensitive(data, "response");
        if (response != NULL) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(response, "id");
            FUZZ_CHECK(cJSON_IsString(id) && strncmp(id->valuestring, "resp_", 5) == 0);
            if (response_id[0] == '\0')
                snprintf(response_id, sizeof response_id, "%s", id->valuestring);
            FUZZ_CHECK(strcmp(response_id, id->valuestring) == 0);
            FUZZ_CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(response, "output")));
        }
        ended = strcmp(type->valuestring, "response.completed") == 0 ||
                strcmp(type->valuestring, "response.incomplete") == 0 ||
                strcmp(type->valuestring, "response.failed") == 0;
        cJSON_Delete(data);
    }
    FUZZ_CHECK(ended);
}

/* A web page the guard refuses never makes the model run. */
static void
check_web_guard(const struct http_request *req, const struct harness_result *result, int status)
{
    const char *host = http_param(req, "HTTP_HOST");
    const char *origin = http_param(req, "HTTP_ORIGIN");
    bool foreign_host = host != NULL && loopback_address(http_param(req, "SERVER_ADDR")) &&
                        !web_host_allowed(&default_config, host);
    bool foreign_origin = origin != NULL && !web_origin_allowed(&default_config, origin);
    if (foreign_host || foreign_origin)
        FUZZ_CHECK(status == 403 && result->frames_sent == 0);
}

static void
check_response(const struct harness_result *result)
{
    const struct http_request *req = result->req;
    const char *text = result->response;
    size_t len = result->len;
    /* Every request is answered, unless its client left. */
    FUZZ_CHECK(req->head_sent || req->client_gone);
    FUZZ_CHECK(result->frames_sent <= 1);
    /* A failed write is noticed by the write that flushes it. */
    if (result->gone_while_handled)
        FUZZ_CHECK(req->client_gone);
    if (result->gone)
        return;
    FUZZ_CHECK(req->head_sent && !req->client_gone);
    int status;
    bool json, event_stream;
    size_t body_at = check_head(req, text, len, &status, &json, &event_stream);
    FUZZ_CHECK(event_stream == req->event_stream);
    const char *body = text + body_at;
    size_t body_len = len - body_at;
    FUZZ_CHECK(fuzz_valid_utf8(body, body_len));
    check_web_guard(req, result, status);
    bool anthropic = req->wire == &messages_wire_format;
    if (status == 204)
        FUZZ_CHECK(body_len == 0);
    else if (head_metrics_text)
        FUZZ_CHECK(body_len > 0 && body[body_len - 1] == '\n'); /* whole lines */
    else if (req->wire == &gemini_wire_format && json)
        fuzz_check_gemini_json(status, body, body_len);
    else if (req->wire == &gemini_wire_format)
        fuzz_check_gemini_stream(body, body_len);
    else if (json && anthropic)
        check_anthropic_json(req, status, body, body_len);
    else if (json)
        check_json_body(status, body, body_len);
    else if (anthropic)
        check_anthropic_stream(body, body_len);
    else if (req->wire == &responses_wire_format)
        check_responses_stream(body, body_len);
    else
        check_event_stream(body, body_len);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    request_harness_init();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    request_harness_run(data, size, check_response);
    return 0;
}
