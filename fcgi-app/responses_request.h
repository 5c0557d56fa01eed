/*
 * responses_request: parses and validates an OpenAI Responses body (POST
 * /v1/responses, and /v1/responses/input_tokens) into the normalised request
 * (struct chat_request: the pipe's request in Chat Completions' shape), so
 * that routing, limits, the pipe and the core serve it as they serve chat.
 *
 *   input (a string or items) ─▶ messages: message items by role, parts
 *     input_text/output_text ─▶ text, input_image (data: URLs) ─▶ image_url;
 *     function_call / custom_tool_call ─▶ an assistant message's tool_calls;
 *     function_call_output / custom_tool_call_output ─▶ tool messages (their
 *     images follow in a user message); reasoning dropped; additional_tools
 *     items ─▶ tools; instructions ─▶ a leading system message
 *   tools: function as is; custom ─▶ a function taking {"input": string};
 *     namespace ─▶ its tools flattened to "NAMESPACE__NAME"; hosted tools
 *     (web_search, file_search, ...) skipped: VS Code's models cannot run them
 *     (req->notes says so, for the log)
 *   max_output_tokens ─▶ max_tokens; temperature, top_p passed on
 *
 * Stateless: nothing is stored, so what needs stored state (a
 * previous_response_id, a conversation, background mode, a stored prompt)
 * is refused with a 400 that says to send the whole input.  `store` is
 * accepted and changes nothing (OpenAI's default is true; Codex sends
 * false).  Unknown fields and item types are accepted (ignored).
 *
 * What the renderer needs to answer in the Responses shape (the fields a
 * Response echoes, the tools' names as the client gave them) is kept in
 * req->format_state, read through the functions below; the parsed body
 * lives there too, since the normalised request points into it.
 */
#ifndef LITELLM_RESPONSES_REQUEST_H
#define LITELLM_RESPONSES_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "api_error.h"
#include "chat_request.h"

/* POST /v1/responses.  Returns 0, or -1 with `err` filled in (400s; 500 on
 * no memory).  `req` is chat_request_free'd by the caller either way. */
int responses_request_parse(const char *body, size_t len, struct chat_request *req,
                            struct api_error *err);
/* POST /v1/responses/input_tokens: the same body, but `input` is optional
 * (req->messages may be empty). */
int responses_request_parse_count(const char *body, size_t len, struct chat_request *req,
                                  struct api_error *err);

/* The fields a Response echoes from its request, an object holding
 * instructions (string or null), tools (the tools served, normalised),
 * tool_choice, temperature and top_p (numbers or null), parallel_tool_calls
 * (bool), metadata (object or null), max_output_tokens (integer or null);
 * NULL for a request this parser did not build. */
const cJSON *responses_request_echo(const struct chat_request *req);

/* A tool the model may call, as the client named it. */
struct responses_tool {
    const char *name;           /* the client's name */
    const char *namespace_name; /* its namespace, or NULL */
    bool custom;                /* a custom tool: the call's input is {"input": "..."} */
};

/* The tool the model called by `called` (a name it was given); false for a
 * name it was not given (then the call is passed on as a function call). */
bool responses_request_tool(const struct chat_request *req, const char *called,
                            struct responses_tool *out);
/* Whether the model may call several tools in one turn (parallel_tool_calls). */
bool responses_request_parallel_tool_calls(const struct chat_request *req);

#endif
