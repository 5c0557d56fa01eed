#include "http.h"

#include "clock.h"
#include "drain.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

/* On each thread's stack: small, since an idle stream's thread touches it. */
#define HTTP_READ_CHUNK 2048

static bool
is_token_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_' || c == '.';
}

/* nginx passes its $request_id (32 hex digits) as REQUEST_ID, so its access
 * log and our log share one id; anything else gets an id of our own. */
static void
assign_request_id(struct http_request *req)
{
    const char *given = http_param(req, "REQUEST_ID");
    size_t len = given ? strlen(given) : 0;
    bool usable = len > 0 && len <= HTTP_REQUEST_ID_MAX;
    for (size_t i = 0; usable && i < len; i++)
        usable = is_token_char(given[i]);
    if (usable) {
        memcpy(req->request_id, given, len + 1);
        return;
    }
    unsigned char random_bytes[16];
    if (getrandom(random_bytes, sizeof random_bytes, 0) != (ssize_t)sizeof random_bytes) {
        /* Unique enough for a log line if the kernel cannot help. */
        long long now = clock_monotonic_us();
        memcpy(random_bytes, &now, sizeof now);
        memcpy(random_bytes + sizeof now, &req, sizeof req < 8 ? sizeof req : 8);
    }
    for (size_t i = 0; i < sizeof random_bytes; i++)
        snprintf(req->request_id + 2 * i, 3, "%02x", random_bytes[i]);
}

void
http_request_init(struct http_request *req, FCGX_Request *fcgi)
{
    memset(req, 0, sizeof *req);
    req->fcgi = fcgi;
    req->started_us = clock_monotonic_us();
    req->peer_watch = fcgi->ipcFd >= 0;
    dynbuf_init(&req->body, 0);
    dynbuf_init(&req->headers, 1u << 16);
    const char *method = http_param(req, "REQUEST_METHOD");
    req->method = method ? method : "GET";
    const char *path = http_param(req, "DOCUMENT_URI");
    if (path == NULL || *path == '\0')
        path = http_param(req, "SCRIPT_NAME");
    req->path = path && *path ? path : "/";
    assign_request_id(req);
}

void
http_request_free(struct http_request *req)
{
    dynbuf_free(&req->body);
    dynbuf_free(&req->headers);
}

int
http_add_header(struct http_request *req, const char *name, const char *fmt, ...)
{
    if (req->head_sent)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = dynbuf_appendf(&req->headers, "%s: ", name);
    if (rc == DYNBUF_OK)
        rc = dynbuf_vappendf(&req->headers, fmt, ap);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(&req->headers, "\r\n", 2);
    va_end(ap);
    return rc == DYNBUF_OK ? 0 : -1;
}

int
http_add_header_lines(struct http_request *req, const char *lines)
{
    if (req->head_sent)
        return -1;
    return dynbuf_append_str(&req->headers, lines) == DYNBUF_OK ? 0 : -1;
}

const char *
http_param(const struct http_request *req, const char *name)
{
    return FCGX_GetParam(name, req->fcgi->envp);
}

int
http_read_body(struct http_request *req, size_t max_body)
{
    const char *declared = http_param(req, "CONTENT_LENGTH");
    if (declared != NULL && *declared != '\0') {
        char *end;
        errno = 0;
        unsigned long long length = strtoull(declared, &end, 10);
        if (errno != 0 || *end != '\0' || length > max_body)
            return HTTP_BODY_TOO_BIG;
    }
    dynbuf_init(&req->body, max_body);
    char chunk[HTTP_READ_CHUNK];
    for (;;) {
        int n = FCGX_GetStr(chunk, sizeof chunk, req->fcgi->in);
        if (n < 0 || FCGX_GetError(req->fcgi->in) != 0)
            return HTTP_BODY_READ_ERROR;
        if (n == 0)
            break;
        int rc = dynbuf_append(&req->body, chunk, (size_t)n);
        if (rc == DYNBUF_TOO_BIG)
            return HTTP_BODY_TOO_BIG;
        if (rc != DYNBUF_OK)
            return HTTP_BODY_READ_ERROR;
        if (n < (int)sizeof chunk)
            break; /* FCGX_GetStr returns short only at EOF */
    }
    return HTTP_BODY_OK;
}

static const char *
reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

static void
mark_client_gone(struct http_request *req)
{
    req->client_gone = true;
    if (req->status == 0 || req->status == 200)
        req->status = 499; /* nginx's "client closed request" */
}

static bool
stream_failed(FCGX_Stream *out)
{
    return FCGX_GetError(out) != 0;
}

int
http_write_head(struct http_request *req, int status, const char *content_type,
                const char *extra_headers)
{
    if (req->head_sent || req->client_gone)
        return -1;
    req->head_sent = true;
    req->status = status;
    req->event_stream = content_type != NULL && strcmp(content_type, "text/event-stream") == 0;
    FCGX_Stream *out = req->fcgi->out;
    if (content_type != NULL)
        FCGX_FPrintF(out, "Status: %d %s\r\nContent-Type: %s\r\nx-request-id: %s\r\n", status,
                     reason_phrase(status), content_type, req->request_id);
    else
        FCGX_FPrintF(out, "Status: %d %s\r\nx-request-id: %s\r\n", status, reason_phrase(status),
                     req->request_id);
    if (extra_headers != NULL)
        FCGX_PutS(extra_headers, out);
    if (req->headers.len > 0)
        FCGX_PutStr(req->headers.data, (int)req->headers.len, out);
    FCGX_PutS("\r\n", out);
    if (stream_failed(out)) {
        mark_client_gone(req);
        return -1;
    }
    return 0;
}

/* Puts `data` in the stream's buffer (libfcgi writes it out when full) and,
 * if `flush`, sends it now. */
static int
put_data(struct http_request *req, const char *data, size_t len, bool flush)
{
    if (req->client_gone)
        return -1;
    FCGX_Stream *out = req->fcgi->out;
    while (len > 0) {
        int piece = len > (size_t)(1 << 30) ? 1 << 30 : (int)len;
        if (FCGX_PutStr(data, piece, out) != piece)
            break;
        data += piece;
        len -= (size_t)piece;
    }
    /* libfcgi reports a failed write only once, in FFlush, and then only
     * through the stream's error (DESIGN.md, "Client gone"). */
    if (len > 0 || (flush && FCGX_FFlush(out) < 0) || stream_failed(out)) {
        mark_client_gone(req);
        return -1;
    }
    return 0;
}

int
http_write(struct http_request *req, const char *data, size_t len)
{
    return put_data(req, data, len, true);
}

int
http_put(struct http_request *req, const char *data, size_t len)
{
    return put_data(req, data, len, false);
}

void
http_finish_response(struct http_request *req)
{
    /* Closing both output streams writes the end-of-request record: nginx
     * completes the response now, before our log line and clean-up.
     * FCGX_Finish_r closes them again harmlessly (libfcgi skips a stream
     * closed before). */
    if (FCGX_FClose(req->fcgi->err) != 0 || FCGX_FClose(req->fcgi->out) != 0)
        mark_client_gone(req);
}

bool
http_client_hung_up(struct http_request *req)
{
    if (req->client_gone)
        return true;
    if (!req->peer_watch)
        return false;
    struct pollfd pfd = { .fd = req->fcgi->ipcFd, .events = POLLIN | POLLRDHUP };
    if (poll(&pfd, 1, 0) <= 0)
        return false;
    if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) {
        mark_client_gone(req);
        return true;
    }
    /* nginx sends nothing after the body; stop watching rather than spin
     * on bytes we are not going to read. */
    char byte;
    if (recv(req->fcgi->ipcFd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
        mark_client_gone(req);
    else
        req->peer_watch = false;
    return req->client_gone;
}

enum http_wait_result
http_wait(struct http_request *req, int fd, long long timeout_us)
{
    if (req->client_gone)
        return HTTP_WAIT_CLIENT_GONE;
    struct pollfd fds[3];
    nfds_t count = 0;
    int own = -1, drain = -1, client = -1;
    if (fd >= 0) {
        own = (int)count;
        fds[count++] = (struct pollfd){ .fd = fd, .events = POLLIN };
    }
    if (drain_fd() >= 0) {
        drain = (int)count;
        fds[count++] = (struct pollfd){ .fd = drain_fd(), .events = POLLIN };
    }
    if (req->peer_watch) {
        client = (int)count;
        fds[count++] = (struct pollfd){ .fd = req->fcgi->ipcFd, .events = POLLIN | POLLRDHUP };
    }
    if (timeout_us < 0)
        timeout_us = 0;
    int ready = poll(fds, count, (int)((timeout_us + 999) / 1000));
    if (ready <= 0)
        return drain_deadline_reached() ? HTTP_WAIT_DRAINING : HTTP_WAIT_TIMEOUT;
    if (client >= 0 && fds[client].revents != 0 && http_client_hung_up(req))
        return HTTP_WAIT_CLIENT_GONE;
    if (own >= 0 && fds[own].revents != 0)
        return HTTP_WAIT_READY;
    if ((drain >= 0 && fds[drain].revents != 0) || drain_deadline_reached())
        return HTTP_WAIT_DRAINING;
    return HTTP_WAIT_TIMEOUT;
}
