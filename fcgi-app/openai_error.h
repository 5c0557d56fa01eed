/*
 * openai_error: the one builder of error responses.  Every failure leaves
 * as an OpenAI error object, {"error":{"message","type","param","code"}},
 * with the HTTP status OpenAI would use (DESIGN.md); after an event stream
 * has begun, the same object goes out as an SSE `data:` event instead.
 */
#ifndef LITELLM_OPENAI_ERROR_H
#define LITELLM_OPENAI_ERROR_H

#include "dynbuf.h"
#include "http.h"

/* "invalid_request_error", "authentication_error", ... for a status. */
const char *openai_error_type(int status);
int openai_error_format(struct dynbuf *out, int status, const char *code, const char *param,
                        const char *message);
/* Sends the error as the response (or as an SSE event mid-stream).
 * `code` and `param` may be NULL (JSON null). */
int http_send_error(struct http_request *req, int status, const char *extra_headers,
                    const char *code, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
