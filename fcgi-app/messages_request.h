/*
 * messages_request: the Anthropic Messages parser.  It validates a
 * /v1/messages body (400s name the field as Anthropic does:
 * "messages.2.content.0.type: ...") and builds the normalised request
 * (chat_request.h: the pipe's request in Chat Completions' shape) from it:
 *
 *   system (string or text blocks)       a leading system message
 *   role "system" turns                  system messages in place
 *   text, image (base64) blocks          text and image_url (data: URL) parts
 *   tool_use blocks                      the assistant message's tool_calls
 *   tool_result blocks                   tool messages (is_error said in the
 *                                        text); their images follow in a user
 *                                        message, as tool messages carry text
 *   thinking, redacted_thinking          dropped: not sent to the model
 *   document blocks, URL images          refused (400)
 *   tools (input_schema)                 function tools; server tools (a
 *                                        `type` such as web_search_20250305)
 *                                        skipped and noted
 *   tool_choice auto/any/tool/none       "auto", "required", the named tool
 *                                        alone + "required", "none"
 *   max_tokens, stop_sequences           max_tokens and stop (the core
 *                                        enforces both)
 *   temperature, top_p, top_k            options for the model
 *
 * metadata, thinking, context_management, output_config, service_tier and
 * any field it does not know are accepted and not used: Claude Code answers
 * a 400 by retrying up to six times with fewer features.  Tool calls and
 * results that do not pair up (a tool_use left unanswered by the next user
 * turn, a tool_result answering nothing in the turn before) are repaired so
 * that VS Code's model takes the history: a placeholder result, the orphan
 * result as user text.  What was skipped or repaired is in out->notes for
 * the request's log line.
 */
#ifndef LITELLM_MESSAGES_REQUEST_H
#define LITELLM_MESSAGES_REQUEST_H

#include <stddef.h>

#include "api_error.h"
#include "chat_request.h"

/* Returns 0, or -1 with `err` filled in (400s; 500 when out of memory).
 * Either way `out` is the caller's to free with chat_request_free. */
int messages_request_parse(const char *body, size_t len, struct chat_request *out,
                           struct api_error *err);
/* The body of /v1/messages/count_tokens: the same, without max_tokens,
 * which a count does not need. */
int messages_request_parse_for_count(const char *body, size_t len, struct chat_request *out,
                                     struct api_error *err);

#endif
