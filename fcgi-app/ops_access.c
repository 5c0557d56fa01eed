#include "ops_access.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "loopback.h"

/* The bearer token of Authorization, or NULL. */
static const char *
bearer_token(const struct http_request *req)
{
    const char *authorization = http_param(req, "HTTP_AUTHORIZATION");
    if (authorization == NULL)
        return NULL;
    authorization += strspn(authorization, " ");
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    const char *token = authorization + 7;
    token += strspn(token, " ");
    return *token ? token : NULL;
}

/* Compared in constant time, so that timing tells nothing of the token;
 * only its length can leak, as with any such compare. */
static bool
token_matches(const char *presented, const char *expected)
{
    size_t len = strlen(expected);
    return strlen(presented) == len && sodium_memcmp(presented, expected, len) == 0;
}

int
ops_access_check(const struct http_request *req, const struct config *cfg, struct api_error *err)
{
    const char *token = bearer_token(req);
    const char *expected = cfg->metrics_token;
    if (token != NULL && expected != NULL && *expected) {
        if (token_matches(token, expected))
            return 0;
        api_error_set(err, 401, "invalid_metrics_token", NULL,
                      "Incorrect metrics token: send the gateway's --metrics-token as "
                      "'Authorization: Bearer TOKEN'.");
        api_error_add_header(err, "WWW-Authenticate", "Bearer");
        api_error_add_header(err, "x-should-retry", "false");
        return -1;
    }
    if (loopback_address(http_param(req, "REMOTE_ADDR")))
        return 0;
    api_error_set(err, 403, "ops_access_denied", NULL,
                  "Metrics, usage and status are served to this machine only. For a remote "
                  "reader, set --metrics-token TOKEN (litellmctl: LITELLM_METRICS_TOKEN) and send "
                  "it as 'Authorization: Bearer TOKEN'.");
    api_error_add_header(err, "x-should-retry", "false");
    return -1;
}
