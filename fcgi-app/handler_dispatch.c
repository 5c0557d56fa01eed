/* Maps method and path to a route; every request meets, in this order: the
 * route (which picks the shape of its errors), the web guard (Host, Origin;
 * preflights), the method, the key, the handler.  Unknown paths get 404,
 * other methods 405, unauthenticated calls 401, all through the finisher. */
#include <stdio.h>
#include <string.h>

#include "chat_reply.h"
#include "gemini_reply.h"
#include "handlers.h"
#include "messages_reply.h"
#include "responses_reply.h"
#include "respond.h"
#include "web_guard.h"

struct route {
    const char *name;   /* the path without OpenAI's /v1 prefix */
    bool has_id;        /* the name is a prefix followed by an id: "/models/ID" */
    const char *method; /* "POST" or "GET" (which HEAD serves too) */
    const char *allow;  /* every method, for Allow and CORS preflights */
    bool needs_key;
    const struct wire_format *wire;
    route_handler *serve;
    /* Also Anthropic's: the shape of a request that carries anthropic-version
     * (GET /v1/models is both APIs' path). */
    bool anthropic_on_version;
};

/* /health needs no key, so that monitors and litellmctl can read it. */
static const struct route routes[] = {
    { "/chat/completions", false, "POST", "POST, OPTIONS", true, &chat_wire_format,
      handle_model_call, false },
    { "/messages", false, "POST", "POST, OPTIONS", true, &messages_wire_format, handle_model_call,
      false },
    { "/messages/count_tokens", false, "POST", "POST, OPTIONS", true, &messages_wire_format,
      handle_count_tokens, false },
    { "/responses", false, "POST", "POST, OPTIONS", true, &responses_wire_format, handle_model_call,
      false },
    /* Before "/responses/": the first route that matches serves. */
    { "/responses/input_tokens", false, "POST", "POST, OPTIONS", true, &responses_wire_format,
      handle_responses_input_tokens, false },
    { "/responses/", true, "GET", "GET, HEAD, OPTIONS", true, &responses_wire_format,
      handle_responses_get, false },
    { "/models", false, "GET", "GET, HEAD, OPTIONS", true, &chat_wire_format, handle_models, true },
    { "/models/", true, "GET", "GET, HEAD, OPTIONS", true, &chat_wire_format, handle_model, true },
    { "/health", false, "GET", "GET, HEAD, OPTIONS", false, &chat_wire_format, handle_health,
      false },
    { "/health/liveliness", false, "GET", "GET, HEAD, OPTIONS", false, &chat_wire_format,
      handle_liveliness, false },
    { "/health/liveness", false, "GET", "GET, HEAD, OPTIONS", false, &chat_wire_format,
      handle_liveliness, false },
    { "/health/readiness", false, "GET", "GET, HEAD, OPTIONS", false, &chat_wire_format,
      handle_readiness, false },
    /* No API key: ops_access_check (loopback or --metrics-token) guards it. */
    { "/metrics", false, "GET", "GET, HEAD, OPTIONS", false, &chat_wire_format, handle_metrics,
      false },
    /* Gemini: one path prefix, two methods (route_find picks by method). */
    { "/v1beta/models", false, "GET", "GET, HEAD, OPTIONS", true, &gemini_wire_format,
      handle_gemini_models, false },
    { "/v1beta/models/", true, "POST", "GET, HEAD, POST, OPTIONS", true, &gemini_wire_format,
      handle_gemini_action, false },
    { "/v1beta/models/", true, "GET", "GET, HEAD, POST, OPTIONS", true, &gemini_wire_format,
      handle_gemini_model, false },
    /* The rest of Google's API (files, cachedContents, ...): a 404 its
     * clients can read. */
    { "/v1beta/", true, "POST", "GET, HEAD, POST, OPTIONS", true, &gemini_wire_format,
      handle_gemini_unknown, false },
    { "/v1beta/", true, "GET", "GET, HEAD, POST, OPTIONS", true, &gemini_wire_format,
      handle_gemini_unknown, false },
    { "/usage", false, "GET", "GET, HEAD, OPTIONS", false, &chat_wire_format, handle_usage, false },
};

static bool
method_is(const struct http_request *req, const char *method)
{
    return strcmp(req->method, method) == 0;
}

static bool
method_allowed(const struct http_request *req, const struct route *route)
{
    return method_is(req, route->method) ||
           (strcmp(route->method, "GET") == 0 && method_is(req, "HEAD"));
}

/* The route of the request's path (each answers with and without /v1), and
 * the id it carries in `id`: of the routes of that path, the one of the
 * request's method, else the first (whose Allow a 405 lists). */
static const struct route *
route_find(const struct http_request *req, const char **id)
{
    const char *path = req->path;
    if (strncmp(path, "/v1/", 4) == 0)
        path += 3;
    const struct route *found = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        const struct route *route = &routes[i];
        size_t len = strlen(route->name);
        if (route->has_id ? strncmp(path, route->name, len) == 0 && path[len] != '\0'
                          : strcmp(path, route->name) == 0) {
            if (found == NULL || method_allowed(req, route)) {
                *id = route->has_id ? path + len : NULL;
                found = route;
            }
            if (method_allowed(req, route))
                break;
        }
    }
    return found;
}

static void
unknown_url(struct http_request *req)
{
    respond_refusal(req, 404, "unknown_url",
                    "Unknown request URL: %.32s %.2000s. This server offers POST "
                    "/v1/chat/completions, POST /v1/messages, POST /v1/messages/count_tokens, POST "
                    "/v1/responses, POST /v1/responses/input_tokens, GET /v1/models and GET /health.",
                    req->method, req->path);
}

/* Out of line: see answered_before_handler. */
static __attribute__((noinline)) void
method_not_allowed(struct http_request *req, const struct route *route)
{
    struct api_error err;
    api_error_set(&err, 405, "method_not_allowed", NULL,
                  "Method %.32s is not allowed on %.200s; use %s.", req->method, req->path,
                  route->method);
    api_error_add_header(&err, "Allow", "%s", route->allow);
    respond_error(req, &err);
}

/* Answers what is refused or needs no handler (the web guard, unknown
 * URLs, methods, preflights, a missing key); false when the route's handler
 * is to serve it.  Out of line so that its api_error (4 KiB) is not on the
 * stack under every handler: a thread keeps the pages its deepest call
 * touched, and a stream holds its thread for minutes. */
static __attribute__((noinline)) bool
answered_before_handler(struct http_request *req, const struct config *cfg,
                        const struct route *route, struct auth_identity *identity,
                        struct request_outcome *outcome)
{
    struct api_error err;
    if (web_guard_check(req, cfg, &err) != 0) {
        outcome->note = err.code;
        respond_error(req, &err);
    } else if (route == NULL && method_is(req, "HEAD") && strcmp(req->path, "/") == 0) {
        /* A client's connectivity probe: Claude Code's users report HEAD /
         * preflights and a 405 there read as "the endpoint is down". */
        respond_body(req, 200, "application/json", "{}", 2);
    } else if (route == NULL) {
        unknown_url(req);
    } else if (method_is(req, "OPTIONS")) {
        web_guard_preflight(req, route->allow);
        respond_no_content(req);
    } else if (!method_allowed(req, route)) {
        method_not_allowed(req, route);
    } else if (route->needs_key && auth_check(req, identity, &err) != 0) {
        respond_error(req, &err);
    } else {
        return false;
    }
    return true;
}

void
handle_request(struct http_request *req, const struct config *cfg, struct request_outcome *outcome)
{
    struct auth_identity identity = { 0 };
    struct request_context ctx = { .cfg = cfg, .identity = &identity, .outcome = outcome };
    const struct route *route = route_find(req, &ctx.path_id);
    /* The shape of every answer, errors included: the route's API, or
     * Anthropic's for an Anthropic client (anthropic-version) on a path
     * both APIs have, or none. */
    bool anthropic_client = http_param(req, "HTTP_ANTHROPIC_VERSION") != NULL;
    if (route != NULL && !(route->anthropic_on_version && anthropic_client))
        req->wire = route->wire;
    else
        req->wire = anthropic_client ? &messages_wire_format : &chat_wire_format;
    /* A model call's API labels its metrics, refusals before the handler
     * (a key, the web guard) included; Gemini's countTokens shares its
     * route and takes the label back. */
    if (route != NULL && (route->serve == handle_model_call || route->serve == handle_gemini_action))
        outcome->api = route->wire->name;
    if (!answered_before_handler(req, cfg, route, &identity, outcome)) {
        if (identity.has_key)
            snprintf(outcome->key_name, sizeof outcome->key_name, "%s", identity.name);
        route->serve(req, &ctx);
    }
    auth_identity_free(&identity);
}
