/*
 * responses_parse: the state the Responses parser's parts share while they
 * build one normalised request (responses_request.c: the top level,
 * responses_input.c: input items, responses_tools.c: tools and
 * tool_choice).  Private to those three files.
 *
 * Every node hangs off req->root or req->format_state as soon as it is
 * made, so chat_request_free frees whatever a failed parse leaves.  Strings
 * taken from the body are references (cJSON_CreateStringReference) into the
 * parsed body, which format_state owns: the request is not copied.
 */
#ifndef LITELLM_RESPONSES_PARSE_H
#define LITELLM_RESPONSES_PARSE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "api_error.h"
#include "chat_request.h"
#include "json_body.h"

/* Room for a parameter's path ("input[12].content[3].image_url"): only
 * indexes and our own names go in it. */
#define RESPONSES_PATH_MAX 128

struct responses_parse {
    struct chat_request *req;
    struct api_error *err;
    cJSON *messages;   /* the chat messages being built (in req->root) */
    cJSON *tools;      /* the chat tools being built (in req->root) */
    cJSON *names;      /* name the model is given -> {"name", "namespace", "custom"} */
    cJSON *echo_tools; /* the tools served, as a Response echoes them */
    cJSON *skipped;    /* the types of the hosted tools skipped (for the log) */
    cJSON *dropped;    /* the types of the input items dropped (for the log) */
};

/* `input`: a string or an array of items; NULL or null for none. */
int responses_parse_input(struct responses_parse *p, const cJSON *input);
/* A tools array (top-level `tools`, or an additional_tools item's, at
 * `where`) into chat tools. */
int responses_parse_tools(struct responses_parse *p, const cJSON *tools, const char *where);
/* tool_choice, once every tool is known: narrows the tools to those it
 * names.  Returns the chat tool_choice to send (NULL: none), through `out`. */
int responses_parse_tool_choice(struct responses_parse *p, const cJSON *choice, cJSON **out);

/* Helpers for the three. */
int responses_parse_no_memory(struct responses_parse *p);
/* A reference to `text` (which the parsed body owns), or NULL. */
cJSON *responses_string_ref(const char *text);
/* out = `base` and what `fmt` adds ("[3]", ".content"): a nested
 * parameter's path, cut at RESPONSES_PATH_MAX bytes (a message's detail). */
void responses_path(char *out, const char *base, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds `type` to the list `seen` (strings) unless it is there: 0, or -1
 * on no memory. */
int responses_note(cJSON *seen, const char *type);
/* The name the model gets for a tool: NAME, or NAMESPACE__NAME for one in a
 * namespace; malloc'd (NULL: no memory). */
char *responses_called_name(const char *namespace_name, const char *name);

#endif
