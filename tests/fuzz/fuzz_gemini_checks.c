#include "fuzz_gemini_checks.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"

static const cJSON *
member(const cJSON *object, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(object, name);
}

/* Google's error object; its code is `status` when that is known (a
 * response's), else a 4xx/5xx (a stream's last chunk). */
static void
check_error(const cJSON *object, int status)
{
    const cJSON *error = member(object, "error");
    FUZZ_CHECK(cJSON_IsObject(error));
    const cJSON *code = member(error, "code");
    const cJSON *message = member(error, "message");
    const cJSON *name = member(error, "status");
    FUZZ_CHECK(cJSON_IsNumber(code) && code->valueint >= 400 && code->valueint <= 599);
    FUZZ_CHECK(status == 0 || code->valueint == status);
    FUZZ_CHECK(cJSON_IsString(message) && message->valuestring[0] != '\0');
    FUZZ_CHECK(cJSON_IsString(name) && name->valuestring[0] >= 'A' && name->valuestring[0] <= 'Z');
    FUZZ_CHECK(cJSON_IsArray(member(error, "details")));
}

static void
check_usage(const cJSON *usage)
{
    const cJSON *prompt = member(usage, "promptTokenCount");
    const cJSON *candidates = member(usage, "candidatesTokenCount");
    const cJSON *total = member(usage, "totalTokenCount");
    FUZZ_CHECK(cJSON_IsNumber(prompt) && cJSON_IsNumber(candidates) && cJSON_IsNumber(total));
    FUZZ_CHECK(prompt->valuedouble >= 0 && candidates->valuedouble >= 0 &&
               total->valuedouble == prompt->valuedouble + candidates->valuedouble);
}

/* A GenerateContentResponse; true if it carries the finish. */
static bool
check_response(const cJSON *response)
{
    const cJSON *candidates = member(response, "candidates");
    FUZZ_CHECK(cJSON_IsArray(candidates) && cJSON_GetArraySize(candidates) == 1);
    const cJSON *candidate = candidates->child;
    const cJSON *content = member(candidate, "content");
    const cJSON *role = member(content, "role");
    const cJSON *parts = member(content, "parts");
    FUZZ_CHECK(cJSON_IsString(role) && strcmp(role->valuestring, "model") == 0);
    FUZZ_CHECK(cJSON_IsArray(parts));
    const cJSON *part;
    cJSON_ArrayForEach(part, parts) {
        const cJSON *call = member(part, "functionCall");
        if (call == NULL) {
            FUZZ_CHECK(cJSON_IsString(member(part, "text")));
            continue;
        }
        FUZZ_CHECK(cJSON_IsString(member(call, "id")) && cJSON_IsString(member(call, "name")));
        FUZZ_CHECK(cJSON_IsObject(member(call, "args")));
    }
    const cJSON *reason = member(candidate, "finishReason");
    const cJSON *usage = member(response, "usageMetadata");
    FUZZ_CHECK((reason == NULL) == (usage == NULL));
    if (reason == NULL)
        return false;
    FUZZ_CHECK(cJSON_IsString(reason) && (strcmp(reason->valuestring, "STOP") == 0 ||
                                          strcmp(reason->valuestring, "MAX_TOKENS") == 0 ||
                                          strcmp(reason->valuestring, "SAFETY") == 0));
    check_usage(usage);
    return true;
}

static void
check_model(const cJSON *model)
{
    const cJSON *name = member(model, "name");
    FUZZ_CHECK(cJSON_IsString(name) && strncmp(name->valuestring, "models/", 7) == 0);
    FUZZ_CHECK(cJSON_IsNumber(member(model, "inputTokenLimit")));
    FUZZ_CHECK(cJSON_IsArray(member(model, "supportedGenerationMethods")));
}

void
fuzz_check_gemini_json(int status, const char *body, size_t len)
{
    cJSON *parsed = cJSON_ParseWithLength(body, len);
    FUZZ_CHECK(cJSON_IsObject(parsed));
    if (status != 200) {
        check_error(parsed, status);
    } else if (member(parsed, "candidates") != NULL) {
        FUZZ_CHECK(check_response(parsed)); /* a whole reply is finished */
    } else if (member(parsed, "totalTokens") != NULL) {
        FUZZ_CHECK(member(parsed, "totalTokens")->valuedouble >= 0);
    } else if (member(parsed, "models") != NULL) {
        const cJSON *model;
        cJSON_ArrayForEach(model, member(parsed, "models"))
            check_model(model);
    } else {
        check_model(parsed);
    }
    cJSON_Delete(parsed);
}

void
fuzz_check_gemini_stream(const char *body, size_t len)
{
    bool ended = false;
    size_t at = 0;
    while (at < len) {
        FUZZ_CHECK(!ended);     /* nothing after the finish or an error */
        if (body[at] == '\n') { /* a heartbeat */
            at++;
            continue;
        }
        const char *line = body + at;
        const char *newline = memchr(line, '\n', len - at);
        FUZZ_CHECK(newline != NULL && (size_t)(newline - body) + 1 < len && newline[1] == '\n');
        size_t line_len = (size_t)(newline - line);
        FUZZ_CHECK(line_len > 6 && memcmp(line, "data: ", 6) == 0);
        FUZZ_CHECK(memchr(line, '\r', line_len) == NULL);
        cJSON *chunk = cJSON_ParseWithLength(line + 6, line_len - 6);
        FUZZ_CHECK(cJSON_IsObject(chunk));
        if (member(chunk, "error") != NULL) {
            check_error(chunk, 0);
            ended = true;
        } else {
            ended = check_response(chunk);
        }
        cJSON_Delete(chunk);
        at += line_len + 2;
    }
    FUZZ_CHECK(ended);
}
