/*
 * gemini_tools: Gemini's `tools` and `toolConfig` into the normalised
 * request's function tools and tool_choice (gemini_request.h has the
 * mapping).  Google's own tools (googleSearch, codeExecution, urlContext,
 * ...) run at Google, which VS Code's models cannot: they are skipped and
 * noted, not refused, since clients send them whatever the server.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "gemini_parse.h"

/* OpenAPI's upper-case types (`parameters`: "OBJECT", "STRING") as JSON
 * Schema's, which VS Code's models take. */
void
gemini_lower_case_types(cJSON *schema)
{
    cJSON *item;
    cJSON_ArrayForEach(item, schema) {
        if (item->string != NULL && strcmp(item->string, "type") == 0) {
            cJSON *names = cJSON_IsArray(item) ? item->child : item;
            for (cJSON *name = names; name != NULL; name = cJSON_IsArray(item) ? name->next : NULL)
                if (cJSON_IsString(name))
                    for (char *c = name->valuestring; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
        } else if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
            gemini_lower_case_types(item);
        }
    }
}

/* One functionDeclaration as {"type":"function","function":{...}}. */
static int
add_declaration(struct gemini_builder *b, const cJSON *declaration, const char *path,
                cJSON *functions)
{
    const cJSON *name = gemini_field(declaration, "name");
    const cJSON *description = gemini_field(declaration, "description");
    const cJSON *json_schema = gemini_field(declaration, "parametersJsonSchema");
    const cJSON *openapi = gemini_field(declaration, "parameters");
    if (!cJSON_IsObject(declaration) || !cJSON_IsString(name) || name->valuestring[0] == '\0')
        return gemini_refuse(b, path, "a function declaration needs a name (a string).");
    if ((!json_body_absent(description) && !cJSON_IsString(description)) ||
        (!json_body_absent(json_schema) && !cJSON_IsObject(json_schema)) ||
        (!json_body_absent(openapi) && !cJSON_IsObject(openapi)))
        return gemini_refuse(b, path,
                             "description must be a string, parameters and parametersJsonSchema "
                             "objects.");
    cJSON *schema = NULL;
    if (cJSON_IsObject(json_schema)) {
        schema = cJSON_Duplicate(json_schema, true);
    } else if (cJSON_IsObject(openapi)) {
        schema = cJSON_Duplicate(openapi, true);
        if (schema != NULL)
            gemini_lower_case_types(schema);
    } else {
        schema = cJSON_Parse("{\"type\":\"object\",\"properties\":{}}");
    }
    cJSON *entry = cJSON_CreateObject();
    cJSON *function = entry != NULL && cJSON_AddStringToObject(entry, "type", "function")
                          ? cJSON_AddObjectToObject(entry, "function")
                          : NULL;
    bool built = schema != NULL && function != NULL &&
                 cJSON_AddStringToObject(function, "name", name->valuestring) &&
                 (!cJSON_IsString(description) ||
                  cJSON_AddStringToObject(function, "description", description->valuestring));
    if (built) {
        built = cJSON_AddItemToObject(function, "parameters", schema);
        if (built)
            schema = NULL; /* the entry's now */
    }
    cJSON_Delete(schema);
    if (!built) {
        cJSON_Delete(entry);
        return gemini_out_of_memory(b);
    }
    return request_parse_append(functions, entry) ? 0 : gemini_out_of_memory(b);
}

static int
add_tool(struct gemini_builder *b, const cJSON *tool, int index, cJSON *functions)
{
    char path[GEMINI_PATH_LEN];
    snprintf(path, sizeof path, "tools[%d]", index);
    if (!cJSON_IsObject(tool))
        return gemini_refuse(b, path, "expected a Tool object.");
    const cJSON *member;
    cJSON_ArrayForEach(member, tool) {
        if (strcmp(member->string, "functionDeclarations") != 0) {
            gemini_note(b, "tool %.64s skipped: Google runs it, VS Code's models cannot",
                        member->string);
            continue;
        }
        if (!cJSON_IsArray(member))
            return gemini_refuse(b, path, "functionDeclarations must be a list.");
        int declaration_index = 0;
        const cJSON *declaration;
        cJSON_ArrayForEach(declaration, member) {
            char where[GEMINI_PATH_LEN + 48];
            snprintf(where, sizeof where, "%s.functionDeclarations[%d]", path, declaration_index++);
            if (add_declaration(b, declaration, where, functions) != 0)
                return -1;
        }
    }
    return 0;
}

static bool
allowed(const cJSON *names, const char *name)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, names) {
        if (cJSON_IsString(item) && strcmp(item->valuestring, name) == 0)
            return true;
    }
    return false;
}

/* allowedFunctionNames: only those tools are sent. */
static int
narrow(struct gemini_builder *b, cJSON *tools, const cJSON *names)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, names) {
        if (!cJSON_IsString(item))
            return gemini_refuse(b, "toolConfig.functionCallingConfig.allowedFunctionNames",
                                 "expected a list of strings.");
    }
    cJSON *tool = tools ? tools->child : NULL;
    while (tool != NULL) {
        cJSON *next = tool->next;
        const cJSON *name = gemini_field(gemini_field(tool, "function"), "name");
        if (!allowed(names, name->valuestring))
            cJSON_Delete(cJSON_DetachItemViaPointer(tools, tool));
        tool = next;
    }
    if (cJSON_GetArraySize(tools) == 0)
        return gemini_refuse(b, "toolConfig.functionCallingConfig.allowedFunctionNames",
                             "none of these names is a declared function.");
    return 0;
}

static int
build_tool_config(struct gemini_builder *b, const cJSON *request, cJSON *tools)
{
    const cJSON *config = gemini_field(gemini_field(request, "toolConfig"), "functionCallingConfig");
    if (json_body_absent(config))
        return 0;
    const cJSON *mode = gemini_field(config, "mode");
    const cJSON *names = gemini_field(config, "allowedFunctionNames");
    if (!cJSON_IsObject(config) || (!json_body_absent(mode) && !cJSON_IsString(mode)) ||
        (!json_body_absent(names) && !cJSON_IsArray(names)))
        return gemini_refuse(b, "toolConfig.functionCallingConfig",
                             "expected {\"mode\": string, \"allowedFunctionNames\": [string]}.");
    const char *kind = cJSON_IsString(mode) ? mode->valuestring : "AUTO";
    const char *choice;
    if (strcmp(kind, "AUTO") == 0 || strcmp(kind, "VALIDATED") == 0 ||
        strcmp(kind, "MODE_UNSPECIFIED") == 0)
        choice = "auto";
    else if (strcmp(kind, "ANY") == 0)
        choice = "required";
    else if (strcmp(kind, "NONE") == 0)
        choice = "none";
    else
        return gemini_refuse(b, "toolConfig.functionCallingConfig.mode",
                             "'%.32s' is not one of AUTO, ANY, NONE, VALIDATED.", kind);
    if (tools == NULL)
        return 0; /* nothing to choose from */
    if (cJSON_IsArray(names) && cJSON_GetArraySize(names) > 0 && narrow(b, tools, names) != 0)
        return -1;
    return cJSON_AddStringToObject(b->root, "tool_choice", choice) ? 0 : gemini_out_of_memory(b);
}

int
gemini_build_tools(struct gemini_builder *b, const cJSON *request)
{
    const cJSON *tools = gemini_field(request, "tools");
    if (json_body_absent(tools))
        return build_tool_config(b, request, NULL);
    if (!cJSON_IsArray(tools))
        return gemini_refuse(b, "tools", "tools must be a list of Tool objects.");
    cJSON *functions = cJSON_CreateArray();
    if (functions == NULL)
        return gemini_out_of_memory(b);
    int index = 0;
    const cJSON *tool;
    cJSON_ArrayForEach(tool, tools) {
        if (add_tool(b, tool, index++, functions) != 0) {
            cJSON_Delete(functions);
            return -1;
        }
    }
    if (cJSON_GetArraySize(functions) == 0) {
        cJSON_Delete(functions);
        return build_tool_config(b, request, NULL);
    }
    if (!cJSON_AddItemToObject(b->root, "tools", functions)) {
        cJSON_Delete(functions);
        return gemini_out_of_memory(b);
    }
    return build_tool_config(b, request, functions);
}
