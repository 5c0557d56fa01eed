/*
 * fuzz_chat_request: a Chat Completions body, as any client may send it,
 * through chat_request_parse() (fcgi-app/chat_request.h), and what the
 * responder does next with it: the pipe `request` frame
 * (chat_request_frame) serialised with cJSON_PrintUnformatted, the prompt's
 * token estimate, or the OpenAI error object of a refusal.
 *
 * Invariants (abort on violation): a refusal is a 4xx/5xx with a code and a
 * message, and its error object is valid JSON in valid UTF-8; an accepted
 * body has a non-empty messages array, yields a frame whose text is valid
 * UTF-8 and parses back to an object with the same id and message count
 * (fuzz_check_frame), and a non-negative token estimate.
 */
#include <cjson/cJSON.h>

#include "chat_reply.h"
#include "chat_request.h"
#include "fuzz.h"
#include "token_estimate.h"

static void
check_accepted(struct chat_request *req, const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    FUZZ_CHECK(cJSON_IsArray(req->messages) && cJSON_GetArraySize(req->messages) > 0);
    FUZZ_CHECK(req->tools == NULL || (cJSON_IsArray(req->tools) && req->tools->child != NULL));
    FUZZ_CHECK(req->max_tokens >= 0);

    const char *model = req->model ? req->model : "copilot/gpt-4o";
    fuzz_check_frame(req, model);

    for (int family = 0; family < TOKEN_FAMILY_COUNT; family += 4) {
        FUZZ_CHECK(token_estimate_messages(req->messages, (enum token_family)family) >= 3);
        FUZZ_CHECK(token_estimate_tools(req->tools, (enum token_family)family) >= 0);
    }
    (void)token_family_of(model);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parse_request(data, size, chat_request_parse, check_accepted, &chat_wire_format,
                       (const char *const[]){ "message", "code", NULL });
    return 0;
}
