/*
 * fuzz_chat_request: a Chat Completions body, as any client may send it,
 * through chat_request_parse() (fcgi-app/chat_request.h), and what the
 * responder does next with it: the pipe `request` frame
 * (chat_request_frame) serialised with cJSON_PrintUnformatted, the prompt's
 * token estimate, or the OpenAI error object of a refusal.
 *
 * Invariants (abort on violation): a refusal is a 4xx/5xx with a code and a
 * message, and its error object is valid JSON in valid UTF-8; an accepted
 * body has a non-empty messages array, yields a frame whose text parses back
 * to an object with the same id, model and message count, and a
 * non-negative token estimate.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "chat_reply.h"
#include "chat_request.h"
#include "fuzz.h"
#include "token_estimate.h"

static void
check_accepted(struct chat_request *req)
{
    FUZZ_CHECK(cJSON_IsArray(req->messages) && cJSON_GetArraySize(req->messages) > 0);
    FUZZ_CHECK(req->tools == NULL || (cJSON_IsArray(req->tools) && req->tools->child != NULL));
    FUZZ_CHECK(req->max_tokens >= 0);

    const char *model = req->model ? req->model : "copilot/gpt-4o";
    cJSON *frame = chat_request_frame(req, "0123456789abcdef0123456789abcdef", model);
    FUZZ_CHECK(frame != NULL);
    char *text = cJSON_PrintUnformatted(frame);
    FUZZ_CHECK(text != NULL);
    cJSON *back = cJSON_Parse(text);
    FUZZ_CHECK(cJSON_IsObject(back));
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(back, "id");
    FUZZ_CHECK(cJSON_IsString(id) &&
               strcmp(id->valuestring, "0123456789abcdef0123456789abcdef") == 0);
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(back, "messages");
    FUZZ_CHECK(cJSON_GetArraySize(messages) == cJSON_GetArraySize(req->messages));
    cJSON_Delete(back);
    free(text);
    cJSON_Delete(frame);

    for (int family = 0; family < TOKEN_FAMILY_COUNT; family += 4) {
        FUZZ_CHECK(token_estimate_messages(req->messages, (enum token_family)family) >= 3);
        FUZZ_CHECK(token_estimate_tools(req->tools, (enum token_family)family) >= 0);
    }
    (void)token_family_of(model);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct chat_request req;
    struct api_error err;
    memset(&err, 0, sizeof err);
    if (chat_request_parse((const char *)data, size, &req, &err) == 0)
        check_accepted(&req);
    else
        fuzz_check_refusal(&err, &chat_wire_format,
                           (const char *const[]){ "message", "code", NULL });
    chat_request_free(&req);
    return 0;
}
