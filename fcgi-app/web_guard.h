/*
 * web_guard: what a web page may do with the gateway.  Browsers let any page
 * send requests to 127.0.0.1, so the API would be every page's without this:
 *
 *   Host    a request that reached nginx on a loopback address must name a
 *           loopback host (loopback.h) or an --allowed-hosts one: a page
 *           whose own name was re-resolved to 127.0.0.1 (DNS rebinding)
 *           sends its name, and is refused.  Beyond loopback, keys guard
 *           the API and Host is not checked.
 *   Origin  a request that carries Origin (browsers add it to every POST,
 *           forms and no-cors fetches included) must come from a local
 *           origin -- http(s) on a loopback host, any port; a VS Code
 *           webview or workbench -- or an --allowed-origins one.  "null"
 *           (sandboxed frames, file: pages) is foreign.  Clients that send
 *           no Origin (curl, SDKs, CLIs) are not web pages.
 *   CORS    allowed origins get Access-Control-* on every response and an
 *           answer to their preflight; foreign ones get neither.
 *
 * Verdicts only: the dispatcher sends them (respond.c).
 */
#ifndef LITELLM_WEB_GUARD_H
#define LITELLM_WEB_GUARD_H

#include <stdbool.h>

#include "api_error.h"
#include "config.h"
#include "http.h"

/* 0: the request may go on (CORS headers added to `req` for an allowed
 * origin); -1: refused with a 403 in `err`, already logged. */
int web_guard_check(struct http_request *req, const struct config *cfg, struct api_error *err);
/* Adds a preflight's answer headers for a route taking `methods` ("POST,
 * OPTIONS"), after web_guard_check allowed the request. */
void web_guard_preflight(struct http_request *req, const char *methods);

/* The rules, for tests.  `host` is a Host header value (port allowed). */
bool web_host_allowed(const struct config *cfg, const char *host);
bool web_origin_allowed(const struct config *cfg, const char *origin);

#endif
