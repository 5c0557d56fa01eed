/*
 * request_harness: see request_harness.h.
 */
#include "request_harness.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <fcgiapp.h>

#include "api_keys.h"
#include "auth.h"
#include "config.h"
#include "fuzz.h"
#include "handlers.h"
#include "inflight.h"
#include "json_write.h"
#include "utf8.h"
#include "log.h"
#include "pipe_codec.h"
#include "pipe_conn.h"
#include "ratelimit_policy.h"
#include "respond.h"
#include "router.h"

#define MAX_PARAMS 64
#define MAX_FRAMES 32
#define OUT_BUFFER_BYTES 1024 /* small, so that libfcgi's buffer fills and empties */
#define RESPONSE_MAX (8u << 20)

int __wrap_pipe_conn_send(struct pipe_conn *conn, const cJSON *frame);
void __wrap_pipe_conn_send_cancel(struct pipe_conn *conn, const char *id);
int64_t __real_limit_now_ns(void);
int64_t __wrap_limit_now_ns(void);
time_t __wrap_time(time_t *out);
ssize_t __wrap_getrandom(void *buffer, size_t length, unsigned int flags);
int __real_clock_gettime(clockid_t clock, struct timespec *now);
int __wrap_clock_gettime(clockid_t clock, struct timespec *now);
enum http_wait_result __real_http_wait(struct http_request *req, int fd, long long timeout_us);
enum http_wait_result __wrap_http_wait(struct http_request *req, int fd, long long timeout_us);

static const char window1_models[] =
    "[{\"id\":\"copilot/gpt-4o\",\"vendor\":\"copilot\",\"family\":\"gpt-4o\",\"name\":\"GPT-4o\","
    "\"version\":\"gpt-4o-2024-11-20\",\"max_input_tokens\":63000,"
    "\"capabilities\":{\"image_input\":true}},"
    "{\"id\":\"copilot/gpt-4o-mini\",\"vendor\":\"copilot\",\"family\":\"gpt-4o-mini\","
    "\"max_input_tokens\":12000},"
    "{\"id\":\"copilot/o1\",\"vendor\":\"copilot\",\"family\":\"o1\",\"max_input_tokens\":200,"
    "\"capabilities\":{\"image_input\":false}},"
    "{\"id\":\"copilot/claude-3.5-sonnet\",\"vendor\":\"copilot\",\"family\":\"claude-3.5-sonnet\"}]";
static const char window2_models[] =
    "[{\"id\":\"copilot/gpt-4o\",\"vendor\":\"copilot\",\"family\":\"gpt-4o\"},"
    "{\"id\":\"google/gemini-2.0-flash\",\"vendor\":\"google\",\"family\":\"gemini-2.0-flash\","
    "\"max_input_tokens\":100}]";

static struct config cfg;
/* In memory where there is /dev/shm. */
static char state_dir[] = "/dev/shm/litellm-fuzz-XXXXXX";
static char state_file[sizeof state_dir + 32], keys_file[sizeof state_dir + 32];
static struct pipe_conn *windows[2];
static cJSON *window_models[2];
static const char *const window_default[2] = { "copilot/gpt-4o", NULL };
static bool window_changed[2];

/* This input's script, and the request it is for.  A NULL frame is a
 * #silence: the window says nothing until the request's next wait. */
static struct {
    const char *frames[MAX_FRAMES];
    size_t frame_lens[MAX_FRAMES];
    size_t frame_count;
    size_t next_frame;      /* the first frame not played yet */
    struct pipe_conn *conn; /* the window playing it */
    bool silent;            /* stopped at a #silence */
    bool send_fails;
    const struct http_request *req;
    unsigned frames_sent; /* request frames the handler sent */
} script;

/* `created` fields (time(), wrapped) are the same in every run. */
time_t
__wrap_time(time_t *out)
{
    if (out != NULL)
        *out = HARNESS_FIXED_TIME;
    return HARNESS_FIXED_TIME;
}

/* Request ids of requests without nginx's REQUEST_ID (getrandom(),
 * wrapped) are the same in every run too. */
ssize_t
__wrap_getrandom(void *buffer, size_t length, unsigned int flags)
{
    (void)flags;
    memset(buffer, 0xa5, length);
    return (ssize_t)length;
}

/* The monotonic clock (clock_gettime, wrapped) runs ahead by what the
 * #silence waits skipped, so a silent model costs no real time. */
static long long monotonic_skipped_us;

int
__wrap_clock_gettime(clockid_t clock, struct timespec *now)
{
    int rc = __real_clock_gettime(clock, now);
    if (rc == 0 && clock == CLOCK_MONOTONIC && monotonic_skipped_us > 0) {
        long long ns = now->tv_nsec + (monotonic_skipped_us % 1000000) * 1000;
        now->tv_sec += (time_t)(monotonic_skipped_us / 1000000 + ns / 1000000000);
        now->tv_nsec = (long)(ns % 1000000000);
    }
    return rc;
}

/* The limiter's clock (limit_now_ns, wrapped): still during a request. */
static int64_t limiter_clock_ns;

int64_t
__wrap_limit_now_ns(void)
{
    return limiter_clock_ns;
}

/* --------------------------------------------------------- fake streams */

static struct {
    unsigned char buffer[OUT_BUFFER_BYTES];
    struct dynbuf sent; /* what reached "nginx" */
    size_t gone_after;  /* the client hangs up past this many bytes */
    bool gone;
} out_side;

static void
out_empty(FCGX_Stream *stream, int do_close)
{
    (void)do_close;
    size_t n = (size_t)(stream->wrNext - out_side.buffer);
    stream->wrNext = out_side.buffer;
    if (out_side.gone)
        return;
    if (out_side.sent.len + n > out_side.gone_after) {
        /* As libfcgi's SetError on a failed write: the first error sticks. */
        out_side.gone = true;
        stream->FCGI_errno = EPIPE;
        stream->isClosed = 1;
        return;
    }
    FUZZ_CHECK(dynbuf_append(&out_side.sent, out_side.buffer, n) == DYNBUF_OK);
}

static void
out_fill(FCGX_Stream *stream)
{
    (void)stream;
    FUZZ_CHECK(!"the responder read from its output stream");
}

static struct {
    const unsigned char *body;
    size_t len, at, chunk;
    bool read_error;
} in_side;

static void
in_fill(FCGX_Stream *stream)
{
    if (in_side.at == in_side.len) {
        if (in_side.read_error)
            stream->FCGI_errno = ECONNRESET;
        stream->isClosed = 1;
        return;
    }
    size_t n = in_side.len - in_side.at;
    if (n > in_side.chunk)
        n = in_side.chunk;
    unsigned char *next = (unsigned char *)in_side.body + in_side.at;
    stream->rdNext = stream->stopUnget = next;
    stream->stop = next + n;
    in_side.at += n;
}

static void
in_empty(FCGX_Stream *stream, int do_close)
{
    (void)stream;
    (void)do_close;
    FUZZ_CHECK(!"the responder wrote to its input stream");
}

/* ------------------------------------------------------ the fake window */

static int
window_index(const struct pipe_conn *conn)
{
    for (int i = 0; i < 2; i++)
        if (conn == windows[i])
            return i;
    FUZZ_CHECK(!"a frame was sent to a connection that is not a window");
    return -1;
}

/* One scripted line, handled as pipe_server.c's handle_line does for a
 * window that said hello already.  Returns false when the line closes the
 * connection. */
static bool
window_line(struct pipe_conn *conn, const char *line, size_t len)
{
    cJSON *frame = utf8_valid(line, len) ? cJSON_ParseWithLength(line, len) : NULL;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(frame, "type");
    if (!cJSON_IsObject(frame) || !cJSON_IsString(type)) {
        cJSON_Delete(frame);
        return false;
    }
    const char *kind = type->valuestring;
    bool keep_open = true;
    if (strcmp(kind, "hello") == 0) {
        keep_open = false; /* hello sent twice */
    } else if (strcmp(kind, "models") == 0) {
        cJSON *models;
        char *default_model;
        if (router_take_models(frame, &models, &default_model)) {
            router_update(conn, models, default_model);
            window_changed[window_index(conn)] = true;
        }
    } else if (strcmp(kind, "delta") == 0 || strcmp(kind, "tool_call") == 0 ||
               strcmp(kind, "done") == 0 || strcmp(kind, "error") == 0) {
        /* A script names no id: it answers the request at hand. */
        if (cJSON_GetObjectItemCaseSensitive(frame, "id") == NULL)
            cJSON_AddStringToObject(frame, "id", script.req->request_id);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(frame, "id");
        if (cJSON_IsString(id) && inflight_deliver(id->valuestring, conn, frame))
            return true;
    }
    cJSON_Delete(frame);
    return keep_open;
}

/* Plays the script from its next frame up to a #silence or its end; at
 * the end the window goes away, so nothing waits. */
static void
play(struct pipe_conn *conn)
{
    bool open = true;
    script.silent = false;
    while (script.next_frame < script.frame_count && open) {
        size_t i = script.next_frame++;
        if (script.frames[i] == NULL) {
            script.silent = true;
            return;
        }
        open = window_line(conn, script.frames[i], script.frame_lens[i]);
    }
    inflight_window_lost(conn);
}

/* A request waiting through a #silence: the whole wait passes at once (on
 * the wrapped clock), then the window speaks again. */
enum http_wait_result
__wrap_http_wait(struct http_request *req, int fd, long long timeout_us)
{
    if (!script.silent || req != script.req)
        return __real_http_wait(req, fd, timeout_us);
    if (timeout_us > 0)
        monotonic_skipped_us += timeout_us;
    play(script.conn);
    return HTTP_WAIT_TIMEOUT;
}

int
__wrap_pipe_conn_send(struct pipe_conn *conn, const cJSON *frame)
{
    (void)window_index(conn);
    script.frames_sent++;
    /* The frame as it would go down the pipe: one line of JSON. */
    size_t len;
    char *line = frame_encode(frame, &len);
    FUZZ_CHECK(line != NULL && len > 1 && line[len - 1] == '\n');
    FUZZ_CHECK(memchr(line, '\n', len - 1) == NULL);
    cJSON *back = cJSON_ParseWithLength(line, len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(back, "type");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(back, "id");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(back, "model");
    FUZZ_CHECK(cJSON_IsString(type) && strcmp(type->valuestring, "request") == 0);
    FUZZ_CHECK(cJSON_IsString(id) && strcmp(id->valuestring, script.req->request_id) == 0);
    FUZZ_CHECK(cJSON_IsString(model) && model->valuestring[0] != '\0');
    FUZZ_CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(back, "messages")) > 0);
    cJSON_Delete(back);
    free(line);
    if (script.send_fails)
        return -1;
    script.conn = conn;
    play(conn);
    return 0;
}

void
__wrap_pipe_conn_send_cancel(struct pipe_conn *conn, const char *id)
{
    (void)window_index(conn);
    FUZZ_CHECK(strcmp(id, script.req->request_id) == 0);
}

static void
restore_windows(void)
{
    for (int i = 0; i < 2; i++) {
        if (!window_changed[i])
            continue;
        cJSON *models = cJSON_Duplicate(window_models[i], true);
        char *picked = window_default[i] ? strdup(window_default[i]) : NULL;
        FUZZ_CHECK(models != NULL);
        router_update(windows[i], models, picked);
        window_changed[i] = false;
    }
}

/* ------------------------------------------------------------ set-up */

static void
set(const char *name, const char *value)
{
    char err[256];
    if (config_set(&cfg, name, value, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_fcgi_params: %s=%s: %s\n", name, value, err);
        abort();
    }
}

static void
write_keys(void)
{
    static const struct {
        const char *name, *secret, *models;
        long rpm;
    } specs[] = {
        { "fuzz-any", "sk-litellm-fuzz-any", NULL, 100000 },
        { "fuzz-gpt", "sk-litellm-fuzz-gpt", "gpt-4o", 0 },
    };
    struct api_key keys[2];
    memset(keys, 0, sizeof keys);
    for (size_t i = 0; i < 2; i++) {
        snprintf(keys[i].name, sizeof keys[i].name, "%s", specs[i].name);
        api_key_hash(specs[i].secret, strlen(specs[i].secret), keys[i].hash);
        keys[i].models = (char *)specs[i].models;
        keys[i].rpm = specs[i].rpm;
    }
    struct api_key_set set = { keys, 2 };
    FILE *file = fopen(keys_file, "we");
    FUZZ_CHECK(file != NULL && api_keys_write(file, &set) == 0 && fclose(file) == 0);
}

static void
remove_state(void)
{
    ratelimit_policy_shutdown();
    unlink(state_file);
    unlink(keys_file);
    rmdir(state_dir);
}

void
request_harness_init(void)
{
    if (mkdtemp(state_dir) == NULL) {
        memcpy(state_dir, "/tmp/litellm-fuzz-XXXXXX", sizeof "/tmp/litellm-fuzz-XXXXXX");
        FUZZ_CHECK(mkdtemp(state_dir) != NULL);
    }
    snprintf(state_file, sizeof state_file, "%s/limits.state", state_dir);
    snprintf(keys_file, sizeof keys_file, "%s/keys", state_dir);
    atexit(remove_state);
    /* Debug lines are formatted (and checked by the sanitizers), not kept. */
    FUZZ_CHECK(log_open(LOG_DEBUG, "/dev/null") == 0);

    limiter_clock_ns = __real_limit_now_ns();
    config_init(&cfg);
    set("max-body", "4096");
    /* Longer than the heartbeat's interval, so that a #silence yields a
     * heartbeat before it times out. */
    set("request-timeout", "3");
    set("keepalive-interval", "1");
    set("model-alias", "fast=gpt-4o-mini");
    /* A tier, as Claude Code's users map theirs. */
    set("model-alias", "claude-*opus*=claude-3.5-sonnet");
    /* Gemini CLI's classifier model under `auto`, mapped as the README says. */
    set("model-alias", "gemini-3.5-flash-lite=gpt-4o-mini");
    set("keys-file", keys_file);
    set("limits-rpm", "1000000");
    set("limits-tpm", "1000000000");
    set("limits-concurrent", "4");
    set("limits-model", "o1:rpm=1000,tpm=300");
    set("limits-key-model", "fuzz-gpt@gpt-4o:rpm=100,tpm=20000");
    set("limits-wait-max", "0");
    set("limits-state-file", state_file);
    write_keys();
    FUZZ_CHECK(auth_init(&cfg) == 0);
    FUZZ_CHECK(ratelimit_policy_init(&cfg) == 0);
    /* The limiter keeps its mapping: the file need not outlive a crash. */
    unlink(state_file);

    const char *const models_text[2] = { window1_models, window2_models };
    for (int i = 0; i < 2; i++) {
        window_models[i] = cJSON_Parse(models_text[i]);
        FUZZ_CHECK(cJSON_IsArray(window_models[i]));
        /* fd -1: the wrapped sends never write, and our reference keeps
         * the connection from ever being closed. */
        windows[i] = pipe_conn_new(-1, (unsigned long)i + 1, getuid(), getpid());
        FUZZ_CHECK(windows[i] != NULL);
        router_add(windows[i], cJSON_Duplicate(window_models[i], true),
                   window_default[i] ? strdup(window_default[i]) : NULL);
    }
    dynbuf_init(&out_side.sent, RESPONSE_MAX);
}

/* ---------------------------------------------------------- one input */

static size_t
number(const char *text, size_t len)
{
    size_t value = 0;
    for (size_t i = 0; i < len && text[i] >= '0' && text[i] <= '9' && value < (1u << 24); i++)
        value = value * 10 + (size_t)(text[i] - '0');
    return value;
}

static bool
directive(const char *line, size_t len, const char *name, const char **value, size_t *value_len)
{
    size_t name_len = strlen(name);
    if (len < name_len || memcmp(line, name, name_len) != 0)
        return false;
    *value = line + name_len;
    *value_len = len - name_len;
    return true;
}

static void
set_window_models(const char *json, size_t len, const char *picked)
{
    /* As a hello frame: the reader refuses lines that are not UTF-8. */
    if (!utf8_valid(json, len) || (picked != NULL && !utf8_valid(picked, strlen(picked))))
        return;
    cJSON *frame = cJSON_CreateObject();
    cJSON *list = cJSON_ParseWithLength(json, len);
    FUZZ_CHECK(frame != NULL);
    if (list != NULL)
        cJSON_AddItemToObject(frame, "models", list);
    if (picked != NULL)
        cJSON_AddStringToObject(frame, "default_model", picked);
    cJSON *models;
    char *default_model;
    if (router_take_models(frame, &models, &default_model)) {
        router_update(windows[0], models, default_model);
        window_changed[0] = true;
    }
    cJSON_Delete(frame);
}

void
request_harness_run(const uint8_t *data, size_t size,
                    void (*inspect)(const struct harness_result *result))
{
    char *envp[MAX_PARAMS + 1];
    size_t param_count = 0;
    const char *models = NULL;
    size_t models_len = 0;
    char *picked = NULL;
    const char *end = (const char *)data + size, *p = (const char *)data;
    const char *body = end;

    memset(&script, 0, sizeof script);
    memset(&in_side, 0, sizeof in_side);
    in_side.chunk = SIZE_MAX;
    out_side.gone_after = SIZE_MAX;
    out_side.gone = false;
    dynbuf_reset(&out_side.sent);

    while (p < end) {
        const char *newline = memchr(p, '\n', (size_t)(end - p));
        size_t len = newline ? (size_t)(newline - p) : (size_t)(end - p);
        const char *value;
        size_t value_len;
        if (len == 0 && newline != NULL) {
            body = newline + 1;
            break;
        }
        if (directive(p, len, "#frame=", &value, &value_len)) {
            if (script.frame_count < MAX_FRAMES) {
                script.frames[script.frame_count] = value;
                script.frame_lens[script.frame_count++] = value_len;
            }
        } else if (directive(p, len, "#silence", &value, &value_len)) {
            if (script.frame_count < MAX_FRAMES)
                script.frames[script.frame_count++] = NULL;
        } else if (directive(p, len, "#models=", &value, &value_len)) {
            models = value;
            models_len = value_len;
        } else if (directive(p, len, "#default-model=", &value, &value_len)) {
            free(picked);
            picked = strndup(value, value_len);
        } else if (directive(p, len, "#send-fails", &value, &value_len)) {
            script.send_fails = true;
        } else if (directive(p, len, "#gone-after=", &value, &value_len)) {
            out_side.gone_after = number(value, value_len);
        } else if (directive(p, len, "#body-chunk=", &value, &value_len)) {
            in_side.chunk = number(value, value_len) + 1;
        } else if (directive(p, len, "#read-error", &value, &value_len)) {
            in_side.read_error = true;
        } else if (len > 0 && p[0] != '#' && memchr(p, '=', len) != NULL &&
                   param_count < MAX_PARAMS) {
            /* libfcgi hands params over as "NAME=value" C strings. */
            envp[param_count] = strndup(p, len);
            FUZZ_CHECK(envp[param_count] != NULL);
            param_count++;
        }
        p = newline ? newline + 1 : end;
    }
    envp[param_count] = NULL;
    if (models != NULL || picked != NULL)
        set_window_models(models ? models : "[]", models ? models_len : 2, picked);
    free(picked);

    /* The body in a buffer of its own size, so a read past it is caught. */
    size_t body_len = (size_t)(end - body);
    unsigned char *body_copy = malloc(body_len ? body_len : 1);
    FUZZ_CHECK(body_copy != NULL);
    if (body_len > 0)
        memcpy(body_copy, body, body_len);
    in_side.body = body_copy;
    in_side.len = body_len;

    static unsigned char nothing[1];
    FCGX_Stream in = {
        .rdNext = nothing,
        .wrNext = nothing,
        .stop = nothing,
        .stopUnget = nothing,
        .isReader = 1,
        .fillBuffProc = in_fill,
        .emptyBuffProc = in_empty,
    };
    FCGX_Stream out = {
        .rdNext = out_side.buffer,
        .wrNext = out_side.buffer,
        .stop = out_side.buffer + sizeof out_side.buffer,
        .isReader = 0,
        .fillBuffProc = out_fill,
        .emptyBuffProc = out_empty,
    };
    FCGX_Request fcgi;
    memset(&fcgi, 0, sizeof fcgi);
    fcgi.in = &in;
    fcgi.out = &out;
    fcgi.err = NULL;
    fcgi.envp = envp;
    fcgi.ipcFd = -1;
    fcgi.listen_sock = -1;

    /* As a worker thread does (fcgi-app/server.c). */
    struct http_request req;
    struct request_outcome outcome = { .note = NULL };
    http_request_init(&req, &fcgi);
    script.req = &req;
    handle_request(&req, &cfg, &outcome);
    if (!req.head_sent && !req.client_gone)
        respond_fallback(&req);
    /* FCGX_Finish_r flushes what is left. */
    bool gone_while_handled = out_side.gone;
    if (!out_side.gone)
        out_empty(&out, 0);
    struct harness_result result = {
        .req = &req,
        .response = out_side.sent.data ? out_side.sent.data : "",
        .len = out_side.sent.len,
        .gone = out_side.gone,
        .gone_while_handled = gone_while_handled,
        .frames_sent = script.frames_sent,
    };
    inspect(&result);

    /* Nothing of the request outlives it. */
    FUZZ_CHECK(inflight_count() == 0);
    for (int i = 0; i < 2; i++)
        FUZZ_CHECK(router_window_in_flight(windows[i]) == 0 && pipe_conn_refs(windows[i]) == 2);
    http_request_free(&req);
    restore_windows();
    /* Two minutes pass between requests: every limit's bucket is full
     * again, so one input's requests do not decide whether the next one
     * is admitted. */
    limiter_clock_ns += 120 * 1000000000LL;

    free(body_copy);
    for (size_t i = 0; i < param_count; i++)
        free(envp[i]);
}
