#include "gemini_error.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json_write.h"

#define ERROR_INFO "type.googleapis.com/google.rpc.ErrorInfo"
#define RETRY_INFO "type.googleapis.com/google.rpc.RetryInfo"

const char *
gemini_error_status(int status)
{
    switch (status) {
    case 400: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 405: return "UNIMPLEMENTED";
    case 409: return "ABORTED";
    case 413: return "INVALID_ARGUMENT";
    case 429: return "RESOURCE_EXHAUSTED";
    case 499: return "CANCELLED";
    case 501: return "UNIMPLEMENTED";
    case 502:
    case 503: return "UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    default: return status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT";
    }
}

/* The value of the refusal's header `name` ("Name: "), or NULL; it runs to
 * the next CRLF. */
static const char *
header_value(const struct api_error *err, const char *name)
{
    size_t name_len = strlen(name);
    for (const char *line = err->headers; *line;) {
        if (strncasecmp(line, name, name_len) == 0)
            return line + name_len;
        const char *next = strstr(line, "\r\n");
        if (next == NULL)
            break;
        line = next + 2;
    }
    return NULL;
}

/* The seconds of the refusal's Retry-After header, or -1. */
static long
retry_after(const struct api_error *err)
{
    const char *value = header_value(err, "Retry-After: ");
    if (value == NULL)
        return -1;
    char *end;
    long seconds = strtol(value, &end, 10);
    return end != value && seconds >= 0 ? seconds : -1;
}

/* A 429 no retry can pass: VS Code's quota, or a request larger than a
 * limit (the limiter says x-should-retry: false). */
static bool
terminal_429(const struct api_error *err)
{
    const char *no_retry = header_value(err, "x-should-retry: ");
    return err->status == 429 &&
           (err->quota_exhausted || (no_retry != NULL && strncmp(no_retry, "false", 5) == 0));
}

static int
append_details(struct dynbuf *out, const struct api_error *err)
{
    if (terminal_429(err))
        /* What Gemini CLI 0.61 treats as a terminal quota error
         * (classifyGoogleError; GEMINI-API.md 4): at most three quick
         * tries, where a plain 429 costs ten over four minutes, each a
         * model call VS Code may bill. */
        return dynbuf_append_str(out, "[{\"@type\":\"" ERROR_INFO
                                      "\",\"reason\":\"MODEL_CAPACITY_EXHAUSTED\"}]");
    if (err->status == 401)
        return dynbuf_append_str(out,
                                 "[{\"@type\":\"" ERROR_INFO "\",\"reason\":\"API_KEY_INVALID\"}]");
    long seconds = err->status == 429 ? retry_after(err) : -1;
    if (seconds >= 0)
        return dynbuf_appendf(out, "[{\"@type\":\"" RETRY_INFO "\",\"retryDelay\":\"%lds\"}]",
                              seconds);
    return dynbuf_append_str(out, "[]");
}

int
gemini_error_format(struct dynbuf *out, const struct api_error *err)
{
    int rc = dynbuf_appendf(out, "{\"error\":{\"code\":%d,\"message\":", err->status);
    if (rc == DYNBUF_OK)
        rc = json_append_string(out, err->message, strlen(err->message));
    if (rc == DYNBUF_OK)
        rc = dynbuf_appendf(out,
                            ",\"status\":\"%s\",\"details\":", gemini_error_status(err->status));
    if (rc == DYNBUF_OK)
        rc = append_details(out, err);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, "}}");
    return rc;
}
