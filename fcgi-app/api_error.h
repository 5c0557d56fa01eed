/*
 * api_error: a verdict that refuses a request, on its way to the client:
 * the HTTP status, the error's code, param and message, and the headers
 * that go with it (Retry-After, WWW-Authenticate, Allow...).  Whoever
 * decides (validation, auth, the limiter, routing, the window) fills one
 * in and returns; the finisher (respond.c) alone sends it, in the shape of
 * the request's wire format, with the headers every response carries.
 *
 * Plain data in fixed buffers: a message past its size is cut, never
 * overflowed (they quote at most a model name a client sent).
 */
#ifndef LITELLM_API_ERROR_H
#define LITELLM_API_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

#define API_ERROR_MESSAGE_MAX 4096
#define API_ERROR_HEADERS_MAX 256

struct api_error {
    int status;
    const char *code; /* static string or NULL */
    char param[128];  /* "" means null */
    char message[API_ERROR_MESSAGE_MAX];
    char headers[API_ERROR_HEADERS_MAX]; /* "Name: value\r\n" lines */
    /* VS Code refused for a spent quota (its Blocked error): retrying soon
     * cannot help and each retry may cost a premium request.  Formats
     * whose clients retry a 429 for minutes say so (wire_format.h). */
    bool quota_exhausted;
};

/* `param` may be NULL.  Clears the headers and quota_exhausted. */
void api_error_set(struct api_error *err, int status, const char *code, const char *param,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void api_error_vset(struct api_error *err, int status, const char *code, const char *param,
                    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
/* Adds "Name: value\r\n" to the refusal's headers. */
void api_error_add_header(struct api_error *err, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
