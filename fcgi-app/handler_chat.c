/*
 * POST /v1/chat/completions: validate, pick a window, send it the request
 * frame, then relay its frames to the client as they arrive (SSE) or as one
 * object at the end.  One loop waits for the window's frames, the client's
 * hang-up, the silence deadline and shutdown, whichever comes first.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "chat_reply.h"
#include "chat_request.h"
#include "handlers.h"
#include "inflight.h"
#include "ratelimit_policy.h"
#include "log.h"
#include "openai_error.h"
#include "pipe_conn.h"
#include "router.h"
#include "sse.h"
#include "stop_cutter.h"
#include "token_estimate.h"

#define NO_WINDOW_MESSAGE \
    "No VS Code window is connected to the gateway. Open VS Code and run " \
    "'VSCode LiteLLM: Start LM Proxy Server' (Ctrl+Shift+L S)."

struct chat_exchange {
    struct http_request *req;
    const struct config *cfg;
    struct request_outcome *outcome;
    struct chat_request chat;
    struct router_pick pick;
    struct chat_reply reply;
    struct inflight *box;
    long prompt_tokens;         /* estimated before dispatch */
    struct stop_cutter stops;   /* the request's `stop` sequences */
    struct dynbuf sendable;     /* a delta's text once stop sequences are cut */
    size_t sent_bytes;          /* reply text sent or collected so far */
    size_t byte_budget;         /* from max_tokens; 0: no cap */
    const char *cut_reason;     /* "stop" or "length" once the responder ends it */
    bool finished;              /* the response is complete (or failed) */
    bool cancel_window;         /* tell the window to stop working on it */
};

static const char *
frame_string(const cJSON *frame, const char *field)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(frame, field);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

static long
frame_count(const cJSON *object, const char *field)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(object, field);
    if (!cJSON_IsNumber(value) || value->valuedouble < 0 || value->valuedouble > 1e12)
        return -1;
    return (long)value->valuedouble;
}

/* Streaming: the head goes out with the first frame, so that a window that
 * fails at once still produces a proper HTTP status. */
static int
stream_begin(struct chat_exchange *ex)
{
    if (ex->req->head_sent)
        return 0;
    if (sse_begin(ex->req, NULL) != 0 || chat_reply_chunk_role(&ex->reply) != 0)
        return -1;
    return sse_send_data(ex->req, ex->reply.chunk.data, ex->reply.chunk.len);
}

static int
send_chunk(struct chat_exchange *ex, int built)
{
    if (built != 0)
        return -1;
    return sse_send_data(ex->req, ex->reply.chunk.data, ex->reply.chunk.len);
}

static void
fail(struct chat_exchange *ex, int status, const char *code, const char *message)
{
    /* VS Code's Blocked carries no retry time; a short one keeps SDKs that
     * honour Retry-After from hammering a spent quota. */
    const char *headers = status == 429 ? "Retry-After: 10\r\nretry-after-ms: 10000\r\n"
                        : status == 403 ? "x-should-retry: false\r\n" : NULL;
    http_send_error(ex->req, status, headers, code, NULL, "%s", message);
    ex->outcome->note = code;
    ex->finished = true;
}

/* The largest length <= len that does not split a UTF-8 character. */
static size_t
utf8_floor(const char *text, size_t len)
{
    while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
        len--;
    return len;
}

/* Sends (or collects) reply text, cutting it at the max_tokens budget. */
static void
emit_text(struct chat_exchange *ex, const char *text, size_t len)
{
    if (ex->byte_budget > 0 && len > ex->byte_budget - ex->sent_bytes) {
        len = utf8_floor(text, ex->byte_budget - ex->sent_bytes);
        ex->cut_reason = "length";
    }
    if (len == 0)
        return;
    ex->sent_bytes += len;
    if (!ex->chat.stream) {
        if (chat_reply_add_text(&ex->reply, text, len) != 0) {
            fail(ex, 502, "reply_too_large", "The model's reply is larger than this gateway keeps.");
            ex->cancel_window = true;
        }
        return;
    }
    if (stream_begin(ex) != 0 ||
        send_chunk(ex, chat_reply_chunk_content(&ex->reply, text, len)) != 0)
        ex->cancel_window = true;   /* the client is gone */
}

static void complete(struct chat_exchange *ex, const char *finish_reason, const cJSON *counted);

static void
on_delta(struct chat_exchange *ex, const cJSON *frame)
{
    const char *text = frame_string(frame, "text");
    if (text == NULL || *text == '\0')
        return;
    size_t len = strlen(text);
    if (!stop_cutter_active(&ex->stops)) {
        emit_text(ex, text, len);   /* the common case: no copy */
    } else {
        dynbuf_reset(&ex->sendable);
        int stopped = stop_cutter_feed(&ex->stops, text, len, &ex->sendable);
        if (stopped < 0) {
            fail(ex, 502, "reply_too_large", "The model's reply is larger than this gateway keeps.");
            ex->cancel_window = true;
            return;
        }
        emit_text(ex, ex->sendable.data, ex->sendable.len);
        if (stopped && ex->cut_reason == NULL)
            ex->cut_reason = "stop";
    }
    /* The responder ends the reply itself: the window's work is done. */
    if (ex->cut_reason != NULL && !ex->finished) {
        complete(ex, ex->cut_reason, NULL);
        ex->cancel_window = true;
    }
}

static void
on_tool_call(struct chat_exchange *ex, const cJSON *frame)
{
    const char *call_id = frame_string(frame, "call_id");
    const char *name = frame_string(frame, "name");
    const char *arguments = frame_string(frame, "arguments");
    if (call_id == NULL || name == NULL) {
        log_warn("request %s: window sent a tool_call without call_id or name", ex->req->request_id);
        return;
    }
    if (arguments == NULL)
        arguments = "{}";
    if (!ex->chat.stream) {
        if (chat_reply_add_tool_call(&ex->reply, call_id, name, arguments) != 0) {
            fail(ex, 502, "reply_too_large", "The model's reply is larger than this gateway keeps.");
            ex->cancel_window = true;
        }
        return;
    }
    if (stream_begin(ex) != 0 ||
        send_chunk(ex, chat_reply_chunk_tool_call(&ex->reply, call_id, name)) != 0 ||
        send_chunk(ex, chat_reply_chunk_tool_arguments(&ex->reply, arguments)) != 0)
        ex->cancel_window = true;
}

static const char *
finish_reason_of(const struct chat_exchange *ex, const cJSON *frame)
{
    const char *given = frame_string(frame, "finish_reason");
    static const char *const known[] = { "stop", "length", "tool_calls", "content_filter" };
    for (size_t i = 0; given && i < sizeof known / sizeof *known; i++)
        if (strcmp(given, known[i]) == 0)
            return known[i];
    return ex->reply.tool_call_count > 0 ? "tool_calls" : "stop";
}

/* Ends the reply: the finish chunk, usage and [DONE], or the whole
 * object.  `counted` is the window's usage, NULL when the responder cut
 * the reply short and only estimates exist. */
static void
complete(struct chat_exchange *ex, const char *finish_reason, const cJSON *counted)
{
    struct chat_usage usage = {
        .prompt_tokens = frame_count(counted, "prompt_tokens"),
        .completion_tokens = frame_count(counted, "completion_tokens"),
    };
    /* Windows count with the model's own tokenizer; estimate only if not. */
    if (usage.prompt_tokens < 0)
        usage.prompt_tokens = ex->prompt_tokens;
    if (usage.completion_tokens < 0)
        usage.completion_tokens = chat_tokens_estimate(ex->reply.completion_bytes);
    if (ex->chat.max_tokens > 0 && usage.completion_tokens > ex->chat.max_tokens &&
        strcmp(finish_reason, "length") == 0)
        usage.completion_tokens = ex->chat.max_tokens;
    ex->outcome->prompt_tokens = usage.prompt_tokens;
    ex->outcome->completion_tokens = usage.completion_tokens;
    ex->finished = true;

    if (!ex->chat.stream) {
        if (ex->chat.response_format != NULL && !chat_reply_unwrap_json(&ex->reply))
            log_warn("request %s: asked for %s, but the model's reply is not JSON",
                     ex->req->request_id, ex->chat.response_format);
        if (chat_reply_completion(&ex->reply, finish_reason, &usage) != 0) {
            fail(ex, 500, "internal_error", "Out of memory while building the reply.");
            return;
        }
        http_send_body(ex->req, 200, "application/json", NULL, ex->reply.chunk.data,
                       ex->reply.chunk.len);
        return;
    }
    if (stream_begin(ex) != 0 ||
        send_chunk(ex, chat_reply_chunk_finish(&ex->reply, finish_reason)) != 0 ||
        (ex->chat.include_usage && send_chunk(ex, chat_reply_chunk_usage(&ex->reply, &usage)) != 0))
        return;
    sse_send_done(ex->req);
}

static void
on_done(struct chat_exchange *ex, const cJSON *frame)
{
    /* Text held back because it might have begun a stop sequence. */
    dynbuf_reset(&ex->sendable);
    if (stop_cutter_flush(&ex->stops, &ex->sendable) == 0)
        emit_text(ex, ex->sendable.data, ex->sendable.len);
    if (ex->finished)
        return;
    const char *finish_reason = ex->cut_reason ? ex->cut_reason : finish_reason_of(ex, frame);
    complete(ex, finish_reason, cJSON_GetObjectItemCaseSensitive(frame, "usage"));
}

static void
on_window_error(struct chat_exchange *ex, const cJSON *frame)
{
    const char *code = frame_string(frame, "code");
    const char *message = frame_string(frame, "message");
    static const struct {
        const char *window_code;
        int status;
        const char *api_code;
        const char *fallback;
    } mapping[] = {
        { "no_permissions", 403, "no_permissions",
          "VS Code did not allow this extension to use the model. Run 'VSCode LiteLLM: Start LM "
          "Proxy Server' in VS Code and accept the access request." },
        { "not_found", 404, "model_not_found", "VS Code no longer offers this model." },
        { "rate_limited", 429, "rate_limit_exceeded",
          "VS Code blocked the request: the model's quota is used up for now." },
        { "cancelled", 502, "cancelled", "The model call was cancelled in VS Code." },
    };
    for (size_t i = 0; i < sizeof mapping / sizeof *mapping; i++) {
        if (code != NULL && strcmp(code, mapping[i].window_code) == 0) {
            fail(ex, mapping[i].status, mapping[i].api_code,
                 message && *message ? message : mapping[i].fallback);
            return;
        }
    }
    char text[1024];
    snprintf(text, sizeof text, "The model call failed in VS Code: %s",
             message && *message ? message : "no reason given");
    fail(ex, 502, "upstream_error", text);
}

static void
on_frame(struct chat_exchange *ex, cJSON *frame)
{
    const char *type = frame_string(frame, "type");
    if (type == NULL)
        return;
    if (strcmp(type, "delta") == 0)
        on_delta(ex, frame);
    else if (strcmp(type, "tool_call") == 0)
        on_tool_call(ex, frame);
    else if (strcmp(type, "done") == 0)
        on_done(ex, frame);
    else if (strcmp(type, "error") == 0)
        on_window_error(ex, frame);
}

/* Relays the window's frames until the reply is complete or cannot be. */
static void
relay(struct chat_exchange *ex)
{
    struct http_request *req = ex->req;
    const long long silence_limit_us = (long long)ex->cfg->request_timeout * 1000000;
    const long long keepalive_us = (long long)ex->cfg->keepalive_interval * 1000000;
    long long last_frame_us = clock_monotonic_us();
    long long last_write_us = last_frame_us;

    while (!ex->finished && !ex->cancel_window) {
        long long now = clock_monotonic_us();
        long long wait_us = last_frame_us + silence_limit_us - now;
        if (req->head_sent && last_write_us + keepalive_us - now < wait_us)
            wait_us = last_write_us + keepalive_us - now;
        if (wait_us < 0)
            wait_us = 0;
        struct pollfd fds[2] = {
            { .fd = inflight_fd(ex->box), .events = POLLIN },
            { .fd = req->fcgi->ipcFd, .events = POLLIN | POLLRDHUP },
        };
        int ready = poll(fds, req->peer_watch ? 2 : 1, (int)((wait_us + 999) / 1000));
        if (ready < 0 && errno != EINTR) {
            fail(ex, 500, "internal_error", "poll() failed while waiting for the model.");
            ex->cancel_window = true;
            break;
        }
        now = clock_monotonic_us();
        if (req->peer_watch && fds[1].revents != 0 && http_client_hung_up(req))
            break;

        enum inflight_event event;
        cJSON *frame;
        while (!ex->finished && !ex->cancel_window && inflight_pop(ex->box, &event, &frame)) {
            last_frame_us = now;
            if (event == INFLIGHT_FRAME) {
                on_frame(ex, frame);
                if (req->head_sent)
                    last_write_us = now;
            } else if (event == INFLIGHT_WINDOW_LOST) {
                fail(ex, 502, "vscode_disconnected",
                     "The VS Code window serving this request disconnected (closed, reloaded, or "
                     "the server was stopped) before the reply was complete.");
            } else {
                fail(ex, 503, "server_shutting_down",
                     "The gateway is shutting down; retry in a moment.");
                ex->cancel_window = true;
            }
            cJSON_Delete(frame);
        }
        if (ex->finished || ex->cancel_window)
            break;
        if (now - last_frame_us >= silence_limit_us) {
            char message[160];
            snprintf(message, sizeof message,
                     "The model sent nothing for %u seconds (--request-timeout); the request was "
                     "cancelled.", ex->cfg->request_timeout);
            fail(ex, 504, "timeout", message);
            ex->cancel_window = true;
        } else if (req->head_sent && now - last_write_us >= keepalive_us) {
            if (sse_send_keepalive(req) != 0)
                break;
            last_write_us = now;
        }
    }
    if (req->client_gone) {
        ex->cancel_window = true;
        ex->outcome->note = "client gone";
        if (req->status == 0 || req->status == 200)
            req->status = 499;  /* nginx's "client closed request" */
    }
}

/* Refuses what must not reach VS Code: a model the key may not use, a
 * prompt over the model's context.  0: go on; -1: answered. */
static int
check_request_fits(struct chat_exchange *ex, const struct auth_identity *identity)
{
    struct http_request *req = ex->req;
    if (!auth_allows_model(identity, ex->pick.model_id, ex->pick.family)) {
        ratelimit_policy_add_idle_headers(req, identity);
        http_send_error(req, 403, "x-should-retry: false\r\n", "model_not_allowed", "model",
                        "The API key '%s' may not use the model '%s'.", identity->name,
                        ex->pick.model_id);
        return -1;
    }
    if (ex->chat.has_images && ex->pick.image_input == ROUTER_CAPABILITY_NO) {
        ratelimit_policy_add_idle_headers(req, identity);
        http_send_error(req, 400, "x-should-retry: false\r\n", "image_input_not_supported",
                        "messages",
                        "The model '%s' does not accept images; remove the image parts or choose "
                        "a model that does.", ex->pick.model_id);
        return -1;
    }
    enum token_family family = token_family_of(*ex->pick.family ? ex->pick.family
                                                                : ex->pick.model_id);
    ex->prompt_tokens = token_estimate_messages(ex->chat.messages, family) +
                        token_estimate_tools(ex->chat.tools, family);
    /* VS Code's own figure for the model wins over the family's. */
    long context = ex->pick.max_input_tokens > 0 ? ex->pick.max_input_tokens
                                                 : token_context_limit(family);
    if (ex->prompt_tokens > context) {
        ratelimit_policy_add_idle_headers(req, identity);
        http_send_error(req, 400, "x-should-retry: false\r\n", "context_length_exceeded",
                        "messages",
                        "This model's maximum context length is %ld tokens. However, your "
                        "messages resulted in about %ld tokens (estimated). Please reduce the "
                        "length of the messages.", context, ex->prompt_tokens);
        return -1;
    }
    return 0;
}

/* Tokens the reply really cost, or our best estimate if it never ended. */
static long
tokens_used(const struct chat_exchange *ex)
{
    if (ex->outcome->prompt_tokens > 0 || ex->outcome->completion_tokens > 0)
        return ex->outcome->prompt_tokens + ex->outcome->completion_tokens;
    return ex->prompt_tokens + chat_tokens_estimate(ex->reply.completion_bytes);
}

/* Sends the request to the window and relays its reply. */
static void
serve(struct chat_exchange *ex)
{
    struct http_request *req = ex->req;
    stop_cutter_init(&ex->stops);
    dynbuf_init(&ex->sendable, 64u << 20);
    if (ex->chat.max_tokens > 0)
        ex->byte_budget = (size_t)ex->chat.max_tokens * CHAT_BYTES_PER_TOKEN;
    bool stops_ok = true;
    if (cJSON_IsString(ex->chat.stop)) {
        stops_ok = stop_cutter_add(&ex->stops, ex->chat.stop->valuestring) == 0;
    } else {
        const cJSON *sequence;
        cJSON_ArrayForEach(sequence, ex->chat.stop)
            stops_ok = stops_ok && stop_cutter_add(&ex->stops, sequence->valuestring) == 0;
    }

    cJSON *frame = NULL;
    if (!stops_ok ||
        chat_reply_init(&ex->reply, req->request_id, ex->pick.model_id, ex->chat.include_usage,
                        ex->chat.legacy_functions, ex->cfg->max_body * 4) != 0 ||
        (ex->box = inflight_open(req->request_id, ex->pick.conn)) == NULL ||
        (frame = chat_request_frame(&ex->chat, req->request_id, ex->pick.model_id)) == NULL) {
        http_send_error(req, 500, NULL, "internal_error", NULL, "Out of memory.");
    } else if (pipe_conn_send(ex->pick.conn, frame) != 0) {
        http_send_error(req, 502, NULL, "vscode_unreachable", NULL,
                        "The request could not be sent to the VS Code window; it may have just "
                        "closed. Retry.");
    } else {
        log_debug("request %s: sent to window #%lu as %s", req->request_id,
                  ex->pick.conn->serial, ex->pick.model_id);
        relay(ex);
        if (ex->cancel_window)
            pipe_conn_send_cancel(ex->pick.conn, req->request_id);
    }
    cJSON_Delete(frame);
    stop_cutter_free(&ex->stops);
    dynbuf_free(&ex->sendable);
    inflight_close(ex->box);
    chat_reply_free(&ex->reply);
}

void
handle_chat_completions(struct http_request *req, const struct config *cfg,
                        const struct auth_identity *identity, struct request_outcome *outcome)
{
    int body = http_read_body(req, cfg->max_body);
    if (body == HTTP_BODY_TOO_BIG) {
        ratelimit_policy_add_idle_headers(req, identity);
        http_send_error(req, 413, NULL, "request_too_large", NULL,
                        "The request body is larger than %zu bytes (--max-body).", cfg->max_body);
        return;
    }
    if (body != HTTP_BODY_OK) {
        ratelimit_policy_add_idle_headers(req, identity);
        http_send_error(req, 400, NULL, "invalid_body", NULL, "The request body could not be read.");
        return;
    }

    struct chat_exchange ex = { .req = req, .cfg = cfg, .outcome = outcome };
    struct api_error err;
    if (chat_request_parse(req->body.data ? req->body.data : "", req->body.len, &ex.chat, &err) != 0) {
        ratelimit_policy_add_idle_headers(req, identity);
        http_send_error(req, err.status, NULL, err.code, err.param[0] ? err.param : NULL, "%s",
                        err.message);
        chat_request_free(&ex.chat);
        return;
    }

    struct dynbuf available;
    dynbuf_init(&available, 1u << 16);
    int routed = router_resolve(config_model_alias(cfg, ex.chat.model), &ex.pick, &available);
    if (routed == ROUTER_NO_WINDOWS) {
        ratelimit_policy_add_idle_headers(req, identity);
        http_send_error(req, 503, NULL, "no_vscode_connected", NULL, NO_WINDOW_MESSAGE);
    } else if (routed == ROUTER_UNKNOWN_MODEL) {
        ratelimit_policy_add_idle_headers(req, identity);
        http_send_error(req, 404, NULL, "model_not_found", "model",
                        "The model '%s' does not exist or no connected VS Code window offers it. "
                        "Available models: %s.", ex.chat.model ? ex.chat.model : "(default)",
                        available.len ? available.data : "none");
    } else if (routed != ROUTER_OK) {
        ratelimit_policy_add_idle_headers(req, identity);
        http_send_error(req, 500, NULL, "internal_error", NULL, "Out of memory.");
    }
    dynbuf_free(&available);
    if (routed != ROUTER_OK) {
        chat_request_free(&ex.chat);
        return;
    }
    snprintf(outcome->model, sizeof outcome->model, "%s", ex.pick.model_id);
    outcome->window = ex.pick.conn->serial;

    if (check_request_fits(&ex, identity) == 0) {
        long reserve = ex.prompt_tokens +
                       (ex.chat.max_tokens > 0 ? ex.chat.max_tokens : cfg->default_completion_tokens);
        struct limit_request limits;
        bool limited = ratelimit_policy_prepare(&limits, req->request_id, identity,
                                             ex.pick.model_id, ex.pick.family, reserve);
        if (!limited) {
            serve(&ex);
        } else if (ratelimit_policy_admit(&limits, req) == 0) {
            serve(&ex);
            ratelimit_policy_finish(&limits, tokens_used(&ex));
        } else {
            outcome->note = req->status == 499 ? "client gone while queued"
                          : req->status == 503 ? "server_shutting_down" : "rate limited";
        }
    }
    chat_request_free(&ex.chat);
    router_release(&ex.pick);
}
