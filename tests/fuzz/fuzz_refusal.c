/*
 * fuzz_refusal: the invariants of a request target's two outcomes, shared
 * by fuzz_chat_request, fuzz_messages_request, fuzz_gemini_request and
 * fuzz_responses_request: a refusal's, and an accepted request's pipe
 * frame; and the one input's run through the parser that leads to either.
 * See fuzz.h.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api_error.h"
#include "chat_request.h"
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

void
fuzz_check_frame(const struct chat_request *req, const char *model)
{
    static const char frame_id[] = "0123456789abcdef0123456789abcdef";
    cJSON *frame = chat_request_frame(req, frame_id, model);
    FUZZ_CHECK(frame != NULL);
    char *text = cJSON_PrintUnformatted(frame);
    FUZZ_CHECK(text != NULL && fuzz_valid_utf8(text, strlen(text)));
    cJSON *back = cJSON_Parse(text);
    FUZZ_CHECK(cJSON_IsObject(back));
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(back, "id"));
    FUZZ_CHECK(id != NULL && strcmp(id, frame_id) == 0);
    FUZZ_CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(back, "messages")) ==
               cJSON_GetArraySize(req->messages));
    cJSON_Delete(back);
    free(text);
    cJSON_Delete(frame);
}

void
fuzz_parse_request(const uint8_t *data, size_t size, fuzz_request_parser parse,
                   void (*accepted)(struct chat_request *req, const uint8_t *data, size_t size),
                   const struct wire_format *format, const char *const *fields)
{
    struct chat_request req;
    struct api_error err;
    memset(&err, 0, sizeof err);
    if (parse((const char *)data, size, &req, &err) == 0)
        accepted(&req, data, size);
    else
        fuzz_check_refusal(&err, format, fields);
    chat_request_free(&req);
}
