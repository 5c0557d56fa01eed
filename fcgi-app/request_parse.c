/*
 * request_parse: see request_parse.h.
 */
#include "request_parse.h"

#include <string.h>

#include "json_body.h"

int
request_parse(const char *body, size_t len, struct chat_request *out, struct api_error *err,
              const struct request_builder *builder)
{
    memset(out, 0, sizeof *out);
    cJSON *root = NULL;
    if (json_body_parse(body, len, &root, err) != 0) {
        cJSON_Delete(root);
        if (builder->malformed_code != NULL)
            err->code = builder->malformed_code;
        return -1;
    }
    dynbuf_init(builder->notes, REQUEST_PARSE_NOTES_MAX);
    out->root = cJSON_CreateObject();
    int rc = -1;
    if (out->root != NULL)
        rc = builder->build(builder->builder, root, out);
    else
        api_error_set(err, 500, "internal_error", NULL, "Out of memory.");
    if (rc == 0 && builder->notes->len > 0)
        out->notes = dynbuf_take(builder->notes, NULL);
    dynbuf_free(builder->notes);
    cJSON_Delete(root);
    return rc;
}

bool
request_parse_append(cJSON *array, cJSON *item)
{
    if (item == NULL)
        return false;
    if (!cJSON_AddItemToArray(array, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

cJSON *
request_parse_text_message(const char *role, const char *text)
{
    cJSON *message = cJSON_CreateObject();
    if (message == NULL || !cJSON_AddStringToObject(message, "role", role) ||
        !cJSON_AddStringToObject(message, "content", text)) {
        cJSON_Delete(message);
        return NULL;
    }
    return message;
}
