/*
 * fuzz_messages_request: an Anthropic Messages body, as any client may send
 * it, through messages_request_parse() (fcgi-app/messages_request.h), and
 * what the responder does next with it: the pipe `request` frame, the
 * prompt's token estimate, or Anthropic's error object of a refusal.
 *
 * Invariants (abort on violation): a refusal is a 4xx/5xx with a code and a
 * message whose error object is valid JSON in valid UTF-8; count_tokens'
 * parse accepts every body the full one does.  An accepted body is a valid
 * normalised request (fuzz_check_normalised in fuzz.h, the repairs
 * included; any role's content may be parts) with max_tokens >= 1.  Leaks
 * are LeakSanitizer's.
 */
#include <cjson/cJSON.h>

#include "fuzz.h"
#include "messages_reply.h"
#include "messages_request.h"

static void
check_accepted(struct chat_request *req, const uint8_t *data, size_t size)
{
    const struct fuzz_request_rules messages_rules = {
        .parts_only_from_user = false,
        .parameters_required = false, /* input_schema may be left out */
        .min_max_tokens = 1,
        .model = req->model ? req->model : "copilot/claude-sonnet-4.5",
    };
    fuzz_check_normalised(req, &messages_rules);

    /* count_tokens takes what a model call takes. */
    struct chat_request count;
    struct api_error err;
    FUZZ_CHECK(messages_request_parse_for_count((const char *)data, size, &count, &err) == 0);
    FUZZ_CHECK(cJSON_GetArraySize(count.messages) == cJSON_GetArraySize(req->messages));
    chat_request_free(&count);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parse_request(data, size, messages_request_parse, check_accepted, &messages_wire_format,
                       (const char *const[]){ "type", "message", NULL });
    return 0;
}
