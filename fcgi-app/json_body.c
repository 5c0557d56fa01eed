#include "json_body.h"

#include <string.h>
#include <strings.h>

#include "utf8.h"

/* cJSON ends a string at an escaped NUL (\u0000) and drops the rest, which
 * would silently shorten a prompt: such bodies are refused instead. */
static bool
has_escaped_nul(const char *body, size_t len)
{
    for (const char *p = body; (p = memmem(p, len - (size_t)(p - body), "\\u0000", 6)) != NULL;
         p++) {
        size_t backslashes = 0;
        for (const char *q = p; q > body && q[-1] == '\\'; q--)
            backslashes++;
        if (backslashes % 2 == 0)
            return true; /* the backslash before u0000 is not itself escaped */
    }
    return false;
}

int
json_body_parse(const char *body, size_t len, cJSON **root, struct api_error *err)
{
    *root = NULL;
    /* JSON text is UTF-8 (RFC 8259); cJSON would take any bytes, and VS Code
     * would see each bad one as U+FFFD.  Refuse, as OpenAI does. */
    if (!utf8_valid(body, len)) {
        api_error_set(err, 400, "invalid_json", NULL,
                      "We could not parse the JSON body of your request: it is not valid UTF-8. "
                      "Send JSON encoded as UTF-8.");
        return -1;
    }
    if (has_escaped_nul(body, len)) {
        api_error_set(err, 400, "invalid_value", NULL,
                      "The request contains a NUL character (\\u0000), which VS Code's models "
                      "cannot take; remove it.");
        return -1;
    }
    *root = cJSON_ParseWithLength(body, len);
    if (*root == NULL) {
        api_error_set(err, 400, "invalid_json", NULL,
                      "We could not parse the JSON body of your request. The body must be a JSON "
                      "object (is Content-Type application/json and the JSON well formed?).");
        return -1;
    }
    if (!cJSON_IsObject(*root)) {
        api_error_set(err, 400, "invalid_type", NULL, "The request body must be a JSON object.");
        return -1;
    }
    return 0;
}

bool
json_body_image_data_url_valid(const char *url)
{
    static const char *const types[] = { "png", "jpeg", "jpg", "gif", "webp" };
    if (strncmp(url, "data:image/", strlen("data:image/")) != 0)
        return false;
    const char *type = url + strlen("data:image/");
    size_t type_len = strcspn(type, ";,");
    bool known = false;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        known = known ||
                (strlen(types[i]) == type_len && strncasecmp(type, types[i], type_len) == 0);
    const char *payload = strstr(url, ";base64,");
    if (!known || payload == NULL)
        return false;
    payload += strlen(";base64,");
    size_t len = strlen(payload);
    size_t body = strspn(payload,
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    size_t padding = strspn(payload + body, "=");
    return len > 0 && body + padding == len && padding <= 2 && len % 4 == 0;
}

bool
json_body_absent(const cJSON *item)
{
    return item == NULL || cJSON_IsNull(item);
}
