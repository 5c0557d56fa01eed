#include "web_guard.h"

#include <ctype.h>
#include <fnmatch.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "loopback.h"

/* Longer than any host name (253) or origin with scheme and port: what is
 * longer cannot be allowed, so it is refused without being copied. */
#define NAME_MAX_LEN 320

/* What a page may read besides the CORS-safelisted headers. */
#define EXPOSED_HEADERS                                                                      \
    "x-request-id, request-id, retry-after, x-should-retry, x-ratelimit-limit-requests, "    \
    "x-ratelimit-remaining-requests, x-ratelimit-reset-requests, x-ratelimit-limit-tokens, " \
    "x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens"

/* How long a browser may reuse a preflight's answer (Chromium caps it at 2 h). */
#define PREFLIGHT_MAX_AGE_S 7200

/* `text[0..len)` lower-cased into `out` (NAME_MAX_LEN + 1 bytes); false if
 * too long or not printable ASCII, which no host or serialized origin is
 * (and which must never be echoed into a response header). */
static bool
lowered(const char *text, size_t len, char *out)
{
    if (len > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c <= 0x20 || c >= 0x7f)
            return false;
        out[i] = (char)tolower(c);
    }
    out[len] = '\0';
    return true;
}

static bool
matches_any(const struct name_list *patterns, const char *name)
{
    for (size_t i = 0; i < patterns->count; i++)
        if (fnmatch(patterns->items[i], name, 0) == 0)
            return true;
    return false;
}

static bool
all_digits(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)text[i]))
            return false;
    return true;
}

/* The length of the host in "host[:port]" or "[v6][:port]", or 0 if the
 * authority is malformed. */
static size_t
host_length(const char *authority, size_t len)
{
    size_t host_len;
    if (authority[0] == '[') {
        const char *close = memchr(authority, ']', len);
        if (close == NULL)
            return 0;
        host_len = (size_t)(close - authority) + 1;
    } else {
        const char *colon = memchr(authority, ':', len);
        host_len = colon ? (size_t)(colon - authority) : len;
    }
    if (host_len == len)
        return host_len;
    if (authority[host_len] != ':' || !all_digits(authority + host_len + 1, len - host_len - 1))
        return 0;
    return host_len;
}

bool
web_host_allowed(const struct config *cfg, const char *host)
{
    size_t len = strlen(host);
    size_t host_len = len ? host_length(host, len) : 0;
    char name[NAME_MAX_LEN + 1];
    if (host_len == 0 || !lowered(host, len, name))
        return false;
    if (loopback_host(name, host_len))
        return true;
    name[host_len] = '\0';
    if (host_len > 1 && name[host_len - 1] == '.')
        name[host_len - 1] = '\0';
    return matches_any(&cfg->allowed_hosts, name);
}

/* "scheme://authority" with nothing after: the authority, or NULL. */
static const char *
origin_authority(const char *origin, const char *scheme)
{
    size_t scheme_len = strlen(scheme);
    if (strncmp(origin, scheme, scheme_len) != 0 || strncmp(origin + scheme_len, "://", 3) != 0)
        return NULL;
    const char *authority = origin + scheme_len + 3;
    return *authority && strpbrk(authority, "/?#@") == NULL ? authority : NULL;
}

static bool
local_origin(const char *origin)
{
    const char *authority;
    if ((authority = origin_authority(origin, "http")) != NULL ||
        (authority = origin_authority(origin, "https")) != NULL) {
        size_t len = strlen(authority);
        size_t host_len = host_length(authority, len);
        return host_len > 0 && loopback_host(authority, host_len);
    }
    /* VS Code's webviews (each its own random host) and its workbench. */
    return origin_authority(origin, "vscode-webview") != NULL ||
           strcmp(origin, "vscode-file://vscode-app") == 0;
}

bool
web_origin_allowed(const struct config *cfg, const char *origin)
{
    char name[NAME_MAX_LEN + 1];
    if (!lowered(origin, strlen(origin), name))
        return false;
    return local_origin(name) || matches_any(&cfg->allowed_origins, name);
}

/* A client's header value, fit for a log line: control bytes become '?'. */
static const char *
loggable(const char *value, char *out, size_t out_size)
{
    size_t i = 0;
    for (; value[i] != '\0' && i + 1 < out_size; i++) {
        unsigned char c = (unsigned char)value[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[i] = '\0';
    return out;
}

/* The refusal of a request whose `header` ("Host", "Origin") is `value`:
 * logged (the log says which option allows it) and a 403 in `err`. */
static int
refuse(const struct http_request *req, const char *header, const char *value, const char *code,
       const char *option, const char *explanation, struct api_error *err)
{
    char shown[128];
    log_warn("request %s refused: %s '%s' is not a local or allowed one; allow it with %s",
             req->request_id, header, loggable(value, shown, sizeof shown), option);
    api_error_set(err, 403, code, NULL, "%s '%.200s' %s", header, value, explanation);
    return -1;
}

int
web_guard_check(struct http_request *req, const struct config *cfg, struct api_error *err)
{
    const char *host = http_param(req, "HTTP_HOST");
    if (host != NULL && loopback_address(http_param(req, "SERVER_ADDR")) &&
        !web_host_allowed(cfg, host))
        return refuse(req, "Host", host, "host_not_allowed", "--allowed-hosts",
                      "is not allowed. This gateway listens on loopback and answers only to local "
                      "names (localhost, 127.0.0.1, [::1]); a web page that reached it under "
                      "another name may be a DNS-rebinding attack. To allow a name, start it with "
                      "--allowed-hosts NAME (litellmctl: --allowed-hosts or LITELLM_ALLOWED_HOSTS).",
                      err);
    const char *origin = http_param(req, "HTTP_ORIGIN");
    if (origin == NULL)
        return 0;
    if (!web_origin_allowed(cfg, origin))
        return refuse(req, "Origin", origin, "origin_not_allowed", "--allowed-origins",
                      "may not use this gateway. Web pages may call it only from local origins "
                      "(http or https on localhost, 127.0.0.1 or [::1], any port) and VS Code "
                      "webviews. To allow a web UI, add its origin with --allowed-origins ORIGIN "
                      "(litellmctl: --allowed-origins or LITELLM_ALLOWED_ORIGINS).",
                      err);
    /* The origin is echoed, never "*": a cache or a page must not take one
     * origin's answer for another's. */
    http_add_header(req, "Access-Control-Allow-Origin", "%s", origin);
    http_add_header(req, "Vary", "Origin");
    http_add_header(req, "Access-Control-Expose-Headers", "%s", EXPOSED_HEADERS);
    return 0;
}

/* "a, b-c, x-stainless-os": header names and the separators between them. */
static bool
header_name_list(const char *text)
{
    size_t len = strlen(text);
    if (len == 0 || len > 4096)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!isalnum(c) && strchr("-_.,! #$%&'*+^`|~", c) == NULL)
            return false;
    }
    return true;
}

void
web_guard_preflight(struct http_request *req, const char *methods)
{
    http_add_header(req, "Allow", "%s", methods);
    if (http_param(req, "HTTP_ORIGIN") == NULL)
        return; /* a plain OPTIONS: Allow says it all */
    http_add_header(req, "Access-Control-Allow-Methods", "%s", methods);
    const char *requested = http_param(req, "HTTP_ACCESS_CONTROL_REQUEST_HEADERS");
    /* An allowed origin may send any header (the SDKs add their own, e.g.
     * x-stainless-*), so the ones asked for are granted as asked. */
    if (requested != NULL && header_name_list(requested))
        http_add_header(req, "Access-Control-Allow-Headers", "%s", requested);
    /* Chromium's Private Network Access: an allowed public page (a team's
     * web UI) calling the gateway on this machine. */
    const char *private_network = http_param(req, "HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK");
    if (private_network != NULL && strcasecmp(private_network, "true") == 0)
        http_add_header(req, "Access-Control-Allow-Private-Network", "true");
    http_add_header(req, "Access-Control-Max-Age", "%d", PREFLIGHT_MAX_AGE_S);
}
