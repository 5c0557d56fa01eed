/*
 * responses_tools: a Responses request's tools and tool_choice, as the
 * model gets them (chat function tools) and as the reply names them back.
 *
 *   function  ─▶ itself
 *   custom    ─▶ a function taking {"input": string} (free text; a grammar,
 *                if the tool has one, is quoted in the description), its
 *                calls unwrapped into custom_tool_call items on the way back
 *   namespace ─▶ each of its function and custom tools as "NAMESPACE__NAME",
 *                a name models accept ([A-Za-z0-9_-]), mapped back to the
 *                namespace and name on the way back
 *   any other type (web_search, file_search, code_interpreter, mcp, ...) is a
 *   tool OpenAI's servers run: VS Code's models cannot, so it is skipped (and
 *   noted for the log), not refused: Codex sends web_search every turn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"
#include "responses_parse.h"

#define DESCRIPTION_MAX (1u << 20)

static int
refuse(struct responses_parse *p, const char *code, const char *param, const char *message)
{
    api_error_set(p->err, 400, code, param, "%s", message);
    return -1;
}

/* "Invalid value for 'tools[2].name': expected a string." */
static int
refuse_field(struct responses_parse *p, const char *path, const char *field, const char *expected)
{
    char where[RESPONSES_PATH_MAX];
    responses_path(where, path, ".%s", field);
    api_error_set(p->err, 400, "invalid_value", where, "Invalid value for '%s': expected %s.",
                  where, expected);
    return -1;
}

static const char *
string_of(const cJSON *object, const char *field)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(object, field);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

/* Records how `called` maps back; false (and nothing recorded) when a tool
 * already has that name: the first one keeps it. */
static int
add_name(struct responses_parse *p, const char *called, const char *name,
         const char *namespace_name, bool custom, bool *added)
{
    *added = false;
    if (cJSON_GetObjectItemCaseSensitive(p->names, called) != NULL)
        return 0;
    cJSON *entry = cJSON_CreateObject();
    if (entry == NULL || !cJSON_AddItemToObject(p->names, called, entry)) {
        cJSON_Delete(entry);
        return responses_parse_no_memory(p);
    }
    if (!cJSON_AddItemToObject(entry, "name", responses_string_ref(name)) ||
        (namespace_name != NULL &&
         !cJSON_AddItemToObject(entry, "namespace", responses_string_ref(namespace_name))) ||
        !cJSON_AddBoolToObject(entry, "custom", custom))
        return responses_parse_no_memory(p);
    *added = true;
    return 0;
}

/* {"type":"function","function":{"name","description","parameters"}} in the
 * chat tools; the function object is returned for the caller to fill. */
static cJSON *
add_chat_tool(struct responses_parse *p, const char *called)
{
    if (p->tools == NULL) {
        p->tools = cJSON_AddArrayToObject(p->req->root, "tools");
        if (p->tools == NULL)
            return NULL;
    }
    cJSON *tool = cJSON_CreateObject();
    if (tool == NULL || !cJSON_AddItemToArray(p->tools, tool)) {
        cJSON_Delete(tool);
        return NULL;
    }
    cJSON *function = NULL;
    if (!cJSON_AddStringToObject(tool, "type", "function") ||
        (function = cJSON_AddObjectToObject(tool, "function")) == NULL ||
        !cJSON_AddStringToObject(function, "name", called))
        return NULL;
    return function;
}

static bool
add_reference(cJSON *object, const char *key, const cJSON *item)
{
    return cJSON_AddItemReferenceToObject(object, key, (cJSON *)item);
}

/* The description the model gets: the namespace's (a flattened tool's
 * only context), the tool's own, and for a custom tool the grammar its
 * input must follow; malloc'd, "" when there is none (NULL: no memory). */
static char *
describe(const char *namespace_description, const char *description, const cJSON *format)
{
    struct dynbuf text;
    dynbuf_init(&text, DESCRIPTION_MAX);
    const char *syntax = string_of(format, "syntax");
    const char *definition = string_of(format, "definition");
    const char *parts[] = { namespace_description, description };
    int rc = DYNBUF_OK;
    for (size_t i = 0; i < 2 && rc == DYNBUF_OK; i++)
        if (parts[i] != NULL && *parts[i] != '\0')
            rc = dynbuf_appendf(&text, "%s%s", text.len ? "\n\n" : "", parts[i]);
    if (rc == DYNBUF_OK && definition != NULL)
        rc = dynbuf_appendf(&text,
                            "%sPut the tool's whole input, as free text, in the string 'input'. It "
                            "must follow this %s grammar:\n%s",
                            text.len ? "\n\n" : "", syntax ? syntax : "", definition);
    if (rc != DYNBUF_OK) {
        dynbuf_free(&text);
        return NULL;
    }
    return dynbuf_take(&text, NULL);
}

/* Where a tool was given: at the top level (name and description NULL) or
 * in a namespace; and the list its echo goes in. */
struct tool_home {
    const char *name;
    const char *description;
    cJSON *echo_list;
};

/* Adds `text` (when not empty) as the chat function's description. */
static bool
add_description(cJSON *function, const char *text)
{
    return text != NULL && (*text == '\0' || cJSON_AddStringToObject(function, "description", text));
}

/* What a function and a custom tool both need: a name, and a description
 * that is a string when given. */
static int
check_name(struct responses_parse *p, const char *path, const char *name, const cJSON *description)
{
    if (name == NULL || *name == '\0')
        return refuse_field(p, path, "name", "a non-empty string");
    if (!json_body_absent(description) && !cJSON_IsString(description))
        return refuse_field(p, path, "description", "a string");
    return 0;
}

/* The chat function of a function or custom tool `name` (NAMESPACE__NAME in
 * a namespace), its name recorded for the way back, with its description
 * (describe(): `format` is a custom tool's, NULL for a function).  0 with
 * *function set; 0 with *function NULL when another tool has the name
 * already (the first keeps it; this one is left out, echo included); -1 on
 * no memory. */
static int
add_tool_function(struct responses_parse *p, const char *name, const cJSON *description,
                  const cJSON *format, const struct tool_home *home, bool custom, cJSON **function)
{
    *function = NULL;
    char *called = responses_called_name(home->name, name);
    bool added = false;
    int rc = called == NULL ? responses_parse_no_memory(p)
                            : add_name(p, called, name, home->name, custom, &added);
    if (rc == 0 && added && (*function = add_chat_tool(p, called)) == NULL)
        rc = responses_parse_no_memory(p);
    free(called);
    if (rc != 0 || !added)
        return rc;
    char *text = describe(home->description,
                          cJSON_IsString(description) ? description->valuestring : NULL, format);
    bool described = add_description(*function, text);
    free(text);
    return described ? 0 : responses_parse_no_memory(p);
}

/* The tool's echo in the Response, in its home's list: {"type", "name",
 * "description" (when given)}, for the caller to finish.  NULL: no memory. */
static cJSON *
add_echo(const struct tool_home *home, const char *type, const char *name, const cJSON *description)
{
    cJSON *echo = cJSON_CreateObject();
    if (echo == NULL || !cJSON_AddItemToArray(home->echo_list, echo)) {
        cJSON_Delete(echo);
        return NULL;
    }
    if (!cJSON_AddStringToObject(echo, "type", type) ||
        !cJSON_AddItemToObject(echo, "name", responses_string_ref(name)) ||
        (cJSON_IsString(description) && !add_reference(echo, "description", description)))
        return NULL;
    return echo;
}

/* A function tool {"type":"function","name","description","parameters","strict"}. */
static int
add_function(struct responses_parse *p, const cJSON *tool, const struct tool_home *home,
             const char *path)
{
    const char *name = string_of(tool, "name");
    const cJSON *description = cJSON_GetObjectItemCaseSensitive(tool, "description");
    const cJSON *parameters = cJSON_GetObjectItemCaseSensitive(tool, "parameters");
    const cJSON *strict = cJSON_GetObjectItemCaseSensitive(tool, "strict");
    int rc = check_name(p, path, name, description);
    if (rc != 0)
        return rc;
    if (!json_body_absent(parameters) && !cJSON_IsObject(parameters))
        return refuse_field(p, path, "parameters", "a JSON Schema object");
    cJSON *function;
    rc = add_tool_function(p, name, description, NULL, home, false, &function);
    if (rc != 0 || function == NULL)
        return rc;
    if (cJSON_IsObject(parameters) && !add_reference(function, "parameters", parameters))
        return responses_parse_no_memory(p);

    /* The Response echoes it in the FunctionTool shape (parameters and
     * strict required, null when not given). */
    cJSON *echo = add_echo(home, "function", name, description);
    if (echo == NULL ||
        !(cJSON_IsObject(parameters) ? add_reference(echo, "parameters", parameters)
                                     : cJSON_AddNullToObject(echo, "parameters") != NULL) ||
        !(cJSON_IsBool(strict) ? cJSON_AddBoolToObject(echo, "strict", cJSON_IsTrue(strict)) != NULL
                               : cJSON_AddNullToObject(echo, "strict") != NULL))
        return responses_parse_no_memory(p);
    return 0;
}

/* {"type":"object","properties":{"input":{"type":"string"}},"required":["input"]} */
static cJSON *
custom_parameters(void)
{
    cJSON *schema = cJSON_CreateObject();
    cJSON *properties = NULL, *input = NULL, *required = NULL;
    if (schema == NULL || !cJSON_AddStringToObject(schema, "type", "object") ||
        (properties = cJSON_AddObjectToObject(schema, "properties")) == NULL ||
        (input = cJSON_AddObjectToObject(properties, "input")) == NULL ||
        !cJSON_AddStringToObject(input, "type", "string") ||
        !cJSON_AddStringToObject(input, "description", "The tool's input, as free text.") ||
        (required = cJSON_AddArrayToObject(schema, "required")) == NULL ||
        !cJSON_AddItemToArray(required, cJSON_CreateString("input")) ||
        !cJSON_AddFalseToObject(schema, "additionalProperties")) {
        cJSON_Delete(schema);
        return NULL;
    }
    return schema;
}

/* A custom tool {"type":"custom","name","description","format"}. */
static int
add_custom(struct responses_parse *p, const cJSON *tool, const struct tool_home *home,
           const char *path)
{
    const char *name = string_of(tool, "name");
    const cJSON *description = cJSON_GetObjectItemCaseSensitive(tool, "description");
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(tool, "format");
    const char *format_type = string_of(format, "type");
    int rc = check_name(p, path, name, description);
    if (rc != 0)
        return rc;
    if (!json_body_absent(format) &&
        (format_type == NULL ||
         (strcmp(format_type, "text") != 0 &&
          (strcmp(format_type, "grammar") != 0 || string_of(format, "definition") == NULL))))
        return refuse_field(p, path, "format",
                            "{\"type\": \"text\"} or {\"type\": \"grammar\", \"syntax\": ..., "
                            "\"definition\": \"...\"}");
    cJSON *function;
    rc = add_tool_function(p, name, description, format, home, true, &function);
    if (rc != 0 || function == NULL)
        return rc;
    cJSON *parameters = custom_parameters();
    if (parameters == NULL || !cJSON_AddItemToObject(function, "parameters", parameters)) {
        cJSON_Delete(parameters);
        return responses_parse_no_memory(p);
    }

    cJSON *echo = add_echo(home, "custom", name, description);
    if (echo == NULL || (cJSON_IsObject(format) && !add_reference(echo, "format", format)))
        return responses_parse_no_memory(p);
    return 0;
}

/* A namespace {"type":"namespace","name","description","tools":[...]}. */
static int
add_namespace(struct responses_parse *p, const cJSON *tool, const char *path)
{
    const char *name = string_of(tool, "name");
    const cJSON *description = cJSON_GetObjectItemCaseSensitive(tool, "description");
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(tool, "tools");
    if (name == NULL || *name == '\0')
        return refuse_field(p, path, "name", "a non-empty string");
    if (!cJSON_IsArray(tools))
        return refuse_field(p, path, "tools", "an array of function and custom tools");
    cJSON *echo = cJSON_CreateObject();
    if (echo == NULL || !cJSON_AddItemToArray(p->echo_tools, echo)) {
        cJSON_Delete(echo);
        return responses_parse_no_memory(p);
    }
    /* NamespaceToolParam requires a description: "" when none was given. */
    cJSON *echo_list = NULL;
    if (!cJSON_AddStringToObject(echo, "type", "namespace") ||
        !cJSON_AddItemToObject(echo, "name", responses_string_ref(name)) ||
        !(cJSON_IsString(description) ? add_reference(echo, "description", description)
                                      : cJSON_AddStringToObject(echo, "description", "") != NULL) ||
        (echo_list = cJSON_AddArrayToObject(echo, "tools")) == NULL)
        return responses_parse_no_memory(p);
    const struct tool_home home = {
        name,
        cJSON_IsString(description) ? description->valuestring : NULL,
        echo_list,
    };
    int index = 0;
    const cJSON *inner;
    cJSON_ArrayForEach(inner, tools) {
        char inner_path[RESPONSES_PATH_MAX];
        responses_path(inner_path, path, ".tools[%d]", index++);
        const char *type = string_of(inner, "type");
        int rc;
        if (type != NULL && strcmp(type, "function") == 0)
            rc = add_function(p, inner, &home, inner_path);
        else if (type != NULL && strcmp(type, "custom") == 0)
            rc = add_custom(p, inner, &home, inner_path);
        else
            rc = refuse(p, "invalid_value", inner_path,
                        "Invalid value: a namespace holds function and custom tools only.");
        if (rc != 0)
            return rc;
    }
    return 0;
}

int
responses_parse_tools(struct responses_parse *p, const cJSON *tools, const char *where)
{
    if (json_body_absent(tools))
        return 0;
    if (!cJSON_IsArray(tools)) {
        api_error_set(p->err, 400, "invalid_type", where,
                      "Invalid type for '%s': expected an array of tools.", where);
        return -1;
    }
    const struct tool_home top = { NULL, NULL, p->echo_tools };
    int index = 0;
    const cJSON *tool;
    cJSON_ArrayForEach(tool, tools) {
        char path[RESPONSES_PATH_MAX];
        responses_path(path, where, "[%d]", index++);
        const char *type = string_of(tool, "type");
        int rc;
        if (!cJSON_IsObject(tool) || type == NULL)
            rc = refuse(p, "invalid_value", path,
                        "Invalid value: each tool must be an object with a 'type'.");
        else if (strcmp(type, "function") == 0)
            rc = add_function(p, tool, &top, path);
        else if (strcmp(type, "custom") == 0)
            rc = add_custom(p, tool, &top, path);
        else if (strcmp(type, "namespace") == 0)
            rc = add_namespace(p, tool, path);
        else
            rc = responses_note(p->skipped, type) == 0 ? 0 : responses_parse_no_memory(p);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------ tool_choice */

/* Whether the chat tool `tool` is the one a choice entry names: a function
 * or custom tool by its name (a namespaced one by NAMESPACE__NAME, or by its
 * own name when no other tool has it). */
static bool
tool_is(const struct responses_parse *p, const cJSON *tool, const char *type, const char *name)
{
    const char *called = string_of(cJSON_GetObjectItemCaseSensitive(tool, "function"), "name");
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(p->names, called);
    const char *own = string_of(entry, "name");
    bool custom = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(entry, "custom"));
    if (called == NULL || own == NULL || custom != (strcmp(type, "custom") == 0))
        return false;
    return strcmp(called, name) == 0 ||
           (strcmp(own, name) == 0 && cJSON_GetObjectItemCaseSensitive(p->names, name) == NULL);
}

/* Whether a tool_choice entry ({"type","name"}, or an allowed_tools list)
 * names `tool`. */
static bool
chosen(const struct responses_parse *p, const cJSON *tool, const cJSON *choice)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(choice, "tools");
    if (!cJSON_IsArray(list))
        return tool_is(p, tool, string_of(choice, "type"), string_of(choice, "name"));
    const cJSON *entry;
    cJSON_ArrayForEach(entry, list) {
        const char *type = string_of(entry, "type");
        const char *name = string_of(entry, "name");
        if (type != NULL && name != NULL && tool_is(p, tool, type, name))
            return true;
    }
    return false;
}

/* Keeps the tools `choice` names; false if none is left. */
static bool
narrow(struct responses_parse *p, const cJSON *choice)
{
    cJSON *tool = p->tools ? p->tools->child : NULL;
    while (tool != NULL) {
        cJSON *next = tool->next;
        if (!chosen(p, tool, choice))
            cJSON_Delete(cJSON_DetachItemViaPointer(p->tools, tool));
        tool = next;
    }
    return p->tools != NULL && p->tools->child != NULL;
}

int
responses_parse_tool_choice(struct responses_parse *p, const cJSON *choice, cJSON **out)
{
    *out = NULL;
    if (json_body_absent(choice))
        return 0;
    const char *mode = NULL;
    if (cJSON_IsString(choice)) {
        mode = choice->valuestring;
        if (strcmp(mode, "none") != 0 && strcmp(mode, "auto") != 0 && strcmp(mode, "required") != 0)
            return refuse(p, "invalid_value", "tool_choice",
                          "Invalid value for 'tool_choice': expected \"none\", \"auto\", "
                          "\"required\", {\"type\": \"function\" | \"custom\", \"name\": ...} or "
                          "{\"type\": \"allowed_tools\", ...}.");
    } else {
        const char *type = string_of(choice, "type");
        bool named = type != NULL &&
                     (strcmp(type, "function") == 0 || strcmp(type, "custom") == 0) &&
                     string_of(choice, "name") != NULL;
        bool allowed = type != NULL && strcmp(type, "allowed_tools") == 0 &&
                       cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(choice, "tools"));
        const char *allowed_mode = allowed ? string_of(choice, "mode") : NULL;
        if (allowed && (allowed_mode == NULL || (strcmp(allowed_mode, "auto") != 0 &&
                                                 strcmp(allowed_mode, "required") != 0)))
            return refuse(p, "invalid_value", "tool_choice.mode",
                          "Invalid value for 'tool_choice.mode': expected \"auto\" or "
                          "\"required\".");
        if (!named && !allowed) {
            api_error_set(p->err, 400, "invalid_value", "tool_choice",
                          "Invalid value for 'tool_choice': '%.64s' tools run on OpenAI's "
                          "servers and are not available through VS Code; choose a function or "
                          "custom tool, or \"auto\".",
                          type ? type : "(no type)");
            return -1;
        }
        if (!narrow(p, choice))
            return refuse(p, "invalid_value", "tool_choice",
                          "Invalid value for 'tool_choice': it names no tool given in 'tools'.");
        /* The model gets only the chosen tools; one named tool must be called. */
        mode = named ? "required" : allowed_mode;
    }
    *out = cJSON_CreateString(mode);
    if (*out == NULL || !cJSON_AddItemToObject(p->req->root, "tool_choice", *out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return responses_parse_no_memory(p);
    }
    return 0;
}
