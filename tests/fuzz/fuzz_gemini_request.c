/*
 * fuzz_gemini_request: a Gemini GenerateContentRequest body, as any client
 * may send it, through gemini_request_parse() (fcgi-app/gemini_request.h),
 * and what the responder does next with it: the pipe `request` frame, the
 * prompt's token estimate, or Google's error object of a refusal.
 *
 * Invariants (abort on violation): a refusal is a 4xx/5xx with a code and a
 * message whose error object is valid JSON in valid UTF-8; countTokens'
 * parse accepts every body the full one does (unless it wraps another
 * request in generateContentRequest).  An accepted body is a valid
 * normalised request (fuzz_check_normalised in fuzz.h, the pairing and its
 * repairs included; only user content comes as parts; every tool has
 * parameters) with max_tokens >= 0 and neither a model nor stream of its
 * own (the path's).  Leaks are LeakSanitizer's.
 */
#include <cjson/cJSON.h>

#include "fuzz.h"
#include "gemini_reply.h"
#include "gemini_request.h"

static bool
wraps_a_request(const uint8_t *data, size_t size)
{
    cJSON *body = cJSON_ParseWithLength((const char *)data, size);
    bool wraps = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(body, "generateContentRequest"));
    cJSON_Delete(body);
    return wraps;
}

static void
check_accepted(struct chat_request *req, const uint8_t *data, size_t size)
{
    static const struct fuzz_request_rules gemini_rules = {
        .parts_only_from_user = true,
        .parameters_required = true,
        .min_max_tokens = 0,
        .model = "copilot/gpt-4o",
    };
    FUZZ_CHECK(req->model == NULL && !req->stream); /* the path's, never the body's */
    fuzz_check_normalised(req, &gemini_rules);

    /* countTokens takes what a model call takes. */
    struct chat_request count;
    struct api_error err;
    int counted = gemini_request_parse_for_count((const char *)data, size, &count, &err);
    FUZZ_CHECK(counted == 0 || wraps_a_request(data, size));
    if (counted == 0 && !wraps_a_request(data, size))
        FUZZ_CHECK(cJSON_GetArraySize(count.messages) == cJSON_GetArraySize(req->messages));
    chat_request_free(&count);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parse_request(data, size, gemini_request_parse, check_accepted, &gemini_wire_format,
                       (const char *const[]){ "message", "status", NULL });
    return 0;
}
