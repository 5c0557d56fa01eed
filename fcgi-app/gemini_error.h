/*
 * gemini_error: Google's error object, {"error":{"code","message","status",
 * "details"}}, with `code` the HTTP status (Gemini CLI classifies by it) and
 * `status` the google.rpc name Google gives that status (INVALID_ARGUMENT,
 * UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, RESOURCE_EXHAUSTED,
 * UNAVAILABLE, ...).  `details` says what a client's retry policy reads:
 * a VS Code quota refusal (and a request larger than a limit, which no
 * retry can pass) carries an ErrorInfo whose reason Gemini CLI takes as
 * terminal (it stops after a few quick tries, message kept,
 * instead of ten over four minutes); the gateway's own rate limit carries
 * a RetryInfo with its Retry-After; a refused key an ErrorInfo
 * API_KEY_INVALID, as Google sends.  The Gemini format (gemini_reply.c)
 * sends errors in this shape, before the head and as a stream's last
 * `data:` chunk.
 */
#ifndef LITELLM_GEMINI_ERROR_H
#define LITELLM_GEMINI_ERROR_H

#include "api_error.h"
#include "dynbuf.h"

/* "INVALID_ARGUMENT", "NOT_FOUND", ... for an HTTP status. */
const char *gemini_error_status(int status);
/* Appends the error object; DYNBUF_OK or the dynbuf's failure. */
int gemini_error_format(struct dynbuf *out, const struct api_error *err);

#endif
