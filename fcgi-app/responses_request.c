/*
 * responses_request: the top level of a Responses body (see
 * responses_request.h): the fields beside `input` and `tools`, what a
 * stateless gateway must refuse, and what the Response echoes.
 */
#include "responses_request.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"
#include "json_body.h"
#include "responses_parse.h"

int
responses_parse_no_memory(struct responses_parse *p)
{
    api_error_set(p->err, 500, "internal_error", NULL, "Out of memory.");
    return -1;
}

cJSON *
responses_string_ref(const char *text)
{
    return text != NULL ? cJSON_CreateStringReference(text) : NULL;
}

void
responses_path(char *out, const char *base, const char *fmt, ...)
{
    size_t len = strnlen(base, RESPONSES_PATH_MAX - 1);
    memmove(out, base, len);
    out[len] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + len, RESPONSES_PATH_MAX - len, fmt, ap);
    va_end(ap);
}

int
responses_note(cJSON *seen, const char *type)
{
    const cJSON *known;
    cJSON_ArrayForEach(known, seen) {
        if (strcmp(known->valuestring, type) == 0)
            return 0;
    }
    return cJSON_AddItemToArray(seen, cJSON_CreateString(type)) ? 0 : -1;
}

char *
responses_called_name(const char *namespace_name, const char *name)
{
    size_t len = (namespace_name ? strlen(namespace_name) + 2 : 0) + strlen(name) + 1;
    char *called = malloc(len);
    if (called != NULL)
        snprintf(called, len, "%s%s%s", namespace_name ? namespace_name : "",
                 namespace_name ? "__" : "", name);
    return called;
}

/* What needs state this gateway does not keep: refused, saying what to
 * send instead.  (OpenAI answers an unknown previous_response_id with
 * previous_response_not_found: clients that recover from it by sending the
 * whole conversation recover here too.) */
static int
refuse_stateful(const cJSON *root, struct api_error *err)
{
    const cJSON *previous = cJSON_GetObjectItemCaseSensitive(root, "previous_response_id");
    if (!json_body_absent(previous)) {
        api_error_set(err, 400, "previous_response_not_found", "previous_response_id",
                      "Previous response with id '%.200s' not found: this gateway is stateless "
                      "and stores no responses. Send the whole conversation in 'input' instead "
                      "of 'previous_response_id'.",
                      cJSON_IsString(previous) ? previous->valuestring : "(not a string)");
        return -1;
    }
    if (!json_body_absent(cJSON_GetObjectItemCaseSensitive(root, "conversation"))) {
        api_error_set(err, 400, "invalid_value", "conversation",
                      "Invalid parameter 'conversation': this gateway is stateless and stores no "
                      "conversations. Send the whole conversation in 'input' instead.");
        return -1;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "background"))) {
        api_error_set(err, 400, "invalid_value", "background",
                      "Invalid parameter 'background': this gateway is stateless and stores no "
                      "responses to poll; send the request with 'background' false (optionally "
                      "with 'stream' true).");
        return -1;
    }
    if (!json_body_absent(cJSON_GetObjectItemCaseSensitive(root, "prompt"))) {
        api_error_set(err, 400, "invalid_value", "prompt",
                      "Invalid parameter 'prompt': stored prompt templates live on OpenAI's "
                      "servers, not here. Send the prompt's text in 'instructions' and 'input'.");
        return -1;
    }
    return 0;
}

static int
refuse_type(struct api_error *err, const char *param, const char *expected)
{
    api_error_set(err, 400, "invalid_type", param, "Invalid type for '%s': expected %s.", param,
                  expected);
    return -1;
}

/* A field that must be absent, null, or of a JSON type. */
static int
check_optional(const cJSON *root, const char *field, cJSON_bool (*is)(const cJSON *),
               const char *expected, struct api_error *err)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(root, field);
    if (json_body_absent(value) || is(value))
        return 0;
    return refuse_type(err, field, expected);
}

/* A number in [min, max], or absent; passed on to the model (the pipe
 * frame takes sampling options from the root). */
static int
sampling_option(const cJSON *body, cJSON *root, const char *field, double min, double max,
                struct responses_parse *p)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(body, field);
    if (json_body_absent(value))
        return 0;
    if (!cJSON_IsNumber(value) || !isfinite(value->valuedouble) || value->valuedouble < min ||
        value->valuedouble > max) {
        api_error_set(p->err, 400, "invalid_value", field,
                      "Invalid value for '%s': expected a number from %g to %g.", field, min, max);
        return -1;
    }
    if (!cJSON_AddNumberToObject(root, field, value->valuedouble))
        return responses_parse_no_memory(p);
    return 0;
}

static int
read_max_output_tokens(const cJSON *body, long *out, struct api_error *err)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(body, "max_output_tokens");
    *out = 0;
    if (json_body_absent(value))
        return 0;
    if (!cJSON_IsNumber(value) || value->valuedouble != floor(value->valuedouble) ||
        value->valuedouble < 1 || value->valuedouble > 1e9) {
        api_error_set(err, 400, "invalid_value", "max_output_tokens",
                      "Invalid value for 'max_output_tokens': expected an integer of at least 1.");
        return -1;
    }
    *out = (long)value->valuedouble;
    return 0;
}

/* metadata: an object of strings, echoed in the Response. */
static int
check_metadata(const cJSON *metadata, struct api_error *err)
{
    if (json_body_absent(metadata))
        return 0;
    bool ok = cJSON_IsObject(metadata);
    const cJSON *value;
    cJSON_ArrayForEach(value, metadata) {
        ok = ok && cJSON_IsString(value);
    }
    return ok ? 0 : refuse_type(err, "metadata", "an object whose values are strings");
}

/* The request's value of `key` in the echo (a reference: the body owns
 * it), or null. */
static bool
echo_value(cJSON *echo, const char *key, const cJSON *value)
{
    if (json_body_absent(value))
        return cJSON_AddNullToObject(echo, key) != NULL;
    return cJSON_AddItemReferenceToObject(echo, key, (cJSON *)value);
}

/* The Response's echo of the request: instructions and tools are there
 * already; the rest follows, in the order a Response lists them. */
static int
finish_echo(struct responses_parse *p, const cJSON *body, cJSON *echo)
{
    const cJSON *instructions = cJSON_GetObjectItemCaseSensitive(body, "instructions");
    const cJSON *choice = cJSON_GetObjectItemCaseSensitive(body, "tool_choice");
    const cJSON *parallel = cJSON_GetObjectItemCaseSensitive(body, "parallel_tool_calls");
    cJSON *given_instructions = cJSON_IsString(instructions)
                                    ? responses_string_ref(instructions->valuestring)
                                    : NULL;
    if (given_instructions != NULL &&
        !cJSON_ReplaceItemInObjectCaseSensitive(echo, "instructions", given_instructions)) {
        cJSON_Delete(given_instructions);
        return responses_parse_no_memory(p);
    }
    bool ok = (json_body_absent(choice)
                   ? cJSON_AddStringToObject(echo, "tool_choice", "auto") != NULL
                   : echo_value(echo, "tool_choice", choice)) &&
              echo_value(echo, "temperature",
                         cJSON_GetObjectItemCaseSensitive(body, "temperature")) &&
              echo_value(echo, "top_p", cJSON_GetObjectItemCaseSensitive(body, "top_p")) &&
              cJSON_AddBoolToObject(echo, "parallel_tool_calls", !cJSON_IsFalse(parallel)) &&
              echo_value(echo, "metadata", cJSON_GetObjectItemCaseSensitive(body, "metadata")) &&
              echo_value(echo, "max_output_tokens",
                         cJSON_GetObjectItemCaseSensitive(body, "max_output_tokens"));
    return ok ? 0 : responses_parse_no_memory(p);
}

/* instructions: the first message, a system message. */
static int
add_instructions(struct responses_parse *p, const cJSON *instructions)
{
    if (!cJSON_IsString(instructions) || instructions->valuestring[0] == '\0')
        return 0;
    cJSON *message = cJSON_CreateObject();
    if (message == NULL || !cJSON_InsertItemInArray(p->messages, 0, message)) {
        cJSON_Delete(message);
        return responses_parse_no_memory(p);
    }
    if (!cJSON_AddStringToObject(message, "role", "system") ||
        !cJSON_AddItemToObject(message, "content", responses_string_ref(instructions->valuestring)))
        return responses_parse_no_memory(p);
    return 0;
}

/* text.format asking for JSON: VS Code has no JSON mode, so the model is
 * told in words, in a system message before everything else. */
static int
add_text_format(struct responses_parse *p, const cJSON *text)
{
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(text, "format");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(format, "type");
    if (json_body_absent(text) || json_body_absent(format))
        return 0;
    if (!cJSON_IsString(type) ||
        (strcmp(type->valuestring, "text") != 0 && strcmp(type->valuestring, "json_object") != 0 &&
         strcmp(type->valuestring, "json_schema") != 0)) {
        api_error_set(p->err, 400, "invalid_value", "text.format",
                      "Invalid value for 'text.format': expected {\"type\": \"text\" | "
                      "\"json_object\" | \"json_schema\", ...}.");
        return -1;
    }
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(format, "schema");
    bool with_schema = strcmp(type->valuestring, "json_schema") == 0;
    if (strcmp(type->valuestring, "text") == 0)
        return 0;
    if (with_schema && !cJSON_IsObject(schema)) {
        api_error_set(p->err, 400, "missing_required_parameter", "text.format.schema",
                      "Missing required parameter: 'text.format.schema' (a JSON Schema object).");
        return -1;
    }
    char *schema_text = with_schema ? cJSON_PrintUnformatted(schema) : NULL;
    char *instruction = NULL;
    int made = with_schema && schema_text == NULL
                   ? -1
                   : asprintf(&instruction,
                              "Respond with one valid JSON %s and nothing else: no prose, no "
                              "Markdown code fences.%s%s",
                              with_schema ? "value" : "object",
                              with_schema ? " It must conform to this JSON Schema: " : "",
                              with_schema ? schema_text : "");
    free(schema_text);
    cJSON *message = made < 0 ? NULL : cJSON_CreateObject();
    bool ok = message != NULL && cJSON_InsertItemInArray(p->messages, 0, message);
    if (!ok)
        cJSON_Delete(message);
    ok = ok && cJSON_AddStringToObject(message, "role", "system") &&
         cJSON_AddStringToObject(message, "content", instruction);
    if (made >= 0)
        free(instruction);
    return ok ? 0 : responses_parse_no_memory(p);
}

/* Sets up the request's trees: the chat-shaped root and format_state
 * (which owns the parsed body). */
static int
start(struct responses_parse *p, cJSON *body)
{
    struct chat_request *req = p->req;
    cJSON *state = cJSON_CreateObject();
    if (state == NULL || !cJSON_AddItemToObject(state, "body", body)) {
        cJSON_Delete(state);
        cJSON_Delete(body);
        return responses_parse_no_memory(p);
    }
    req->format_state = state;
    cJSON *echo = cJSON_AddObjectToObject(state, "echo");
    req->root = cJSON_CreateObject();
    if (echo == NULL || req->root == NULL || !cJSON_AddNullToObject(echo, "instructions") ||
        (p->echo_tools = cJSON_AddArrayToObject(echo, "tools")) == NULL ||
        (p->names = cJSON_AddObjectToObject(state, "names")) == NULL ||
        (p->skipped = cJSON_AddArrayToObject(state, "skipped")) == NULL ||
        (p->dropped = cJSON_AddArrayToObject(state, "dropped")) == NULL ||
        (p->messages = cJSON_AddArrayToObject(req->root, "messages")) == NULL)
        return responses_parse_no_memory(p);
    return 0;
}

/* One list of what was noted, "LABEL: a, b" ("; " after a list before it). */
static int
append_list(struct dynbuf *notes, const char *label, const cJSON *list)
{
    int rc = DYNBUF_OK;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        rc = item == list->child ? dynbuf_appendf(notes, "%s%s: ", notes->len ? "; " : "", label)
                                 : dynbuf_append_str(notes, ", ");
        if (rc == DYNBUF_OK)
            rc = dynbuf_append_str(notes, item->valuestring);
        if (rc != DYNBUF_OK)
            break;
    }
    return rc;
}

/* What was skipped or dropped, for the log line (req->notes). */
static int
take_notes(struct responses_parse *p)
{
    struct dynbuf notes;
    dynbuf_init(&notes, 1u << 12);
    int rc = append_list(&notes, "hosted tools skipped (VS Code's models cannot run them)",
                         p->skipped);
    if (rc == DYNBUF_OK)
        rc = append_list(&notes, "input items dropped (not known here)", p->dropped);
    if (rc == DYNBUF_TOO_BIG)
        rc = DYNBUF_OK; /* a long list is cut: it is a log line */
    if (rc == DYNBUF_OK && notes.len > 0)
        p->req->notes = dynbuf_take(&notes, NULL);
    dynbuf_free(&notes);
    return rc == DYNBUF_OK ? 0 : responses_parse_no_memory(p);
}

static int
parse(const char *text, size_t len, struct chat_request *req, struct api_error *err, bool counting)
{
    memset(req, 0, sizeof *req);
    struct responses_parse p = { .req = req, .err = err };
    cJSON *body = NULL;
    if (json_body_parse(text, len, &body, err) != 0) {
        cJSON_Delete(body);
        return -1;
    }
    if (start(&p, body) != 0)
        return -1;
    if (refuse_stateful(body, err) != 0 ||
        check_optional(body, "model", cJSON_IsString, "a string", err) != 0 ||
        check_optional(body, "stream", cJSON_IsBool, "a boolean", err) != 0 ||
        check_optional(body, "instructions", cJSON_IsString, "a string", err) != 0 ||
        check_optional(body, "parallel_tool_calls", cJSON_IsBool, "a boolean", err) != 0 ||
        check_metadata(cJSON_GetObjectItemCaseSensitive(body, "metadata"), err) != 0 ||
        read_max_output_tokens(body, &req->max_tokens, err) != 0)
        return -1;
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(body, "input");
    if (!counting && json_body_absent(input)) {
        api_error_set(err, 400, "missing_required_parameter", "input",
                      "Missing required parameter: 'input'.");
        return -1;
    }
    /* Tools first: additional_tools items in the input add to them. */
    cJSON *choice = NULL;
    if (responses_parse_tools(&p, cJSON_GetObjectItemCaseSensitive(body, "tools"), "tools") != 0 ||
        responses_parse_input(&p, input) != 0 ||
        add_instructions(&p, cJSON_GetObjectItemCaseSensitive(body, "instructions")) != 0 ||
        add_text_format(&p, cJSON_GetObjectItemCaseSensitive(body, "text")) != 0 ||
        responses_parse_tool_choice(&p, cJSON_GetObjectItemCaseSensitive(body, "tool_choice"),
                                    &choice) != 0 ||
        sampling_option(body, req->root, "temperature", 0, 2, &p) != 0 ||
        sampling_option(body, req->root, "top_p", 0, 1, &p) != 0 ||
        finish_echo(&p, body, cJSON_GetObjectItemCaseSensitive(req->format_state, "echo")) != 0)
        return -1;
    if (!counting && cJSON_GetArraySize(p.messages) == 0) {
        api_error_set(err, 400, "invalid_value", "input",
                      "Invalid value for 'input': it holds no message the model can read (only "
                      "reasoning or references to stored items?). Send the conversation's "
                      "messages.");
        return -1;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(body, "model");
    req->model = cJSON_IsString(model) ? model->valuestring : NULL;
    req->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "stream"));
    req->messages = p.messages;
    req->tools = p.tools != NULL && p.tools->child != NULL ? p.tools : NULL;
    req->tool_choice = choice;
    return take_notes(&p);
}

int
responses_request_parse(const char *body, size_t len, struct chat_request *req,
                        struct api_error *err)
{
    return parse(body, len, req, err, false);
}

int
responses_request_parse_count(const char *body, size_t len, struct chat_request *req,
                              struct api_error *err)
{
    return parse(body, len, req, err, true);
}

/* ------------------------------------------------ for the renderer */

const cJSON *
responses_request_echo(const struct chat_request *req)
{
    return cJSON_GetObjectItemCaseSensitive(req->format_state, "echo");
}

bool
responses_request_tool(const struct chat_request *req, const char *called,
                       struct responses_tool *out)
{
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(req->format_state, "names");
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(names, called);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, "name");
    const cJSON *namespace_name = cJSON_GetObjectItemCaseSensitive(entry, "namespace");
    if (!cJSON_IsString(name))
        return false;
    out->name = name->valuestring;
    out->namespace_name = cJSON_IsString(namespace_name) ? namespace_name->valuestring : NULL;
    out->custom = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(entry, "custom"));
    return true;
}

bool
responses_request_parallel_tool_calls(const struct chat_request *req)
{
    return !cJSON_IsFalse(
        cJSON_GetObjectItemCaseSensitive(responses_request_echo(req), "parallel_tool_calls"));
}
