/*
 * messages_parse: the state the Anthropic Messages parser's parts share
 * while they build one normalised request (messages_request.c: the top
 * level and the options; messages_turns.c: the system prompt and the
 * conversation; messages_tools.c: tools and tool_choice).  Private to
 * those three files.
 *
 * Every node hangs off the request's root as soon as it is made, so
 * chat_request_free frees whatever a failed parse leaves.
 */
#ifndef LITELLM_MESSAGES_PARSE_H
#define LITELLM_MESSAGES_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "api_error.h"
#include "dynbuf.h"
#include "json_body.h"
#include "request_parse.h"

/* Room for a parameter's path ("messages.12.content.3.source"): only
 * indexes and our own names go in it. */
#define MESSAGES_PATH_MAX 128

struct messages_builder {
    const cJSON *body;   /* the client's request */
    cJSON *messages;     /* the normalised messages (out->root's) */
    cJSON *unanswered;   /* ids of the last assistant turn's calls without a result yet */
    size_t text_max;     /* what any text made from the body may hold */
    struct dynbuf notes; /* for the log: what was skipped or repaired */
    bool notes_full;     /* ... and that more was than it holds */
    bool has_images;
    struct api_error *err;
};

/* `messages` (and system turns in it) into b->messages. */
int messages_build_turns(struct messages_builder *b);
/* A system prompt or turn as a system message at `at` (-1: the end);
 * empty text adds none. */
int messages_add_system(struct messages_builder *b, const cJSON *content, const char *path, int at);
/* `tools` into the chat tools of `root` (server tools skipped), then
 * `tool_choice`, once the tools are known. */
int messages_build_tools(struct messages_builder *b, cJSON *root);
int messages_build_tool_choice(struct messages_builder *b, cJSON *root);

/* Helpers for the three. */
const cJSON *messages_field(const cJSON *object, const char *name);
bool messages_is_type(const cJSON *block, const char *type);
/* `path` and a suffix into `out`: paths are indices and our own field
 * names, so one cut short only shortens a message. */
const char *messages_path(char out[static MESSAGES_PATH_MAX], const char *path, const char *fmt,
                          ...) __attribute__((format(printf, 3, 4)));
/* A 400 whose message starts with the field, as Anthropic words them. */
int messages_refuse(struct messages_builder *b, const char *code, const char *path, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));
int messages_no_memory(struct messages_builder *b);
/* A client's name or id, safe in a log line: at most 64 bytes, anything
 * but letters, digits and _-.: shown as '?'. */
const char *messages_loggable(const char *text, char out[static 72]);
/* For the log: what was skipped or repaired. */
void messages_note(struct messages_builder *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
