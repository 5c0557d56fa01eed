/*
 * gemini_request: the Gemini parser's entry points, the body's top level
 * and its generationConfig (gemini_request.h has the whole mapping; the
 * contents are gemini_contents.c's, the tools gemini_tools.c's).
 */
#include "gemini_request.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemini_parse.h"
#include "request_parse.h"
#include "stop_cutter.h"

/* Room for the words the parser adds around a client's text. */
#define TEXT_SLACK 4096

/* generationConfig's sampling options, under the names the pipe's request
 * carries (chat_request_frame passes them on as modelOptions). */
static const struct {
    const char *gemini, *option;
    double min, max;
    bool integer;
} sampling_options[] = {
    { "temperature", "temperature", 0, 2, false },
    { "topP", "top_p", 0, 1, false },
    { "topK", "top_k", 1, 1e9, true },
    { "presencePenalty", "presence_penalty", -2, 2, false },
    { "frequencyPenalty", "frequency_penalty", -2, 2, false },
    { "seed", "seed", -2147483648.0, 2147483647.0, true },
};

/* ------------------------------------------------------ shared helpers */

const cJSON *
gemini_field(const cJSON *object, const char *name)
{
    return cJSON_IsObject(object) ? cJSON_GetObjectItemCaseSensitive(object, name) : NULL;
}

int
gemini_refuse(struct gemini_builder *b, const char *path, const char *fmt, ...)
{
    char reason[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    api_error_set(b->err, 400, "invalid_argument", path, "Invalid value at '%s': %s", path, reason);
    return -1;
}

int
gemini_out_of_memory(struct gemini_builder *b)
{
    api_error_set(b->err, 500, "internal_error", NULL, "Out of memory.");
    return -1;
}

void
gemini_note(struct gemini_builder *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t start = b->notes.len;
    /* A full buffer loses the later notes only: they are for the log. */
    if (b->notes.len == 0 || dynbuf_append_str(&b->notes, "; ") == DYNBUF_OK)
        (void)dynbuf_vappendf(&b->notes, fmt, ap);
    va_end(ap);
    /* The names it quotes are the client's: one printable ASCII line in
     * the log, whatever they hold. */
    for (size_t i = start; i < b->notes.len; i++) {
        unsigned char c = (unsigned char)b->notes.data[i];
        if (c < 0x20 || c >= 0x7f)
            b->notes.data[i] = '?';
    }
}

/* ---------------------------------------------------- generationConfig */

static bool
is_integer(const cJSON *item)
{
    return cJSON_IsNumber(item) && isfinite(item->valuedouble) &&
           item->valuedouble == floor(item->valuedouble);
}

static int
build_stop_sequences(struct gemini_builder *b, const cJSON *stops, struct chat_request *out)
{
    bool ok = cJSON_IsArray(stops) && cJSON_GetArraySize(stops) <= STOP_CUTTER_MAX_SEQUENCES;
    const cJSON *item;
    const cJSON *list = ok ? stops : NULL;
    cJSON_ArrayForEach(item, list)
        ok = ok && cJSON_IsString(item);
    if (!ok)
        return gemini_refuse(b, "generationConfig.stopSequences",
                             "expected a list of at most %d strings.", STOP_CUTTER_MAX_SEQUENCES);
    cJSON *copy = cJSON_Duplicate(stops, true);
    if (copy == NULL || !cJSON_AddItemToObject(b->root, "stop", copy)) {
        cJSON_Delete(copy);
        return gemini_out_of_memory(b);
    }
    out->stop = copy;
    return 0;
}

/* responseMimeType application/json: VS Code has no JSON mode, so the
 * model is told in words (a leading system message), with the schema when
 * one is given (Gemini CLI's model router asks so). */
static int
build_json_mode(struct gemini_builder *b, const cJSON *config, struct chat_request *out)
{
    const cJSON *mime = gemini_field(config, "responseMimeType");
    if (json_body_absent(mime))
        return 0;
    if (!cJSON_IsString(mime))
        return gemini_refuse(b, "generationConfig.responseMimeType", "expected a string.");
    if (strcmp(mime->valuestring, "application/json") != 0)
        return 0; /* text/plain, text/x.enum: plain text is what the model writes */
    const cJSON *schema = gemini_field(config, "responseJsonSchema");
    /* A refusal names the field the client sent. */
    const char *schema_path = "generationConfig.responseJsonSchema";
    cJSON *openapi = NULL; /* responseSchema's OpenAPI types, lower-cased */
    if (json_body_absent(schema)) {
        schema = gemini_field(config, "responseSchema");
        schema_path = "generationConfig.responseSchema";
        if (cJSON_IsObject(schema) && (openapi = cJSON_Duplicate(schema, true)) == NULL)
            return gemini_out_of_memory(b);
        if (openapi != NULL) {
            gemini_lower_case_types(openapi);
            schema = openapi;
        }
    }
    char *schema_text = cJSON_IsObject(schema) ? cJSON_PrintUnformatted(schema) : NULL;
    bool schema_is_object = cJSON_IsObject(schema), schema_absent = json_body_absent(schema);
    cJSON_Delete(openapi);
    struct dynbuf instruction;
    dynbuf_init(&instruction, b->text_max);
    int rc = dynbuf_append_str(&instruction,
                               "Respond with one valid JSON value and nothing else: no prose, no "
                               "Markdown code fences.");
    if (rc == DYNBUF_OK && schema_text != NULL)
        rc = dynbuf_appendf(&instruction, " It must conform to this JSON Schema: %s", schema_text);
    free(schema_text);
    cJSON *message = cJSON_CreateObject();
    bool built = rc == DYNBUF_OK && (schema_is_object || schema_absent) && message != NULL &&
                 cJSON_AddStringToObject(message, "role", "system") &&
                 cJSON_AddStringToObject(message, "content", instruction.data);
    dynbuf_free(&instruction);
    if (!built) {
        cJSON_Delete(message);
        if (rc == DYNBUF_OK && !schema_is_object && !schema_absent)
            return gemini_refuse(b, schema_path, "expected an object.");
        return gemini_out_of_memory(b);
    }
    if (!cJSON_InsertItemInArray(b->messages, 0, message)) {
        cJSON_Delete(message);
        return gemini_out_of_memory(b);
    }
    out->response_format = "json_object";
    return 0;
}

static int
build_generation_config(struct gemini_builder *b, const cJSON *request, struct chat_request *out)
{
    const cJSON *config = gemini_field(request, "generationConfig");
    if (json_body_absent(config))
        return 0;
    if (!cJSON_IsObject(config))
        return gemini_refuse(b, "generationConfig", "expected a GenerationConfig object.");
    for (size_t i = 0; i < sizeof sampling_options / sizeof *sampling_options; i++) {
        const cJSON *value = gemini_field(config, sampling_options[i].gemini);
        if (json_body_absent(value))
            continue;
        bool ok = sampling_options[i].integer ? is_integer(value) : cJSON_IsNumber(value);
        char path[GEMINI_PATH_LEN];
        snprintf(path, sizeof path, "generationConfig.%s", sampling_options[i].gemini);
        if (!ok || value->valuedouble < sampling_options[i].min ||
            value->valuedouble > sampling_options[i].max)
            return gemini_refuse(b, path, "expected a number from %g to %g.",
                                 sampling_options[i].min, sampling_options[i].max);
        if (!cJSON_AddNumberToObject(b->root, sampling_options[i].option, value->valuedouble))
            return gemini_out_of_memory(b);
    }
    const cJSON *max_tokens = gemini_field(config, "maxOutputTokens");
    if (!json_body_absent(max_tokens)) {
        if (!is_integer(max_tokens) || max_tokens->valuedouble < 1 || max_tokens->valuedouble > 1e9)
            return gemini_refuse(b, "generationConfig.maxOutputTokens",
                                 "expected an integer of at least 1.");
        out->max_tokens = (long)max_tokens->valuedouble;
    }
    const cJSON *candidates = gemini_field(config, "candidateCount");
    if (!json_body_absent(candidates) && !(is_integer(candidates) && candidates->valuedouble == 1))
        return gemini_refuse(b, "generationConfig.candidateCount",
                             "only 1: VS Code returns one reply per call.");
    const cJSON *stops = gemini_field(config, "stopSequences");
    if (!json_body_absent(stops) && build_stop_sequences(b, stops, out) != 0)
        return -1;
    return build_json_mode(b, config, out);
}

/* --------------------------------------------------------------- parse */

static int
build(struct gemini_builder *b, const cJSON *request, struct chat_request *out)
{
    b->root = out->root;
    b->messages = cJSON_AddArrayToObject(b->root, "messages");
    b->unanswered = cJSON_CreateArray();
    if (b->messages == NULL || b->unanswered == NULL)
        return gemini_out_of_memory(b);
    if (gemini_build_contents(b, request) != 0 || gemini_build_tools(b, request) != 0 ||
        build_generation_config(b, request, out) != 0)
        return -1;
    out->messages = b->messages;
    out->tools = cJSON_GetObjectItemCaseSensitive(b->root, "tools");
    out->tool_choice = cJSON_GetObjectItemCaseSensitive(b->root, "tool_choice");
    out->has_images = b->has_images;
    return 0;
}

struct gemini_parse {
    struct gemini_builder b;
    bool count;
};

static int
build_body(void *ctx, const cJSON *body, struct chat_request *out)
{
    struct gemini_parse *parse = ctx;
    /* countTokens takes {contents} or the whole request it would count. */
    const cJSON *inner = gemini_field(body, "generateContentRequest");
    parse->b.body = parse->count && cJSON_IsObject(inner) ? inner : body;
    return build(&parse->b, parse->b.body, out);
}

static int
parse(const char *body, size_t len, struct chat_request *out, struct api_error *err, bool count)
{
    struct gemini_parse parse = { .b = { .text_max = len + TEXT_SLACK, .err = err },
                                  .count = count };
    struct request_builder builder = {
        .build = build_body,
        .builder = &parse,
        .notes = &parse.b.notes,
        .malformed_code = "invalid_argument", /* Google's status for every malformed body */
    };
    int rc = request_parse(body, len, out, err, &builder);
    cJSON_Delete(parse.b.unanswered);
    return rc;
}

int
gemini_request_parse(const char *body, size_t len, struct chat_request *out, struct api_error *err)
{
    return parse(body, len, out, err, false);
}

int
gemini_request_parse_for_count(const char *body, size_t len, struct chat_request *out,
                               struct api_error *err)
{
    return parse(body, len, out, err, true);
}
