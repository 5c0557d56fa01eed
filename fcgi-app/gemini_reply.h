/*
 * gemini_reply: the Gemini renderer (wire_format.h), what Gemini CLI and
 * @google/genai read.
 *
 * Streaming (:streamGenerateContent, with or without ?alt=sse): each chunk
 * one `data: <GenerateContentResponse>` line and a blank line, nothing
 * else: Gemini CLI's bundled parser stalls for good on an SSE comment or
 * an `event:` line, so a silent model's heartbeat is a bare blank line,
 * which it skips.  Text parts go out as they come, each functionCall whole
 * (complete args, `id` the call's id), and a last chunk with finishReason
 * (STOP, MAX_TOKENS; a function-call turn ends with STOP, as Gemini's do)
 * and usageMetadata.  A failure after the head is a last
 * `data: {"error":...}` chunk.  Whole replies (:generateContent) are one
 * GenerateContentResponse.  Errors are Google's (gemini_error.h).
 *
 * A call's args must be a JSON object: the window's arguments are passed
 * when they are one, else {} and a warning (the client's tool then says
 * what is missing, where an error would end the turn).
 */
#ifndef LITELLM_GEMINI_REPLY_H
#define LITELLM_GEMINI_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "dynbuf.h"
#include "wire_format.h"

/* Gemini on the wire; its reply state is a struct gemini_reply. */
extern const struct wire_format gemini_wire_format;

struct gemini_reply {
    char request_id[72]; /* responseId, and log lines */
    struct dynbuf model; /* modelVersion, as a JSON string */
    struct dynbuf chunk; /* the chunk being built; reused */
    struct dynbuf parts; /* whole replies: the parts so far, comma-separated */
    struct dynbuf text;  /* whole replies: the text part being collected */
};

int gemini_reply_init(struct gemini_reply *reply, const char *request_id, const char *model,
                      size_t max_bytes);
void gemini_reply_free(struct gemini_reply *reply);

/* Gemini's finishReason for the core's finish event. */
const char *gemini_finish_reason(const struct reply_event *finish);

#endif
