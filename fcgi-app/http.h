/*
 * http: one HTTP exchange over a FastCGI request: the parameters nginx
 * passed, the body (bounded by --max-body), writing the response head and
 * body (for the finisher, respond.c, which alone decides what to send), and
 * waiting: the one place that watches nginx's connection for a client that
 * went away, beside the request's own fds and the drain signal.
 *
 * Pointers from FCGX_GetParam stay valid until FCGX_Finish_r, which happens
 * only after the handler returns, so they are used in place, not copied.
 */
#ifndef LITELLM_HTTP_H
#define LITELLM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <fcgiapp.h>

#include "dynbuf.h"
#include "ratelimit.h"

struct wire_format;

#define HTTP_REQUEST_ID_MAX 64

struct http_request {
    FCGX_Request *fcgi;
    const char *method;
    const char *path; /* without the query string */
    char request_id[HTTP_REQUEST_ID_MAX + 1];
    struct dynbuf body;
    struct dynbuf headers;          /* added to whatever response goes out */
    const struct wire_format *wire; /* the route's API: the shape of its errors */
    struct limit_status limits;     /* x-ratelimit-* for the response, if any */
    int status;                     /* what we answered, for the log */
    bool head_sent;
    bool event_stream; /* the head said text/event-stream */
    bool client_gone;
    bool peer_watch; /* ipcFd still worth polling for hang-up */
    long long started_us;
};

enum http_body_result { HTTP_BODY_OK = 0, HTTP_BODY_TOO_BIG = -1, HTTP_BODY_READ_ERROR = -2 };

void http_request_init(struct http_request *req, FCGX_Request *fcgi);
void http_request_free(struct http_request *req);
const char *http_param(const struct http_request *req, const char *name);
/* Adds "Name: value" to the response head, whatever the response will be
 * (success, error or stream).  Must be called before the head is sent. */
int http_add_header(struct http_request *req, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds raw "Name: value\r\n" lines (ours, never a client's). */
int http_add_header_lines(struct http_request *req, const char *lines);
int http_read_body(struct http_request *req, size_t max_body);

/* Writes "Status:" and the headers.  `content_type` is NULL for a response
 * without a body; `extra_headers` is NULL or lines of "Name: value\r\n". */
int http_write_head(struct http_request *req, int status, const char *content_type,
                    const char *extra_headers);
/* Writes and flushes; returns -1 and marks the client gone when nginx (and
 * so the client) is no longer there. */
int http_write(struct http_request *req, const char *data, size_t len);
/* Puts bytes in the output buffer without flushing: the rest of a whole
 * response, which http_finish_response sends. */
int http_put(struct http_request *req, const char *data, size_t len);
/* Sends what is buffered and ends the response (FastCGI's end-of-request):
 * the client has it all.  Nothing may be written after. */
void http_finish_response(struct http_request *req);
/* Non-blocking check for a client that hung up (nginx closed the
 * FastCGI connection). */
bool http_client_hung_up(struct http_request *req);

enum http_wait_result {
    HTTP_WAIT_READY, /* `fd` is readable */
    HTTP_WAIT_TIMEOUT,
    HTTP_WAIT_CLIENT_GONE, /* the client hung up (req->client_gone, status 499) */
    HTTP_WAIT_DRAINING,    /* the drain deadline passed (drain.h) */
};
/* Waits up to `timeout_us` for `fd` (-1: none), watching the client and
 * the drain signal too; a signal's EINTR counts as a timeout, which callers
 * treat as "look again". */
enum http_wait_result http_wait(struct http_request *req, int fd, long long timeout_us);

#endif
