/* Anthropic Messages: tools and tool_choice into chat tools. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dynbuf.h"
#include "json_body.h"
#include "messages_parse.h"

/* ------------------------------------------------------------ tools */

int
messages_build_tools(struct messages_builder *b, cJSON *root)
{
    const cJSON *tools = messages_field(b->body, "tools");
    if (json_body_absent(tools))
        return 0;
    if (!cJSON_IsArray(tools))
        return messages_refuse(b, "invalid_type", "tools", "Input should be a valid list.");
    cJSON *functions = cJSON_CreateArray();
    if (functions == NULL)
        return messages_no_memory(b);
    int index = 0, rc = 0;
    const cJSON *tool;
    cJSON_ArrayForEach(tool, tools) {
        char path[MESSAGES_PATH_MAX], where[MESSAGES_PATH_MAX];
        snprintf(path, sizeof path, "tools.%d", index++);
        const cJSON *type = messages_field(tool, "type");
        const cJSON *name = messages_field(tool, "name");
        const cJSON *schema = messages_field(tool, "input_schema");
        const cJSON *description = messages_field(tool, "description");
        if (!cJSON_IsObject(tool)) {
            rc = messages_refuse(b, "invalid_type", path, "Input should be a valid dictionary.");
            break;
        }
        if (!json_body_absent(type) && !cJSON_IsString(type)) {
            messages_path(where, path, ".type");
            rc = messages_refuse(b, "invalid_type", where, "Input should be a valid string.");
            break;
        }
        /* Server tools (web search, bash, the text editor, ...) run at
         * Anthropic; Claude Code sends them whatever the server.  The model
         * simply does not get them. */
        if (cJSON_IsString(type) && strcmp(type->valuestring, "custom") != 0) {
            char shown_type[72], shown_name[72];
            messages_note(b, "server tool %s (%s) skipped: the gateway runs no server tools",
                          messages_loggable(cJSON_IsString(name) ? name->valuestring : "?",
                                            shown_name),
                          messages_loggable(type->valuestring, shown_type));
            continue;
        }
        if (!cJSON_IsString(name) || name->valuestring[0] == '\0') {
            messages_path(where, path, ".name");
            rc = messages_refuse(b, "missing_required_parameter", where,
                                 "Field required (a string).");
            break;
        }
        if (!json_body_absent(schema) && !cJSON_IsObject(schema)) {
            messages_path(where, path, ".input_schema");
            rc = messages_refuse(b, "invalid_type", where, "Input should be a valid dictionary.");
            break;
        }
        cJSON *entry = cJSON_CreateObject();
        bool built = entry != NULL && cJSON_AddStringToObject(entry, "type", "function");
        cJSON *function = built ? cJSON_AddObjectToObject(entry, "function") : NULL;
        built = function != NULL && cJSON_AddStringToObject(function, "name", name->valuestring) &&
                (!cJSON_IsString(description) ||
                 cJSON_AddStringToObject(function, "description", description->valuestring));
        if (built && cJSON_IsObject(schema)) {
            cJSON *copy = cJSON_Duplicate(schema, true);
            built = copy != NULL && cJSON_AddItemToObject(function, "parameters", copy);
            if (!built)
                cJSON_Delete(copy);
        }
        if (!built) {
            cJSON_Delete(entry);
            rc = messages_no_memory(b);
            break;
        }
        if (!request_parse_append(functions, entry)) {
            rc = messages_no_memory(b);
            break;
        }
    }
    if (rc != 0 || cJSON_GetArraySize(functions) == 0) {
        cJSON_Delete(functions);
        return rc;
    }
    if (!cJSON_AddItemToObject(root, "tools", functions)) {
        cJSON_Delete(functions);
        return messages_no_memory(b);
    }
    return 0;
}

/* The named tool alone: VS Code's Required mode calls one of the tools it
 * is given. */
static int
narrow_to(struct messages_builder *b, cJSON *tools, const char *name)
{
    cJSON *tool = tools ? tools->child : NULL;
    cJSON *chosen = NULL;
    while (tool != NULL) {
        cJSON *next = tool->next;
        const cJSON *tool_name = messages_field(messages_field(tool, "function"), "name");
        if (chosen == NULL && strcmp(tool_name->valuestring, name) == 0)
            chosen = tool;
        else
            cJSON_Delete(cJSON_DetachItemViaPointer(tools, tool));
        tool = next;
    }
    if (chosen == NULL)
        return messages_refuse(b, "invalid_value", "tool_choice.name",
                               "the tool '%.64s' is not among the tools (server tools are not run here).",
                               name);
    return 0;
}

int
messages_build_tool_choice(struct messages_builder *b, cJSON *root)
{
    const cJSON *choice = messages_field(b->body, "tool_choice");
    if (json_body_absent(choice))
        return 0;
    const cJSON *type = messages_field(choice, "type");
    const cJSON *name = messages_field(choice, "name");
    const cJSON *parallel = messages_field(choice, "disable_parallel_tool_use");
    if (!cJSON_IsObject(choice) || !cJSON_IsString(type))
        return messages_refuse(b, "invalid_type", "tool_choice",
                               "expected {\"type\": \"auto\" | \"any\" | \"tool\" | \"none\"}.");
    /* Accepted; VS Code has no switch for parallel calls. */
    if (!json_body_absent(parallel) && !cJSON_IsBool(parallel))
        return messages_refuse(b, "invalid_type", "tool_choice.disable_parallel_tool_use",
                               "Input should be a valid boolean.");
    cJSON *tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
    const char *kind = type->valuestring, *mode;
    if (strcmp(kind, "auto") == 0) {
        mode = "auto";
    } else if (strcmp(kind, "any") == 0) {
        mode = "required";
    } else if (strcmp(kind, "none") == 0) {
        mode = "none";
    } else if (strcmp(kind, "tool") == 0) {
        if (!cJSON_IsString(name))
            return messages_refuse(b, "missing_required_parameter", "tool_choice.name",
                                   "Field required (the tool's name).");
        if (narrow_to(b, tools, name->valuestring) != 0)
            return -1;
        mode = "required";
    } else {
        return messages_refuse(b, "invalid_value", "tool_choice.type",
                               "'%.32s' is not one of auto, any, tool, none.", kind);
    }
    if (tools == NULL)
        return 0; /* nothing to choose from */
    return cJSON_AddStringToObject(root, "tool_choice", mode) ? 0 : messages_no_memory(b);
}
