/*
 * gemini_request: the parser of Google's Gemini API bodies
 * (POST /v1beta/models/{model}:generateContent, :streamGenerateContent,
 * :countTokens).  It validates a GenerateContentRequest and builds the
 * normalised request (chat_request.h: the pipe's request in Chat
 * Completions' shape) from it:
 *
 *   systemInstruction (a string or a Content)  a leading system message
 *   contents, role "user"                      user messages: text parts and
 *                                              inlineData images (data: URLs);
 *                                              functionResponse parts as tool
 *                                              messages
 *   contents, role "model"                     assistant messages: text and
 *                                              functionCall parts as tool_calls
 *   thought parts, thoughtSignature            dropped: another model's
 *                                              reasoning means nothing here
 *   tools[].functionDeclarations               function tools (parametersJsonSchema,
 *                                              or parameters with OpenAPI's
 *                                              upper-case types lower-cased)
 *   googleSearch, codeExecution, ...           skipped and noted: Google runs them
 *   toolConfig.functionCallingConfig.mode      AUTO/VALIDATED auto, ANY required
 *                                              (allowedFunctionNames narrow the
 *                                              tools), NONE none
 *   generationConfig                           temperature, topP, topK as options;
 *                                              maxOutputTokens and stopSequences
 *                                              enforced by the core;
 *                                              responseMimeType application/json
 *                                              (with responseJsonSchema or
 *                                              responseSchema) asked for in words;
 *                                              thinkingConfig and the rest dropped
 *
 * A functionResponse answers the call with its `id`, else the oldest
 * unanswered call of that name (Gemini pairs by position; langchain sends
 * names only).  The model and whether to stream are the path's, not the
 * body's: the caller sets them (handler_gemini.c).  Unknown fields are
 * accepted.  Refusals are 400 INVALID_ARGUMENT naming the field.
 */
#ifndef LITELLM_GEMINI_REQUEST_H
#define LITELLM_GEMINI_REQUEST_H

#include <stddef.h>

#include "api_error.h"
#include "chat_request.h"

/* Returns 0, or -1 with `err` filled in.  Either way `out` is the caller's
 * to free with chat_request_free. */
int gemini_request_parse(const char *body, size_t len, struct chat_request *out,
                         struct api_error *err);
/* The body of :countTokens: {contents} or {generateContentRequest: {...}},
 * the request whose prompt is counted. */
int gemini_request_parse_for_count(const char *body, size_t len, struct chat_request *out,
                                   struct api_error *err);

#endif
