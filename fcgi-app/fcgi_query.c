#include "fcgi_query.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"

/* The FastCGI specification's numbers. */
#define FCGI_VERSION_1 1
#define FCGI_BEGIN_REQUEST 1
#define FCGI_END_REQUEST 3
#define FCGI_PARAMS 4
#define FCGI_STDIN 5
#define FCGI_STDOUT 6
#define FCGI_STDERR 7
#define FCGI_RESPONDER 1
#define FCGI_HEADER_LEN 8
#define FCGI_CONTENT_MAX 65535

static int
put_record(struct dynbuf *out, unsigned type, uint16_t id, const void *content, size_t len)
{
    if (len > FCGI_CONTENT_MAX)
        return DYNBUF_TOO_BIG;
    unsigned char header[FCGI_HEADER_LEN] = {
        FCGI_VERSION_1,
        (unsigned char)type,
        (unsigned char)(id >> 8),
        (unsigned char)id,
        (unsigned char)(len >> 8),
        (unsigned char)len,
        0,
        0,
    };
    int rc = dynbuf_append(out, header, sizeof header);
    if (rc == DYNBUF_OK && len > 0)
        rc = dynbuf_append(out, content, len);
    return rc;
}

/* A name or value length: one byte below 128, else four with the top bit. */
static int
put_length(struct dynbuf *out, size_t len)
{
    if (len < 128) {
        unsigned char one = (unsigned char)len;
        return dynbuf_append(out, &one, 1);
    }
    if (len > 0x7fffffffu)
        return DYNBUF_TOO_BIG;
    unsigned char four[4] = {
        (unsigned char)((len >> 24) | 0x80),
        (unsigned char)(len >> 16),
        (unsigned char)(len >> 8),
        (unsigned char)len,
    };
    return dynbuf_append(out, four, sizeof four);
}

int
fcgi_query_encode(struct dynbuf *out, uint16_t request_id, const struct fcgi_param *params,
                  size_t count)
{
    static const unsigned char begin[8] = { 0, FCGI_RESPONDER, 0 /* no keep-alive */ };
    int rc = put_record(out, FCGI_BEGIN_REQUEST, request_id, begin, sizeof begin);

    struct dynbuf pairs;
    dynbuf_init(&pairs, FCGI_CONTENT_MAX);
    for (size_t i = 0; i < count && rc == DYNBUF_OK; i++) {
        size_t name_len = strlen(params[i].name), value_len = strlen(params[i].value);
        rc = put_length(&pairs, name_len);
        if (rc == DYNBUF_OK)
            rc = put_length(&pairs, value_len);
        if (rc == DYNBUF_OK)
            rc = dynbuf_append(&pairs, params[i].name, name_len);
        if (rc == DYNBUF_OK)
            rc = dynbuf_append(&pairs, params[i].value, value_len);
    }
    if (rc == DYNBUF_OK && pairs.len > 0)
        rc = put_record(out, FCGI_PARAMS, request_id, pairs.data, pairs.len);
    dynbuf_free(&pairs);
    if (rc == DYNBUF_OK)
        rc = put_record(out, FCGI_PARAMS, request_id, NULL, 0);
    if (rc == DYNBUF_OK)
        rc = put_record(out, FCGI_STDIN, request_id, NULL, 0);
    return rc;
}

void
fcgi_reply_init(struct fcgi_reply *reply, uint16_t request_id, size_t max_out)
{
    reply->request_id = request_id;
    reply->result = FCGI_REPLY_MORE;
    dynbuf_init(&reply->out, max_out);
    reply->err_len = 0;
    reply->app_status = 0;
    reply->protocol_status = 0;
    reply->have = 0;
}

void
fcgi_reply_free(struct fcgi_reply *reply)
{
    dynbuf_free(&reply->out);
}

/* One whole record in reply->record. */
static int
take_record(struct fcgi_reply *reply, unsigned type, unsigned id, const unsigned char *content,
            size_t len)
{
    if (id == 0)
        return FCGI_REPLY_MORE; /* a management record: not ours to answer */
    if (id != reply->request_id)
        return FCGI_REPLY_BAD;
    switch (type) {
    case FCGI_STDOUT:
        switch (dynbuf_append(&reply->out, content, len)) {
        case DYNBUF_OK: return FCGI_REPLY_MORE;
        case DYNBUF_TOO_BIG: return FCGI_REPLY_TOO_BIG;
        default: return FCGI_REPLY_NO_MEMORY;
        }
    case FCGI_STDERR: reply->err_len += len; return FCGI_REPLY_MORE;
    case FCGI_END_REQUEST:
        if (len < 8)
            return FCGI_REPLY_BAD;
        reply->app_status = (uint32_t)content[0] << 24 | (uint32_t)content[1] << 16 |
                            (uint32_t)content[2] << 8 | content[3];
        reply->protocol_status = content[4];
        return FCGI_REPLY_DONE;
    default: return FCGI_REPLY_BAD;
    }
}

int
fcgi_reply_feed(struct fcgi_reply *reply, const void *bytes, size_t len)
{
    const unsigned char *in = bytes;
    if (reply->result != FCGI_REPLY_MORE) {
        if (reply->result == FCGI_REPLY_DONE && len > 0)
            reply->result = FCGI_REPLY_BAD; /* nothing may follow the end */
        return reply->result;
    }
    while (len > 0) {
        size_t need = FCGI_HEADER_LEN;
        if (reply->have >= FCGI_HEADER_LEN) {
            const unsigned char *h = reply->record;
            need += ((size_t)h[4] << 8 | h[5]) + h[6];
        }
        size_t take = need - reply->have < len ? need - reply->have : len;
        memcpy(reply->record + reply->have, in, take);
        reply->have += take;
        in += take;
        len -= take;
        if (reply->have == FCGI_HEADER_LEN && reply->record[0] != FCGI_VERSION_1) {
            reply->result = FCGI_REPLY_BAD;
            return reply->result;
        }
        if (reply->have < FCGI_HEADER_LEN)
            continue;
        const unsigned char *h = reply->record;
        size_t content_len = (size_t)h[4] << 8 | h[5];
        if (reply->have < FCGI_HEADER_LEN + content_len + h[6])
            continue;
        reply->have = 0;
        int rc = take_record(reply, h[1], (unsigned)h[2] << 8 | h[3], h + FCGI_HEADER_LEN,
                             content_len);
        if (rc == FCGI_REPLY_DONE && len > 0)
            rc = FCGI_REPLY_BAD;
        if (rc != FCGI_REPLY_MORE) {
            reply->result = rc;
            return rc;
        }
    }
    return FCGI_REPLY_MORE;
}

const char *
fcgi_reply_strerror(int result)
{
    switch (result) {
    case FCGI_REPLY_MORE: return "the reply ended before FCGI_END_REQUEST";
    case FCGI_REPLY_DONE: return "complete";
    case FCGI_REPLY_BAD: return "the reply is not well-formed FastCGI";
    case FCGI_REPLY_TOO_BIG: return "the reply is too large";
    case FCGI_REPLY_NO_MEMORY: return "out of memory";
    default: return "unknown result";
    }
}

int
cgi_reply_split(const char *data, size_t len, int *status, const char **body, size_t *body_len)
{
    *status = 200;
    size_t at = 0;
    for (;;) {
        const char *newline = at < len ? memchr(data + at, '\n', len - at) : NULL;
        if (newline == NULL)
            return -1; /* no empty line: no end of headers */
        size_t end = (size_t)(newline - data);
        size_t line_len = end - at;
        if (line_len > 0 && data[end - 1] == '\r')
            line_len--;
        const char *line = data + at;
        at = end + 1;
        if (line_len == 0)
            break;
        const char *colon = memchr(line, ':', line_len);
        if (colon == NULL)
            return -1;
        static const char name[] = "status";
        if ((size_t)(colon - line) == sizeof name - 1 &&
            strncasecmp(line, name, sizeof name - 1) == 0) {
            const char *value = colon + 1, *stop = line + line_len;
            while (value < stop && (*value == ' ' || *value == '\t'))
                value++;
            if (stop - value < 3 || value[0] < '1' || value[0] > '9' || value[1] < '0' ||
                value[1] > '9' || value[2] < '0' || value[2] > '9' ||
                (stop - value > 3 && value[3] != ' '))
                return -1;
            *status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
        }
    }
    *body = data + at;
    *body_len = len - at;
    return 0;
}

/* Waits for `events` on fd until the deadline; 0 when ready, else -1 with err set. */
static int
wait_for(int fd, short events, long long deadline_ms, const char *what, char *err, size_t err_size)
{
    for (;;) {
        long long left = deadline_ms - clock_monotonic_ms();
        if (left <= 0) {
            snprintf(err, err_size, "no answer within the time limit (%s)", what);
            return -1;
        }
        struct pollfd pfd = { .fd = fd, .events = events };
        int ready = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (ready > 0)
            return 0;
        if (ready < 0 && errno != EINTR) {
            snprintf(err, err_size, "poll: %s", strerror(errno));
            return -1;
        }
    }
}

static int
connect_unix(const char *path, long long deadline_ms, char *err, size_t err_size)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path) {
        snprintf(err, err_size, "socket path too long: %s", path);
        return -1;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, err_size, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0)
        return fd;
    if (errno != EINPROGRESS && errno != EAGAIN) {
        snprintf(err, err_size, "cannot connect to %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    int so_error = 0;
    socklen_t so_len = sizeof so_error;
    if (wait_for(fd, POLLOUT, deadline_ms, "connect", err, err_size) != 0) {
        close(fd);
        return -1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) != 0 || so_error != 0) {
        snprintf(err, err_size, "cannot connect to %s: %s", path,
                 strerror(so_error ? so_error : errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int
exchange(int fd, const struct dynbuf *request, struct fcgi_reply *reply, long long deadline_ms,
         char *err, size_t err_size)
{
    size_t sent = 0;
    while (sent < request->len) {
        if (wait_for(fd, POLLOUT, deadline_ms, "sending", err, err_size) != 0)
            return -1;
        ssize_t n = send(fd, request->data + sent, request->len - sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            snprintf(err, err_size, "send: %s", strerror(errno));
            return -1;
        }
        sent += (size_t)n;
    }
    char chunk[16384];
    int rc = FCGI_REPLY_MORE;
    while (rc == FCGI_REPLY_MORE) {
        if (wait_for(fd, POLLIN, deadline_ms, "reading", err, err_size) != 0)
            return -1;
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            snprintf(err, err_size, "recv: %s", strerror(errno));
            return -1;
        }
        if (n == 0)
            break; /* closed: MORE says it ended early */
        rc = fcgi_reply_feed(reply, chunk, (size_t)n);
    }
    if (rc != FCGI_REPLY_DONE) {
        snprintf(err, err_size, "%s", fcgi_reply_strerror(rc));
        return -1;
    }
    return 0;
}

int
fcgi_query_get(const char *socket_path, const char *uri, int timeout_ms, size_t max_body,
               int *status, struct dynbuf *body, char *err, size_t err_size)
{
    const uint16_t id = 1;
    long long deadline_ms = clock_monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 1);
    char request_id[32];
    snprintf(request_id, sizeof request_id, "litellm-status-%ld", (long)getpid());
    const struct fcgi_param params[] = {
        { "REQUEST_METHOD", "GET" },
        { "DOCUMENT_URI", uri },
        { "REQUEST_URI", uri },
        { "SCRIPT_NAME", uri },
        { "QUERY_STRING", "" },
        { "SERVER_PROTOCOL", "HTTP/1.1" },
        { "GATEWAY_INTERFACE", "CGI/1.1" },
        { "REMOTE_ADDR", "127.0.0.1" },
        { "SERVER_ADDR", "127.0.0.1" },
        { "REQUEST_ID", request_id },
    };
    struct dynbuf request;
    dynbuf_init(&request, FCGI_CONTENT_MAX * 2);
    if (fcgi_query_encode(&request, id, params, sizeof params / sizeof params[0]) != DYNBUF_OK) {
        snprintf(err, err_size, "cannot encode the request");
        dynbuf_free(&request);
        return -1;
    }
    /* The CGI headers are small; allow them on top of the body. */
    struct fcgi_reply *reply = malloc(sizeof *reply);
    if (reply == NULL) {
        snprintf(err, err_size, "out of memory");
        dynbuf_free(&request);
        return -1;
    }
    fcgi_reply_init(reply, id, max_body + 4096);
    int rc = -1;
    int fd = connect_unix(socket_path, deadline_ms, err, err_size);
    if (fd >= 0) {
        rc = exchange(fd, &request, reply, deadline_ms, err, err_size);
        close(fd);
    }
    const char *content = NULL;
    size_t content_len = 0;
    if (rc == 0 && cgi_reply_split(reply->out.data ? reply->out.data : "", reply->out.len, status,
                                   &content, &content_len) != 0) {
        snprintf(err, err_size, "the reply is not a CGI response");
        rc = -1;
    }
    if (rc == 0 && dynbuf_append(body, content, content_len) != DYNBUF_OK) {
        snprintf(err, err_size, "the body is too large");
        rc = -1;
    }
    fcgi_reply_free(reply);
    free(reply);
    dynbuf_free(&request);
    return rc;
}
