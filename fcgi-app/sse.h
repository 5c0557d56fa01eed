/*
 * sse: the one Server-Sent Events writer.  Each event is written and
 * flushed to nginx at once (nginx has fastcgi_buffering off for us), so a
 * chunk reaches the client the moment its frame arrives from VS Code.
 */
#ifndef LITELLM_SSE_H
#define LITELLM_SSE_H

#include <stddef.h>

#include "http.h"

/* 200, text/event-stream, no-cache, X-Accel-Buffering: no. */
int sse_begin(struct http_request *req, const char *extra_headers);
/* "data: <json>\n\n" */
int sse_send_data(struct http_request *req, const char *json, size_t len);
int sse_send_done(struct http_request *req);
/* ": keep-alive\n\n", which clients ignore and proxies count as traffic. */
int sse_send_keepalive(struct http_request *req);

#endif
