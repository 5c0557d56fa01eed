/*
 * respond: the finisher, the one place that answers the client (nginx's
 * ngx_http_finalize_request habit).  Handlers, auth, the limiter and the
 * reply writer decide; these functions send: the head with the headers
 * every response carries (x-request-id, the x-ratelimit-* of req->limits),
 * errors in the shape of the request's wire format (req->wire; OpenAI's
 * when the route set none), and a last-resort 500 for a handler that
 * returned without answering, which is a bug and logged as one.
 *
 * Each returns 0, or -1 when the client is gone (or the head went out
 * already, for those that need it not to have).
 */
#ifndef LITELLM_RESPOND_H
#define LITELLM_RESPOND_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "api_error.h"
#include "http.h"
#include "reply_writer.h"

/* A whole response with `body`, e.g. 200 and a JSON object. */
int respond_body(struct http_request *req, int status, const char *content_type, const char *body,
                 size_t len);
/* 204 and the headers gathered so far, no body (a CORS preflight's answer). */
int respond_no_content(struct http_request *req);
/* 200 with the JSON text of `object` (NULL: out of memory, a 500). */
int respond_json(struct http_request *req, const cJSON *object);
/* The refusal, before the head: its status, its headers, the wire format's
 * error body. */
int respond_error(struct http_request *req, const struct api_error *err);
/* The same for a refusal with no param or headers: the api_error is built
 * here, off the caller's stack. */
int respond_refusal(struct http_request *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The last resort: nothing was sent and the handler is done. */
void respond_fallback(struct http_request *req);

/* A streamed reply's head (200), held until the first bytes. */
int respond_stream_head(struct http_request *req, const char *content_type);
/* Stream bytes, flushed now. */
int respond_stream(struct http_request *req, const char *bytes, size_t len);
/* An error inside the stream: its bytes, and its status for the log. */
int respond_stream_error(struct http_request *req, int status, const char *bytes, size_t len);

/* A reply writer's transport (reply_writer.h) over these, for `req`. */
struct reply_transport respond_transport(struct http_request *req);

#endif
