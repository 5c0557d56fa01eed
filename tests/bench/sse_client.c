/*
 * sse_client: the streaming side of `make bench`, in plain sockets and
 * HTTP/1.1 so that the client costs next to nothing.
 *
 *   sse_client stream --port P [--host H] [--path /v1/chat/completions]
 *                     [--chunks 1000] [--pace-us 0] [--streams 1] [--concurrency 1]
 *                     [--dump FILE]
 *       POSTs streaming chat requests whose text is [[bench:stream:N:PACE_US]]:
 *       the worker (tests/bench/instant_worker, or the peer shim's model) puts
 *       the CLOCK_MONOTONIC nanoseconds at which it wrote each delta in the
 *       delta's text; for every SSE event read, latency = now - stamp, where
 *       now is taken right after the read() that delivered it.  Prints one
 *       JSON line: chunk count, p50/p90/p99/max latency (us), chunks/s.
 *
 *   sse_client hold --port P --streams N [...]
 *       Opens N streams ([[bench:hold]]: one delta, then the worker waits),
 *       prints one JSON line once every stream got its first delta (or
 *       failed), then holds them open, idle, until stdin closes or gets a line.
 *
 * Same machine only: the stamps are compared with this process's clock.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_SIZE 65536

enum stream_state { ST_IDLE, ST_CONNECTING, ST_SENDING, ST_HEAD, ST_BODY, ST_FINISHED };
enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER };

struct stream {
    int fd;
    enum stream_state state;
    size_t sent;
    char head[16384];
    size_t head_len;
    int status;
    bool chunked;
    /* chunked transfer decoding */
    enum chunk_state cstate;
    size_t chunk_left;
    char size_line[64];
    size_t size_line_len;
    /* SSE event assembly */
    char *event;
    size_t event_len, event_cap;
    bool done_seen;
    bool error_seen;
    long deltas;
};

static struct {
    const char *host;
    int port;
    const char *path;
    const char *model;
    long chunks;
    long pace_us;
    long streams;
    long concurrency;
    const char *dump; /* every sample: "stamp_ns latency_ns" lines */
} opt = { "127.0.0.1", 0, "/v1/chat/completions", "gpt-4o", 1000, 0, 1, 1, NULL };

static char *request_text;
static size_t request_len;

static long long *samples;
static size_t sample_count, sample_cap;
static FILE *dump_file;
static long bad_events;

static long long
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
fatal(const char *what)
{
    fprintf(stderr, "sse_client: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void
build_request(const char *text)
{
    char body[512];
    int body_len = snprintf(body, sizeof body,
                            "{\"model\":\"%s\",\"stream\":true,\"messages\":[{\"role\":\"user\","
                            "\"content\":\"%s\"}]}",
                            opt.model, text);
    request_text = malloc(2048);
    if (request_text == NULL)
        fatal("malloc");
    request_len = (size_t)
        snprintf(request_text, 2048,
                 "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                 "Accept: text/event-stream\r\nContent-Length: %d\r\n"
                 "Connection: close\r\n\r\n%s",
                 opt.path, opt.host, opt.port, body_len, body);
}

static void
add_sample(long long ns)
{
    if (sample_count == sample_cap) {
        sample_cap = sample_cap ? sample_cap * 2 : 65536;
        samples = realloc(samples, sample_cap * sizeof *samples);
        if (samples == NULL)
            fatal("realloc");
    }
    samples[sample_count++] = ns;
}

static bool
stream_open(struct stream *s)
{
    memset(s, 0, sizeof *s);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        fatal("socket");
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
    if (inet_pton(AF_INET, opt.host, &addr.sin_addr) != 1) {
        fprintf(stderr, "sse_client: --host must be an IPv4 address\n");
        exit(2);
    }
    if (connect(s->fd, (struct sockaddr *)&addr, sizeof addr) != 0 && errno != EINPROGRESS) {
        close(s->fd);
        s->fd = -1;
        s->state = ST_FINISHED;
        return false;
    }
    s->state = ST_CONNECTING;
    return true;
}

static void
stream_close(struct stream *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->state = ST_FINISHED;
    free(s->event);
    s->event = NULL;
    s->event_len = s->event_cap = 0;
}

/* One complete SSE event (without its blank line). */
static void
on_event(struct stream *s, char *event, long long read_at)
{
    for (char *line = event; line != NULL && *line;) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (strncmp(line, "data:", 5) == 0) {
            const char *data = line + 5 + (line[5] == ' ');
            if (strcmp(data, "[DONE]") == 0) {
                s->done_seen = true;
            } else if (strncmp(data, "{\"error\"", 8) == 0) {
                s->error_seen = true;
            } else {
                const char *content = strstr(data, "\"content\":\"");
                if (content != NULL) {
                    content += 11;
                    if (isdigit((unsigned char)*content)) {
                        long long stamp = strtoll(content, NULL, 10);
                        add_sample(read_at - stamp);
                        if (dump_file != NULL)
                            fprintf(dump_file, "%lld %lld\n", stamp, read_at - stamp);
                        s->deltas++;
                    } else if (*content != '"') {
                        s->deltas++; /* "held" */
                    }
                } else if (strstr(data, "chat.completion.chunk") == NULL) {
                    bad_events++;
                }
            }
        }
        line = next;
    }
}

static void
sse_feed(struct stream *s, const char *data, size_t len, long long read_at)
{
    if (s->event_len + len + 1 > s->event_cap) {
        s->event_cap = (s->event_len + len + 1) * 2;
        s->event = realloc(s->event, s->event_cap);
        if (s->event == NULL)
            fatal("realloc");
    }
    memcpy(s->event + s->event_len, data, len);
    s->event_len += len;
    s->event[s->event_len] = '\0';
    size_t start = 0;
    for (;;) {
        char *end = strstr(s->event + start, "\n\n");
        if (end == NULL)
            break;
        *end = '\0';
        on_event(s, s->event + start, read_at);
        start = (size_t)(end - s->event) + 2;
    }
    memmove(s->event, s->event + start, s->event_len - start + 1);
    s->event_len -= start;
}

/* Body bytes, through the chunked decoder when needed. */
static void
body_feed(struct stream *s, const char *data, size_t len, long long read_at)
{
    if (!s->chunked) {
        sse_feed(s, data, len, read_at);
        return;
    }
    while (len > 0) {
        switch (s->cstate) {
        case CH_SIZE: {
            char c = *data++;
            len--;
            if (c == '\n') {
                s->size_line[s->size_line_len] = '\0';
                s->chunk_left = strtoul(s->size_line, NULL, 16);
                s->size_line_len = 0;
                s->cstate = s->chunk_left == 0 ? CH_TRAILER : CH_DATA;
                if (s->chunk_left == 0) {
                    s->state = ST_FINISHED; /* the last chunk: the response is complete */
                    return;
                }
            } else if (s->size_line_len + 1 < sizeof s->size_line) {
                s->size_line[s->size_line_len++] = c;
            }
            break;
        }
        case CH_DATA: {
            size_t take = len < s->chunk_left ? len : s->chunk_left;
            sse_feed(s, data, take, read_at);
            data += take;
            len -= take;
            s->chunk_left -= take;
            if (s->chunk_left == 0)
                s->cstate = CH_DATA_END;
            break;
        }
        case CH_DATA_END:
            if (*data == '\n')
                s->cstate = CH_SIZE;
            data++;
            len--;
            break;
        case CH_TRAILER:
            data += len;
            len = 0;
            break;
        }
    }
}

static void
head_feed(struct stream *s, const char *data, size_t len, long long read_at)
{
    size_t room = sizeof s->head - 1 - s->head_len;
    size_t take = len < room ? len : room;
    memcpy(s->head + s->head_len, data, take);
    s->head_len += take;
    s->head[s->head_len] = '\0';
    char *end = strstr(s->head, "\r\n\r\n");
    if (end == NULL) {
        if (take < len || s->head_len == sizeof s->head - 1)
            stream_close(s); /* a head this large is not ours */
        return;
    }
    size_t head_size = (size_t)(end - s->head) + 4;
    size_t rest_offset = head_size - (s->head_len - take); /* into `data` */
    *end = '\0';
    s->status = atoi(s->head + 9);
    for (char *line = strstr(s->head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "transfer-encoding:", 18) == 0 &&
            strstr(line + 20, "chunked") != NULL)
            s->chunked = true;
    }
    s->state = ST_BODY;
    if (rest_offset < len)
        body_feed(s, data + rest_offset, len - rest_offset, read_at);
}

/* Progress on one socket; false once the stream is over. */
static bool
stream_step(struct stream *s, short revents)
{
    char buf[READ_SIZE];
    if (s->state == ST_CONNECTING) {
        int err = 0;
        socklen_t err_len = sizeof err;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
        if (err != 0) {
            stream_close(s);
            return false;
        }
        s->state = ST_SENDING;
    }
    if (s->state == ST_SENDING) {
        ssize_t n = write(s->fd, request_text + s->sent, request_len - s->sent);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            stream_close(s);
            return false;
        }
        if (n > 0)
            s->sent += (size_t)n;
        if (s->sent == request_len)
            s->state = ST_HEAD;
        return true;
    }
    if (!(revents & (POLLIN | POLLHUP | POLLERR)))
        return true;
    for (;;) {
        ssize_t n = read(s->fd, buf, sizeof buf);
        long long read_at = now_ns();
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return true;
            stream_close(s);
            return false;
        }
        if (n == 0) {
            stream_close(s);
            return false;
        }
        if (s->state == ST_HEAD)
            head_feed(s, buf, (size_t)n, read_at);
        else if (s->state == ST_BODY)
            body_feed(s, buf, (size_t)n, read_at);
        if (s->state == ST_FINISHED)
            return false;
        if (n < (ssize_t)sizeof buf)
            return true;
    }
}

static int
compare_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static double
percentile_us(double p)
{
    if (sample_count == 0)
        return 0;
    size_t rank = (size_t)(p / 100.0 * (double)sample_count + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > sample_count)
        rank = sample_count;
    return (double)samples[rank - 1] / 1000.0;
}

static short
events_for(const struct stream *s)
{
    return s->state == ST_CONNECTING || s->state == ST_SENDING ? POLLOUT : POLLIN;
}

static int
run_stream(void)
{
    char text[64];
    snprintf(text, sizeof text, "[[bench:stream:%ld:%ld]]", opt.chunks, opt.pace_us);
    build_request(text);
    struct stream *slots = calloc((size_t)opt.concurrency, sizeof *slots);
    struct pollfd *fds = calloc((size_t)opt.concurrency, sizeof *fds);
    if (slots == NULL || fds == NULL)
        fatal("calloc");
    long started = 0, ok = 0, failed = 0, active = 0;
    long long begin = now_ns();
    for (long i = 0; i < opt.concurrency; i++)
        slots[i].state = ST_IDLE, slots[i].fd = -1;
    for (;;) {
        for (long i = 0; i < opt.concurrency; i++) {
            if ((slots[i].state == ST_IDLE || slots[i].state == ST_FINISHED) &&
                started < opt.streams) {
                started++;
                if (stream_open(&slots[i]))
                    active++;
                else
                    failed++;
            }
        }
        if (active == 0)
            break;
        for (long i = 0; i < opt.concurrency; i++) {
            fds[i].fd = slots[i].fd >= 0 && slots[i].state != ST_IDLE ? slots[i].fd : -1;
            fds[i].events = events_for(&slots[i]);
            fds[i].revents = 0;
        }
        if (poll(fds, (nfds_t)opt.concurrency, 60000) <= 0)
            fatal("poll (60 s without progress)");
        for (long i = 0; i < opt.concurrency; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            struct stream *s = &slots[i];
            if (!stream_step(s, fds[i].revents)) {
                active--;
                if (s->status == 200 && s->done_seen && !s->error_seen && s->deltas == opt.chunks)
                    ok++;
                else
                    failed++;
                stream_close(s);
            }
        }
    }
    double wall_s = (double)(now_ns() - begin) / 1e9;
    qsort(samples, sample_count, sizeof *samples, compare_ll);
    printf("{\"streams\":%ld,\"ok\":%ld,\"failed\":%ld,\"chunks\":%zu,\"bad_events\":%ld,"
           "\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,"
           "\"wall_s\":%.4f,\"chunks_per_s\":%.0f}\n",
           opt.streams, ok, failed, sample_count, bad_events, percentile_us(50), percentile_us(90),
           percentile_us(99), percentile_us(100), wall_s, (double)sample_count / wall_s);
    return failed == 0 ? 0 : 1;
}

static int
run_hold(void)
{
    build_request("[[bench:hold]]");
    long n = opt.streams;
    struct stream *slots = calloc((size_t)n, sizeof *slots);
    struct pollfd *fds = calloc((size_t)n + 1, sizeof *fds);
    if (slots == NULL || fds == NULL)
        fatal("calloc");
    const long max_opening = 64; /* handshakes in progress at once */
    long next = 0, opening = 0, ready = 0, failed = 0, statuses[6] = { 0 };
    long long begin = now_ns();
    for (long i = 0; i < n; i++)
        slots[i].fd = -1, slots[i].state = ST_IDLE;
    bool *counted = calloc((size_t)n, sizeof *counted);
    if (counted == NULL)
        fatal("calloc");
    while (ready + failed < n) {
        while (next < n && opening < max_opening) {
            if (stream_open(&slots[next]))
                opening++;
            else
                failed++, counted[next] = true;
            next++;
        }
        for (long i = 0; i < n; i++) {
            fds[i].fd = slots[i].fd;
            fds[i].events = events_for(&slots[i]);
            fds[i].revents = 0;
        }
        if (poll(fds, (nfds_t)n, 60000) <= 0)
            fatal("poll (60 s without progress)");
        for (long i = 0; i < n; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            struct stream *s = &slots[i];
            bool alive = stream_step(s, fds[i].revents);
            if (counted[i])
                continue;
            if (alive && s->deltas > 0) {
                counted[i] = true;
                ready++, opening--;
                statuses[2]++;
            } else if (!alive || (s->state == ST_BODY && s->status != 200)) {
                counted[i] = true;
                failed++, opening--;
                if (s->status >= 100 && s->status < 600)
                    statuses[s->status / 100]++;
                stream_close(s);
            }
        }
    }
    printf("{\"ready\":%ld,\"failed\":%ld,\"http_4xx\":%ld,\"http_5xx\":%ld,\"open_s\":%.3f}\n",
           ready, failed, statuses[4], statuses[5], (double)(now_ns() - begin) / 1e9);
    fflush(stdout);
    /* Hold: keep reading (keep-alive comments) until stdin says stop. */
    long dropped = 0;
    for (;;) {
        for (long i = 0; i < n; i++) {
            fds[i].fd = slots[i].fd;
            fds[i].events = POLLIN;
            fds[i].revents = 0;
        }
        fds[n].fd = 0;
        fds[n].events = POLLIN;
        fds[n].revents = 0;
        if (poll(fds, (nfds_t)n + 1, -1) < 0 && errno != EINTR)
            fatal("poll");
        if (fds[n].revents != 0)
            break;
        for (long i = 0; i < n; i++)
            if (fds[i].fd >= 0 && fds[i].revents != 0 && !stream_step(&slots[i], fds[i].revents))
                dropped++;
    }
    for (long i = 0; i < n; i++)
        stream_close(&slots[i]);
    fprintf(stderr, "sse_client: held %ld streams; %ld dropped while held\n", ready, dropped);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sse_client stream|hold --port P [options]\n");
        return 2;
    }
    const char *mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *name = argv[i], *value = argv[i + 1];
        if (strcmp(name, "--host") == 0)
            opt.host = value;
        else if (strcmp(name, "--port") == 0)
            opt.port = atoi(value);
        else if (strcmp(name, "--path") == 0)
            opt.path = value;
        else if (strcmp(name, "--model") == 0)
            opt.model = value;
        else if (strcmp(name, "--chunks") == 0)
            opt.chunks = atol(value);
        else if (strcmp(name, "--pace-us") == 0)
            opt.pace_us = atol(value);
        else if (strcmp(name, "--streams") == 0)
            opt.streams = atol(value);
        else if (strcmp(name, "--concurrency") == 0)
            opt.concurrency = atol(value);
        else if (strcmp(name, "--dump") == 0)
            opt.dump = value;
        else {
            fprintf(stderr, "sse_client: unknown option %s\n", name);
            return 2;
        }
    }
    if (opt.port <= 0 || opt.streams < 1 || opt.concurrency < 1 || opt.chunks < 1) {
        fprintf(stderr, "sse_client: --port is required; counts must be positive\n");
        return 2;
    }
    if (opt.dump != NULL && (dump_file = fopen(opt.dump, "w")) == NULL)
        fatal(opt.dump);
    if (strcmp(mode, "stream") == 0) {
        int rc = run_stream();
        if (dump_file != NULL)
            fclose(dump_file);
        return rc;
    }
    if (strcmp(mode, "hold") == 0)
        return run_hold();
    fprintf(stderr, "sse_client: mode must be stream or hold\n");
    return 2;
}
