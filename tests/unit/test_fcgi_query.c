/* fcgi_query: the FastCGI client's request encoder, reply parser and CGI
 * splitter, and one real query against a socket served by this test. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "fcgi_query.h"

static size_t
record(unsigned char *out, unsigned type, unsigned id, const void *content, size_t len, unsigned pad)
{
    unsigned char header[8] = { 1,
                                (unsigned char)type,
                                (unsigned char)(id >> 8),
                                (unsigned char)id,
                                (unsigned char)(len >> 8),
                                (unsigned char)len,
                                (unsigned char)pad,
                                0 };
    memcpy(out, header, 8);
    memcpy(out + 8, content, len);
    memset(out + 8 + len, 0, pad);
    return 8 + len + pad;
}

static size_t
end_request(unsigned char *out, unsigned id, uint32_t app_status)
{
    unsigned char body[8] = { (unsigned char)(app_status >> 24), (unsigned char)(app_status >> 16),
                              (unsigned char)(app_status >> 8), (unsigned char)app_status, 0 };
    return record(out, 3, id, body, sizeof body, 0);
}

static void
test_encode(void)
{
    char long_value[200];
    memset(long_value, 'v', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    const struct fcgi_param params[] = { { "A", "bc" }, { "LONG", long_value } };
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    CHECK(fcgi_query_encode(&out, 0x0102, params, 2) == DYNBUF_OK);
    const unsigned char *b = (const unsigned char *)out.data;
    /* BEGIN_REQUEST: role RESPONDER, no keep-alive. */
    static const unsigned char begin[16] = { 1, 1, 1, 2, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
    CHECK(out.len > 16 && memcmp(b, begin, 16) == 0);
    /* PARAMS: 1+1+1+2 for A=bc, 1+4+4+199 for LONG (a four-byte length). */
    size_t pairs = 5 + 1 + 4 + 4 + 199;
    CHECK(b[16] == 1 && b[17] == 4 && b[18] == 1 && b[19] == 2 &&
          ((size_t)b[20] << 8 | b[21]) == pairs);
    CHECK(memcmp(b + 24,
                 "\x01\x02"
                 "Abc",
                 5) == 0);
    CHECK(b[29] == 4 && b[30] == 0x80 && b[31] == 0 && b[32] == 0 && b[33] == 199);
    CHECK(memcmp(b + 34, "LONG", 4) == 0 && b[38] == 'v');
    size_t at = 24 + pairs;
    /* The empty PARAMS and STDIN that end the request. */
    static const unsigned char tail[16] = { 1, 4, 1, 2, 0, 0, 0, 0, 1, 5, 1, 2, 0, 0, 0, 0 };
    CHECK(out.len == at + 16 && memcmp(b + at, tail, 16) == 0);
    dynbuf_free(&out);
}

static struct fcgi_reply reply;

static void
test_reply(void)
{
    unsigned char stream[512];
    size_t len = 0;
    len += record(stream + len, 7, 1, "oops", 4, 4);
    len += record(stream + len, 10, 0, "mgmt", 4, 0); /* ignored */
    len += record(stream + len, 6, 1, "Status: 404 Not Found\r\n", 23, 1);
    len += record(stream + len, 6, 1, "\r\nnope", 6, 0);
    len += end_request(stream + len, 1, 7);

    /* Byte by byte, as the slowest socket would give it. */
    fcgi_reply_init(&reply, 1, 64);
    int rc = FCGI_REPLY_MORE;
    for (size_t i = 0; i < len; i++) {
        CHECK(rc == FCGI_REPLY_MORE);
        rc = fcgi_reply_feed(&reply, stream + i, 1);
    }
    CHECK(rc == FCGI_REPLY_DONE);
    CHECK(reply.out.len == 29 &&
          memcmp(reply.out.data, "Status: 404 Not Found\r\n\r\nnope", 29) == 0);
    CHECK(reply.err_len == 4 && reply.app_status == 7 && reply.protocol_status == 0);
    CHECK(fcgi_reply_feed(&reply, "x", 1) == FCGI_REPLY_BAD);
    int status;
    const char *body;
    size_t body_len;
    CHECK(cgi_reply_split(reply.out.data, reply.out.len, &status, &body, &body_len) == 0);
    CHECK(status == 404 && body_len == 4 && memcmp(body, "nope", 4) == 0);
    fcgi_reply_free(&reply);

    /* Over the maximum, another request's record, a wrong version. */
    fcgi_reply_init(&reply, 1, 8);
    len = record(stream, 6, 1, "123456789", 9, 0);
    CHECK(fcgi_reply_feed(&reply, stream, len) == FCGI_REPLY_TOO_BIG);
    CHECK(fcgi_reply_feed(&reply, stream, len) == FCGI_REPLY_TOO_BIG);
    fcgi_reply_free(&reply);
    fcgi_reply_init(&reply, 1, 8);
    len = record(stream, 6, 2, "x", 1, 0);
    CHECK(fcgi_reply_feed(&reply, stream, len) == FCGI_REPLY_BAD);
    fcgi_reply_free(&reply);
    fcgi_reply_init(&reply, 1, 8);
    stream[0] = 2;
    CHECK(fcgi_reply_feed(&reply, stream, 8) == FCGI_REPLY_BAD);
    fcgi_reply_free(&reply);
    /* An END_REQUEST too short, and bytes after the end. */
    fcgi_reply_init(&reply, 1, 8);
    len = record(stream, 3, 1, "\0\0\0", 3, 0);
    CHECK(fcgi_reply_feed(&reply, stream, len) == FCGI_REPLY_BAD);
    fcgi_reply_free(&reply);
    fcgi_reply_init(&reply, 1, 8);
    len = end_request(stream, 1, 0);
    stream[len++] = 1;
    CHECK(fcgi_reply_feed(&reply, stream, len) == FCGI_REPLY_BAD);
    fcgi_reply_free(&reply);
}

static void
test_cgi_split(void)
{
    int status;
    const char *body;
    size_t body_len;
    const char *plain = "Content-Type: application/json\n\n{}";
    CHECK(cgi_reply_split(plain, strlen(plain), &status, &body, &body_len) == 0);
    CHECK(status == 200 && body_len == 2 && memcmp(body, "{}", 2) == 0);
    const char *lower = "status:503\r\n\r\n";
    CHECK(cgi_reply_split(lower, strlen(lower), &status, &body, &body_len) == 0);
    CHECK(status == 503 && body_len == 0);
    const char *bad[] = { "Content-Type: x\r\n", "no colon\n\n",    "Status: 20\n\n",
                          "Status: 2000\n\n",    "Status: abc\n\n", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(cgi_reply_split(bad[i], strlen(bad[i]), &status, &body, &body_len) != 0);
}

/* A one-shot FastCGI application: reads the request up to the empty STDIN,
 * answers /health's shape in two STDOUT records. */
static void *
serve_once(void *arg)
{
    int listen_fd = *(int *)arg;
    int fd = accept(listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    unsigned char in[4096];
    size_t have = 0;
    for (;;) { /* the request ends with an empty STDIN record: 1 5 0 1 0 0 0 0 */
        ssize_t n = read(fd, in + have, sizeof in - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        if (have >= 8 && memcmp(in + have - 8, "\x01\x05\x00\x01\x00\x00\x00\x00", 8) == 0)
            break;
    }
    unsigned char out[512];
    size_t len = 0;
    len += record(out + len, 6, 1, "Content-Type: application/json\r\n\r\n", 34, 6);
    len += record(out + len, 6, 1, "{\"windows\":2}", 13, 0);
    len += end_request(out + len, 1, 0);
    CHECK(write(fd, out, len) == (ssize_t)len);
    close(fd);
    return NULL;
}

static void
test_query(void)
{
    char path[] = "/tmp/test_fcgi_query.XXXXXX";
    CHECK(mkdtemp(path) != NULL);
    char socket_path[64];
    snprintf(socket_path, sizeof socket_path, "%s/s", path);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path);
    int listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(listen_fd >= 0 && bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
          listen(listen_fd, 1) == 0);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, serve_once, &listen_fd) == 0);

    struct dynbuf body;
    dynbuf_init(&body, 1024);
    int status = 0;
    char err[256] = "";
    CHECK(fcgi_query_get(socket_path, "/health", 5000, 1024, &status, &body, err, sizeof err) == 0);
    CHECK(status == 200);
    CHECK_STR(body.data, "{\"windows\":2}");
    pthread_join(thread, NULL);
    dynbuf_free(&body);

    /* Nothing listening: a sentence, no crash. */
    close(listen_fd);
    unlink(socket_path);
    dynbuf_init(&body, 1024);
    CHECK(fcgi_query_get(socket_path, "/health", 1000, 1024, &status, &body, err, sizeof err) == -1);
    CHECK(strstr(err, "cannot connect") != NULL);
    dynbuf_free(&body);
    rmdir(path);
}

int
main(void)
{
    test_encode();
    test_reply();
    test_cgi_split();
    test_query();
    return check_summary("fcgi_query");
}
