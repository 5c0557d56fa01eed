#include "anthropic_error.h"

#include <string.h>

#include "json_write.h"

const char *
anthropic_error_type(int status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503: /* a refusal for want of capacity: no window, a drain */
    case 529: return "overloaded_error";
    case 504: return "timeout_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

int
anthropic_error_format(struct dynbuf *out, int status, const char *message, const char *request_id)
{
    int rc = dynbuf_appendf(out, "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":",
                            anthropic_error_type(status));
    if (rc == DYNBUF_OK)
        rc = json_append_string(out, message, strlen(message));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, "}");
    if (rc == DYNBUF_OK && request_id != NULL) {
        rc = dynbuf_append_str(out, ",\"request_id\":");
        if (rc == DYNBUF_OK)
            rc = json_append_string(out, request_id, strlen(request_id));
    }
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, "}");
    return rc;
}
