#include "reply_core.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "token_estimate.h"
#include "utf8.h"

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

/* Hands an event to the sink; a sink that cannot go on ends the reply. */
static void
emit(struct reply_core *core, const struct reply_event *event)
{
    if (core->finished)
        return;
    if (core->sink.event(core->sink.ctx, event) != 0) {
        core->finished = true;
        core->cancel_window = true;
    }
}

void
reply_core_fail(struct reply_core *core, const struct api_error *err, bool cancel_window)
{
    if (core->finished)
        return;
    /* Whether the window is cancelled is the failure's own matter: a
     * window that reported the error has stopped already. */
    struct reply_event event = { .kind = REPLY_ERROR, .error = err };
    (void)core->sink.event(core->sink.ctx, &event);
    core->failure = err->code;
    core->finished = true;
    core->cancel_window = core->cancel_window || cancel_window;
}

static void
fail_too_large(struct reply_core *core)
{
    struct api_error err;
    api_error_set(&err, 502, "reply_too_large", NULL,
                  "The model's reply is larger than this gateway keeps.");
    reply_core_fail(core, &err, true);
}

int
reply_core_init(struct reply_core *core, const struct reply_core_options *options,
                struct reply_sink sink)
{
    memset(core, 0, sizeof *core);
    core->options = *options;
    core->sink = sink;
    stop_cutter_init(&core->stops);
    dynbuf_init(&core->sendable, options->max_reply_bytes);
    if (options->max_tokens > 0)
        core->byte_budget = token_byte_budget(options->max_tokens);
    const cJSON *stop = options->stop;
    if (cJSON_IsString(stop))
        return stop_cutter_add(&core->stops, stop->valuestring);
    const cJSON *sequence;
    cJSON_ArrayForEach(sequence, stop) {
        if (stop_cutter_add(&core->stops, sequence->valuestring) != 0)
            return -1;
    }
    return 0;
}

void
reply_core_free(struct reply_core *core)
{
    stop_cutter_free(&core->stops);
    dynbuf_free(&core->sendable);
}

/* Ends the reply: the finish event with its usage.  `counted` is the
 * window's usage, NULL when the core cut the reply short and only
 * estimates exist. */
static void
finish(struct reply_core *core, const char *finish_reason, const cJSON *counted)
{
    struct reply_usage usage = {
        .prompt_tokens = frame_count(counted, "prompt_tokens"),
        .completion_tokens = frame_count(counted, "completion_tokens"),
    };
    /* Windows count with the model's own tokenizer; estimate only if not. */
    if (usage.prompt_tokens < 0)
        usage.prompt_tokens = core->options.prompt_tokens;
    if (usage.completion_tokens < 0)
        usage.completion_tokens = token_estimate_bytes(core->completion_bytes);
    long max_tokens = core->options.max_tokens;
    if (max_tokens > 0 && usage.completion_tokens > max_tokens &&
        strcmp(finish_reason, "length") == 0)
        usage.completion_tokens = max_tokens;
    core->usage = usage;
    struct reply_event event = {
        .kind = REPLY_FINISH,
        .finish_reason = finish_reason,
        .stop_sequence = strcmp(finish_reason, "stop") == 0 ? core->stops.matched : NULL,
        .usage = usage,
    };
    emit(core, &event);
    core->finished = true;
}

/* Passes reply text on, cut at the max_tokens budget. */
static void
pass_text(struct reply_core *core, const char *text, size_t len)
{
    if (core->byte_budget > 0 && len > core->byte_budget - core->sent_bytes) {
        len = utf8_floor(text, core->byte_budget - core->sent_bytes);
        core->cut_reason = "length";
    }
    if (len == 0)
        return;
    core->sent_bytes += len;
    core->completion_bytes += len;
    struct reply_event event = { .kind = REPLY_TEXT, .text = text, .len = len };
    emit(core, &event);
}

static void
on_delta(struct reply_core *core, const cJSON *frame)
{
    const char *text = frame_string(frame, "text");
    if (text == NULL || *text == '\0')
        return;
    size_t len = strlen(text);
    if (!stop_cutter_active(&core->stops)) {
        pass_text(core, text, len); /* the common case: no copy */
    } else {
        dynbuf_reset(&core->sendable);
        int stopped = stop_cutter_feed(&core->stops, text, len, &core->sendable);
        if (stopped < 0) {
            fail_too_large(core);
            return;
        }
        pass_text(core, core->sendable.data, core->sendable.len);
        if (stopped && core->cut_reason == NULL)
            core->cut_reason = "stop";
    }
    /* The core ends the reply itself: the window's work is done. */
    if (core->cut_reason != NULL && !core->finished) {
        finish(core, core->cut_reason, NULL);
        core->cancel_window = true;
    }
}

static void
on_tool_call(struct reply_core *core, const cJSON *frame)
{
    const char *call_id = frame_string(frame, "call_id");
    const char *name = frame_string(frame, "name");
    const char *arguments = frame_string(frame, "arguments");
    if (call_id == NULL || name == NULL) {
        log_warn("request %s: window sent a tool_call without call_id or name",
                 core->options.request_id);
        return;
    }
    if (arguments == NULL)
        arguments = "{}";
    size_t arguments_len = strlen(arguments);
    core->tool_calls++;
    core->completion_bytes += strlen(name) + arguments_len;
    struct reply_event event = { .kind = REPLY_TOOL_BEGIN, .call_id = call_id, .name = name };
    emit(core, &event);
    event.kind = REPLY_TOOL_ARGUMENTS;
    event.text = arguments;
    event.len = arguments_len;
    emit(core, &event);
    event.kind = REPLY_TOOL_END;
    emit(core, &event);
}

static const char *
finish_reason_of(const struct reply_core *core, const cJSON *frame)
{
    const char *given = frame_string(frame, "finish_reason");
    static const char *const known[] = { "stop", "length", "tool_calls", "content_filter" };
    for (size_t i = 0; given && i < sizeof known / sizeof *known; i++)
        if (strcmp(given, known[i]) == 0)
            return known[i];
    return core->tool_calls > 0 ? "tool_calls" : "stop";
}

static void
on_done(struct reply_core *core, const cJSON *frame)
{
    /* Text held back because it might have begun a stop sequence. */
    dynbuf_reset(&core->sendable);
    if (stop_cutter_flush(&core->stops, &core->sendable) == 0)
        pass_text(core, core->sendable.data, core->sendable.len);
    if (core->finished)
        return;
    const char *reason = core->cut_reason ? core->cut_reason : finish_reason_of(core, frame);
    finish(core, reason, cJSON_GetObjectItemCaseSensitive(frame, "usage"));
}

/* The window's error codes (the pipe protocol) and what the client gets. */
static const struct {
    const char *window_code;
    int status;
    const char *api_code;
    const char *fallback;
} window_errors[] = {
    { "no_permissions", 403, "no_permissions",
      "VS Code did not allow this extension to use the model. Run 'VSCode LiteLLM: Start LM "
      "Proxy Server' in VS Code and accept the access request." },
    { "not_found", 404, "model_not_found", "VS Code no longer offers this model." },
    { "rate_limited", 429, "rate_limit_exceeded",
      "VS Code blocked the request: the model's quota is used up for now." },
    { "cancelled", 502, "cancelled", "The model call was cancelled in VS Code." },
};

static void
on_window_error(struct reply_core *core, const cJSON *frame)
{
    const char *code = frame_string(frame, "code");
    const char *message = frame_string(frame, "message");
    bool has_message = message != NULL && *message != '\0';
    struct api_error err;
    size_t i = 0;
    while (i < sizeof window_errors / sizeof *window_errors &&
           (code == NULL || strcmp(code, window_errors[i].window_code) != 0))
        i++;
    if (i < sizeof window_errors / sizeof *window_errors) {
        api_error_set(&err, window_errors[i].status, window_errors[i].api_code, NULL, "%s",
                      has_message ? message : window_errors[i].fallback);
    } else {
        api_error_set(&err, 502, "upstream_error", NULL, "The model call failed in VS Code: %.900s",
                      has_message ? message : "no reason given");
    }
    /* VS Code's Blocked carries no retry time; a short one keeps SDKs that
     * honour Retry-After from hammering a spent quota. */
    if (err.status == 429) {
        err.quota_exhausted = true;
        api_error_add_header(&err, "Retry-After", "10");
        api_error_add_header(&err, "retry-after-ms", "10000");
    } else if (err.status == 403) {
        api_error_add_header(&err, "x-should-retry", "false");
    }
    reply_core_fail(core, &err, false);
}

void
reply_core_frame(struct reply_core *core, const cJSON *frame)
{
    const char *type = frame_string(frame, "type");
    if (type == NULL || core->finished)
        return;
    if (strcmp(type, "delta") == 0)
        on_delta(core, frame);
    else if (strcmp(type, "tool_call") == 0)
        on_tool_call(core, frame);
    else if (strcmp(type, "done") == 0)
        on_done(core, frame);
    else if (strcmp(type, "error") == 0)
        on_window_error(core, frame);
}

void
reply_core_heartbeat(struct reply_core *core)
{
    struct reply_event event = { .kind = REPLY_HEARTBEAT };
    emit(core, &event);
}

long
reply_core_tokens_used(const struct reply_core *core)
{
    if (core->usage.prompt_tokens > 0 || core->usage.completion_tokens > 0)
        return core->usage.prompt_tokens + core->usage.completion_tokens;
    return core->options.prompt_tokens + token_estimate_bytes(core->completion_bytes);
}
