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
 * by U+FFFD, so the output is always valid JSON. */
int json_append_string(struct dynbuf *out, const char *text, size_t len);

#endif
