#include "messages_request.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dynbuf.h"
#include "messages_parse.h"
#include "request_parse.h"
#include "stop_cutter.h"

#define NOTES_MAX REQUEST_PARSE_NOTES_MAX
/* Room for the words the parser adds around a client's text. */
#define TEXT_SLACK 4096

/* Anthropic's sampling options, passed on to the model. */
static const struct {
    const char *name;
    double min, max;
    bool integer;
} sampling_options[] = {
    { "temperature", 0, 1, false },
    { "top_p", 0, 1, false },
    { "top_k", 0, 1e9, true },
};

const cJSON *
messages_field(const cJSON *object, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(object, name);
}

bool
messages_is_type(const cJSON *block, const char *type)
{
    const cJSON *value = messages_field(block, "type");
    return cJSON_IsString(value) && strcmp(value->valuestring, type) == 0;
}

const char *
messages_path(char out[static MESSAGES_PATH_MAX], const char *path, const char *fmt, ...)
{
    size_t used = (size_t)snprintf(out, MESSAGES_PATH_MAX, "%s", path);
    if (used < MESSAGES_PATH_MAX) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(out + used, MESSAGES_PATH_MAX - used, fmt, ap);
        va_end(ap);
    }
    return out;
}

int
messages_refuse(struct messages_builder *b, const char *code, const char *path, const char *fmt, ...)
{
    char reason[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    api_error_set(b->err, 400, code, path, "%s: %s", path, reason);
    return -1;
}

int
messages_no_memory(struct messages_builder *b)
{
    api_error_set(b->err, 500, "internal_error", NULL, "Out of memory.");
    return -1;
}

const char *
messages_loggable(const char *text, char out[static 72])
{
    size_t i = 0;
    for (; text[i] != '\0' && i < 64; i++) {
        char c = text[i];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == '-' || c == '.' || c == ':';
        out[i] = plain ? c : '?';
    }
    out[i] = '\0';
    if (text[i] != '\0')
        strcpy(out + i, "...");
    return out;
}

void
messages_note(struct messages_builder *b, const char *fmt, ...)
{
    struct dynbuf line;
    dynbuf_init(&line, NOTES_MAX);
    va_list ap;
    va_start(ap, fmt);
    int rc = dynbuf_vappendf(&line, fmt, ap);
    va_end(ap);
    /* The last 32 bytes are kept for saying that more was left out. */
    if (rc != DYNBUF_OK || b->notes.len + 2 + line.len > NOTES_MAX - 32 ||
        dynbuf_appendf(&b->notes, "%s%s", b->notes.len > 0 ? "; " : "", line.data) != DYNBUF_OK)
        b->notes_full = true;
    dynbuf_free(&line);
}

/* ---------------------------------------------------------- options */

static bool
is_integer(const cJSON *item)
{
    return cJSON_IsNumber(item) && isfinite(item->valuedouble) &&
           item->valuedouble == floor(item->valuedouble);
}

static int
build_options(struct messages_builder *b, cJSON *root, struct chat_request *out,
              bool need_max_tokens)
{
    const cJSON *max_tokens = messages_field(b->body, "max_tokens");
    if (json_body_absent(max_tokens)) {
        if (need_max_tokens)
            return messages_refuse(b, "missing_required_parameter", "max_tokens", "Field required.");
    } else if (!is_integer(max_tokens) || max_tokens->valuedouble < 1 ||
               max_tokens->valuedouble > 1e9) {
        return messages_refuse(b, "invalid_value", "max_tokens",
                               "Input should be an integer of at least 1.");
    } else {
        out->max_tokens = (long)max_tokens->valuedouble;
    }
    for (size_t i = 0; i < sizeof sampling_options / sizeof *sampling_options; i++) {
        const char *name = sampling_options[i].name;
        const cJSON *value = messages_field(b->body, name);
        if (json_body_absent(value))
            continue;
        bool ok = sampling_options[i].integer ? is_integer(value) : cJSON_IsNumber(value);
        if (!ok || value->valuedouble < sampling_options[i].min ||
            value->valuedouble > sampling_options[i].max)
            return messages_refuse(b, "invalid_value", name,
                                   "Input should be a number from %g to %g.",
                                   sampling_options[i].min, sampling_options[i].max);
        if (!cJSON_AddNumberToObject(root, name, value->valuedouble))
            return messages_no_memory(b);
    }
    const cJSON *stops = messages_field(b->body, "stop_sequences");
    if (!json_body_absent(stops)) {
        bool ok = cJSON_IsArray(stops) && cJSON_GetArraySize(stops) <= STOP_CUTTER_MAX_SEQUENCES;
        const cJSON *item;
        cJSON_ArrayForEach(item, stops)
            ok = ok && cJSON_IsString(item);
        if (!ok)
            return messages_refuse(b, "invalid_value", "stop_sequences",
                                   "Input should be a list of at most %d strings.",
                                   STOP_CUTTER_MAX_SEQUENCES);
        cJSON *copy = cJSON_Duplicate(stops, true);
        if (copy == NULL || !cJSON_AddItemToObject(root, "stop", copy)) {
            cJSON_Delete(copy);
            return messages_no_memory(b);
        }
        out->stop = copy;
    }
    const cJSON *stream = messages_field(b->body, "stream");
    if (!json_body_absent(stream) && !cJSON_IsBool(stream))
        return messages_refuse(b, "invalid_type", "stream", "Input should be a valid boolean.");
    out->stream = cJSON_IsTrue(stream);
    return 0;
}

/* ------------------------------------------------------------ parse */

static int
build(struct messages_builder *b, struct chat_request *out, bool need_max_tokens)
{
    cJSON *root = out->root;
    const cJSON *model = messages_field(b->body, "model");
    if (!json_body_absent(model) && !cJSON_IsString(model))
        return messages_refuse(b, "invalid_type", "model", "Input should be a valid string.");
    if (cJSON_IsString(model)) {
        cJSON *copy = cJSON_AddStringToObject(root, "model", model->valuestring);
        if (copy == NULL)
            return messages_no_memory(b);
        out->model = copy->valuestring;
    }
    b->messages = cJSON_AddArrayToObject(root, "messages");
    b->unanswered = cJSON_CreateArray();
    if (b->messages == NULL || b->unanswered == NULL)
        return messages_no_memory(b);
    if (messages_build_turns(b) != 0)
        return -1;
    const cJSON *system = messages_field(b->body, "system");
    if (!json_body_absent(system) && messages_add_system(b, system, "system", 0) != 0)
        return -1;
    if (cJSON_GetArraySize(b->messages) == 0)
        return messages_refuse(b, "invalid_value", "messages",
                               "nothing is left to send to the model (thinking blocks are not sent).");
    out->messages = b->messages;
    if (messages_build_tools(b, root) != 0 || messages_build_tool_choice(b, root) != 0 ||
        build_options(b, root, out, need_max_tokens) != 0)
        return -1;
    out->tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
    out->tool_choice = cJSON_GetObjectItemCaseSensitive(root, "tool_choice");
    out->has_images = b->has_images;
    return 0;
}

struct messages_parse {
    struct messages_builder b;
    bool need_max_tokens;
};

static int
build_body(void *ctx, const cJSON *body, struct chat_request *out)
{
    struct messages_parse *parse = ctx;
    parse->b.body = body;
    int rc = build(&parse->b, out, parse->need_max_tokens);
    /* The notes kept room for saying that more was left out. */
    if (rc == 0 && parse->b.notes.len > 0 && parse->b.notes_full)
        (void)dynbuf_append_str(&parse->b.notes, "; more not listed");
    return rc;
}

static int
parse(const char *body, size_t len, struct chat_request *out, struct api_error *err,
      bool need_max_tokens)
{
    struct messages_parse parse = { .b = { .text_max = len + TEXT_SLACK, .err = err },
                                    .need_max_tokens = need_max_tokens };
    struct request_builder builder = {
        .build = build_body,
        .builder = &parse,
        .notes = &parse.b.notes,
        .malformed_code = NULL,
    };
    int rc = request_parse(body, len, out, err, &builder);
    cJSON_Delete(parse.b.unanswered);
    return rc;
}

int
messages_request_parse(const char *body, size_t len, struct chat_request *out, struct api_error *err)
{
    return parse(body, len, out, err, true);
}

int
messages_request_parse_for_count(const char *body, size_t len, struct chat_request *out,
                                 struct api_error *err)
{
    return parse(body, len, out, err, false);
}
