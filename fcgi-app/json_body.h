/*
 * json_body: a request body as a JSON object, checked the one way every
 * wire format needs: valid UTF-8 (RFC 8259), no escaped NUL (which cJSON
 * would cut a string at, silently shortening a prompt), well formed, an
 * object.  The refusals are 400s whose messages name no format's fields.
 *
 * Also the one check of an image data URL, which every format that carries
 * images builds or receives.
 */
#ifndef LITELLM_JSON_BODY_H
#define LITELLM_JSON_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "api_error.h"

/* 0 with the object in *root, or -1 with `err` filled in.  *root is the
 * caller's to free either way (a parse that is not an object, or NULL). */
int json_body_parse(const char *body, size_t len, cJSON **root, struct api_error *err);

/* A field the client left out or sent as null. */
bool json_body_absent(const cJSON *item);

/* data:image/(png|jpeg|gif|webp)[;params];base64,<base64>: what VS Code's
 * models can decode.  The payload is checked for the base64 alphabet and
 * length only; decoding is VS Code's. */
bool json_body_image_data_url_valid(const char *url);

#endif
