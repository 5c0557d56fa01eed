/*
 * gemini_parse: what the parts of the Gemini parser share (gemini_request.c
 * the body and generationConfig, gemini_contents.c the contents and their
 * parts, gemini_tools.c tools and toolConfig): the builder that carries the
 * client's body, the normalised request being built, the refusal, and the
 * notes for the log.  Internal to those three files.
 */
#ifndef LITELLM_GEMINI_PARSE_H
#define LITELLM_GEMINI_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "api_error.h"
#include "dynbuf.h"
#include "json_body.h"
#include "request_parse.h"

#define GEMINI_PATH_LEN 128

struct gemini_builder {
    const cJSON *body;   /* the client's GenerateContentRequest */
    cJSON *root;         /* the normalised request being built (owned by the request) */
    cJSON *messages;     /* root's messages */
    cJSON *unanswered;   /* [{id, name}] of calls that no functionResponse answered yet */
    size_t text_max;     /* what any text made from the body may hold */
    struct dynbuf notes; /* for the log: what was skipped */
    unsigned calls;      /* functionCall parts so far: synthesised ids */
    bool has_images;
    struct api_error *err;
};

const cJSON *gemini_field(const cJSON *object, const char *name);
/* A 400 INVALID_ARGUMENT naming the field at `path`; returns -1. */
int gemini_refuse(struct gemini_builder *b, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int gemini_out_of_memory(struct gemini_builder *b);
void gemini_note(struct gemini_builder *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* OpenAPI's upper-case types ("OBJECT", "STRING"), in `schema` and every
 * schema inside it, as JSON Schema's lower-case ones. */
void gemini_lower_case_types(cJSON *schema);

/* contents and systemInstruction into b->messages (gemini_contents.c). */
int gemini_build_contents(struct gemini_builder *b, const cJSON *request);
/* tools and toolConfig into b->root (gemini_tools.c). */
int gemini_build_tools(struct gemini_builder *b, const cJSON *request);

#endif
