#include "chat_request.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_body.h"
#include "json_write.h"

static const char *const message_roles[] = {
    "system", "developer", "user", "assistant", "tool",
};

/* Options VS Code passes to the model as modelOptions. */
static const struct {
    const char *name;
    double min, max;
    bool integer;
} sampling_options[] = {
    { "temperature", 0, 2, false },
    { "top_p", 0, 1, false },
    { "top_k", 1, 1e9, true }, /* not OpenAI's; Anthropic and Gemini clients send it */
    { "presence_penalty", -2, 2, false },
    { "frequency_penalty", -2, 2, false },
    { "seed", -9007199254740991.0, 9007199254740991.0, true },
};

static bool
is_integer(const cJSON *item)
{
    return cJSON_IsNumber(item) && isfinite(item->valuedouble) &&
           item->valuedouble == floor(item->valuedouble);
}

static bool
role_known(const char *role)
{
    for (size_t i = 0; i < sizeof message_roles / sizeof *message_roles; i++)
        if (strcmp(role, message_roles[i]) == 0)
            return true;
    return false;
}

static int
validate_content_part(const cJSON *part, const char *path, const char *role, struct api_error *err)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
    if (!cJSON_IsObject(part) || !cJSON_IsString(type)) {
        api_error_set(err, 400, "invalid_type", path,
                      "Invalid value for '%s': each content part must be an object with a 'type'.",
                      path);
        return -1;
    }
    const char *kind = type->valuestring;
    if (strcmp(kind, "text") == 0 ||
        (strcmp(kind, "refusal") == 0 && strcmp(role, "assistant") == 0)) {
        const char *field = kind[0] == 't' ? "text" : "refusal";
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(part, field))) {
            api_error_set(err, 400, "invalid_type", path,
                          "Invalid value for '%s.%s': expected a string.", path, field);
            return -1;
        }
        return 0;
    }
    if (strcmp(kind, "image_url") == 0 && strcmp(role, "user") == 0) {
        const cJSON *image = cJSON_GetObjectItemCaseSensitive(part, "image_url");
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(image, "url");
        char where[160];
        snprintf(where, sizeof where, "%s.image_url.url", path);
        if (!cJSON_IsString(url)) {
            api_error_set(err, 400, "invalid_type", where,
                          "Invalid value for '%s': expected a string.", where);
            return -1;
        }
        /* VS Code's models take the image's bytes; the gateway fetches
         * nothing from the network on a client's behalf. */
        if (strncmp(url->valuestring, "data:image/", 11) != 0 ||
            strstr(url->valuestring, ";base64,") == NULL) {
            api_error_set(err, 400, "invalid_image_url", where,
                          "Invalid value for '%s': only data: URLs (data:image/png;base64,...) are "
                          "supported; remote image URLs are not. Download the image and send it "
                          "inline.",
                          where);
            return -1;
        }
        if (!json_body_image_data_url_valid(url->valuestring)) {
            api_error_set(err, 400, "invalid_image_url", where,
                          "Invalid value for '%s': the data: URL must hold a PNG, JPEG, GIF or WebP "
                          "image in base64.",
                          where);
            return -1;
        }
        return 0;
    }
    api_error_set(err, 400, "invalid_value", path,
                  "Invalid value for '%s.type': '%.64s' content parts are not supported in %s messages.",
                  path, kind, role);
    return -1;
}

static int
validate_tool_calls(const cJSON *calls, const char *path, struct api_error *err)
{
    if (!cJSON_IsArray(calls)) {
        api_error_set(err, 400, "invalid_type", path,
                      "Invalid type for '%s': expected an array of tool calls.", path);
        return -1;
    }
    int index = 0;
    const cJSON *call;
    cJSON_ArrayForEach(call, calls) {
        const cJSON *function = cJSON_GetObjectItemCaseSensitive(call, "function");
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(call, "id")) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(function, "name")) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(function, "arguments"))) {
            char where[128];
            snprintf(where, sizeof where, "%s[%d]", path, index);
            api_error_set(err, 400, "invalid_value", where,
                          "Invalid value for '%s': a tool call needs 'id', 'function.name' and "
                          "'function.arguments' strings.",
                          where);
            return -1;
        }
        /* VS Code takes a tool call's input as an object, not text. */
        const char *arguments = cJSON_GetObjectItemCaseSensitive(function, "arguments")->valuestring;
        cJSON *parsed = cJSON_Parse(arguments);
        bool is_object = cJSON_IsObject(parsed);
        cJSON_Delete(parsed);
        if (!is_object) {
            char where[160];
            snprintf(where, sizeof where, "%s[%d].function.arguments", path, index);
            api_error_set(err, 400, "invalid_value", where,
                          "Invalid value for '%s': expected a JSON object encoded as a string.",
                          where);
            return -1;
        }
        index++;
    }
    return 0;
}

static int
validate_message(const cJSON *message, int index, struct api_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "messages[%d]", index);
    if (!cJSON_IsObject(message)) {
        api_error_set(err, 400, "invalid_type", path,
                      "Invalid type for '%s': expected an object with 'role' and 'content'.", path);
        return -1;
    }
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(message, "role");
    char field[96];
    snprintf(field, sizeof field, "%s.role", path);
    if (!cJSON_IsString(role)) {
        api_error_set(err, 400, "invalid_type", field,
                      "Missing or invalid '%s': expected one of system, developer, user, assistant, tool.",
                      field);
        return -1;
    }
    if (!role_known(role->valuestring)) {
        api_error_set(err, 400, "invalid_value", field,
                      "Invalid value for '%s': '%.64s' is not one of system, developer, user, "
                      "assistant, tool.",
                      field, role->valuestring);
        return -1;
    }
    const char *who = role->valuestring;
    bool assistant = strcmp(who, "assistant") == 0;

    const cJSON *name = cJSON_GetObjectItemCaseSensitive(message, "name");
    if (!json_body_absent(name) && !cJSON_IsString(name)) {
        snprintf(field, sizeof field, "%s.name", path);
        api_error_set(err, 400, "invalid_type", field, "Invalid type for '%s': expected a string.",
                      field);
        return -1;
    }
    const cJSON *tool_calls = cJSON_GetObjectItemCaseSensitive(message, "tool_calls");
    if (!json_body_absent(tool_calls)) {
        snprintf(field, sizeof field, "%s.tool_calls", path);
        if (!assistant) {
            api_error_set(err, 400, "invalid_value", field,
                          "Invalid parameter '%s': only assistant messages carry tool calls.",
                          field);
            return -1;
        }
        if (validate_tool_calls(tool_calls, field, err) != 0)
            return -1;
    }
    if (strcmp(who, "tool") == 0 &&
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(message, "tool_call_id"))) {
        snprintf(field, sizeof field, "%s.tool_call_id", path);
        api_error_set(err, 400, "missing_required_parameter", field,
                      "Missing required parameter: '%s' (a tool message answers a tool call).",
                      field);
        return -1;
    }

    const cJSON *content = cJSON_GetObjectItemCaseSensitive(message, "content");
    snprintf(field, sizeof field, "%s.content", path);
    if (json_body_absent(content)) {
        bool may_be_empty = assistant &&
                            (!json_body_absent(tool_calls) ||
                             cJSON_GetObjectItemCaseSensitive(message, "function_call"));
        if (may_be_empty)
            return 0;
        api_error_set(err, 400, "missing_required_parameter", field,
                      "Missing required parameter: '%s'.", field);
        return -1;
    }
    if (cJSON_IsString(content))
        return 0;
    if (!cJSON_IsArray(content)) {
        api_error_set(err, 400, "invalid_type", field,
                      "Invalid type for '%s': expected a string or an array of content parts.",
                      field);
        return -1;
    }
    int part_index = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, content) {
        char part_path[128];
        snprintf(part_path, sizeof part_path, "%s[%d]", field, part_index++);
        if (validate_content_part(part, part_path, who, err) != 0)
            return -1;
    }
    return 0;
}

static int
validate_tools(const struct chat_request *req, struct api_error *err)
{
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(req->root, "tools");
    if (json_body_absent(tools))
        return 0;
    if (!cJSON_IsArray(tools)) {
        api_error_set(err, 400, "invalid_type", "tools",
                      "Invalid type for 'tools': expected an array of function tools.");
        return -1;
    }
    int index = 0;
    const cJSON *tool;
    cJSON_ArrayForEach(tool, tools) {
        const cJSON *function = cJSON_GetObjectItemCaseSensitive(tool, "function");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(tool, "type");
        const cJSON *parameters = cJSON_GetObjectItemCaseSensitive(function, "parameters");
        char path[64];
        snprintf(path, sizeof path, "tools[%d]", index++);
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "function") != 0 ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(function, "name")) ||
            (!json_body_absent(parameters) && !cJSON_IsObject(parameters))) {
            api_error_set(err, 400, "invalid_value", path,
                          "Invalid value for '%s': expected {\"type\": \"function\", \"function\": "
                          "{\"name\": ..., \"parameters\": {...}}}.",
                          path);
            return -1;
        }
    }
    return 0;
}

static int
validate_tool_choice(const cJSON *choice, struct api_error *err)
{
    if (json_body_absent(choice))
        return 0;
    if (cJSON_IsString(choice)) {
        const char *value = choice->valuestring;
        if (strcmp(value, "none") == 0 || strcmp(value, "auto") == 0 ||
            strcmp(value, "required") == 0)
            return 0;
    } else if (cJSON_IsObject(choice)) {
        const cJSON *function = cJSON_GetObjectItemCaseSensitive(choice, "function");
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(function, "name")))
            return 0;
    }
    api_error_set(err, 400, "invalid_value", "tool_choice",
                  "Invalid value for 'tool_choice': expected \"none\", \"auto\", \"required\" or "
                  "{\"type\": \"function\", \"function\": {\"name\": ...}}.");
    return -1;
}

static int
read_max_tokens(const cJSON *root, long *out, struct api_error *err)
{
    static const char *const names[] = { "max_completion_tokens", "max_tokens" };
    *out = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(root, names[i]);
        if (json_body_absent(value))
            continue;
        if (!is_integer(value) || value->valuedouble < 1 || value->valuedouble > 1e9) {
            api_error_set(err, 400, "invalid_value", names[i],
                          "Invalid value for '%s': expected an integer of at least 1.", names[i]);
            return -1;
        }
        if (*out == 0)
            *out = (long)value->valuedouble;
    }
    return 0;
}

static int
validate_options(const cJSON *root, struct api_error *err)
{
    for (size_t i = 0; i < sizeof sampling_options / sizeof *sampling_options; i++) {
        const char *name = sampling_options[i].name;
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(root, name);
        if (json_body_absent(value))
            continue;
        bool ok = sampling_options[i].integer ? is_integer(value) : cJSON_IsNumber(value);
        if (!ok || value->valuedouble < sampling_options[i].min ||
            value->valuedouble > sampling_options[i].max) {
            api_error_set(err, 400, "invalid_value", name,
                          "Invalid value for '%s': expected a number from %g to %g.", name,
                          sampling_options[i].min, sampling_options[i].max);
            return -1;
        }
    }
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "n");
    if (!json_body_absent(n) && (!is_integer(n) || n->valuedouble != 1)) {
        api_error_set(err, 400, "invalid_value", "n",
                      "Invalid value for 'n': only 1 is supported, as VS Code's models return one choice.");
        return -1;
    }
    const cJSON *stop = cJSON_GetObjectItemCaseSensitive(root, "stop");
    if (!json_body_absent(stop) && !cJSON_IsString(stop)) {
        bool ok = cJSON_IsArray(stop) && cJSON_GetArraySize(stop) <= 4;
        const cJSON *item;
        cJSON_ArrayForEach(item, stop)
            ok = ok && cJSON_IsString(item);
        if (!ok) {
            api_error_set(err, 400, "invalid_value", "stop",
                          "Invalid value for 'stop': expected a string or an array of up to 4 strings.");
            return -1;
        }
    }
    return 0;
}

/* Rewrites the legacy `functions` / `function_call` API (and `function`
 * messages) into tools, so that one path serves both; the reply is then
 * written back in the legacy shape. */
static int
normalise_legacy_functions(struct chat_request *req)
{
    cJSON *root = req->root;
    cJSON *functions = cJSON_GetObjectItemCaseSensitive(root, "functions");
    cJSON *function_call = cJSON_GetObjectItemCaseSensitive(root, "function_call");
    if (cJSON_IsArray(functions) && !cJSON_GetObjectItemCaseSensitive(root, "tools")) {
        cJSON *tools = cJSON_AddArrayToObject(root, "tools");
        const cJSON *function;
        cJSON_ArrayForEach(function, functions) {
            cJSON *tool = cJSON_CreateObject();
            if (tools == NULL || tool == NULL || !cJSON_AddItemToArray(tools, tool) ||
                !cJSON_AddStringToObject(tool, "type", "function") ||
                !cJSON_AddItemToObject(tool, "function", cJSON_Duplicate(function, true)))
                return -1;
        }
        req->legacy_functions = true;
    }
    if (function_call != NULL && !cJSON_GetObjectItemCaseSensitive(root, "tool_choice")) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(function_call, "name");
        cJSON *choice = cJSON_IsString(function_call)
                            ? cJSON_CreateString(function_call->valuestring)
                        : cJSON_IsString(name) ? cJSON_CreateObject()
                                               : NULL;
        if (choice != NULL && cJSON_IsObject(choice)) {
            cJSON *inner = cJSON_AddObjectToObject(choice, "function");
            if (!cJSON_AddStringToObject(choice, "type", "function") || inner == NULL ||
                !cJSON_AddStringToObject(inner, "name", name->valuestring)) {
                cJSON_Delete(choice);
                return -1;
            }
        }
        if (choice != NULL)
            cJSON_AddItemToObject(root, "tool_choice", choice);
    }
    /* History: assistant function_call → tool_calls; function → tool. */
    cJSON *messages = cJSON_GetObjectItemCaseSensitive(root, "messages");
    char call_id[32] = "call_function_0";
    int calls = 0;
    cJSON *message;
    cJSON_ArrayForEach(message, messages) {
        cJSON *role = cJSON_GetObjectItemCaseSensitive(message, "role");
        if (!cJSON_IsString(role))
            continue;
        cJSON *call = cJSON_GetObjectItemCaseSensitive(message, "function_call");
        if (strcmp(role->valuestring, "assistant") == 0 && cJSON_IsObject(call) &&
            !cJSON_GetObjectItemCaseSensitive(message, "tool_calls")) {
            snprintf(call_id, sizeof call_id, "call_function_%d", ++calls);
            cJSON *list = cJSON_AddArrayToObject(message, "tool_calls");
            cJSON *entry = cJSON_CreateObject();
            if (list == NULL || entry == NULL || !cJSON_AddItemToArray(list, entry) ||
                !cJSON_AddStringToObject(entry, "id", call_id) ||
                !cJSON_AddStringToObject(entry, "type", "function"))
                return -1;
            cJSON_AddItemToObject(entry, "function", cJSON_DetachItemViaPointer(message, call));
            req->legacy_functions = true;
        } else if (strcmp(role->valuestring, "function") == 0) {
            if (!cJSON_SetValuestring(role, "tool") ||
                !cJSON_AddStringToObject(message, "tool_call_id", call_id))
                return -1;
            req->legacy_functions = true;
        }
    }
    return 0;
}

/* response_format: VS Code has no JSON mode, so the model is told in words
 * (a leading system message) and the reply is checked afterwards. */
static int
apply_response_format(struct chat_request *req, struct api_error *err)
{
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(req->root, "response_format");
    if (json_body_absent(format))
        return 0;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(format, "type");
    if (!cJSON_IsObject(format) || !cJSON_IsString(type)) {
        api_error_set(err, 400, "invalid_type", "response_format",
                      "Invalid value for 'response_format': expected {\"type\": \"text\" | "
                      "\"json_object\" | \"json_schema\"}.");
        return -1;
    }
    const char *kind = type->valuestring;
    if (strcmp(kind, "text") == 0)
        return 0;
    char *instruction = NULL;
    if (strcmp(kind, "json_object") == 0) {
        req->response_format = "json_object";
        instruction = strdup("Respond with one valid JSON object and nothing else: no prose, "
                             "no Markdown code fences.");
    } else if (strcmp(kind, "json_schema") == 0) {
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(format, "json_schema");
        const cJSON *schema = cJSON_GetObjectItemCaseSensitive(spec, "schema");
        char *schema_text = schema ? cJSON_PrintUnformatted(schema) : NULL;
        const char *prefix = "Respond with one valid JSON value and nothing else (no prose, no "
                             "Markdown code fences) that conforms to this JSON Schema: ";
        if (schema_text != NULL && (instruction = malloc(strlen(prefix) + strlen(schema_text) + 1)))
            strcat(strcpy(instruction, prefix), schema_text);
        free(schema_text);
        req->response_format = "json_schema";
        if (schema == NULL) {
            api_error_set(err, 400, "missing_required_parameter", "response_format.json_schema",
                          "Missing required parameter: 'response_format.json_schema.schema'.");
            return -1;
        }
    } else {
        api_error_set(err, 400, "invalid_value", "response_format.type",
                      "Invalid value for 'response_format.type': '%.32s' is not one of text, "
                      "json_object, json_schema.",
                      kind);
        return -1;
    }
    cJSON *message = cJSON_CreateObject();
    if (instruction == NULL || message == NULL ||
        !cJSON_AddStringToObject(message, "role", "system") ||
        !cJSON_AddStringToObject(message, "content", instruction) ||
        !cJSON_InsertItemInArray(cJSON_GetObjectItemCaseSensitive(req->root, "messages"), 0,
                                 message)) {
        free(instruction);
        cJSON_Delete(message);
        api_error_set(err, 500, "internal_error", NULL, "Out of memory.");
        return -1;
    }
    free(instruction);
    return 0;
}

/* tool_choice naming one function: the model gets only that tool, and must
 * call it (VS Code's Required mode). */
static int
narrow_to_named_tool(struct chat_request *req, struct api_error *err)
{
    const cJSON *function = cJSON_GetObjectItemCaseSensitive(req->tool_choice, "function");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(function, "name");
    if (!cJSON_IsString(name))
        return 0;
    cJSON *tools = (cJSON *)req->tools;
    cJSON *tool = tools ? tools->child : NULL;
    cJSON *chosen = NULL;
    while (tool != NULL) {
        cJSON *next = tool->next;
        const cJSON *tool_name =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tool, "function"),
                                             "name");
        if (chosen == NULL && cJSON_IsString(tool_name) &&
            strcmp(tool_name->valuestring, name->valuestring) == 0)
            chosen = tool;
        else
            cJSON_Delete(cJSON_DetachItemViaPointer(tools, tool));
        tool = next;
    }
    if (chosen == NULL) {
        api_error_set(err, 400, "invalid_value", "tool_choice",
                      "Invalid value for 'tool_choice': the function '%.64s' is not in 'tools'.",
                      name->valuestring);
        return -1;
    }
    cJSON *required = cJSON_CreateString("required");
    if (required == NULL ||
        !cJSON_ReplaceItemInObjectCaseSensitive(req->root, "tool_choice", required)) {
        cJSON_Delete(required);
        api_error_set(err, 500, "internal_error", NULL, "Out of memory.");
        return -1;
    }
    req->tool_choice = required;
    return 0;
}

static bool
messages_have_images(const cJSON *messages)
{
    const cJSON *message;
    cJSON_ArrayForEach(message, messages) {
        const cJSON *part;
        cJSON_ArrayForEach(part, cJSON_GetObjectItemCaseSensitive(message, "content")) {
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
            if (cJSON_IsString(type) && strcmp(type->valuestring, "image_url") == 0)
                return true;
        }
    }
    return false;
}

int
chat_request_parse(const char *body, size_t len, struct chat_request *req, struct api_error *err)
{
    memset(req, 0, sizeof *req);
    if (json_body_parse(body, len, &req->root, err) != 0)
        return -1;
    const cJSON *root = req->root;
    if (normalise_legacy_functions(req) != 0) {
        api_error_set(err, 500, "internal_error", NULL, "Out of memory.");
        return -1;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!json_body_absent(model) && !cJSON_IsString(model)) {
        api_error_set(err, 400, "invalid_type", "model",
                      "Invalid type for 'model': expected a string.");
        return -1;
    }
    req->model = cJSON_IsString(model) ? model->valuestring : NULL;

    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(root, "messages");
    if (json_body_absent(messages)) {
        api_error_set(err, 400, "missing_required_parameter", "messages",
                      "Missing required parameter: 'messages'.");
        return -1;
    }
    if (!cJSON_IsArray(messages)) {
        api_error_set(err, 400, "invalid_type", "messages",
                      "Invalid type for 'messages': expected an array of message objects.");
        return -1;
    }
    if (cJSON_GetArraySize(messages) == 0) {
        api_error_set(err, 400, "empty_array", "messages",
                      "Invalid 'messages': empty array. Expected an array with minimum length 1.");
        return -1;
    }
    int index = 0;
    const cJSON *message;
    cJSON_ArrayForEach(message, messages)
        if (validate_message(message, index++, err) != 0)
            return -1;
    req->messages = messages;

    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(root, "stream");
    if (!json_body_absent(stream) && !cJSON_IsBool(stream)) {
        api_error_set(err, 400, "invalid_type", "stream",
                      "Invalid type for 'stream': expected a boolean.");
        return -1;
    }
    req->stream = cJSON_IsTrue(stream);
    const cJSON *stream_options = cJSON_GetObjectItemCaseSensitive(root, "stream_options");
    if (!json_body_absent(stream_options)) {
        const cJSON *include = cJSON_GetObjectItemCaseSensitive(stream_options, "include_usage");
        if (!cJSON_IsObject(stream_options) ||
            (!json_body_absent(include) && !cJSON_IsBool(include))) {
            api_error_set(err, 400, "invalid_type", "stream_options",
                          "Invalid value for 'stream_options': expected {\"include_usage\": true|false}.");
            return -1;
        }
        req->include_usage = cJSON_IsTrue(include);
    }

    if (validate_tools(req, err) != 0)
        return -1;
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
    req->tools = cJSON_IsArray(tools) && cJSON_GetArraySize(tools) > 0 ? tools : NULL;
    const cJSON *choice = cJSON_GetObjectItemCaseSensitive(root, "tool_choice");
    if (validate_tool_choice(choice, err) != 0)
        return -1;
    req->tool_choice = json_body_absent(choice) ? NULL : choice;
    if (read_max_tokens(root, &req->max_tokens, err) != 0 || validate_options(root, err) != 0)
        return -1;
    const cJSON *stop = cJSON_GetObjectItemCaseSensitive(root, "stop");
    req->stop = json_body_absent(stop) ? NULL : stop;
    if (cJSON_IsObject(req->tool_choice) && narrow_to_named_tool(req, err) != 0)
        return -1;
    req->has_images = messages_have_images(req->messages);
    return apply_response_format(req, err);
}

void
chat_request_free(struct chat_request *req)
{
    cJSON_Delete(req->format_state);
    cJSON_Delete(req->root);
    free(req->notes);
    memset(req, 0, sizeof *req);
}

static bool
tool_choice_is(const cJSON *choice, const char *value)
{
    return cJSON_IsString(choice) && strcmp(choice->valuestring, value) == 0;
}

cJSON *
chat_request_frame(const struct chat_request *req, const char *id, const char *model_id)
{
    cJSON *frame = cJSON_CreateObject();
    cJSON *options = cJSON_CreateObject();
    if (frame == NULL || options == NULL)
        goto fail;
    if (!cJSON_AddStringToObject(frame, "type", "request") ||
        !cJSON_AddStringToObject(frame, "id", id) ||
        !cJSON_AddStringToObject(frame, "model", model_id) ||
        !cJSON_AddItemReferenceToObject(frame, "messages", (cJSON *)req->messages))
        goto fail;
    /* tool_choice "none" means the model must not call tools: send none. */
    if (req->tools != NULL && !tool_choice_is(req->tool_choice, "none")) {
        if (!cJSON_AddItemReferenceToObject(frame, "tools", (cJSON *)req->tools))
            goto fail;
        if (req->tool_choice != NULL &&
            !cJSON_AddItemReferenceToObject(frame, "tool_choice", (cJSON *)req->tool_choice))
            goto fail;
    }
    for (size_t i = 0; i < sizeof sampling_options / sizeof *sampling_options; i++) {
        cJSON *value = cJSON_GetObjectItemCaseSensitive(req->root, sampling_options[i].name);
        if (cJSON_IsNumber(value) &&
            !cJSON_AddItemReferenceToObject(options, sampling_options[i].name, value))
            goto fail;
    }
    cJSON_AddItemToObject(frame, "options", options);
    return frame;
fail:
    cJSON_Delete(options);
    cJSON_Delete(frame);
    return NULL;
}
