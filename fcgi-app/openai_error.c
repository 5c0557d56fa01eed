#include "openai_error.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json_write.h"
#include "sse.h"

#define ERROR_MAX_BYTES (1u << 20)

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

int
http_send_error(struct http_request *req, int status, const char *extra_headers,
                const char *code, const char *param, const char *fmt, ...)
{
    struct dynbuf message, body;
    dynbuf_init(&message, ERROR_MAX_BYTES);
    dynbuf_init(&body, 2 * ERROR_MAX_BYTES);
    va_list ap;
    va_start(ap, fmt);
    int rc = dynbuf_vappendf(&message, fmt, ap);
    va_end(ap);
    if (rc == DYNBUF_OK)
        rc = openai_error_format(&body, status, code, param, message.data);
    if (rc != DYNBUF_OK) {
        dynbuf_reset(&body);
        rc = openai_error_format(&body, 500, "internal_error", NULL, "out of memory");
    }
    int sent;
    if (rc != DYNBUF_OK) {
        sent = -1;
    } else if (req->head_sent) {
        /* The status line is gone already: tell the client in-band. */
        if (req->status == 200)
            req->status = status;
        sent = req->event_stream ? sse_send_data(req, body.data, body.len) : -1;
    } else {
        sent = http_send_body(req, status, "application/json", extra_headers,
                              body.data, body.len);
    }
    dynbuf_free(&message);
    dynbuf_free(&body);
    return sent;
}
