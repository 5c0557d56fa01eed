/*
 * json_write: append JSON string literals to a dynbuf.  The hot paths (one
 * SSE chunk per model delta) format their few fixed fields by hand around
 * an escaped string instead of building a cJSON tree per chunk.
 */
#ifndef LITELLM_JSON_WRITE_H
#define LITELLM_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "dynbuf.h"

/* Appends `"...escaped..."`.  Bytes that are not valid UTF-8 are replaced
 * by U+FFFD, so the output is always valid JSON.  U+2028 and U+2029 are
 * escaped too: JSON allows them raw, but a JavaScript client that matches
 * an SSE line with `.` (Gemini CLI's parser) never sees the line end. */
int json_append_string(struct dynbuf *out, const char *text, size_t len);

struct cJSON;
/* `item` as one line of JSON (cJSON_PrintUnformatted), with U+2028 and
 * U+2029 escaped as above; malloc'd, NULL when out of memory. */
char *json_print_line(const struct cJSON *item);

#endif
