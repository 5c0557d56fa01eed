#include "messages_request.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dynbuf.h"
#include "json_body.h"
#include "stop_cutter.h"

#define NOTES_MAX 2048
#define PATH_LEN 128
#define LABEL_LEN 96
/* Room for the words the parser adds around a client's text. */
#define TEXT_SLACK 4096

static const char PLACEHOLDER_RESULT[] =
    "No result was given for this tool call (the conversation continued without one).";
static const char ERROR_PREFIX[] = "The tool reported an error:\n";

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

struct builder {
    const cJSON *body;   /* the client's request */
    cJSON *messages;     /* the normalised messages (out->root's) */
    cJSON *unanswered;   /* ids of the last assistant turn's calls without a result yet */
    size_t text_max;     /* what any text made from the body may hold */
    struct dynbuf notes; /* for the log: what was skipped or repaired */
    bool notes_full;     /* ... and that more was than it holds */
    bool has_images;
    struct api_error *err;
};

static const cJSON *
field(const cJSON *object, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(object, name);
}

static bool
is_absent(const cJSON *item)
{
    return item == NULL || cJSON_IsNull(item);
}

static bool
is_type(const cJSON *block, const char *type)
{
    const cJSON *value = field(block, "type");
    return cJSON_IsString(value) && strcmp(value->valuestring, type) == 0;
}

/* `path` and a suffix into `out`: paths are indices and our own field
 * names, so one cut short only shortens a message. */
static const char *sub_path(char out[static PATH_LEN], const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static const char *
sub_path(char out[static PATH_LEN], const char *path, const char *fmt, ...)
{
    size_t used = (size_t)snprintf(out, PATH_LEN, "%s", path);
    if (used < PATH_LEN) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(out + used, PATH_LEN - used, fmt, ap);
        va_end(ap);
    }
    return out;
}

/* A 400 whose message starts with the field, as Anthropic words them. */
static int refuse(struct builder *b, const char *code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
refuse(struct builder *b, const char *code, const char *path, const char *fmt, ...)
{
    char reason[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    api_error_set(b->err, 400, code, path, "%s: %s", path, reason);
    return -1;
}

static int
out_of_memory(struct builder *b)
{
    api_error_set(b->err, 500, "internal_error", NULL, "Out of memory.");
    return -1;
}

/* A client's name or id, safe in a log line: at most 64 bytes, anything
 * but letters, digits and _-.: shown as '?'. */
static const char *
loggable(const char *text, char out[static 72])
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

static void note(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(struct builder *b, const char *fmt, ...)
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

/* Adds `item` to `array`; false (and `item` freed) when either failed. */
static bool
append(cJSON *array, cJSON *item)
{
    if (item == NULL)
        return false;
    if (!cJSON_AddItemToArray(array, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

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

/* {"role": role, "content": text} */
static cJSON *
text_message(const char *role, const char *text)
{
    cJSON *message = cJSON_CreateObject();
    if (message == NULL || !cJSON_AddStringToObject(message, "role", role) ||
        !cJSON_AddStringToObject(message, "content", text)) {
        cJSON_Delete(message);
        return NULL;
    }
    return message;
}

/* ------------------------------------------------------------ text */

/* The text of `content` at `path`: a string, or text blocks joined by a
 * blank line (system prompts come as blocks; Claude Code's first one is a
 * billing header that must not run into the next).  cache_control and
 * citations have no counterpart and are ignored. */
static int
joined_text(struct builder *b, const cJSON *content, const char *path, struct dynbuf *out)
{
    if (cJSON_IsString(content))
        return dynbuf_append_str(out, content->valuestring) == DYNBUF_OK ? 0 : out_of_memory(b);
    if (!cJSON_IsArray(content))
        return refuse(b, "invalid_type", path, "Input should be a string or a list of text blocks.");
    int index = 0;
    const cJSON *block;
    cJSON_ArrayForEach(block, content) {
        char where[PATH_LEN];
        sub_path(where, path, ".%d", index++);
        const cJSON *text = field(block, "text");
        if (!is_type(block, "text") || !cJSON_IsString(text))
            return refuse(b, "invalid_value", where,
                          "expected a text block ({\"type\": \"text\", \"text\": ...}).");
        if (out->len > 0 && dynbuf_append_str(out, "\n\n") != DYNBUF_OK)
            return out_of_memory(b);
        if (dynbuf_append_str(out, text->valuestring) != DYNBUF_OK)
            return out_of_memory(b);
    }
    return 0;
}

/* A system prompt or turn as a system message; empty text adds none. */
static int
add_system(struct builder *b, const cJSON *content, const char *path, int at)
{
    struct dynbuf text;
    dynbuf_init(&text, b->text_max);
    int rc = joined_text(b, content, path, &text);
    if (rc == 0 && text.len > 0) {
        cJSON *message = text_message("system", text.data);
        bool added = message != NULL && (at < 0 ? cJSON_AddItemToArray(b->messages, message)
                                                : cJSON_InsertItemInArray(b->messages, at, message));
        if (!added) {
            cJSON_Delete(message);
            rc = out_of_memory(b);
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
add_image(struct builder *b, const cJSON *block, const char *path, cJSON *parts)
{
    const cJSON *source = field(block, "source");
    const cJSON *kind = field(source, "type");
    char where[PATH_LEN];
    sub_path(where, path, ".source");
    if (!cJSON_IsObject(source) || !cJSON_IsString(kind))
        return refuse(b, "invalid_type", where,
                      "expected {\"type\": \"base64\", \"media_type\": ..., \"data\": ...}.");
    /* VS Code's models take the image's bytes; the gateway fetches nothing
     * from the network on a client's behalf. */
    if (strcmp(kind->valuestring, "base64") != 0)
        return refuse(b, "invalid_image_source", where,
                      "'%.32s' image sources are not supported, only base64: download the image "
                      "and send it inline ({\"type\": \"base64\", \"media_type\": \"image/png\", "
                      "\"data\": ...}).",
                      kind->valuestring);
    const cJSON *media_type = field(source, "media_type");
    const cJSON *data = field(source, "data");
    if (!cJSON_IsString(media_type) || !media_type_known(media_type->valuestring))
        return refuse(b, "invalid_value", where,
                      "media_type must be one of image/jpeg, image/png, image/gif, image/webp.");
    if (!cJSON_IsString(data))
        return refuse(b, "invalid_type", where, "data must be a base64 string.");
    struct dynbuf url;
    dynbuf_init(&url, b->text_max);
    int rc = dynbuf_appendf(&url, "data:%s;base64,", media_type->valuestring);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&url, data->valuestring);
    if (rc != DYNBUF_OK) {
        dynbuf_free(&url);
        return out_of_memory(b);
    }
    if (!json_body_image_data_url_valid(url.data)) {
        dynbuf_free(&url);
        return refuse(b, "invalid_value", where, "data is not valid base64.");
    }
    cJSON *part = cJSON_CreateObject();
    bool built = part != NULL && cJSON_AddStringToObject(part, "type", "image_url");
    cJSON *image = built ? cJSON_AddObjectToObject(part, "image_url") : NULL;
    built = image != NULL && cJSON_AddStringToObject(image, "url", url.data);
    dynbuf_free(&url);
    if (!built) {
        cJSON_Delete(part);
        return out_of_memory(b);
    }
    if (!append(parts, part))
        return out_of_memory(b);
    b->has_images = true;
    return 0;
}

/* ------------------------------------------------------- tool results */

/* True (and forgotten) if `id` is one of the last assistant turn's calls
 * still waiting for a result. */
static bool
take_unanswered(struct builder *b, const char *id)
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
answer_the_rest(struct builder *b)
{
    cJSON *entry;
    cJSON_ArrayForEach(entry, b->unanswered) {
        char id[72];
        cJSON *message = text_message("tool", PLACEHOLDER_RESULT);
        if (message != NULL &&
            !cJSON_AddStringToObject(message, "tool_call_id", entry->valuestring)) {
            cJSON_Delete(message);
            message = NULL;
        }
        if (!append(b->messages, message))
            return out_of_memory(b);
        note(b, "tool_use %s had no tool_result: a placeholder result was added",
             loggable(entry->valuestring, id));
    }
    cJSON_Delete(b->unanswered);
    b->unanswered = cJSON_CreateArray();
    return b->unanswered != NULL ? 0 : out_of_memory(b);
}

/* The content of a tool_result: its text into `text`, its images (as
 * image_url parts) into `images`. */
static int
tool_result_content(struct builder *b, const cJSON *content, const char *path, struct dynbuf *text,
                    cJSON *images)
{
    char where[PATH_LEN];
    sub_path(where, path, ".content");
    if (is_absent(content))
        return 0;
    if (cJSON_IsString(content))
        return dynbuf_append_str(text, content->valuestring) == DYNBUF_OK ? 0 : out_of_memory(b);
    if (!cJSON_IsArray(content))
        return refuse(b, "invalid_type", where, "Input should be a string or a list of blocks.");
    int index = 0;
    const cJSON *block;
    cJSON_ArrayForEach(block, content) {
        char inner[PATH_LEN];
        sub_path(inner, where, ".%d", index++);
        const cJSON *type = field(block, "type");
        if (!cJSON_IsObject(block) || !cJSON_IsString(type))
            return refuse(b, "invalid_type", inner, "expected a block with a 'type'.");
        if (strcmp(type->valuestring, "image") == 0) {
            if (add_image(b, block, inner, images) != 0)
                return -1;
            continue;
        }
        if (strcmp(type->valuestring, "document") == 0)
            return refuse(b, "unsupported_content", inner,
                          "'document' blocks are not supported: VS Code's models take text and "
                          "images. Send the document's text in a text block.");
        const cJSON *value = field(block, "text");
        bool is_text = strcmp(type->valuestring, "text") == 0;
        if (is_text && !cJSON_IsString(value))
            return refuse(b, "invalid_type", inner, "text must be a string.");
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
            return out_of_memory(b);
    }
    return 0;
}

/* A tool_result block: a tool message if it answers a call of the turn
 * before, else (an orphan) user text.  Its images go into `parts`, the user
 * message that follows the turn's tool messages: a tool message carries
 * text only. */
static int
add_tool_result(struct builder *b, const cJSON *block, const char *path, cJSON *parts)
{
    const cJSON *id = field(block, "tool_use_id");
    char where[PATH_LEN];
    if (!cJSON_IsString(id) || id->valuestring[0] == '\0') {
        sub_path(where, path, ".tool_use_id");
        return refuse(b, "missing_required_parameter", where, "Field required (a string).");
    }
    const cJSON *is_error = field(block, "is_error");
    if (!is_absent(is_error) && !cJSON_IsBool(is_error)) {
        sub_path(where, path, ".is_error");
        return refuse(b, "invalid_type", where, "Input should be a valid boolean.");
    }
    struct dynbuf text;
    dynbuf_init(&text, b->text_max);
    cJSON *images = cJSON_CreateArray();
    int rc = images != NULL ? 0 : out_of_memory(b);
    /* The model is told in words: VS Code's tool results have no error flag. */
    if (rc == 0 && cJSON_IsTrue(is_error) && dynbuf_append_str(&text, ERROR_PREFIX) != DYNBUF_OK)
        rc = out_of_memory(b);
    size_t prefix = text.len;
    if (rc == 0)
        rc = tool_result_content(b, field(block, "content"), path, &text, images);
    if (rc == 0 && prefix > 0 && text.len == prefix) {
        text.len = 0; /* no words from the tool: the flag alone */
        if (dynbuf_append_str(&text, "The tool reported an error.") != DYNBUF_OK)
            rc = out_of_memory(b);
    }

    char label[LABEL_LEN + 72], shown[72];
    bool answers = rc == 0 && take_unanswered(b, id->valuestring);
    if (rc == 0 && answers) {
        cJSON *message = text_message("tool", text.data ? text.data : "");
        if (message != NULL && !cJSON_AddStringToObject(message, "tool_call_id", id->valuestring)) {
            cJSON_Delete(message);
            message = NULL;
        }
        if (!append(b->messages, message))
            rc = out_of_memory(b);
        snprintf(label, sizeof label,
                 "The result of tool call %.64s includes these images:", id->valuestring);
    } else if (rc == 0) {
        /* Answers nothing in the turn before: the model still reads it. */
        note(b, "tool_result %s answers no tool_use of the turn before: sent as user text",
             loggable(id->valuestring, shown));
        snprintf(label, sizeof label,
                 "A result for tool call %.64s, which is not in the conversation:", id->valuestring);
        struct dynbuf orphan;
        dynbuf_init(&orphan, b->text_max);
        if (dynbuf_appendf(&orphan, "%s\n", label) != DYNBUF_OK ||
            dynbuf_append(&orphan, text.data ? text.data : "", text.len) != DYNBUF_OK ||
            !append(parts, text_part(orphan.data)))
            rc = out_of_memory(b);
        dynbuf_free(&orphan);
        label[0] = '\0'; /* the images follow the words */
    }
    if (rc == 0 && cJSON_GetArraySize(images) > 0) {
        if (label[0] != '\0' && !append(parts, text_part(label)))
            rc = out_of_memory(b);
        while (rc == 0 && images->child != NULL)
            if (!append(parts, cJSON_DetachItemViaPointer(images, images->child)))
                rc = out_of_memory(b);
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
unsupported_block(struct builder *b, const char *path, const char *type, const char *role)
{
    char where[PATH_LEN];
    sub_path(where, path, ".type");
    if (strcmp(type, "document") == 0)
        return refuse(b, "unsupported_content", where,
                      "'document' blocks are not supported: VS Code's models take text and images. "
                      "Send the document's text in a text block.");
    return refuse(b, "invalid_value", where, "'%.64s' blocks are not supported in %s messages.",
                  type, role);
}

/* A content block's "type" (the block at `where`), or NULL once a block
 * that is no object or has no type is refused. */
static const char *
block_kind(struct builder *b, const cJSON *block, const char *where)
{
    const cJSON *type = field(block, "type");
    if (!cJSON_IsObject(block) || !cJSON_IsString(type)) {
        char type_path[PATH_LEN];
        sub_path(type_path, where, ".type");
        refuse(b, "invalid_type", type_path, "Field required.");
        return NULL;
    }
    return type->valuestring;
}

/* A text block (at `where`) as a text part of `parts`. */
static int
add_text_block(struct builder *b, const cJSON *block, const char *where, cJSON *parts)
{
    const cJSON *text = field(block, "text");
    if (!cJSON_IsString(text)) {
        char text_path[PATH_LEN];
        sub_path(text_path, where, ".text");
        return refuse(b, "invalid_type", text_path, "Input should be a valid string.");
    }
    if (!append(parts, text_part(text->valuestring)))
        return out_of_memory(b);
    return 0;
}

static int
add_user(struct builder *b, const cJSON *content, const char *path)
{
    cJSON *parts = cJSON_CreateArray();
    if (parts == NULL)
        return out_of_memory(b);
    int rc = 0;
    char where[PATH_LEN];
    if (cJSON_IsString(content)) {
        if (!append(parts, text_part(content->valuestring)))
            rc = out_of_memory(b);
    } else if (!cJSON_IsArray(content)) {
        sub_path(where, path, ".content");
        rc = refuse(b, "invalid_type", where, "Input should be a string or a list of blocks.");
    } else {
        int index = 0;
        const cJSON *block;
        cJSON_ArrayForEach(block, content) {
            sub_path(where, path, ".content.%d", index++);
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
            rc = out_of_memory(b);
        } else {
            parts = NULL; /* the message's now */
            if (!append(b->messages, message))
                rc = out_of_memory(b);
        }
    }
    cJSON_Delete(parts);
    return rc;
}

/* A tool_use block as an OpenAI tool call. */
static int
add_tool_use(struct builder *b, const cJSON *block, const char *path, cJSON *calls)
{
    const cJSON *id = field(block, "id");
    const cJSON *name = field(block, "name");
    const cJSON *input = field(block, "input");
    char where[PATH_LEN];
    if (!cJSON_IsString(id) || id->valuestring[0] == '\0') {
        sub_path(where, path, ".id");
        return refuse(b, "missing_required_parameter", where, "Field required (a string).");
    }
    if (!cJSON_IsString(name) || name->valuestring[0] == '\0') {
        sub_path(where, path, ".name");
        return refuse(b, "missing_required_parameter", where, "Field required (a string).");
    }
    if (!is_absent(input) && !cJSON_IsObject(input)) {
        sub_path(where, path, ".input");
        return refuse(b, "invalid_type", where, "Input should be a valid dictionary.");
    }
    char *arguments = is_absent(input) ? strdup("{}") : cJSON_PrintUnformatted(input);
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
        return out_of_memory(b);
    }
    if (!append(calls, call) || !append(b->unanswered, cJSON_CreateString(id->valuestring)))
        return out_of_memory(b);
    return 0;
}

static int
add_assistant(struct builder *b, const cJSON *content, const char *path)
{
    /* Calls of an assistant turn that another assistant turn follows were
     * never answered. */
    if (answer_the_rest(b) != 0)
        return -1;
    char where[PATH_LEN];
    if (cJSON_IsString(content)) {
        if (!append(b->messages, text_message("assistant", content->valuestring)))
            return out_of_memory(b);
        return 0;
    }
    if (!cJSON_IsArray(content)) {
        sub_path(where, path, ".content");
        return refuse(b, "invalid_type", where, "Input should be a string or a list of blocks.");
    }
    cJSON *parts = cJSON_CreateArray();
    cJSON *calls = cJSON_CreateArray();
    int rc = parts != NULL && calls != NULL ? 0 : out_of_memory(b);
    int index = 0;
    const cJSON *block;
    cJSON_ArrayForEach(block, content) {
        if (rc != 0)
            break;
        sub_path(where, path, ".content.%d", index++);
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
            note(b, "a %s block of a server tool was dropped from the history",
                 loggable(kind, shown));
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
            rc = out_of_memory(b);
        } else if (!append(b->messages, message)) {
            rc = out_of_memory(b);
        }
    }
    cJSON_Delete(parts);
    cJSON_Delete(calls);
    return rc;
}

static int
build_messages(struct builder *b)
{
    const cJSON *messages = field(b->body, "messages");
    if (is_absent(messages))
        return refuse(b, "missing_required_parameter", "messages", "Field required.");
    if (!cJSON_IsArray(messages))
        return refuse(b, "invalid_type", "messages", "Input should be a valid list.");
    if (cJSON_GetArraySize(messages) == 0)
        return refuse(b, "empty_array", "messages", "at least one message is required.");
    int index = 0;
    const cJSON *message;
    cJSON_ArrayForEach(message, messages) {
        char path[PATH_LEN], where[PATH_LEN];
        snprintf(path, sizeof path, "messages.%d", index++);
        const cJSON *role = field(message, "role");
        const cJSON *content = field(message, "content");
        if (!cJSON_IsObject(message))
            return refuse(b, "invalid_type", path, "Input should be a valid dictionary.");
        sub_path(where, path, ".role");
        if (!cJSON_IsString(role))
            return refuse(b, "invalid_type", where, "Field required (\"user\" or \"assistant\").");
        if (is_absent(content)) {
            sub_path(where, path, ".content");
            return refuse(b, "missing_required_parameter", where, "Field required.");
        }
        int rc;
        if (strcmp(role->valuestring, "user") == 0) {
            rc = add_user(b, content, path);
        } else if (strcmp(role->valuestring, "assistant") == 0) {
            rc = add_assistant(b, content, path);
        } else if (strcmp(role->valuestring, "system") == 0) {
            /* Claude Code sends system turns mid-conversation. */
            sub_path(where, path, ".content");
            rc = answer_the_rest(b);
            if (rc == 0)
                rc = add_system(b, content, where, -1);
        } else {
            rc = refuse(b, "invalid_value", where, "Input should be 'user' or 'assistant'.");
        }
        if (rc != 0)
            return -1;
    }
    /* A conversation that ends on tool calls: they get their placeholders. */
    return answer_the_rest(b);
}

/* ------------------------------------------------------------ tools */

static int
build_tools(struct builder *b, cJSON *root)
{
    const cJSON *tools = field(b->body, "tools");
    if (is_absent(tools))
        return 0;
    if (!cJSON_IsArray(tools))
        return refuse(b, "invalid_type", "tools", "Input should be a valid list.");
    cJSON *functions = cJSON_CreateArray();
    if (functions == NULL)
        return out_of_memory(b);
    int index = 0, rc = 0;
    const cJSON *tool;
    cJSON_ArrayForEach(tool, tools) {
        char path[PATH_LEN], where[PATH_LEN];
        snprintf(path, sizeof path, "tools.%d", index++);
        const cJSON *type = field(tool, "type");
        const cJSON *name = field(tool, "name");
        const cJSON *schema = field(tool, "input_schema");
        const cJSON *description = field(tool, "description");
        if (!cJSON_IsObject(tool)) {
            rc = refuse(b, "invalid_type", path, "Input should be a valid dictionary.");
            break;
        }
        if (!is_absent(type) && !cJSON_IsString(type)) {
            sub_path(where, path, ".type");
            rc = refuse(b, "invalid_type", where, "Input should be a valid string.");
            break;
        }
        /* Server tools (web search, bash, the text editor, ...) run at
         * Anthropic; Claude Code sends them whatever the server.  The model
         * simply does not get them. */
        if (cJSON_IsString(type) && strcmp(type->valuestring, "custom") != 0) {
            char shown_type[72], shown_name[72];
            note(b, "server tool %s (%s) skipped: the gateway runs no server tools",
                 loggable(cJSON_IsString(name) ? name->valuestring : "?", shown_name),
                 loggable(type->valuestring, shown_type));
            continue;
        }
        if (!cJSON_IsString(name) || name->valuestring[0] == '\0') {
            sub_path(where, path, ".name");
            rc = refuse(b, "missing_required_parameter", where, "Field required (a string).");
            break;
        }
        if (!is_absent(schema) && !cJSON_IsObject(schema)) {
            sub_path(where, path, ".input_schema");
            rc = refuse(b, "invalid_type", where, "Input should be a valid dictionary.");
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
            rc = out_of_memory(b);
            break;
        }
        if (!append(functions, entry)) {
            rc = out_of_memory(b);
            break;
        }
    }
    if (rc != 0 || cJSON_GetArraySize(functions) == 0) {
        cJSON_Delete(functions);
        return rc;
    }
    if (!cJSON_AddItemToObject(root, "tools", functions)) {
        cJSON_Delete(functions);
        return out_of_memory(b);
    }
    return 0;
}

/* The named tool alone: VS Code's Required mode calls one of the tools it
 * is given. */
static int
narrow_to(struct builder *b, cJSON *tools, const char *name)
{
    cJSON *tool = tools ? tools->child : NULL;
    cJSON *chosen = NULL;
    while (tool != NULL) {
        cJSON *next = tool->next;
        const cJSON *tool_name = field(field(tool, "function"), "name");
        if (chosen == NULL && strcmp(tool_name->valuestring, name) == 0)
            chosen = tool;
        else
            cJSON_Delete(cJSON_DetachItemViaPointer(tools, tool));
        tool = next;
    }
    if (chosen == NULL)
        return refuse(b, "invalid_value", "tool_choice.name",
                      "the tool '%.64s' is not among the tools (server tools are not run here).",
                      name);
    return 0;
}

static int
build_tool_choice(struct builder *b, cJSON *root)
{
    const cJSON *choice = field(b->body, "tool_choice");
    if (is_absent(choice))
        return 0;
    const cJSON *type = field(choice, "type");
    const cJSON *name = field(choice, "name");
    const cJSON *parallel = field(choice, "disable_parallel_tool_use");
    if (!cJSON_IsObject(choice) || !cJSON_IsString(type))
        return refuse(b, "invalid_type", "tool_choice",
                      "expected {\"type\": \"auto\" | \"any\" | \"tool\" | \"none\"}.");
    /* Accepted; VS Code has no switch for parallel calls. */
    if (!is_absent(parallel) && !cJSON_IsBool(parallel))
        return refuse(b, "invalid_type", "tool_choice.disable_parallel_tool_use",
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
            return refuse(b, "missing_required_parameter", "tool_choice.name",
                          "Field required (the tool's name).");
        if (narrow_to(b, tools, name->valuestring) != 0)
            return -1;
        mode = "required";
    } else {
        return refuse(b, "invalid_value", "tool_choice.type",
                      "'%.32s' is not one of auto, any, tool, none.", kind);
    }
    if (tools == NULL)
        return 0; /* nothing to choose from */
    return cJSON_AddStringToObject(root, "tool_choice", mode) ? 0 : out_of_memory(b);
}

/* ---------------------------------------------------------- options */

static bool
is_integer(const cJSON *item)
{
    return cJSON_IsNumber(item) && isfinite(item->valuedouble) &&
           item->valuedouble == floor(item->valuedouble);
}

static int
build_options(struct builder *b, cJSON *root, struct chat_request *out, bool need_max_tokens)
{
    const cJSON *max_tokens = field(b->body, "max_tokens");
    if (is_absent(max_tokens)) {
        if (need_max_tokens)
            return refuse(b, "missing_required_parameter", "max_tokens", "Field required.");
    } else if (!is_integer(max_tokens) || max_tokens->valuedouble < 1 ||
               max_tokens->valuedouble > 1e9) {
        return refuse(b, "invalid_value", "max_tokens", "Input should be an integer of at least 1.");
    } else {
        out->max_tokens = (long)max_tokens->valuedouble;
    }
    for (size_t i = 0; i < sizeof sampling_options / sizeof *sampling_options; i++) {
        const char *name = sampling_options[i].name;
        const cJSON *value = field(b->body, name);
        if (is_absent(value))
            continue;
        bool ok = sampling_options[i].integer ? is_integer(value) : cJSON_IsNumber(value);
        if (!ok || value->valuedouble < sampling_options[i].min ||
            value->valuedouble > sampling_options[i].max)
            return refuse(b, "invalid_value", name, "Input should be a number from %g to %g.",
                          sampling_options[i].min, sampling_options[i].max);
        if (!cJSON_AddNumberToObject(root, name, value->valuedouble))
            return out_of_memory(b);
    }
    const cJSON *stops = field(b->body, "stop_sequences");
    if (!is_absent(stops)) {
        bool ok = cJSON_IsArray(stops) && cJSON_GetArraySize(stops) <= STOP_CUTTER_MAX_SEQUENCES;
        const cJSON *item;
        cJSON_ArrayForEach(item, stops)
            ok = ok && cJSON_IsString(item);
        if (!ok)
            return refuse(b, "invalid_value", "stop_sequences",
                          "Input should be a list of at most %d strings.",
                          STOP_CUTTER_MAX_SEQUENCES);
        cJSON *copy = cJSON_Duplicate(stops, true);
        if (copy == NULL || !cJSON_AddItemToObject(root, "stop", copy)) {
            cJSON_Delete(copy);
            return out_of_memory(b);
        }
        out->stop = copy;
    }
    const cJSON *stream = field(b->body, "stream");
    if (!is_absent(stream) && !cJSON_IsBool(stream))
        return refuse(b, "invalid_type", "stream", "Input should be a valid boolean.");
    out->stream = cJSON_IsTrue(stream);
    return 0;
}

/* ------------------------------------------------------------ parse */

static int
build(struct builder *b, struct chat_request *out, bool need_max_tokens)
{
    cJSON *root = out->root;
    const cJSON *model = field(b->body, "model");
    if (!is_absent(model) && !cJSON_IsString(model))
        return refuse(b, "invalid_type", "model", "Input should be a valid string.");
    if (cJSON_IsString(model)) {
        cJSON *copy = cJSON_AddStringToObject(root, "model", model->valuestring);
        if (copy == NULL)
            return out_of_memory(b);
        out->model = copy->valuestring;
    }
    b->messages = cJSON_AddArrayToObject(root, "messages");
    b->unanswered = cJSON_CreateArray();
    if (b->messages == NULL || b->unanswered == NULL)
        return out_of_memory(b);
    if (build_messages(b) != 0)
        return -1;
    const cJSON *system = field(b->body, "system");
    if (!is_absent(system) && add_system(b, system, "system", 0) != 0)
        return -1;
    if (cJSON_GetArraySize(b->messages) == 0)
        return refuse(b, "invalid_value", "messages",
                      "nothing is left to send to the model (thinking blocks are not sent).");
    out->messages = b->messages;
    if (build_tools(b, root) != 0 || build_tool_choice(b, root) != 0 ||
        build_options(b, root, out, need_max_tokens) != 0)
        return -1;
    out->tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
    out->tool_choice = cJSON_GetObjectItemCaseSensitive(root, "tool_choice");
    out->has_images = b->has_images;
    return 0;
}

static int
parse(const char *body, size_t len, struct chat_request *out, struct api_error *err,
      bool need_max_tokens)
{
    memset(out, 0, sizeof *out);
    cJSON *request = NULL;
    if (json_body_parse(body, len, &request, err) != 0) {
        cJSON_Delete(request);
        return -1;
    }
    struct builder b = { .body = request, .text_max = len + TEXT_SLACK, .err = err };
    dynbuf_init(&b.notes, NOTES_MAX);
    out->root = cJSON_CreateObject();
    int rc = out->root != NULL ? build(&b, out, need_max_tokens) : out_of_memory(&b);
    if (rc == 0 && b.notes.len > 0) {
        if (b.notes_full)
            (void)dynbuf_append_str(&b.notes, "; more not listed");
        out->notes = dynbuf_take(&b.notes, NULL);
    }
    dynbuf_free(&b.notes);
    cJSON_Delete(b.unanswered);
    cJSON_Delete(request);
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
