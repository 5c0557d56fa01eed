/*
 * fuzz_refusal: the invariants of a refusal, shared by the request targets
 * (fuzz_chat_request, fuzz_messages_request, fuzz_responses_request): see
 * fuzz.h.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "api_error.h"
#include "dynbuf.h"
#include "fuzz.h"
#include "wire_format.h"

void
fuzz_check_refusal(const struct api_error *err, const struct wire_format *format,
                   const char *const *fields)
{
    FUZZ_CHECK(err->status >= 400 && err->status <= 599);
    FUZZ_CHECK(err->code != NULL && err->code[0] != '\0');
    FUZZ_CHECK(memchr(err->message, '\0', sizeof err->message) != NULL && err->message[0]);
    FUZZ_CHECK(memchr(err->param, '\0', sizeof err->param) != NULL);

    struct dynbuf body;
    dynbuf_init(&body, 1u << 20);
    FUZZ_CHECK(format->error_body(&body, err, "req") == 0);
    FUZZ_CHECK(fuzz_valid_utf8(body.data, body.len));
    cJSON *parsed = cJSON_ParseWithLength(body.data, body.len);
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(parsed, "error");
    FUZZ_CHECK(cJSON_IsObject(error));
    for (; fields != NULL && *fields != NULL; fields++)
        FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(error, *fields)));
    cJSON_Delete(parsed);
    dynbuf_free(&body);
}
