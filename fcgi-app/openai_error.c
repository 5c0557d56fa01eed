#include "openai_error.h"

#include <string.h>

#include "json_write.h"

const char *
openai_error_type(int status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "invalid_request_error";
    case 429: return "rate_limit_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

static int
append_nullable(struct dynbuf *out, const char *text)
{
    if (text == NULL)
        return dynbuf_append(out, "null", 4);
    return json_append_string(out, text, strlen(text));
}

int
openai_error_format(struct dynbuf *out, int status, const char *code, const char *param,
                    const char *message)
{
    int rc = dynbuf_append_str(out, "{\"error\":{\"message\":");
    if (rc == DYNBUF_OK)
        rc = json_append_string(out, message, strlen(message));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, ",\"type\":");
    if (rc == DYNBUF_OK)
        rc = append_nullable(out, openai_error_type(status));
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, ",\"param\":");
    if (rc == DYNBUF_OK)
        rc = append_nullable(out, param);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, ",\"code\":");
    if (rc == DYNBUF_OK)
        rc = append_nullable(out, code);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append_str(out, "}}");
    return rc;
}
