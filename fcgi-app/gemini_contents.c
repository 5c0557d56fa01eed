/*
 * gemini_contents: Gemini's `contents` and `systemInstruction` into the
 * normalised messages (gemini_request.h has the mapping).  Tool calls and
 * their responses must pair up for VS Code's models, which refuse a call
 * left unanswered: a functionResponse answers the call with its id, else
 * the oldest unanswered call of its name; a call still unanswered when the
 * conversation moves on gets a placeholder result, and a response that
 * answers nothing becomes user text.  Each repair is noted for the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gemini_parse.h"
#include "json_body.h"

static const char PLACEHOLDER_RESULT[] =
    "No result was given for this tool call (the conversation continued without one).";
static const char ERROR_PREFIX[] = "The tool reported an error:\n";

static cJSON *
tool_message(const char *call_id, const char *text)
{
    cJSON *message = request_parse_text_message("tool", text);
    if (message != NULL && !cJSON_AddStringToObject(message, "tool_call_id", call_id)) {
        cJSON_Delete(message);
        return NULL;
    }
    return message;
}

static bool
is_string(const cJSON *item)
{
    return cJSON_IsString(item) && item->valuestring != NULL;
}

/* ---------------------------------------------------------------- system */

/* systemInstruction: a string, or a Content whose text parts are joined
 * by a blank line; a leading system message (none when empty). */
static int
add_system(struct gemini_builder *b, const cJSON *instruction)
{
    struct dynbuf text;
    dynbuf_init(&text, b->text_max);
    int rc = 0;
    if (is_string(instruction)) {
        rc = dynbuf_append_str(&text, instruction->valuestring) == DYNBUF_OK
                 ? 0
                 : gemini_out_of_memory(b);
    } else {
        const cJSON *parts = gemini_field(instruction, "parts");
        if (!cJSON_IsObject(instruction) || (!json_body_absent(parts) && !cJSON_IsArray(parts)))
            rc = gemini_refuse(b, "systemInstruction",
                               "expected a string or a Content ({\"parts\": [{\"text\": ...}]}).");
        const cJSON *part;
        const cJSON *list = rc == 0 ? parts : NULL;
        int index = 0;
        cJSON_ArrayForEach(part, list) {
            const cJSON *piece = gemini_field(part, "text");
            if (!cJSON_IsObject(part) || (!json_body_absent(piece) && !is_string(piece))) {
                rc = gemini_refuse(b, "systemInstruction.parts",
                                   "part %d: expected {\"text\": string}.", index);
                break;
            }
            index++;
            if (!is_string(piece) || piece->valuestring[0] == '\0')
                continue;
            if ((text.len > 0 && dynbuf_append_str(&text, "\n\n") != DYNBUF_OK) ||
                dynbuf_append_str(&text, piece->valuestring) != DYNBUF_OK) {
                rc = gemini_out_of_memory(b);
                break;
            }
        }
    }
    if (rc == 0 && text.len > 0) {
        cJSON *message = request_parse_text_message("system", text.data);
        if (message == NULL || !cJSON_InsertItemInArray(b->messages, 0, message)) {
            cJSON_Delete(message);
            rc = gemini_out_of_memory(b);
        }
    }
    dynbuf_free(&text);
    return rc;
}

/* --------------------------------------------------------------- pairing */

/* Placeholder results for the calls nothing answered, in call order. */
static int
answer_the_rest(struct gemini_builder *b)
{
    cJSON *call;
    cJSON_ArrayForEach(call, b->unanswered) {
        const cJSON *id = gemini_field(call, "id");
        const cJSON *name = gemini_field(call, "name");
        if (!request_parse_append(b->messages, tool_message(id->valuestring, PLACEHOLDER_RESULT)))
            return gemini_out_of_memory(b);
        gemini_note(b, "call %.64s of %.64s had no functionResponse: a placeholder result added",
                    id->valuestring, name->valuestring);
    }
    cJSON *empty = cJSON_CreateArray();
    if (empty == NULL)
        return gemini_out_of_memory(b);
    cJSON_Delete(b->unanswered);
    b->unanswered = empty;
    return 0;
}

/* The unanswered call a functionResponse answers: its id, else the oldest
 * call of its name; taken off the list.  NULL: none. */
static char *
take_call(struct gemini_builder *b, const char *id, const char *name)
{
    cJSON *call, *match = NULL;
    cJSON_ArrayForEach(call, b->unanswered) {
        if (id != NULL && strcmp(gemini_field(call, "id")->valuestring, id) == 0) {
            match = call;
            break;
        }
    }
    if (match == NULL) {
        cJSON_ArrayForEach(call, b->unanswered) {
            if (strcmp(gemini_field(call, "name")->valuestring, name) == 0) {
                match = call;
                break;
            }
        }
    }
    if (match == NULL)
        return NULL;
    char *taken = strdup(gemini_field(match, "id")->valuestring);
    cJSON_Delete(cJSON_DetachItemViaPointer(b->unanswered, match));
    return taken;
}

/* ----------------------------------------------------------------- parts */

/* The text a tool result gives the model: a lone `output` or `error`
 * string as it is (what Gemini CLI sends), else the response's JSON. */
static char *
response_text(const cJSON *response)
{
    const cJSON *output = gemini_field(response, "output");
    const cJSON *error = gemini_field(response, "error");
    int members = cJSON_GetArraySize(response);
    if (members == 1 && is_string(output))
        return strdup(output->valuestring);
    if (members == 1 && is_string(error)) {
        char *text = malloc(sizeof ERROR_PREFIX + strlen(error->valuestring));
        if (text != NULL)
            strcat(strcpy(text, ERROR_PREFIX), error->valuestring);
        return text;
    }
    return cJSON_PrintUnformatted(response);
}

static int
add_function_response(struct gemini_builder *b, const cJSON *answer, const char *path,
                      cJSON *orphans)
{
    const cJSON *id = gemini_field(answer, "id");
    const cJSON *name = gemini_field(answer, "name");
    const cJSON *response = gemini_field(answer, "response");
    if (!cJSON_IsObject(answer) || !is_string(name) || name->valuestring[0] == '\0')
        return gemini_refuse(b, path, "functionResponse needs a name (a string).");
    if ((!json_body_absent(id) && !is_string(id)) ||
        (!json_body_absent(response) && !cJSON_IsObject(response)))
        return gemini_refuse(b, path,
                             "functionResponse: id must be a string and response an object.");
    char *text = cJSON_IsObject(response) ? response_text(response) : strdup("{}");
    char *call_id = take_call(b, is_string(id) ? id->valuestring : NULL, name->valuestring);
    int rc = 0;
    if (text == NULL) {
        rc = gemini_out_of_memory(b);
    } else if (call_id != NULL) {
        if (!request_parse_append(b->messages, tool_message(call_id, text)))
            rc = gemini_out_of_memory(b);
    } else {
        /* Answers no call of the turn before: the model still reads it. */
        struct dynbuf line;
        dynbuf_init(&line, b->text_max);
        if (dynbuf_appendf(&line, "Result of the tool %s:\n", name->valuestring) != DYNBUF_OK ||
            dynbuf_append_str(&line, text) != DYNBUF_OK ||
            !request_parse_append(orphans, cJSON_CreateString(line.data)))
            rc = gemini_out_of_memory(b);
        else
            gemini_note(b, "a functionResponse of %.64s answered no call: sent as user text",
                        name->valuestring);
        dynbuf_free(&line);
    }
    free(call_id);
    free(text);
    return rc;
}

static cJSON *
typed_part(const char *type)
{
    cJSON *part = cJSON_CreateObject();
    if (part != NULL && !cJSON_AddStringToObject(part, "type", type)) {
        cJSON_Delete(part);
        return NULL;
    }
    return part;
}

static int
add_text_part(struct gemini_builder *b, cJSON *parts, const char *text)
{
    cJSON *part = typed_part("text");
    if (part == NULL || !cJSON_AddStringToObject(part, "text", text)) {
        cJSON_Delete(part);
        return gemini_out_of_memory(b);
    }
    return request_parse_append(parts, part) ? 0 : gemini_out_of_memory(b);
}

/* inlineData {mimeType, data}: an image, as an image_url part with a data:
 * URL; other media VS Code's models cannot take. */
static int
add_inline_data(struct gemini_builder *b, const cJSON *inline_data, const char *path, cJSON *parts)
{
    const cJSON *mime = gemini_field(inline_data, "mimeType");
    const cJSON *data = gemini_field(inline_data, "data");
    if (!cJSON_IsObject(inline_data) || !is_string(mime) || !is_string(data))
        return gemini_refuse(b, path, "inlineData needs mimeType and data (base64 strings).");
    struct dynbuf url;
    dynbuf_init(&url, b->text_max);
    int rc = dynbuf_appendf(&url, "data:%.64s;base64,", mime->valuestring);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(&url, data->valuestring);
    if (rc != DYNBUF_OK) {
        dynbuf_free(&url);
        return gemini_out_of_memory(b);
    }
    if (!json_body_image_data_url_valid(url.data)) {
        dynbuf_free(&url);
        return gemini_refuse(b, path,
                             "inlineData must be an image (image/png, image/jpeg, image/gif or "
                             "image/webp) in base64: VS Code's models take text and images.");
    }
    cJSON *part = typed_part("image_url");
    cJSON *image = part ? cJSON_AddObjectToObject(part, "image_url") : NULL;
    bool built = image != NULL && cJSON_AddStringToObject(image, "url", url.data);
    dynbuf_free(&url);
    if (!built) {
        cJSON_Delete(part);
        return gemini_out_of_memory(b);
    }
    b->has_images = true;
    return request_parse_append(parts, part) ? 0 : gemini_out_of_memory(b);
}

static int
add_function_call(struct gemini_builder *b, const cJSON *call, const char *path, cJSON *calls)
{
    const cJSON *id = gemini_field(call, "id");
    const cJSON *name = gemini_field(call, "name");
    const cJSON *args = gemini_field(call, "args");
    if (!cJSON_IsObject(call) || !is_string(name) || name->valuestring[0] == '\0')
        return gemini_refuse(b, path, "functionCall needs a name (a string).");
    if ((!json_body_absent(id) && !is_string(id)) ||
        (!json_body_absent(args) && !cJSON_IsObject(args)))
        return gemini_refuse(b, path, "functionCall: id must be a string and args an object.");
    char synthesised[32];
    snprintf(synthesised, sizeof synthesised, "call_%u", ++b->calls);
    const char *call_id = is_string(id) && id->valuestring[0] != '\0' ? id->valuestring
                                                                      : synthesised;
    char *arguments = cJSON_IsObject(args) ? cJSON_PrintUnformatted(args) : strdup("{}");
    cJSON *entry = cJSON_CreateObject();
    bool built = arguments != NULL && entry != NULL &&
                 cJSON_AddStringToObject(entry, "id", call_id) &&
                 cJSON_AddStringToObject(entry, "type", "function");
    cJSON *function = built ? cJSON_AddObjectToObject(entry, "function") : NULL;
    built = function != NULL && cJSON_AddStringToObject(function, "name", name->valuestring) &&
            cJSON_AddStringToObject(function, "arguments", arguments);
    free(arguments);
    if (!built || !request_parse_append(calls, entry)) {
        if (!built)
            cJSON_Delete(entry);
        return gemini_out_of_memory(b);
    }
    cJSON *pending = cJSON_CreateObject();
    if (pending == NULL || !cJSON_AddStringToObject(pending, "id", call_id) ||
        !cJSON_AddStringToObject(pending, "name", name->valuestring)) {
        cJSON_Delete(pending);
        return gemini_out_of_memory(b);
    }
    return request_parse_append(b->unanswered, pending) ? 0 : gemini_out_of_memory(b);
}

/* --------------------------------------------------------------- turns */

/* One part of a content of `role` ("user" or "model"): into `parts` (user
 * text and images), `text` (model text), `calls` or `orphans`. */
static int
add_part(struct gemini_builder *b, const cJSON *part, const char *path, bool model, cJSON *parts,
         struct dynbuf *text, cJSON *calls, cJSON *orphans)
{
    if (!cJSON_IsObject(part))
        return gemini_refuse(b, path, "expected a Part object.");
    const cJSON *piece = gemini_field(part, "text");
    const cJSON *thought = gemini_field(part, "thought");
    if (!json_body_absent(piece) && !is_string(piece))
        return gemini_refuse(b, path, "text must be a string.");
    if (!json_body_absent(thought) && !cJSON_IsBool(thought))
        return gemini_refuse(b, path, "thought must be a boolean.");
    /* The model's own earlier reasoning: not for another model. */
    if (cJSON_IsTrue(thought))
        return 0;
    if (is_string(piece)) {
        if (!model)
            return add_text_part(b, parts, piece->valuestring);
        return dynbuf_append_str(text, piece->valuestring) == DYNBUF_OK ? 0
                                                                        : gemini_out_of_memory(b);
    }
    const cJSON *value;
    if ((value = gemini_field(part, "functionCall")) != NULL) {
        if (!model)
            return gemini_refuse(b, path, "functionCall parts belong to role \"model\".");
        return add_function_call(b, value, path, calls);
    }
    if ((value = gemini_field(part, "functionResponse")) != NULL) {
        if (model)
            return gemini_refuse(b, path, "functionResponse parts belong to role \"user\".");
        return add_function_response(b, value, path, orphans);
    }
    if ((value = gemini_field(part, "inlineData")) != NULL) {
        if (model)
            return gemini_refuse(b, path, "inlineData is taken in user contents only.");
        return add_inline_data(b, value, path, parts);
    }
    if (gemini_field(part, "fileData") != NULL)
        return gemini_refuse(b, path,
                             "fileData is not supported: the gateway fetches nothing for a "
                             "client; send the image inline (inlineData).");
    /* executableCode, codeExecutionResult, videoMetadata...: Google's own
     * tools' traces, or nothing a VS Code model can take. */
    gemini_note(b, "a part with none of text, functionCall, functionResponse, inlineData skipped");
    return 0;
}

/* A user content: its tool results first (they answer the turn before),
 * then its text and images as one user message. */
static int
finish_user(struct gemini_builder *b, cJSON *parts, cJSON *orphans)
{
    if (answer_the_rest(b) != 0)
        return -1;
    cJSON *orphan;
    cJSON_ArrayForEach(orphan, orphans) {
        if (add_text_part(b, parts, orphan->valuestring) != 0)
            return -1;
    }
    if (cJSON_GetArraySize(parts) == 0)
        return 0;
    cJSON *message = cJSON_CreateObject();
    if (message == NULL || !cJSON_AddStringToObject(message, "role", "user")) {
        cJSON_Delete(message);
        return gemini_out_of_memory(b);
    }
    cJSON_AddItemToObject(message, "content", cJSON_Duplicate(parts, true));
    if (cJSON_GetObjectItemCaseSensitive(message, "content") == NULL) {
        cJSON_Delete(message);
        return gemini_out_of_memory(b);
    }
    return request_parse_append(b->messages, message) ? 0 : gemini_out_of_memory(b);
}

static int
finish_model(struct gemini_builder *b, const struct dynbuf *text, cJSON *calls)
{
    if (text->len == 0 && cJSON_GetArraySize(calls) == 0)
        return 0;
    cJSON *message = cJSON_CreateObject();
    bool built = message != NULL && cJSON_AddStringToObject(message, "role", "assistant") &&
                 (text->len > 0 ? cJSON_AddStringToObject(message, "content", text->data) != NULL
                                : cJSON_AddNullToObject(message, "content") != NULL);
    if (built && cJSON_GetArraySize(calls) > 0) {
        cJSON *copy = cJSON_Duplicate(calls, true);
        built = copy != NULL && cJSON_AddItemToObject(message, "tool_calls", copy);
        if (!built)
            cJSON_Delete(copy);
    }
    if (!built) {
        cJSON_Delete(message);
        return gemini_out_of_memory(b);
    }
    return request_parse_append(b->messages, message) ? 0 : gemini_out_of_memory(b);
}

static int
add_content(struct gemini_builder *b, const cJSON *content, int index)
{
    char path[GEMINI_PATH_LEN];
    snprintf(path, sizeof path, "contents[%d]", index);
    const cJSON *role = gemini_field(content, "role");
    const cJSON *parts = gemini_field(content, "parts");
    if (!cJSON_IsObject(content))
        return gemini_refuse(b, path, "expected a Content object ({\"role\", \"parts\"}).");
    if (!json_body_absent(role) && !is_string(role))
        return gemini_refuse(b, path, "role must be a string.");
    /* Role "function" is the older name of a user turn of tool results. */
    const char *name = is_string(role) ? role->valuestring : "user";
    bool model = strcmp(name, "model") == 0;
    if (!model && strcmp(name, "user") != 0 && strcmp(name, "function") != 0)
        return gemini_refuse(b, path, "role must be \"user\" or \"model\", not \"%.32s\".", name);
    if (!cJSON_IsArray(parts))
        return gemini_refuse(b, path, "parts must be a list of Part objects.");
    cJSON *user_parts = cJSON_CreateArray(), *calls = cJSON_CreateArray();
    cJSON *orphans = cJSON_CreateArray();
    struct dynbuf text;
    dynbuf_init(&text, b->text_max);
    int rc = user_parts && calls && orphans ? 0 : gemini_out_of_memory(b);
    /* A model turn right after another: the calls of the first got no
     * answer. */
    if (rc == 0 && model)
        rc = answer_the_rest(b);
    int part_index = 0;
    const cJSON *part;
    const cJSON *list = rc == 0 ? parts : NULL;
    cJSON_ArrayForEach(part, list) {
        char where[GEMINI_PATH_LEN + 32];
        snprintf(where, sizeof where, "%s.parts[%d]", path, part_index++);
        if ((rc = add_part(b, part, where, model, user_parts, &text, calls, orphans)) != 0)
            break;
    }
    if (rc == 0)
        rc = model ? finish_model(b, &text, calls) : finish_user(b, user_parts, orphans);
    dynbuf_free(&text);
    cJSON_Delete(user_parts);
    cJSON_Delete(calls);
    cJSON_Delete(orphans);
    return rc;
}

int
gemini_build_contents(struct gemini_builder *b, const cJSON *request)
{
    const cJSON *contents = gemini_field(request, "contents");
    if (!cJSON_IsArray(contents) || cJSON_GetArraySize(contents) == 0)
        return gemini_refuse(b, "contents", "contents must be a non-empty list of Content objects.");
    int index = 0;
    const cJSON *content;
    cJSON_ArrayForEach(content, contents) {
        if (add_content(b, content, index++) != 0)
            return -1;
    }
    /* The last model turn's calls: VS Code's models refuse a call left
     * unanswered. */
    if (answer_the_rest(b) != 0)
        return -1;
    const cJSON *system = gemini_field(request, "systemInstruction");
    if (!json_body_absent(system) && add_system(b, system) != 0)
        return -1;
    if (cJSON_GetArraySize(b->messages) == 0)
        return gemini_refuse(b, "contents",
                             "nothing is left to send to the model (thought parts are not sent).");
    return 0;
}
