/*
 * responses_input: a Responses request's `input` (a string, or a list of
 * items) as chat messages, in order.
 *
 *   "text" or a message item         ─▶ a message of its role (user, assistant,
 *                                       system, developer); text parts (input_text,
 *                                       output_text, refusal) ─▶ text parts,
 *                                       input_image (a data: URL) ─▶ image_url
 *   function_call, custom_tool_call  ─▶ tool_calls of an assistant message (the
 *                                       assistant message just before, if any:
 *                                       one turn's text and calls are one message);
 *                                       a custom tool's input becomes {"input": ...}
 *   function_call_output,            ─▶ tool messages; their images (view_image)
 *   custom_tool_call_output             follow in one user message, since chat
 *                                       tool messages carry text only
 *   additional_tools                 ─▶ more tools (responses_tools.c)
 *   agent_message (Codex's sub-agents) ─▶ a user message headed by its author
 *   reasoning, item_reference and    ─▶ dropped: VS Code's models cannot read
 *   item types not known here           another model's encrypted reasoning, and
 *                                       nothing is stored to refer to
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"
#include "json_body.h"
#include "responses_parse.h"

#define TOOL_OUTPUT_MAX (64u << 20)

struct input_walk {
    struct responses_parse *p;
    cJSON *assistant; /* the last message, when tool calls may join it */
    cJSON *images;    /* image parts of the tool outputs just read, or NULL */
};

static const char *
string_of(const cJSON *object, const char *field)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(object, field);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

static int
refuse_missing(struct responses_parse *p, const char *path, const char *field)
{
    char where[RESPONSES_PATH_MAX];
    responses_path(where, path, ".%s", field);
    api_error_set(p->err, 400, "missing_required_parameter", where,
                  "Missing required parameter: '%s' (a string).", where);
    return -1;
}

/* Appends {"role": role, ...}; its content is the caller's to add. */
static cJSON *
append_message(struct input_walk *w, const char *role)
{
    cJSON *message = cJSON_CreateObject();
    if (message == NULL || !cJSON_AddItemToArray(w->p->messages, message)) {
        cJSON_Delete(message);
        return NULL;
    }
    if (!cJSON_AddStringToObject(message, "role", role))
        return NULL;
    w->assistant = strcmp(role, "assistant") == 0 ? message : NULL;
    return message;
}

/* The image parts of the tool outputs just read, in a user message after
 * them. */
static int
flush_images(struct input_walk *w)
{
    cJSON *images = w->images;
    if (images == NULL)
        return 0;
    w->images = NULL;
    cJSON *message = append_message(w, "user");
    cJSON *note = cJSON_CreateObject();
    if (message == NULL || note == NULL || !cJSON_AddItemToObject(message, "content", images)) {
        cJSON_Delete(note);
        cJSON_Delete(images);
        return responses_parse_no_memory(w->p);
    }
    if (!cJSON_InsertItemInArray(images, 0, note)) {
        cJSON_Delete(note);
        return responses_parse_no_memory(w->p);
    }
    if (!cJSON_AddStringToObject(note, "type", "text") ||
        !cJSON_AddStringToObject(note, "text", "(The images the tool calls above returned.)"))
        return responses_parse_no_memory(w->p);
    return 0;
}

/* {"type":"image_url","image_url":{"url","detail"}} from an input_image part. */
static int
image_part(struct responses_parse *p, const cJSON *part, const char *path, cJSON *parts)
{
    const char *url = string_of(part, "image_url");
    const cJSON *detail = cJSON_GetObjectItemCaseSensitive(part, "detail");
    char where[RESPONSES_PATH_MAX];
    responses_path(where, path, ".image_url");
    if (url == NULL && string_of(part, "file_id") != NULL) {
        api_error_set(p->err, 400, "invalid_value", where,
                      "Invalid value for '%s': images uploaded with OpenAI's Files API (file_id) "
                      "are not available here; send the image inline as a data: URL.",
                      where);
        return -1;
    }
    if (url == NULL)
        return refuse_missing(p, path, "image_url");
    /* VS Code's models take the image's bytes; the gateway fetches nothing
     * from the network on a client's behalf. */
    if (strncmp(url, "data:image/", 11) != 0 || strstr(url, ";base64,") == NULL) {
        api_error_set(p->err, 400, "invalid_image_url", where,
                      "Invalid value for '%s': only data: URLs (data:image/png;base64,...) are "
                      "supported; remote image URLs are not. Download the image and send it "
                      "inline.",
                      where);
        return -1;
    }
    if (!json_body_image_data_url_valid(url)) {
        api_error_set(p->err, 400, "invalid_image_url", where,
                      "Invalid value for '%s': the data: URL must hold a PNG, JPEG, GIF or WebP "
                      "image in base64.",
                      where);
        return -1;
    }
    cJSON *chat = cJSON_CreateObject();
    if (chat == NULL || !cJSON_AddItemToArray(parts, chat)) {
        cJSON_Delete(chat);
        return responses_parse_no_memory(p);
    }
    cJSON *image = NULL;
    if (!cJSON_AddStringToObject(chat, "type", "image_url") ||
        (image = cJSON_AddObjectToObject(chat, "image_url")) == NULL ||
        !cJSON_AddItemToObject(image, "url", responses_string_ref(url)) ||
        (cJSON_IsString(detail) &&
         !cJSON_AddItemToObject(image, "detail", responses_string_ref(detail->valuestring))))
        return responses_parse_no_memory(p);
    p->req->has_images = true;
    return 0;
}

/* The text of a text part (input_text, output_text, refusal), or NULL when
 * `part` is not one. */
static const char *
part_text(const cJSON *part, const char *type)
{
    if (strcmp(type, "input_text") == 0 || strcmp(type, "output_text") == 0 ||
        strcmp(type, "text") == 0)
        return string_of(part, "text");
    if (strcmp(type, "refusal") == 0)
        return string_of(part, "refusal");
    return NULL;
}

static bool
is_text_type(const char *type)
{
    return strcmp(type, "input_text") == 0 || strcmp(type, "output_text") == 0 ||
           strcmp(type, "text") == 0 || strcmp(type, "refusal") == 0;
}

static int
refuse_part(struct responses_parse *p, const char *path, const char *type)
{
    if (strcmp(type, "input_file") == 0)
        api_error_set(p->err, 400, "invalid_value", path,
                      "Invalid value for '%s': input_file parts are not supported (VS Code's "
                      "models take text and images); send the file's text as input_text.",
                      path);
    else
        api_error_set(p->err, 400, "invalid_value", path,
                      "Invalid value for '%s.type': '%.64s' parts are not supported here.", path,
                      type);
    return -1;
}

/* A message's content parts as chat parts, into `parts`. */
static int
message_parts(struct responses_parse *p, const cJSON *content, const char *path, const char *role,
              cJSON *parts)
{
    int index = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, content) {
        char part_path[RESPONSES_PATH_MAX];
        responses_path(part_path, path, "[%d]", index++);
        const char *type = string_of(part, "type");
        if (!cJSON_IsObject(part) || type == NULL) {
            api_error_set(p->err, 400, "invalid_value", part_path,
                          "Invalid value for '%s': each content part must be an object with a "
                          "'type'.",
                          part_path);
            return -1;
        }
        if (strcmp(type, "input_image") == 0) {
            if (strcmp(role, "user") != 0) {
                api_error_set(p->err, 400, "invalid_value", part_path,
                              "Invalid value for '%s': images are supported in user messages "
                              "only.",
                              part_path);
                return -1;
            }
            if (image_part(p, part, part_path, parts) != 0)
                return -1;
            continue;
        }
        /* Another model's encrypted reasoning: nothing VS Code's models
         * can read (Codex sends it back). */
        if (strcmp(type, "encrypted_content") == 0)
            continue;
        if (!is_text_type(type))
            return refuse_part(p, part_path, type);
        const char *text = part_text(part, type);
        if (text == NULL)
            return refuse_missing(p, part_path, strcmp(type, "refusal") == 0 ? "refusal" : "text");
        cJSON *chat = cJSON_CreateObject();
        if (chat == NULL || !cJSON_AddItemToArray(parts, chat)) {
            cJSON_Delete(chat);
            return responses_parse_no_memory(p);
        }
        if (!cJSON_AddStringToObject(chat, "type", "text") ||
            !cJSON_AddItemToObject(chat, "text", responses_string_ref(text)))
            return responses_parse_no_memory(p);
    }
    return 0;
}

static int
add_message(struct input_walk *w, const cJSON *item, const char *path)
{
    struct responses_parse *p = w->p;
    const char *role = string_of(item, "role");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(item, "content");
    char where[RESPONSES_PATH_MAX];
    responses_path(where, path, ".role");
    if (role == NULL || (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0 &&
                         strcmp(role, "system") != 0 && strcmp(role, "developer") != 0)) {
        api_error_set(p->err, 400, "invalid_value", where,
                      "Invalid value for '%s': expected one of user, assistant, system, "
                      "developer.",
                      where);
        return -1;
    }
    responses_path(where, path, ".content");
    if (!cJSON_IsString(content) && !cJSON_IsArray(content)) {
        api_error_set(p->err, 400, "invalid_type", where,
                      "Invalid type for '%s': expected a string or an array of content parts.",
                      where);
        return -1;
    }
    cJSON *message = append_message(w, role);
    if (message == NULL)
        return responses_parse_no_memory(p);
    if (cJSON_IsString(content))
        return cJSON_AddItemToObject(message, "content", responses_string_ref(content->valuestring))
                   ? 0
                   : responses_parse_no_memory(p);
    cJSON *parts = cJSON_AddArrayToObject(message, "content");
    if (parts == NULL)
        return responses_parse_no_memory(p);
    return message_parts(p, content, where, role, parts);
}

/* The name the model was given for a tool: a namespaced one's is
 * flattened. */
static cJSON *
called_node(const char *namespace_name, const char *name)
{
    if (namespace_name == NULL)
        return responses_string_ref(name);
    char *flat = responses_called_name(namespace_name, name);
    cJSON *called = flat ? cJSON_CreateString(flat) : NULL;
    free(flat);
    return called;
}

/* Codex's agent_message (one sub-agent to another): a user message, its
 * text headed by who wrote to whom. */
static int
add_agent_message(struct input_walk *w, const cJSON *item, const char *path)
{
    struct responses_parse *p = w->p;
    const char *author = string_of(item, "author");
    const char *recipient = string_of(item, "recipient");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(item, "content");
    cJSON *message = append_message(w, "user");
    cJSON *parts = message ? cJSON_AddArrayToObject(message, "content") : NULL;
    cJSON *header = cJSON_CreateObject();
    if (parts == NULL || header == NULL || !cJSON_AddItemToArray(parts, header)) {
        cJSON_Delete(header);
        return responses_parse_no_memory(p);
    }
    char *text = NULL;
    if (asprintf(&text, "[agent_message%s%s%s%s]", author ? " from " : "", author ? author : "",
                 recipient ? " to " : "", recipient ? recipient : "") < 0)
        return responses_parse_no_memory(p);
    bool ok = cJSON_AddStringToObject(header, "type", "text") &&
              cJSON_AddStringToObject(header, "text", text);
    free(text);
    if (!ok)
        return responses_parse_no_memory(p);
    char where[RESPONSES_PATH_MAX];
    responses_path(where, path, ".content");
    if (cJSON_IsArray(content))
        return message_parts(p, content, where, "user", parts);
    if (cJSON_IsString(content)) {
        cJSON *part = cJSON_CreateObject();
        if (part == NULL || !cJSON_AddItemToArray(parts, part)) {
            cJSON_Delete(part);
            return responses_parse_no_memory(p);
        }
        if (!cJSON_AddStringToObject(part, "type", "text") ||
            !cJSON_AddItemToObject(part, "text", responses_string_ref(content->valuestring)))
            return responses_parse_no_memory(p);
    }
    return 0;
}

/* One tool call in the history: joins the assistant message before it, or
 * makes one.  `arguments` becomes the message's (a reference, or a node the
 * caller made). */
static int
add_tool_call(struct input_walk *w, const char *call_id, const char *name,
              const char *namespace_name, cJSON *arguments)
{
    struct responses_parse *p = w->p;
    cJSON *message = w->assistant ? w->assistant : append_message(w, "assistant");
    cJSON *calls = message ? cJSON_GetObjectItemCaseSensitive(message, "tool_calls") : NULL;
    if (message != NULL && calls == NULL)
        calls = cJSON_AddArrayToObject(message, "tool_calls");
    cJSON *call = cJSON_CreateObject();
    if (calls == NULL || call == NULL || !cJSON_AddItemToArray(calls, call)) {
        cJSON_Delete(call);
        cJSON_Delete(arguments);
        return responses_parse_no_memory(p);
    }
    cJSON *function = NULL;
    if (!cJSON_AddItemToObject(call, "id", responses_string_ref(call_id)) ||
        !cJSON_AddStringToObject(call, "type", "function") ||
        (function = cJSON_AddObjectToObject(call, "function")) == NULL ||
        !cJSON_AddItemToObject(function, "name", called_node(namespace_name, name)) ||
        !cJSON_AddItemToObject(function, "arguments", arguments)) {
        cJSON_Delete(arguments);
        return responses_parse_no_memory(p);
    }
    return 0;
}

static int
add_function_call(struct input_walk *w, const cJSON *item, const char *path)
{
    struct responses_parse *p = w->p;
    const char *call_id = string_of(item, "call_id");
    const char *name = string_of(item, "name");
    const char *arguments = string_of(item, "arguments");
    if (call_id == NULL)
        return refuse_missing(p, path, "call_id");
    if (name == NULL)
        return refuse_missing(p, path, "name");
    if (arguments == NULL)
        return refuse_missing(p, path, "arguments");
    /* VS Code takes a tool call's input as an object, not text. */
    if (*arguments != '\0') {
        cJSON *parsed = cJSON_Parse(arguments);
        bool is_object = cJSON_IsObject(parsed);
        cJSON_Delete(parsed);
        if (!is_object) {
            char where[RESPONSES_PATH_MAX];
            responses_path(where, path, ".arguments");
            api_error_set(p->err, 400, "invalid_value", where,
                          "Invalid value for '%s': expected a JSON object encoded as a string.",
                          where);
            return -1;
        }
    }
    cJSON *text = *arguments ? responses_string_ref(arguments) : cJSON_CreateString("{}");
    if (text == NULL)
        return responses_parse_no_memory(p);
    return add_tool_call(w, call_id, name, string_of(item, "namespace"), text);
}

/* A custom tool's call, as the model made it: {"input": "..."}. */
static int
add_custom_call(struct input_walk *w, const cJSON *item, const char *path)
{
    struct responses_parse *p = w->p;
    const char *call_id = string_of(item, "call_id");
    const char *name = string_of(item, "name");
    const char *input = string_of(item, "input");
    if (call_id == NULL)
        return refuse_missing(p, path, "call_id");
    if (name == NULL)
        return refuse_missing(p, path, "name");
    if (input == NULL)
        return refuse_missing(p, path, "input");
    cJSON *wrapped = cJSON_CreateObject();
    char *text = NULL;
    if (wrapped != NULL && cJSON_AddItemToObject(wrapped, "input", responses_string_ref(input)))
        text = cJSON_PrintUnformatted(wrapped);
    cJSON_Delete(wrapped);
    cJSON *arguments = text ? cJSON_CreateString(text) : NULL;
    free(text);
    if (arguments == NULL)
        return responses_parse_no_memory(p);
    return add_tool_call(w, call_id, name, string_of(item, "namespace"), arguments);
}

/* A tool output given as parts: its text joined, its images kept for the
 * user message that follows the outputs. */
static int
output_parts(struct input_walk *w, const cJSON *output, const char *path, cJSON **text_out)
{
    struct responses_parse *p = w->p;
    struct dynbuf text;
    dynbuf_init(&text, TOOL_OUTPUT_MAX);
    int index = 0, rc = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, output) {
        char part_path[RESPONSES_PATH_MAX];
        responses_path(part_path, path, "[%d]", index++);
        const char *type = string_of(part, "type");
        if (type != NULL && strcmp(type, "input_image") == 0) {
            if (w->images == NULL && (w->images = cJSON_CreateArray()) == NULL)
                rc = responses_parse_no_memory(p);
            else
                rc = image_part(p, part, part_path, w->images);
        } else if (type != NULL && is_text_type(type) && part_text(part, type) != NULL) {
            if (dynbuf_append_str(&text, part_text(part, type)) != DYNBUF_OK)
                rc = responses_parse_no_memory(p);
        } else if (type != NULL && cJSON_IsObject(part)) {
            rc = refuse_part(p, part_path, type);
        } else {
            api_error_set(p->err, 400, "invalid_value", part_path,
                          "Invalid value for '%s': expected an input_text or input_image part.",
                          part_path);
            rc = -1;
        }
        if (rc != 0)
            break;
    }
    *text_out = rc == 0 ? cJSON_CreateString(text.data ? text.data : "") : NULL;
    dynbuf_free(&text);
    if (rc == 0 && *text_out == NULL)
        rc = responses_parse_no_memory(p);
    return rc;
}

static int
add_tool_output(struct input_walk *w, const cJSON *item, const char *path)
{
    struct responses_parse *p = w->p;
    const char *call_id = string_of(item, "call_id");
    const cJSON *output = cJSON_GetObjectItemCaseSensitive(item, "output");
    if (call_id == NULL)
        return refuse_missing(p, path, "call_id");
    char where[RESPONSES_PATH_MAX];
    responses_path(where, path, ".output");
    cJSON *text = NULL;
    if (cJSON_IsString(output)) {
        text = responses_string_ref(output->valuestring);
        if (text == NULL)
            return responses_parse_no_memory(p);
    } else if (cJSON_IsArray(output)) {
        if (output_parts(w, output, where, &text) != 0)
            return -1;
    } else {
        api_error_set(p->err, 400, "invalid_type", where,
                      "Invalid type for '%s': expected a string or an array of parts.", where);
        return -1;
    }
    cJSON *message = append_message(w, "tool");
    if (message == NULL || !cJSON_AddItemToObject(message, "content", text)) {
        cJSON_Delete(text);
        return responses_parse_no_memory(p);
    }
    if (!cJSON_AddItemToObject(message, "tool_call_id", responses_string_ref(call_id)))
        return responses_parse_no_memory(p);
    return 0;
}

static bool
is_tool_output(const char *type)
{
    return type != NULL && (strcmp(type, "function_call_output") == 0 ||
                            strcmp(type, "custom_tool_call_output") == 0);
}

static int
add_item(struct input_walk *w, const cJSON *item, int index)
{
    struct responses_parse *p = w->p;
    char path[RESPONSES_PATH_MAX];
    snprintf(path, sizeof path, "input[%d]", index);
    if (!cJSON_IsObject(item)) {
        api_error_set(p->err, 400, "invalid_type", path,
                      "Invalid type for '%s': expected an object (an input item).", path);
        return -1;
    }
    const char *type = string_of(item, "type");
    if (!is_tool_output(type) && flush_images(w) != 0)
        return -1;
    /* A message may leave out its type (EasyInputMessage). */
    if (type == NULL || strcmp(type, "message") == 0)
        return add_message(w, item, path);
    if (strcmp(type, "function_call") == 0)
        return add_function_call(w, item, path);
    if (strcmp(type, "custom_tool_call") == 0)
        return add_custom_call(w, item, path);
    if (is_tool_output(type))
        return add_tool_output(w, item, path);
    if (strcmp(type, "agent_message") == 0)
        return add_agent_message(w, item, path);
    if (strcmp(type, "additional_tools") == 0) {
        snprintf(path, sizeof path, "input[%d].tools", index);
        return responses_parse_tools(p, cJSON_GetObjectItemCaseSensitive(item, "tools"), path);
    }
    /* Reasoning: another model's, dropped by design (Codex sends it every
     * turn).  What else is not known here (item_reference: nothing is
     * stored to refer to) is dropped too, and noted for the log. */
    if (strcmp(type, "reasoning") == 0)
        return 0;
    return responses_note(p->dropped, type) == 0 ? 0 : responses_parse_no_memory(p);
}

int
responses_parse_input(struct responses_parse *p, const cJSON *input)
{
    struct input_walk w = { .p = p };
    if (json_body_absent(input))
        return 0;
    if (cJSON_IsString(input)) {
        cJSON *message = append_message(&w, "user");
        if (message == NULL ||
            !cJSON_AddItemToObject(message, "content", responses_string_ref(input->valuestring)))
            return responses_parse_no_memory(p);
        return 0;
    }
    if (!cJSON_IsArray(input)) {
        api_error_set(p->err, 400, "invalid_type", "input",
                      "Invalid type for 'input': expected a string or an array of input items.");
        return -1;
    }
    int index = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, input) {
        if (add_item(&w, item, index++) != 0) {
            cJSON_Delete(w.images);
            return -1;
        }
    }
    return flush_images(&w);
}
