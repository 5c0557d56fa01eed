/*
 * sse: Server-Sent Events framing, shared by every wire format's renderer.
 * Pure: it appends to a buffer; the finisher sends it, flushed at once
 * (nginx has fastcgi_buffering off for us), so a chunk reaches the client
 * the moment its frame arrives from VS Code.
 */
#ifndef LITELLM_SSE_H
#define LITELLM_SSE_H

#include <stddef.h>

#include "dynbuf.h"

/* What every event-stream response head carries besides its type. */
#define SSE_HEADERS "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"

/* "data: <data>\n\n"; `data` holds no line break (JSON from our writers). */
int sse_append_data(struct dynbuf *out, const char *data, size_t len);
/* "event: <name>\ndata: <data>\n\n" */
int sse_append_event(struct dynbuf *out, const char *name, const char *data, size_t len);
/* ": <text>\n\n", which clients ignore and proxies count as traffic. */
int sse_append_comment(struct dynbuf *out, const char *text);

#endif
