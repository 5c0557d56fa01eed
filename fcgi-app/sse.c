#include "sse.h"

#include <string.h>

#include "dynbuf.h"

int
sse_begin(struct http_request *req, const char *extra_headers)
{
    struct dynbuf headers;
    dynbuf_init(&headers, 1u << 20);
    int rc = dynbuf_append_str(&headers, "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n");
    if (rc == DYNBUF_OK && extra_headers != NULL)
        rc = dynbuf_append_str(&headers, extra_headers);
    if (rc == DYNBUF_OK)
        rc = http_write_head(req, 200, "text/event-stream", headers.data);
    dynbuf_free(&headers);
    if (rc != 0)
        return -1;
    return http_write(req, NULL, 0);    /* flush the head now */
}

int
sse_send_data(struct http_request *req, const char *json, size_t len)
{
    FCGX_Stream *out = req->fcgi->out;
    if (req->client_gone)
        return -1;
    /* Three puts and one flush: libfcgi copies into one buffer, so this
     * leaves as one FastCGI record. */
    FCGX_PutStr("data: ", 6, out);
    FCGX_PutStr(json, (int)len, out);
    return http_write(req, "\n\n", 2);
}

int
sse_send_done(struct http_request *req)
{
    static const char done[] = "data: [DONE]\n\n";
    return http_write(req, done, sizeof done - 1);
}

int
sse_send_keepalive(struct http_request *req)
{
    static const char comment[] = ": keep-alive\n\n";
    return http_write(req, comment, sizeof comment - 1);
}
