/*
 * anthropic_error: Anthropic's error object,
 * {"type":"error","error":{"type","message"},"request_id"}, with the type
 * Anthropic gives each HTTP status (invalid_request_error,
 * authentication_error, not_found_error, rate_limit_error,
 * overloaded_error, ...).  The Messages format (messages_reply.c) sends
 * its errors in this shape, before the response head and, without
 * request_id, as a stream's `error` event.
 */
#ifndef LITELLM_ANTHROPIC_ERROR_H
#define LITELLM_ANTHROPIC_ERROR_H

#include "dynbuf.h"

/* "invalid_request_error", "authentication_error", ... for a status. */
const char *anthropic_error_type(int status);
/* `request_id` may be NULL (the stream's error event has none). */
int anthropic_error_format(struct dynbuf *out, int status, const char *message,
                           const char *request_id);

#endif
