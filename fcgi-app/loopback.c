#include "loopback.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

bool
loopback_address(const char *address)
{
    if (address == NULL)
        return false;
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, address, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, address, &v6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&v6))
            return true;
        if (IN6_IS_ADDR_V4MAPPED(&v6))
            return v6.s6_addr[12] == 127;
    }
    return false;
}

static bool
ends_with_label(const char *host, size_t len, const char *label)
{
    size_t label_len = strlen(label);
    return len > label_len + 1 && host[len - label_len - 1] == '.' &&
           strncasecmp(host + len - label_len, label, label_len) == 0;
}

bool
loopback_host(const char *host, size_t len)
{
    if (len > 0 && host[len - 1] == '.')
        len--; /* "localhost." is the same name, fully qualified */
    if (len == 0 || len > 253)
        return false;
    if ((len == 9 && strncasecmp(host, "localhost", 9) == 0) ||
        ends_with_label(host, len, "localhost"))
        return true;
    /* An address literal: "[v6]" or dotted IPv4. */
    char literal[64];
    if (host[0] == '[') {
        if (len < 3 || host[len - 1] != ']' || len - 2 >= sizeof literal)
            return false;
        memcpy(literal, host + 1, len - 2);
        literal[len - 2] = '\0';
        struct in6_addr v6;
        return inet_pton(AF_INET6, literal, &v6) == 1 && loopback_address(literal);
    }
    if (len >= sizeof literal)
        return false;
    memcpy(literal, host, len);
    literal[len] = '\0';
    struct in_addr v4;
    return inet_pton(AF_INET, literal, &v4) == 1 && loopback_address(literal);
}
