/*
 * router: the registry of connected VS Code windows and the models each
 * offers; picks the window that serves a request.
 *
 * A model is named by its exact id, by family (`gpt-4o`), by a prefixed or
 * dated variant (`copilot/gpt-4o`, `gpt-4o-2024-08-06`), or not at all (or
 * "default"), which means the model picked in VS Code with Select Language
 * Model.  Among windows that offer the model, the least busy one wins
 * (model_name.h has the matching rule).  The router owns its registry of
 * windows; a window's connection is only a reference it holds.
 */
#ifndef LITELLM_ROUTER_H
#define LITELLM_ROUTER_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "dynbuf.h"
#include "pipe_conn.h"

enum router_result {
    ROUTER_OK = 0,
    ROUTER_NO_WINDOWS,    /* nobody connected: 503 */
    ROUTER_UNKNOWN_MODEL, /* 404; `available` lists the model ids */
    ROUTER_NO_MEMORY,
};

enum router_capability {
    ROUTER_CAPABILITY_UNKNOWN = 0,
    ROUTER_CAPABILITY_YES,
    ROUTER_CAPABILITY_NO
};

struct router_pick {
    struct pipe_conn *conn;             /* a reference the caller must release */
    char *model_id;                     /* resolved id; caller frees */
    char *family;                       /* its family ("" if unknown); caller frees */
    long max_input_tokens;              /* 0 when the window did not say */
    enum router_capability image_input; /* the model entry's capabilities.image_input */
};

/* Detaches "models" (keeping only entries with a non-empty string id) and
 * copies "default_model" from a hello or models frame; false when the frame
 * has no models array.  The caller owns both results. */
bool router_take_models(cJSON *frame, cJSON **models, char **default_model);
/* Registers a window (a reference to `conn` is kept until router_remove)
 * and takes ownership of `models` (a JSON array) and `default_model`
 * (freed at once when it cannot).  -1: out of memory. */
int router_add(struct pipe_conn *conn, cJSON *models, char *default_model);
void router_update(struct pipe_conn *conn, cJSON *models, char *default_model);
void router_remove(struct pipe_conn *conn);
/* Requests routed to the window and not yet released (0 if unknown). */
unsigned router_window_in_flight(const struct pipe_conn *conn);

int router_resolve(const char *requested, struct router_pick *pick, struct dynbuf *available);
/* Ends a pick: releases the window's in-flight count and reference. */
void router_release(struct router_pick *pick);

/* {"object":"list","data":[{"id","object":"model","created","owned_by"}...]} */
cJSON *router_models_list(void);
/* The Model object of one id, or NULL when nobody offers it. */
cJSON *router_model_get(const char *id);
unsigned router_window_count(void);
/* Adds "windows", "models" and "default_model" to `health`. */
int router_describe(cJSON *health);

#endif
