/*
 * redis_url: redis://host[:port][/db], the one parser of the Redis address
 * the limits and usage stores share (--limits-store).
 */
#ifndef LITELLM_REDIS_URL_H
#define LITELLM_REDIS_URL_H

#include <stddef.h>

struct redis_address {
    char *host; /* owned; "127.0.0.1" when the URL names none */
    int port;   /* 6379 by default */
    int db;     /* 0 by default */
};

/* 0, or -1 with a reason in `err`. */
int redis_url_parse(const char *url, struct redis_address *out, char *err, size_t err_size);

#endif
