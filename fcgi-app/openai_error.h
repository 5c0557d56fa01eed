/*
 * openai_error: OpenAI's error object, {"error":{"message","type","param",
 * "code"}}, with the type OpenAI gives each HTTP status (DESIGN.md).  The
 * Chat Completions format (chat_reply.c) sends its errors in this shape.
 */
#ifndef LITELLM_OPENAI_ERROR_H
#define LITELLM_OPENAI_ERROR_H

#include "dynbuf.h"

/* "invalid_request_error", "authentication_error", ... for a status. */
const char *openai_error_type(int status);
/* `code` and `param` may be NULL (JSON null). */
int openai_error_format(struct dynbuf *out, int status, const char *code, const char *param,
                        const char *message);

#endif
