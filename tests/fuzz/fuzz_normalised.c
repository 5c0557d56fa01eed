/*
 * fuzz_normalised: the invariants of the normalised request an accepted
 * body becomes, for the targets whose parsers build one with the same
 * rules (fuzz_messages_request, fuzz_gemini_request).  See fuzz.h.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "chat_request.h"
#include "fuzz.h"
#include "json_body.h"
#include "stop_cutter.h"
#include "token_estimate.h"

static const char *
string_of(const cJSON *object, const char *field)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(object, field));
}

/* Content: a string, or text and image_url parts; true if an image. */
static bool
check_content(const cJSON *content, const char *role, const struct fuzz_request_rules *rules)
{
    if (cJSON_IsString(content))
        return false;
    if (strcmp(role, "assistant") == 0 && cJSON_IsNull(content))
        return false;
    FUZZ_CHECK(cJSON_IsArray(content));
    FUZZ_CHECK(!rules->parts_only_from_user || strcmp(role, "user") == 0);
    bool images = false;
    const cJSON *part;
    cJSON_ArrayForEach(part, content) {
        const char *type = string_of(part, "type");
        FUZZ_CHECK(type != NULL);
        if (strcmp(type, "text") == 0) {
            FUZZ_CHECK(string_of(part, "text") != NULL);
        } else {
            FUZZ_CHECK(strcmp(type, "image_url") == 0 && strcmp(role, "user") == 0);
            const char *url = string_of(cJSON_GetObjectItemCaseSensitive(part, "image_url"), "url");
            FUZZ_CHECK(url != NULL && json_body_image_data_url_valid(url));
            images = true;
        }
    }
    return images;
}

static void
check_tool_call(const cJSON *call)
{
    const cJSON *function = cJSON_GetObjectItemCaseSensitive(call, "function");
    const char *id = string_of(call, "id");
    const char *name = string_of(function, "name");
    const char *arguments = string_of(function, "arguments");
    FUZZ_CHECK(id != NULL && id[0] != '\0' && name != NULL && name[0] != '\0');
    FUZZ_CHECK(arguments != NULL);
    cJSON *parsed = cJSON_Parse(arguments);
    FUZZ_CHECK(cJSON_IsObject(parsed)); /* what VS Code takes as a call's input */
    cJSON_Delete(parsed);
}

/* Every call answered once, right after its message; no other tool message. */
static bool
check_messages(const cJSON *messages, const struct fuzz_request_rules *rules)
{
    FUZZ_CHECK(cJSON_IsArray(messages) && cJSON_GetArraySize(messages) > 0);
    cJSON *waiting = cJSON_CreateArray(); /* the ids the next tool messages answer */
    FUZZ_CHECK(waiting != NULL);
    bool images = false;
    const cJSON *message;
    cJSON_ArrayForEach(message, messages) {
        const char *role = string_of(message, "role");
        FUZZ_CHECK(role != NULL);
        if (strcmp(role, "tool") == 0) {
            const char *id = string_of(message, "tool_call_id");
            FUZZ_CHECK(id != NULL);
            cJSON *entry = waiting->child;
            while (entry != NULL && strcmp(entry->valuestring, id) != 0)
                entry = entry->next;
            FUZZ_CHECK(entry != NULL); /* answers a call of the message before */
            cJSON_Delete(cJSON_DetachItemViaPointer(waiting, entry));
            FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(message, "content")));
            continue;
        }
        FUZZ_CHECK(waiting->child == NULL); /* every call was answered */
        FUZZ_CHECK(strcmp(role, "system") == 0 || strcmp(role, "user") == 0 ||
                   strcmp(role, "assistant") == 0);
        images = check_content(cJSON_GetObjectItemCaseSensitive(message, "content"), role, rules) ||
                 images;
        const cJSON *calls = cJSON_GetObjectItemCaseSensitive(message, "tool_calls");
        if (calls == NULL)
            continue;
        FUZZ_CHECK(strcmp(role, "assistant") == 0 && cJSON_GetArraySize(calls) > 0);
        const cJSON *call;
        cJSON_ArrayForEach(call, calls) {
            check_tool_call(call);
            FUZZ_CHECK(cJSON_AddItemToArray(waiting, cJSON_CreateString(string_of(call, "id"))));
        }
    }
    FUZZ_CHECK(waiting->child == NULL);
    cJSON_Delete(waiting);
    return images;
}

static void
check_tools(const struct chat_request *req, const struct fuzz_request_rules *rules)
{
    FUZZ_CHECK(req->tools == NULL || (cJSON_IsArray(req->tools) && req->tools->child != NULL));
    const cJSON *tool;
    cJSON_ArrayForEach(tool, req->tools) {
        FUZZ_CHECK(strcmp(string_of(tool, "type"), "function") == 0);
        const cJSON *function = cJSON_GetObjectItemCaseSensitive(tool, "function");
        FUZZ_CHECK(string_of(function, "name") != NULL);
        if (rules->parameters_required)
            FUZZ_CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(function, "parameters")));
    }
    const char *choice = cJSON_GetStringValue(req->tool_choice);
    FUZZ_CHECK(req->tool_choice == NULL ||
               (choice != NULL && (strcmp(choice, "auto") == 0 || strcmp(choice, "required") == 0 ||
                                   strcmp(choice, "none") == 0)));
    FUZZ_CHECK(req->tool_choice == NULL || req->tools != NULL);
}

void
fuzz_check_normalised(const struct chat_request *req, const struct fuzz_request_rules *rules)
{
    FUZZ_CHECK(req->has_images == check_messages(req->messages, rules));
    FUZZ_CHECK(req->max_tokens >= rules->min_max_tokens);
    check_tools(req, rules);
    FUZZ_CHECK(req->stop == NULL || (cJSON_IsArray(req->stop) &&
                                     cJSON_GetArraySize(req->stop) <= STOP_CUTTER_MAX_SEQUENCES));
    FUZZ_CHECK(req->notes == NULL || strchr(req->notes, '\n') == NULL);

    fuzz_check_frame(req, rules->model);

    for (int family = 0; family < TOKEN_FAMILY_COUNT; family += 4) {
        FUZZ_CHECK(token_estimate_messages(req->messages, (enum token_family)family) >= 3);
        FUZZ_CHECK(token_estimate_tools(req->tools, (enum token_family)family) >= 0);
    }
}
