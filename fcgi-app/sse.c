#include "sse.h"

int
sse_append_data(struct dynbuf *out, const char *data, size_t len)
{
    int rc = dynbuf_append(out, "data: ", 6);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(out, data, len);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(out, "\n\n", 2);
    return rc;
}

int
sse_append_event(struct dynbuf *out, const char *name, const char *data, size_t len)
{
    int rc = dynbuf_appendf(out, "event: %s\n", name);
    if (rc == DYNBUF_OK)
        rc = sse_append_data(out, data, len);
    return rc;
}

int
sse_append_comment(struct dynbuf *out, const char *text)
{
    return dynbuf_appendf(out, ": %s\n\n", text);
}
