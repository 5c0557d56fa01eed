#include "respond.h"

#include <stdlib.h>
#include <string.h>

#include "chat_reply.h"
#include "log.h"
#include "sse.h"
#include "wire_format.h"

#define ERROR_BODY_MAX (64u << 10)

static const struct wire_format *
wire_of(const struct http_request *req)
{
    return req->wire != NULL ? req->wire : &chat_wire_format;
}

/* x-ratelimit-*: the limits the request counts against, as OpenAI sends them. */
static void
add_limit_headers(struct http_request *req)
{
    const struct limit_status *status = &req->limits;
    char reset[32];
    if (status->has_requests) {
        limit_format_duration(status->reset_requests_ns, reset, sizeof reset);
        http_add_header(req, "x-ratelimit-limit-requests", "%ld", status->limit_requests);
        http_add_header(req, "x-ratelimit-remaining-requests", "%ld", status->remaining_requests);
        http_add_header(req, "x-ratelimit-reset-requests", "%s", reset);
    }
    if (status->has_tokens) {
        limit_format_duration(status->reset_tokens_ns, reset, sizeof reset);
        http_add_header(req, "x-ratelimit-limit-tokens", "%ld", status->limit_tokens);
        http_add_header(req, "x-ratelimit-remaining-tokens", "%ld", status->remaining_tokens);
        http_add_header(req, "x-ratelimit-reset-tokens", "%s", reset);
    }
}

/* `first` goes before the headers every response has, `last` after them:
 * "Name: value\r\n" lines or NULL. */
static int
write_head(struct http_request *req, int status, const char *content_type, const char *first,
           const char *last)
{
    if (req->head_sent || req->client_gone)
        return -1;
    const char *id_header = wire_of(req)->request_id_header;
    if (id_header != NULL)
        http_add_header(req, id_header, "%s", req->request_id);
    add_limit_headers(req);
    if (last != NULL && http_add_header_lines(req, last) != 0)
        return -1;
    return http_write_head(req, status, content_type, first);
}

static int
body_after_head(struct http_request *req, int head, const char *body, size_t len)
{
    if (head != 0)
        return -1;
    /* The whole response: http_finish_response sends it with the
     * end-of-request record, in one write. */
    return http_put(req, body, len);
}

int
respond_body(struct http_request *req, int status, const char *content_type, const char *body,
             size_t len)
{
    return body_after_head(req, write_head(req, status, content_type, NULL, NULL), body, len);
}

int
respond_no_content(struct http_request *req)
{
    return write_head(req, 204, NULL, NULL, NULL);
}

int
respond_json(struct http_request *req, const cJSON *object)
{
    char *text = object ? cJSON_PrintUnformatted(object) : NULL;
    if (text == NULL)
        return respond_refusal(req, 500, "internal_error", "Out of memory.");
    int rc = respond_body(req, 200, "application/json", text, strlen(text));
    free(text);
    return rc;
}

int
respond_error(struct http_request *req, const struct api_error *err)
{
    if (req->head_sent) {
        log_error("request %s: BUG: an error (%d %s) after the response head; dropped",
                  req->request_id, err->status, err->code ? err->code : "-");
        return -1;
    }
    const struct wire_format *wire = wire_of(req);
    struct api_error adapted = *err;
    if (wire->adapt_error != NULL)
        wire->adapt_error(&adapted);
    struct dynbuf body;
    dynbuf_init(&body, ERROR_BODY_MAX);
    int rc = wire->error_body(&body, &adapted, req->request_id);
    if (rc == 0) {
        /* The refusal's own headers after the ones every response has. */
        int head = write_head(req, adapted.status, "application/json", NULL, adapted.headers);
        rc = body_after_head(req, head, body.data, body.len);
    }
    dynbuf_free(&body);
    return rc;
}

int
respond_refusal(struct http_request *req, int status, const char *code, const char *fmt, ...)
{
    struct api_error err;
    va_list ap;
    va_start(ap, fmt);
    api_error_vset(&err, status, code, NULL, fmt, ap);
    va_end(ap);
    return respond_error(req, &err);
}

void
respond_fallback(struct http_request *req)
{
    log_error("request %s: BUG: the handler of %s %s returned without answering; sending 500",
              req->request_id, req->method, req->path);
    (void)respond_refusal(req, 500, "internal_error",
                          "The gateway failed to answer this request (a bug, logged as request %s).",
                          req->request_id);
}

int
respond_stream_head(struct http_request *req, const char *content_type)
{
    return write_head(req, 200, content_type, SSE_HEADERS, NULL);
}

int
respond_stream(struct http_request *req, const char *bytes, size_t len)
{
    return http_write(req, bytes, len);
}

int
respond_stream_error(struct http_request *req, int status, const char *bytes, size_t len)
{
    /* The status line is gone already: the log says what went wrong. */
    if (req->status == 200)
        req->status = status;
    return http_write(req, bytes, len);
}

static int
transport_stream_head(void *ctx, const char *content_type)
{
    return respond_stream_head(ctx, content_type);
}

static int
transport_send(void *ctx, const char *bytes, size_t len)
{
    return respond_stream(ctx, bytes, len);
}

static int
transport_send_whole(void *ctx, const char *content_type, const char *body, size_t len)
{
    return respond_body(ctx, 200, content_type, body, len);
}

static int
transport_send_error(void *ctx, const struct api_error *err, const char *in_stream, size_t len)
{
    if (in_stream == NULL)
        return respond_error(ctx, err);
    return respond_stream_error(ctx, err->status, in_stream, len);
}

struct reply_transport
respond_transport(struct http_request *req)
{
    return (struct reply_transport){
        .ctx = req,
        .stream_head = transport_stream_head,
        .send = transport_send,
        .send_whole = transport_send_whole,
        .send_error = transport_send_error,
    };
}
