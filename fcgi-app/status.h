/*
 * status: the status document, produced here and nowhere else.
 *
 * One JSON object says how the responder is: `status` ("ok" with a window,
 * "degraded" without), `windows`, `models`, `default_model`, `auth`,
 * `limits`, `limits_summary`, `limits_store`, `in_flight`, `threads`…,
 * assembled from the modules that own each fact (router, auth, limits,
 * server).  tests/spec/status.schema.json describes it.  Three readers:
 *   - GET /health returns it (handler_info.c);
 *   - litellm-status (fcgi-app/status_tool.c) fetches /health over the
 *     FastCGI socket and adds the process facts for `litellmctl status`;
 *   - each VS Code window gets it in a `status` frame over the pipe
 *     (PROTOCOL.md): once after welcome, then whenever it changes.
 *
 * The frames come from one thread of this module: a call site says "a
 * window joined / left / changed its models" and returns at once; the
 * thread builds the document once and sends it to every window.  It also
 * looks every STATUS_CHECK_INTERVAL_MS and sends when the document differs
 * from the last one sent (limits used, requests in flight), so no request
 * path needs a hook.
 */
#ifndef LITELLM_STATUS_H
#define LITELLM_STATUS_H

#include <cjson/cJSON.h>

struct pipe_conn;

/* How often the broadcaster compares the document with the last one sent. */
#define STATUS_CHECK_INTERVAL_MS 2000

/* The document, or NULL when out of memory.  The caller deletes it. */
cJSON *status_document(void);

/* The broadcaster thread: started with the pipe server, stopped before it. */
int status_start(void);
void status_stop(void);

/* A window said hello (after welcome): it gets the document soon after. */
void status_window_joined(struct pipe_conn *conn);
/* A window went away; the others hear of it. */
void status_window_left(struct pipe_conn *conn);
/* Something in the document changed (a window's models): send it now. */
void status_changed(void);

#endif
