/*
 * A model call, whatever the wire API (POST /v1/chat/completions,
 * /v1/messages, ...): the orchestration of one request, in the order it
 * runs:
 *
 *   read the body -> parse it into the normalised request (the route's
 *   wire_format: chat_request, ...) -> route it to a window (router) ->
 *   check it fits (the key's models, images, the context) -> admit it
 *   (ratelimit_policy) -> send the request frame (pipe_conn) -> relay: the
 *   window's frames into the core (reply_core), whose events the writer
 *   (reply_writer) renders in the route's format (chat_reply, ...) and the
 *   finisher (respond) sends.
 *
 * Every refusal is one api_error, answered in one place.  The relay is the
 * request's only loop: it waits for the window's frames, the client's
 * hang-up, the silence deadline, the heartbeat and the drain, whichever
 * comes first (http_wait).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_request.h"
#include "clock.h"
#include "handlers.h"
#include "inflight.h"
#include "log.h"
#include "pipe_conn.h"
#include "pipe_session.h"
#include "prompt_count.h"
#include "ratelimit_policy.h"
#include "reply_core.h"
#include "reply_writer.h"
#include "respond.h"
#include "router.h"
#include "stack_trim.h"
#include "token_estimate.h"
#include "usage_policy.h"

#define NO_WINDOW_MESSAGE                                                  \
    "No VS Code window is connected to the gateway. Open VS Code and run " \
    "'VSCode LiteLLM: Start LM Proxy Server' (Ctrl+Shift+L S)."

/* What a reply may hold while it is collected for a non-streamed answer,
 * in multiples of --max-body. */
#define REPLY_BODY_FACTOR 4
#define REPLY_TEXT_MAX (64u << 20)

/* Request bodies up to this size make frames the socket takes at once. */
#define PIPE_LEAD_BEFORE_SEND_MAX (32 * 1024)

struct chat_exchange {
    struct http_request *req;
    const struct config *cfg;
    const struct auth_identity *identity;
    struct request_outcome *outcome;
    const struct wire_format *format; /* the route's API */
    struct chat_request chat;         /* the normalised request */
    struct router_pick pick;
    long prompt_tokens; /* estimated before dispatch */
    void *reply;        /* the renderer's state, format->reply_size bytes */
    struct reply_writer writer;
    struct reply_core core;
    struct inflight *box;
    struct pipe_session *lead; /* the window's read token, while we hold it */
};

/* --------------------------------------------------- before dispatch */

static int
read_and_parse(struct chat_exchange *ex, const struct request_context *ctx, struct api_error *err)
{
    if (prompt_read(ex->req, ex->cfg->max_body, ex->format->parse, &ex->chat, err) != 0)
        return -1;
    /* Gemini names the model and the streaming in the path. */
    if (ctx->path_model != NULL) {
        ex->chat.model = ctx->path_model;
        ex->chat.stream = ctx->path_stream;
    }
    /* A model call from here on, counted in usage whatever follows. */
    ex->outcome->model_call = true;
    snprintf(ex->outcome->requested_model, sizeof ex->outcome->requested_model, "%s",
             ex->chat.model ? ex->chat.model : "default");
    return 0;
}

static int
route(struct chat_exchange *ex, struct api_error *err)
{
    const char *requested = ex->chat.model;
    struct dynbuf available;
    dynbuf_init(&available, 1u << 16);
    int routed = router_resolve(config_model_alias(ex->cfg, requested), &ex->pick, &available);
    if (routed == ROUTER_NO_WINDOWS)
        api_error_set(err, 503, "no_vscode_connected", NULL, NO_WINDOW_MESSAGE);
    else if (routed == ROUTER_UNKNOWN_MODEL)
        api_error_set(err, 404, "model_not_found", "model",
                      "The model '%.200s' does not exist or no connected VS Code window offers "
                      "it. Available models: %s.",
                      requested ? requested : "(default)", available.len ? available.data : "none");
    else if (routed != ROUTER_OK)
        api_error_set(err, 500, "internal_error", NULL, "Out of memory.");
    dynbuf_free(&available);
    if (routed != ROUTER_OK)
        return -1;
    snprintf(ex->outcome->model, sizeof ex->outcome->model, "%s", ex->pick.model_id);
    ex->outcome->window = ex->pick.conn->serial;
    return 0;
}

/* What must not reach VS Code: a model the key may not use, images for a
 * model without image input, a prompt over the model's context. */
static int
check_fits(struct chat_exchange *ex, struct api_error *err)
{
    const struct router_pick *pick = &ex->pick;
    const char *conversation = ex->format->conversation_param ? ex->format->conversation_param
                                                              : "messages";
    if (!auth_allows_model(ex->identity, pick->model_id, pick->family)) {
        api_error_set(err, 403, "model_not_allowed", "model",
                      "The API key '%s' may not use the model '%s'.", ex->identity->name,
                      pick->model_id);
    } else if (ex->chat.has_images && pick->image_input == ROUTER_CAPABILITY_NO) {
        api_error_set(err, 400, "image_input_not_supported", conversation,
                      "The model '%s' does not accept images; remove the image parts or choose "
                      "a model that does.",
                      pick->model_id);
    } else {
        enum token_family family = token_family_of(*pick->family ? pick->family : pick->model_id);
        ex->prompt_tokens = token_estimate_messages(ex->chat.messages, family) +
                            token_estimate_tools(ex->chat.tools, family);
        /* VS Code's own figure for the model wins over the family's. */
        long context = pick->max_input_tokens > 0 ? pick->max_input_tokens
                                                  : token_context_limit(family);
        if (ex->prompt_tokens <= context)
            return 0;
        api_error_set(err, 400, "context_length_exceeded", conversation,
                      "This model's maximum context length is %ld tokens. However, your %s "
                      "resulted in about %ld tokens (estimated). Please reduce the length of the "
                      "%s.",
                      context, conversation, ex->prompt_tokens, conversation);
    }
    api_error_add_header(err, "x-should-retry", "false");
    return -1;
}

/* ------------------------------------------------------------ relay */

/* Out of line, like admit(): its api_error is on the stack only when
 * something fails. */
static __attribute__((noinline, cold)) void
fail(struct chat_exchange *ex, int status, const char *code, bool cancel_window, const char *message)
{
    struct api_error err;
    api_error_set(&err, status, code, NULL, "%s", message);
    reply_core_fail(&ex->core, &err, cancel_window);
}

/* The model's first text or tool call, for the time-to-first-token metric. */
static void
note_first_token(struct request_outcome *outcome, const cJSON *frame)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(frame, "type");
    if (cJSON_IsString(type) &&
        (strcmp(type->valuestring, "delta") == 0 || strcmp(type->valuestring, "tool_call") == 0))
        outcome->first_token_us = clock_monotonic_us();
}

/* Hands the mailbox's frames (and a lost window) to the core; how many. */
static unsigned
take_frames(struct chat_exchange *ex)
{
    enum inflight_event event;
    cJSON *frame;
    unsigned taken = 0;
    while (!ex->core.finished && inflight_pop(ex->box, &event, &frame)) {
        taken++;
        if (event == INFLIGHT_FRAME && ex->outcome->first_token_us == 0)
            note_first_token(ex->outcome, frame);
        if (event == INFLIGHT_FRAME)
            reply_core_frame(&ex->core, frame);
        else
            fail(ex, 502, "vscode_disconnected", false,
                 "The VS Code window serving this request disconnected (closed, reloaded, or "
                 "the server was stopped) before the reply was complete.");
        cJSON_Delete(frame);
    }
    return taken;
}

/* Waits for the window's frames, reading the pipe itself when no other
 * thread does (pipe_session.h: leader/follower), so that its own reply
 * needs no other thread woken.  The token goes back before anything is
 * written to the client. */
static enum http_wait_result
wait_for_window(struct chat_exchange *ex, long long wait_us)
{
    struct pipe_session *lead = ex->lead != NULL ? ex->lead : pipe_session_lead(ex->pick.conn);
    ex->lead = NULL;
    if (lead == NULL) {
        int fd = inflight_fd(ex->box);
        if (fd >= 0)
            return http_wait(ex->req, fd, wait_us);
        fail(ex, 500, "internal_error", true, "Out of file descriptors.");
        return HTTP_WAIT_TIMEOUT;
    }
    /* While we hold the token only we deliver frames, and a lost window is
     * told after the token comes back: the socket is all there is to watch. */
    inflight_quiet(ex->box, true);
    long long deadline_us = clock_monotonic_us() + wait_us;
    enum http_wait_result woke = HTTP_WAIT_READY;
    while (!inflight_pending(ex->box)) {
        woke = http_wait(ex->req, pipe_session_fd(lead), deadline_us - clock_monotonic_us());
        if (woke != HTTP_WAIT_READY || !pipe_session_pump(lead) ||
            clock_monotonic_us() >= deadline_us)
            break; /* frames for other requests only: deliver them and wait on */
    }
    inflight_quiet(ex->box, false);
    pipe_session_release(lead);
    return woke;
}

/* Relays the window's frames until the reply is complete or cannot be.  A
 * streamed reply whose model is silent gets a heartbeat every
 * --keepalive-interval, before its first token too. */
static void
relay(struct chat_exchange *ex)
{
    struct http_request *req = ex->req;
    const long long silence_limit_us = (long long)ex->cfg->request_timeout * 1000000;
    const long long keepalive_us = (long long)ex->cfg->keepalive_interval * 1000000;
    /* A format whose clients cannot see an error inside the stream holds
     * its head a short while only (wire_format.h's short_head_wait): long
     * enough that a quick failure keeps its status, short enough that a
     * silent model's client gets its head early. */
    const long long head_wait_us = ex->format->short_head_wait
                                       ? (long long)ex->cfg->stream_head_wait_ms * 1000
                                       : keepalive_us;
    long long last_frame_us = clock_monotonic_us();
    long long last_write_us = last_frame_us;
    unsigned long sends = ex->writer.sends;
    bool stack_trimmed = false;

    while (!ex->core.finished) {
        long long heartbeat_us = ex->writer.head_sent ? keepalive_us : head_wait_us;
        long long now = clock_monotonic_us();
        long long wait_us = last_frame_us + silence_limit_us - now;
        if (ex->chat.stream && last_write_us + heartbeat_us - now < wait_us)
            wait_us = last_write_us + heartbeat_us - now;
        enum http_wait_result woke = wait_for_window(ex, wait_us);
        if (woke == HTTP_WAIT_CLIENT_GONE)
            break;
        now = clock_monotonic_us();
        /* Ready may mean frames for other requests only (a leader reads
         * them all): only our own count as the window's sign of life. */
        if ((woke == HTTP_WAIT_READY || woke == HTTP_WAIT_DRAINING) && take_frames(ex) > 0) {
            last_frame_us = now;
            stack_trimmed = false;
        }
        if (ex->writer.sends != sends) {
            sends = ex->writer.sends;
            last_write_us = now;
        }
        if (ex->core.finished)
            break;
        if (woke == HTTP_WAIT_DRAINING) {
            fail(ex, 503, "server_shutting_down", true,
                 "The gateway is shutting down; retry in a moment.");
        } else if (now - last_frame_us >= silence_limit_us) {
            char message[160];
            snprintf(message, sizeof message,
                     "The model sent nothing for %u seconds (--request-timeout); the request was "
                     "cancelled.",
                     ex->cfg->request_timeout);
            fail(ex, 504, "timeout", true, message);
        } else if (ex->chat.stream && now - last_write_us >= heartbeat_us) {
            reply_core_heartbeat(&ex->core);
            sends = ex->writer.sends;
            last_write_us = now;
            /* A model silent for a heartbeat may stay so for minutes: the
             * stack its reply went deep in need not stay resident. */
            if (!stack_trimmed)
                stack_trim();
            stack_trimmed = true;
        }
    }
    if (req->client_gone) {
        ex->core.cancel_window = true;
        ex->outcome->note = "client gone";
    }
}

/* Takes the window's read token before the request goes out, so that a
 * quick reply cannot reach the watcher first (a thread woken for nothing).
 * Only for a request frame that goes out in one write: a large one could
 * hold the window's other replies back while it is written. */
static int
send_request(struct chat_exchange *ex, const cJSON *frame)
{
    if (ex->req->body.len <= PIPE_LEAD_BEFORE_SEND_MAX)
        ex->lead = pipe_session_lead(ex->pick.conn);
    if (pipe_conn_send(ex->pick.conn, frame) == 0)
        return 0;
    if (ex->lead != NULL)
        pipe_session_release(ex->lead);
    ex->lead = NULL;
    return -1;
}

/* Sends the request to the window and relays its reply. */
static void
serve(struct chat_exchange *ex)
{
    struct http_request *req = ex->req;
    struct reply_core_options options = {
        .request_id = req->request_id,
        .prompt_tokens = ex->prompt_tokens,
        .max_tokens = ex->chat.max_tokens,
        .stop = ex->chat.stop,
        .max_reply_bytes = REPLY_TEXT_MAX,
    };
    struct reply_setup setup = {
        .request_id = req->request_id,
        .model_id = ex->pick.model_id,
        .request = &ex->chat,
        .prompt_tokens = ex->prompt_tokens,
        .max_bytes = ex->cfg->max_body * REPLY_BODY_FACTOR,
    };
    const struct wire_format *format = ex->format;
    ex->reply = calloc(1, format->reply_size);
    bool ready = ex->reply != NULL && format->reply_init(ex->reply, &setup) == 0;
    reply_writer_init(&ex->writer, format, ex->reply, respond_transport(req), ex->chat.stream);
    struct reply_sink sink = { reply_writer_event, &ex->writer };
    ready = reply_core_init(&ex->core, &options, sink) == 0 && ready;

    cJSON *frame = NULL;
    if (!ready || (ex->box = inflight_open(req->request_id, ex->pick.conn)) == NULL ||
        (frame = chat_request_frame(&ex->chat, req->request_id, ex->pick.model_id)) == NULL) {
        respond_refusal(req, 500, "internal_error", "Out of memory.");
    } else if (send_request(ex, frame) != 0) {
        respond_refusal(req, 502, "vscode_unreachable",
                        "The request could not be sent to the VS Code window; it may have just "
                        "closed. Retry.");
    } else {
        log_debug("request %s: sent to window #%lu as %s", req->request_id, ex->pick.conn->serial,
                  ex->pick.model_id);
        long long relay_started_us = clock_monotonic_us();
        relay(ex);
        ex->outcome->window_wait_us = clock_monotonic_us() - relay_started_us;
        if (ex->core.cancel_window)
            pipe_conn_send_cancel(ex->pick.conn, req->request_id);
    }
    ex->outcome->prompt_tokens = ex->core.usage.prompt_tokens;
    ex->outcome->completion_tokens = ex->core.usage.completion_tokens;
    if (ex->outcome->note == NULL)
        ex->outcome->note = ex->core.failure ? ex->core.failure : ex->writer.failure;
    cJSON_Delete(frame);
    inflight_close(ex->box);
    reply_core_free(&ex->core);
    reply_writer_free(&ex->writer);
    if (ex->reply != NULL)
        format->reply_free(ex->reply);
    free(ex->reply);
}

/* ------------------------------------------------------------ limits */

/* The limiter's queue waits here: the client may leave, the drain may end it. */
static enum limit_wait
wait_for_capacity(void *ctx, int64_t ns)
{
    switch (http_wait(ctx, -1, ns / 1000)) {
    case HTTP_WAIT_CLIENT_GONE: return LIMIT_WAIT_CLIENT_GONE;
    case HTTP_WAIT_DRAINING: return LIMIT_WAIT_SHUTDOWN;
    default: return LIMIT_WAIT_ELAPSED;
    }
}

/* Everything before the request goes to its window: parse, route, fit,
 * limits and budget; a refusal is answered here.  False: nothing to serve.
 * Out of line so that its api_error (4 KiB) is not on the stack while the
 * request is served: a thread keeps the pages its deepest call touched, and
 * a stream holds its thread for minutes. */
static __attribute__((noinline)) bool
admit(struct chat_exchange *ex, const struct request_context *ctx, struct limit_request *limits,
      bool *limited)
{
    struct http_request *req = ex->req;
    struct api_error err;
    if (read_and_parse(ex, ctx, &err) != 0 || route(ex, &err) != 0 || check_fits(ex, &err) != 0) {
        /* Refused before admission: the limits as they stand. */
        ratelimit_policy_idle_status(ex->identity, &req->limits);
        respond_error(req, &err);
        return false;
    }
    long reserve = ex->prompt_tokens + (ex->chat.max_tokens > 0
                                            ? ex->chat.max_tokens
                                            : ex->cfg->default_completion_tokens);
    *limited = ratelimit_policy_prepare(limits, req->request_id, ex->identity, ex->pick.model_id,
                                        ex->pick.family, reserve);
    if (*limited) {
        switch (ratelimit_policy_admit(limits, wait_for_capacity, req, &req->limits, &err)) {
        case LIMIT_ADMITTED: break;
        case LIMIT_CLIENT_LEFT: ex->outcome->note = "client gone while queued"; return false;
        case LIMIT_REFUSED:
            ex->outcome->limit_scope = limits->refused_scope;
            ex->outcome->limit_kind = limits->refused_kind;
            ex->outcome->note = err.status == 503 ? "server_shutting_down" : "rate limited";
            respond_error(req, &err);
            return false;
        }
    }
    /* The budget after the limits: a request they refuse spends none. */
    if (usage_policy_admit(ex->identity, ex->pick.model_id, ex->pick.family, ex->outcome, &err) !=
        0) {
        if (*limited)
            ratelimit_policy_finish(limits, 0);
        ex->outcome->note = "budget exceeded";
        respond_error(req, &err);
        return false;
    }
    return true;
}

void
handle_model_call(struct http_request *req, const struct request_context *ctx)
{
    struct chat_exchange ex = {
        .req = req,
        .cfg = ctx->cfg,
        .identity = ctx->identity,
        .outcome = ctx->outcome,
        .format = req->wire,
    };
    struct limit_request limits;
    bool limited = false;
    if (admit(&ex, ctx, &limits, &limited)) {
        serve(&ex);
        if (limited)
            ratelimit_policy_finish(&limits, reply_core_tokens_used(&ex.core));
    }
    chat_request_free(&ex.chat);
    router_release(&ex.pick);
}
