#include "redis_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
redis_url_parse(const char *url, struct redis_address *out, char *err, size_t err_size)
{
    const char *prefix = "redis://";
    if (strncmp(url, prefix, strlen(prefix)) != 0) {
        snprintf(err, err_size, "limits store '%s' is neither 'shm' nor redis://host[:port][/db]",
                 url);
        return -1;
    }
    const char *host = url + strlen(prefix);
    size_t host_len = strcspn(host, ":/");
    int port = 6379, db = 0;
    const char *rest = host + host_len;
    char *end;
    if (*rest == ':') {
        long value = strtol(rest + 1, &end, 10);
        if (end == rest + 1 || value <= 0 || value > 65535) {
            snprintf(err, err_size, "bad port in %s", url);
            return -1;
        }
        port = (int)value;
        rest = end;
    }
    if (*rest == '/' && rest[1] != '\0') {
        long value = strtol(rest + 1, &end, 10);
        if (*end != '\0' || value < 0 || value > 1024) {
            snprintf(err, err_size, "bad database number in %s", url);
            return -1;
        }
        db = (int)value;
    }
    out->host = host_len ? strndup(host, host_len) : strdup("127.0.0.1");
    if (out->host == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    out->port = port;
    out->db = db;
    return 0;
}
