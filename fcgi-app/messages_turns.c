/* Anthropic Messages: the system prompt and the conversation (text,
 * images, tool_use and tool_result blocks) into chat messages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dynbuf.h"
#include "json_body.h"
#include "messages_parse.h"

#define LABEL_LEN 96

static const char PLACEHOLDER_RESULT[] =
    "No result was given for this tool call (the conversation continued without one).";
static const char ERROR_PREFIX[] = "The tool reported an error:\n";

static cJSON *
text_part(const char *text)
{
    cJSON *part = cJSON_CreateObject();
    if (part == NULL || !cJSON_AddStringToObject(part, "type", "text") ||
        !cJSON_AddStringToObject(part, "text", text)) {
        cJSON_Delete(part);
        return NULL;
    }
    return part;
}

/* ------------------------------------------------------------ text */

/* The text of `content` at `path`: a string, or text blocks joined by a
 * blank line (system prompts come as blocks; Claude Code's first one is a
 * billing header that must not run into the next).  cache_control and
 * citations have no counterpart and are ignored. */
static int
joined_text(struct messages_builder *b, const cJSON *content, const char *path, struct dynbuf *out)
{
    if (cJSON_IsString(content))
        return dynbuf_append_str(out, content->valuestring) == DYNBUF_OK ? 0
                                                                         : messages_no_memory(b);
    if (!cJSON_IsArray(content))
        return messages_refuse(b, "invalid_type", path,
                               "Input should be a string or a list of text blocks.");
    int index = 0;
    const cJSON *block;
    cJSON_ArrayForEach(block, content) {
        char where[MESSAGES_PATH_MAX];
        messages_path(where, path, ".%d", index++);
        const cJSON *text = messages_field(block, "text");
        if (!messages_is_type(block, "text") || !cJSON_IsString(text))
            return messages_refuse(b, "invalid_value", where,
                                   "expected a text block ({\"type\": \"text\", \"text\": ...}).");
        if (out->len > 0 && dynbuf_append_str(out, "\n\n") != DYNBUF_OK)
            return messages_no_memory(b);
        if (dynbuf_append_str(out, text->valuestring) != DYNBUF_OK)
            return messages_no_memory(b);
    }
    return 0;
}

/* A system prompt or turn as a system message; empty text adds none. */
int
messages_add_system(struct messages_builder *b, const cJSON *content, const char *path, int at)
{
    struct dynbuf text;
    dynbuf_init(&text, b->text_max);
    int rc = joined_text(b, content, path, &text);
    if (rc == 0 && text.len > 0) {
        cJSON *message = request_parse_text_message("system", text.data);
        bool added = message != NULL && (at < 0 ? cJSON_AddItemToArray(b->messages, message)
                                                : cJSON_InsertItemInArray(b->messages, at, message));
        if (!added) {
            cJSON_Delete(message);
            rc = messages_no_memory(b);
        }
    }
    dynbuf_free(&text);
    return rc;
}

/* ----------------------------------------------------------- images */

static bool
media_type_known(const char *type)
{
    static const char *const types[] = { "image/jpeg", "image/png", "image/gif", "image/webp" };
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (strcasecmp(type, types[i]) == 0)
            return true;
    return false;
}

/* An image block as an image_url part with a data: URL, added to `parts`. */
static int
add_image(struct messages_builder *b, const cJSON *block, const char *path, cJSON *parts)
{
    const cJSON *source = messages_field(block, "source");
    const cJSON *kind = messages_field(source, "type");
    char where[MESSAGES_PATH_MAX];
    messages_path(where, path, ".source");
    if (!cJSON_IsObject(source) || !cJSON_IsString(kind))
        return messages_refuse(b, "invalid_type", where,
                               "expected {\"type\": \"base64\", \"media_type\": ..., \"data\": ...}.");
    /* VS Code's models take the image's bytes; the gateway fetches nothing
     * from the network on a client's behalf. */
    if (strcmp(kind->valuestring, "base64") != 0)
        return messages_refuse(b, "invalid_image_source", where,
                               "'%.32s' image sources are not supported, only base64: download the image "
                               "and send it inline ({\"type\": \"base64\", \"media_type\": \"image/png\", "
                               "\"data\": ...}).",
                               kind->valuestring);
    const cJSON *media_type = messages_field(source, "media_type");
    const cJSON *data = messages_field(source, "data");
    if (!cJSON_IsString(media_type) || !media_type_known(media_type->valuestring))
        return messages_refuse(b, "invalid_value", where,
                               "media_type must be one of image/jpeg, image/png, image/gif, image/webp.");
    if (!cJSON_IsString(data))
        return messages_refuse(b, "invalid_type", where, "data must be a base64 string.");
    struct dynbuf url;
    dynbuf_init(&url, b->text_max);
    int rc = dynbuf_appendf(&url, "data:%s;base64,", media_type->valuestring);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&url, data->valuestring);
    if (rc != DYNBUF_OK) {
        dynbuf_free(&url);
        return messages_no_memory(b);
    }
    if (!json_body_image_data_url_valid(url.data)) {
        dynbuf_free(&url);
        return messages_refuse(b, "invalid_value", where, "data is not valid base64.");
    }
    cJSON *part = cJSON_CreateObject();
    bool built = part != NULL && cJSON_AddStringToObject(part, "type", "image_url");
    cJSON *image = built ? cJSON_AddObjectToObject(part, "image_url") : NULL;
    built = image != NULL && cJSON_AddStringToObject(image, "url", url.data);
    dynbuf_free(&url);
    if (!built) {
        cJSON_Delete(part);
        return messages_no_memory(b);
    }
    if (!request_parse_append(parts, part))
        return messages_no_memory(b);
    b->has_images = true;
    return 0;
}

/* ------------------------------------------------------- tool results */

/* True (and forgotten) if `id` is one of the last assistant turn's calls
 * still waiting for a result. */
static bool
take_unanswered(struct messages_builder *b, const char *id)
{
    cJSON *entry;
    cJSON_ArrayForEach(entry, b->unanswered) {
        if (strcmp(entry->valuestring, id) == 0) {
            cJSON_Delete(cJSON_DetachItemViaPointer(b->unanswered, entry));
            return true;
        }
    }
    return false;
}

/* The calls the turn before left unanswered get a placeholder result, so
 * that every call has its result, as VS Code's models require. */
static int
answer_the_rest(struct messages_builder *b)
{
    cJSON *entry;
    cJSON_ArrayForEach(entry, b->unanswered) {
        char id[72];
        cJSON *message = request_parse_text_message("tool", PLACEHOLDER_RESULT);
        if (message != NULL &&
            !cJSON_AddStringToObject(message, "tool_call_id", entry->valuestring)) {
            cJSON_Delete(message);
            message = NULL;
        }
        if (!request_parse_append(b->messages, message))
            return messages_no_memory(b);
        messages_note(b, "tool_use %s had no tool_result: a placeholder result was added",
                      messages_loggable(entry->valuestring, id));
    }
    cJSON_Delete(b->unanswered);
    b->unanswered = cJSON_CreateArray();
    return b->unanswered != NULL ? 0 : messages_no_memory(b);
}

/* The content of a tool_result: its text into `text`, its images (as
 * image_url parts) into `images`. */
static int
tool_result_content(struct messages_builder *b, const cJSON *content, const char *path,
                    struct dynbuf *text, cJSON *images)
{
    char where[MESSAGES_PATH_MAX];
    messages_path(where, path, ".content");
    if (json_body_absent(content))
        return 0;
    if (cJSON_IsString(content))
        return dynbuf_append_str(text, content->valuestring) == DYNBUF_OK ? 0
                                                                          : messages_no_memory(b);
    if (!cJSON_IsArray(content))
        return messages_refuse(b, "invalid_type", where,
                               "Input should be a string or a list of blocks.");
    int index = 0;
    const cJSON *block;
    cJSON_ArrayForEach(block, content) {
        char inner[MESSAGES_PATH_MAX];
        messages_path(inner, where, ".%d", index++);
        const cJSON *type = messages_field(block, "type");
        if (!cJSON_IsObject(block) || !cJSON_IsString(type))
            return messages_refuse(b, "invalid_type", inner, "expected a block with a 'type'.");
        if (strcmp(type->valuestring, "image") == 0) {
            if (add_image(b, block, inner, images) != 0)
                return -1;
            continue;
        }
        if (strcmp(type->valuestring, "document") == 0)
            return messages_refuse(b, "unsupported_content", inner,
                                   "'document' blocks are not supported: VS Code's models take text and "
                                   "images. Send the document's text in a text block.");
        const cJSON *value = messages_field(block, "text");
        bool is_text = strcmp(type->valuestring, "text") == 0;
        if (is_text && !cJSON_IsString(value))
            return messages_refuse(b, "invalid_type", inner, "text must be a string.");
        /* Other blocks (search results, tool references) are data the model
         * can read as JSON. */
        char *printed = is_text ? NULL : cJSON_PrintUnformatted(block);
        const char *piece = is_text ? value->valuestring : printed;
        int rc = piece != NULL ? DYNBUF_OK : DYNBUF_NO_MEMORY;
        if (rc == DYNBUF_OK && text->len > 0)
            rc = dynbuf_append_str(text, "\n");
        if (rc == DYNBUF_OK)
            rc = dynbuf_append_str(text, piece);
        free(printed);
        if (rc != DYNBUF_OK)
            return messages_no_memory(b);
    }
    return 0;
}

/* A tool_result block: a tool message if it answers a call of the turn
 * before, else (an orphan) user text.  Its images go into `parts`, the user
 * message that follows the turn's tool messages: a tool message carries
 * text only. */
static int
add_tool_result(struct messages_builder *b, const cJSON *block, const char *path, cJSON *parts)
{
    const cJSON *id = messages_field(block, "tool_use_id");
    char where[MESSAGES_PATH_MAX];
    if (!cJSON_IsString(id) || id->valuestring[0] == '\0') {
        messages_path(where, path, ".tool_use_id");
        return messages_refuse(b, "missing_required_parameter", where, "Field required (a string).");
    }
    const cJSON *is_error = messages_field(block, "is_error");
    if (!json_body_absent(is_error) && !cJSON_IsBool(is_error)) {
        messages_path(where, path, ".is_error");
        return messages_refuse(b, "invalid_type", where, "Input should be a valid boolean.");
    }
    struct dynbuf text;
    dynbuf_init(&text, b->text_max);
    cJSON *images = cJSON_CreateArray();
    int rc = images != NULL ? 0 : messages_no_memory(b);
    /* The model is told in words: VS Code's tool results have no error flag. */
    if (rc == 0 && cJSON_IsTrue(is_error) && dynbuf_append_str(&text, ERROR_PREFIX) != DYNBUF_OK)
        rc = messages_no_memory(b);
    size_t prefix = text.len;
    if (rc == 0)
        rc = tool_result_content(b, messages_field(block, "content"), path, &text, images);
    if (rc == 0 && prefix > 0 && text.len == prefix) {
        text.len = 0; /* no words from the tool: the flag alone */
        if (dynbuf_append_str(&text, "The tool reported an error.") != DYNBUF_OK)
            rc = messages_no_memory(b);
    }

    char label[LABEL_LEN + 72], shown[72];
    bool answers = rc == 0 && take_unanswered(b, id->valuestring);
    if (rc == 0 && answers) {
        cJSON *message = request_parse_text_message("tool", text.data ? text.data : "");
        if (message != NULL && !cJSON_AddStringToObject(message, "tool_call_id", id->valuestring)) {
            cJSON_Delete(message);
            message = NULL;
        }
        if (!request_parse_append(b->messages, message))
            rc = messages_no_memory(b);
        snprintf(label, sizeof label,
                 "The result of tool call %.64s includes these images:", id->valuestring);
    } else if (rc == 0) {
        /* Answers nothing in the turn before: the model still reads it. */
        messages_note(b, "tool_result %s answers no tool_use of the turn before: sent as user text",
                      messages_loggable(id->valuestring, shown));
        snprintf(label, sizeof label,
                 "A result for tool call %.64s, which is not in the conversation:", id->valuestring);
        struct dynbuf orphan;
        dynbuf_init(&orphan, b->text_max);
        if (dynbuf_appendf(&orphan, "%s\n", label) != DYNBUF_OK ||
            dynbuf_append(&orphan, text.data ? text.data : "", text.len) != DYNBUF_OK ||
            !request_parse_append(parts, text_part(orphan.data)))
            rc = messages_no_memory(b);
        dynbuf_free(&orphan);
        label[0] = '\0'; /* the images follow the words */
    }
    if (rc == 0 && cJSON_GetArraySize(images) > 0) {
        if (label[0] != '\0' && !request_parse_append(parts, text_part(label)))
            rc = messages_no_memory(b);
        while (rc == 0 && images->child != NULL)
            if (!request_parse_append(parts, cJSON_DetachItemViaPointer(images, images->child)))
                rc = messages_no_memory(b);
    }
    cJSON_Delete(images);
    dynbuf_free(&text);
    return rc;
}

/* ------------------------------------------------------------ turns */

/* Assistant-side blocks of server tools that ran at Anthropic (a history
 * from there): the gateway never runs them, the model cannot use them. */
static bool
is_server_tool_block(const char *type)
{
    size_t len = strlen(type);
    static const char suffix[] = "_tool_result";
    size_t suffix_len = sizeof suffix - 1;
    return strcmp(type, "server_tool_use") == 0 || strcmp(type, "mcp_tool_use") == 0 ||
           (len > suffix_len && strcmp(type + len - suffix_len, suffix) == 0);
}

static int
unsupported_block(struct messages_builder *b, const char *path, const char *type, const char *role)
{
    char where[MESSAGES_PATH_MAX];
    messages_path(where, path, ".type");
    if (strcmp(type, "document") == 0)
        return messages_refuse(b, "unsupported_content", where,
                               "'document' blocks are not supported: VS Code's models take text and images. "
                               "Send the document's text in a text block.");
    return messages_refuse(b, "invalid_value", where,
                           "'%.64s' blocks are not supported in %s messages.", type, role);
}

/* A content block's "type" (the block at `where`), or NULL once a block
 * that is no object or has no type is refused. */
static const char *
block_kind(struct messages_builder *b, const cJSON *block, const char *where)
{
    const cJSON *type = messages_field(block, "type");
    if (!cJSON_IsObject(block) || !cJSON_IsString(type)) {
        char type_path[MESSAGES_PATH_MAX];
        messages_path(type_path, where, ".type");
        messages_refuse(b, "invalid_type", type_path, "Field required.");
        return NULL;
    }
    return type->valuestring;
}

/* A text block (at `where`) as a text part of `parts`. */
static int
add_text_block(struct messages_builder *b, const cJSON *block, const char *where, cJSON *parts)
{
    const cJSON *text = messages_field(block, "text");
    if (!cJSON_IsString(text)) {
        char text_path[MESSAGES_PATH_MAX];
        messages_path(text_path, where, ".text");
        return messages_refuse(b, "invalid_type", text_path, "Input should be a valid string.");
    }
    if (!request_parse_append(parts, text_part(text->valuestring)))
        return messages_no_memory(b);
    return 0;
}

static int
add_user(struct messages_builder *b, const cJSON *content, const char *path)
{
    cJSON *parts = cJSON_CreateArray();
    if (parts == NULL)
        return messages_no_memory(b);
    int rc = 0;
    char where[MESSAGES_PATH_MAX];
    if (cJSON_IsString(content)) {
        if (!request_parse_append(parts, text_part(content->valuestring)))
            rc = messages_no_memory(b);
    } else if (!cJSON_IsArray(content)) {
        messages_path(where, path, ".content");
        rc = messages_refuse(b, "invalid_type", where,
                             "Input should be a string or a list of blocks.");
    } else {
        int index = 0;
        const cJSON *block;
        cJSON_ArrayForEach(block, content) {
            messages_path(where, path, ".content.%d", index++);
            const char *kind = block_kind(b, block, where);
            if (kind == NULL) {
                rc = -1;
                break;
            }
            if (strcmp(kind, "text") == 0) {
                rc = add_text_block(b, block, where, parts);
            } else if (strcmp(kind, "image") == 0) {
                rc = add_image(b, block, where, parts);
            } else if (strcmp(kind, "tool_result") == 0) {
                rc = add_tool_result(b, block, where, parts);
            } else if (strcmp(kind, "thinking") != 0 && strcmp(kind, "redacted_thinking") != 0) {
                rc = unsupported_block(b, where, kind, "user");
            }
            if (rc != 0)
                break;
        }
    }
    /* Results for the rest of the turn before's calls, after the real ones
     * and before the user's own words. */
    if (rc == 0)
        rc = answer_the_rest(b);
    if (rc == 0 && cJSON_GetArraySize(parts) > 0) {
        cJSON *message = cJSON_CreateObject();
        if (message == NULL || !cJSON_AddStringToObject(message, "role", "user") ||
            !cJSON_AddItemToObject(message, "content", parts)) {
            cJSON_Delete(message);
            rc = messages_no_memory(b);
        } else {
            parts = NULL; /* the message's now */
            if (!request_parse_append(b->messages, message))
                rc = messages_no_memory(b);
        }
    }
    cJSON_Delete(parts);
    return rc;
}

/* A tool_use block as an OpenAI tool call. */
static int
add_tool_use(struct messages_builder *b, const cJSON *block, const char *path, cJSON *calls)
{
    const cJSON *id = messages_field(block, "id");
    const cJSON *name = messages_field(block, "name");
    const cJSON *input = messages_field(block, "input");
    char where[MESSAGES_PATH_MAX];
    if (!cJSON_IsString(id) || id->valuestring[0] == '\0') {
        messages_path(where, path, ".id");
        return messages_refuse(b, "missing_required_parameter", where, "Field required (a string).");
    }
    if (!cJSON_IsString(name) || name->valuestring[0] == '\0') {
        messages_path(where, path, ".name");
        return messages_refuse(b, "missing_required_parameter", where, "Field required (a string).");
    }
    if (!json_body_absent(input) && !cJSON_IsObject(input)) {
        messages_path(where, path, ".input");
        return messages_refuse(b, "invalid_type", where, "Input should be a valid dictionary.");
    }
    char *arguments = json_body_absent(input) ? strdup("{}") : cJSON_PrintUnformatted(input);
    cJSON *call = cJSON_CreateObject();
    bool built = arguments != NULL && call != NULL &&
                 cJSON_AddStringToObject(call, "id", id->valuestring) &&
                 cJSON_AddStringToObject(call, "type", "function");
    cJSON *function = built ? cJSON_AddObjectToObject(call, "function") : NULL;
    built = function != NULL && cJSON_AddStringToObject(function, "name", name->valuestring) &&
            cJSON_AddStringToObject(function, "arguments", arguments);
    free(arguments);
    if (!built) {
        cJSON_Delete(call);
        return messages_no_memory(b);
    }
    if (!request_parse_append(calls, call) ||
        !request_parse_append(b->unanswered, cJSON_CreateString(id->valuestring)))
        return messages_no_memory(b);
    return 0;
}

static int
add_assistant(struct messages_builder *b, const cJSON *content, const char *path)
{
    /* Calls of an assistant turn that another assistant turn follows were
     * never answered. */
    if (answer_the_rest(b) != 0)
        return -1;
    char where[MESSAGES_PATH_MAX];
    if (cJSON_IsString(content)) {
        if (!request_parse_append(b->messages,
                                  request_parse_text_message("assistant", content->valuestring)))
            return messages_no_memory(b);
        return 0;
    }
    if (!cJSON_IsArray(content)) {
        messages_path(where, path, ".content");
        return messages_refuse(b, "invalid_type", where,
                               "Input should be a string or a list of blocks.");
    }
    cJSON *parts = cJSON_CreateArray();
    cJSON *calls = cJSON_CreateArray();
    int rc = parts != NULL && calls != NULL ? 0 : messages_no_memory(b);
    int index = 0;
    const cJSON *block;
    cJSON_ArrayForEach(block, content) {
        if (rc != 0)
            break;
        messages_path(where, path, ".content.%d", index++);
        const char *kind = block_kind(b, block, where);
        if (kind == NULL) {
            rc = -1;
            break;
        }
        if (strcmp(kind, "text") == 0) {
            rc = add_text_block(b, block, where, parts);
        } else if (strcmp(kind, "tool_use") == 0) {
            rc = add_tool_use(b, block, where, calls);
        } else if (strcmp(kind, "thinking") == 0 || strcmp(kind, "redacted_thinking") == 0) {
            continue; /* the model's own reasoning: not sent back (README) */
        } else if (is_server_tool_block(kind)) {
            char shown[72];
            messages_note(b, "a %s block of a server tool was dropped from the history",
                          messages_loggable(kind, shown));
        } else {
            rc = unsupported_block(b, where, kind, "assistant");
        }
    }
    bool has_parts = rc == 0 && cJSON_GetArraySize(parts) > 0;
    bool has_calls = rc == 0 && cJSON_GetArraySize(calls) > 0;
    /* Only thinking: nothing to send. */
    if (has_parts || has_calls) {
        cJSON *message = cJSON_CreateObject();
        bool built = message != NULL && cJSON_AddStringToObject(message, "role", "assistant");
        if (built && has_parts) {
            built = cJSON_AddItemToObject(message, "content", parts);
            parts = built ? NULL : parts;
        } else if (built) {
            built = cJSON_AddNullToObject(message, "content") != NULL;
        }
        if (built && has_calls) {
            built = cJSON_AddItemToObject(message, "tool_calls", calls);
            calls = built ? NULL : calls;
        }
        if (!built) {
            cJSON_Delete(message);
            rc = messages_no_memory(b);
        } else if (!request_parse_append(b->messages, message)) {
            rc = messages_no_memory(b);
        }
    }
    cJSON_Delete(parts);
    cJSON_Delete(calls);
    return rc;
}

int
messages_build_turns(struct messages_builder *b)
{
    const cJSON *messages = messages_field(b->body, "messages");
    if (json_body_absent(messages))
        return messages_refuse(b, "missing_required_parameter", "messages", "Field required.");
    if (!cJSON_IsArray(messages))
        return messages_refuse(b, "invalid_type", "messages", "Input should be a valid list.");
    if (cJSON_GetArraySize(messages) == 0)
        return messages_refuse(b, "empty_array", "messages", "at least one message is required.");
    int index = 0;
    const cJSON *message;
    cJSON_ArrayForEach(message, messages) {
        char path[MESSAGES_PATH_MAX], where[MESSAGES_PATH_MAX];
        snprintf(path, sizeof path, "messages.%d", index++);
        const cJSON *role = messages_field(message, "role");
        const cJSON *content = messages_field(message, "content");
        if (!cJSON_IsObject(message))
            return messages_refuse(b, "invalid_type", path, "Input should be a valid dictionary.");
        messages_path(where, path, ".role");
        if (!cJSON_IsString(role))
            return messages_refuse(b, "invalid_type", where,
                                   "Field required (\"user\" or \"assistant\").");
        if (json_body_absent(content)) {
            messages_path(where, path, ".content");
            return messages_refuse(b, "missing_required_parameter", where, "Field required.");
        }
        int rc;
        if (strcmp(role->valuestring, "user") == 0) {
            rc = add_user(b, content, path);
        } else if (strcmp(role->valuestring, "assistant") == 0) {
            rc = add_assistant(b, content, path);
        } else if (strcmp(role->valuestring, "system") == 0) {
            /* Claude Code sends system turns mid-conversation. */
            messages_path(where, path, ".content");
            rc = answer_the_rest(b);
            if (rc == 0)
                rc = messages_add_system(b, content, where, -1);
        } else {
            rc = messages_refuse(b, "invalid_value", where,
                                 "Input should be 'user' or 'assistant'.");
        }
        if (rc != 0)
            return -1;
    }
    /* A conversation that ends on tool calls: they get their placeholders. */
    return answer_the_rest(b);
}
