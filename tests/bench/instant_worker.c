/*
 * instant_worker: a VS Code window stand-in that answers at once, so that
 * `make bench` measures the gateway (nginx -> litellm-fcgi -> pipe) and not
 * the model.  It speaks pipe protocol v1 (DESIGN.md): hello with one model,
 * welcome, then for each `request` frame
 *
 *   (plain text)                   one delta with a fixed reply + done, in one write
 *   [[bench:stream:N:PACE_US]]     N deltas, each carrying the CLOCK_MONOTONIC
 *                                  nanoseconds at which it is written ("<ns> "),
 *                                  PACE_US microseconds apart (0: back to back),
 *                                  then done; on a thread of its own
 *   [[bench:hold]]                 one delta "held", then nothing until `cancel`
 *
 * It answers ping with pong and cancel with error/cancelled.
 *
 *   instant_worker --pipe PATH [--connections N] [--model FAMILY]
 *
 * Opens N connections (N windows; the responder routes each request to the
 * least busy) and prints "ready N" on stdout once every one got its welcome.
 * Runs until killed.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define READ_CHUNK 65536
#define MAX_FRAME (16u * 1024 * 1024)

/* The reply of a plain request: about what a short chat answer is. */
static const char INSTANT_REPLY[] = "Hello! This is an instant reply from the benchmark worker.";

struct connection {
    int fd;
    int index;
    pthread_mutex_t write_lock; /* whole frames, from the reader and stream threads */
};

struct stream_job {
    struct connection *conn;
    char id[128];
    long chunks;
    long pace_us;
};

static const char *model_family = "gpt-4o";
static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static int ready_count;
static int connection_count = 1;

static void
die(const char *what)
{
    fprintf(stderr, "instant_worker: %s: %s\n", what, strerror(errno));
    exit(1);
}

static long long
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Writes all of buf (the caller holds write_lock). */
static int
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int
send_text(struct connection *conn, const char *buf, size_t len)
{
    pthread_mutex_lock(&conn->write_lock);
    int rc = write_all(conn->fd, buf, len);
    pthread_mutex_unlock(&conn->write_lock);
    return rc;
}

/* Ids are the responder's request ids (hex); anything else is refused
 * rather than escaped, so that frames can be built with snprintf. */
static bool
plain_id(const char *id)
{
    size_t len = strlen(id);
    if (len == 0 || len >= 128)
        return false;
    for (const char *p = id; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
            return false;
    return true;
}

static void *
stream_main(void *arg)
{
    struct stream_job *job = arg;
    char frame[256];
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (long i = 0; i < job->chunks; i++) {
        if (job->pace_us > 0 && i > 0) {
            next.tv_nsec += job->pace_us * 1000;
            while (next.tv_nsec >= 1000000000L) {
                next.tv_nsec -= 1000000000L;
                next.tv_sec++;
            }
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
                ;
        }
        pthread_mutex_lock(&job->conn->write_lock);
        /* The stamp is taken under the lock, right before the write. */
        int len = snprintf(frame, sizeof frame,
                           "{\"type\":\"delta\",\"id\":\"%s\",\"text\":\"%lld \"}\n", job->id,
                           now_ns());
        int rc = write_all(job->conn->fd, frame, (size_t)len);
        pthread_mutex_unlock(&job->conn->write_lock);
        if (rc != 0)
            goto out;
    }
    int len = snprintf(frame, sizeof frame,
                       "{\"type\":\"done\",\"id\":\"%s\",\"finish_reason\":\"stop\","
                       "\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":%ld}}\n",
                       job->id, job->chunks);
    (void)send_text(job->conn, frame, (size_t)len);
out:
    free(job);
    return NULL;
}

/* The text of the last message (a string, or its text parts joined). */
static const char *
last_text(const cJSON *request, char *joined, size_t size)
{
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(request, "messages");
    int count = cJSON_GetArraySize(messages);
    if (count <= 0)
        return "";
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(messages, count - 1),
                                                            "content");
    if (cJSON_IsString(content))
        return content->valuestring;
    joined[0] = '\0';
    const cJSON *part;
    cJSON_ArrayForEach(part, content) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
        if (cJSON_IsString(text))
            strncat(joined, text->valuestring, size - strlen(joined) - 1);
    }
    return joined;
}

static void
on_request(struct connection *conn, const cJSON *frame)
{
    const cJSON *id_item = cJSON_GetObjectItemCaseSensitive(frame, "id");
    if (!cJSON_IsString(id_item) || !plain_id(id_item->valuestring)) {
        fprintf(stderr, "instant_worker: request without a usable id\n");
        return;
    }
    const char *id = id_item->valuestring;
    char joined[4096];
    const char *text = last_text(frame, joined, sizeof joined);
    char buf[1024];
    long chunks, pace_us;
    const char *marker = strstr(text, "[[bench:");
    if (marker != NULL && sscanf(marker, "[[bench:stream:%ld:%ld]]", &chunks, &pace_us) == 2) {
        struct stream_job *job = calloc(1, sizeof *job);
        if (job == NULL)
            return;
        job->conn = conn;
        snprintf(job->id, sizeof job->id, "%s", id);
        job->chunks = chunks;
        job->pace_us = pace_us;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        pthread_t thread;
        if (pthread_create(&thread, &attr, stream_main, job) != 0)
            free(job);
        pthread_attr_destroy(&attr);
        return;
    }
    if (marker != NULL && strncmp(marker, "[[bench:hold]]", 14) == 0) {
        int len = snprintf(buf, sizeof buf,
                           "{\"type\":\"delta\",\"id\":\"%s\",\"text\":\"held\"}\n", id);
        (void)send_text(conn, buf, (size_t)len);
        return;
    }
    int len = snprintf(buf, sizeof buf,
                       "{\"type\":\"delta\",\"id\":\"%s\",\"text\":\"%s\"}\n"
                       "{\"type\":\"done\",\"id\":\"%s\",\"finish_reason\":\"stop\","
                       "\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":12}}\n",
                       id, INSTANT_REPLY, id);
    (void)send_text(conn, buf, (size_t)len);
}

static void
on_line(struct connection *conn, char *line)
{
    cJSON *frame = cJSON_Parse(line);
    if (frame == NULL)
        return;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(frame, "type");
    const char *kind = cJSON_IsString(type) ? type->valuestring : "";
    char buf[512];
    if (strcmp(kind, "request") == 0) {
        on_request(conn, frame);
    } else if (strcmp(kind, "ping") == 0) {
        (void)send_text(conn, "{\"type\":\"pong\"}\n", 16);
    } else if (strcmp(kind, "cancel") == 0) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(frame, "id");
        if (cJSON_IsString(id) && plain_id(id->valuestring)) {
            int len = snprintf(buf, sizeof buf,
                               "{\"type\":\"error\",\"id\":\"%s\",\"code\":\"cancelled\","
                               "\"message\":\"cancelled\"}\n",
                               id->valuestring);
            (void)send_text(conn, buf, (size_t)len);
        }
    } else if (strcmp(kind, "welcome") == 0) {
        pthread_mutex_lock(&ready_lock);
        if (++ready_count == connection_count) {
            printf("ready %d\n", ready_count);
            fflush(stdout);
        }
        pthread_mutex_unlock(&ready_lock);
    } else if (strcmp(kind, "error") == 0) {
        char *text = cJSON_PrintUnformatted(frame);
        fprintf(stderr, "instant_worker: connection %d: responder sent %s\n", conn->index,
                text ? text : "an error");
        free(text);
    }
    cJSON_Delete(frame);
}

static void *
connection_main(void *arg)
{
    struct connection *conn = arg;
    char hello[1024];
    int len = snprintf(hello, sizeof hello,
                       "{\"type\":\"hello\",\"protocol\":1,\"client\":\"instant-worker/1\","
                       "\"vscode\":\"1.100.0\",\"models\":[{\"id\":\"bench/%s\",\"vendor\":\"bench\","
                       "\"family\":\"%s\",\"name\":\"Bench %s\",\"version\":\"1\","
                       "\"max_input_tokens\":128000}],\"default_model\":\"bench/%s\"}\n",
                       model_family, model_family, model_family, model_family);
    if (send_text(conn, hello, (size_t)len) != 0)
        die("sending hello");

    size_t cap = READ_CHUNK * 2, used = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        die("malloc");
    for (;;) {
        if (cap - used < READ_CHUNK) {
            if (cap >= MAX_FRAME * 2) {
                fprintf(stderr, "instant_worker: frame too large\n");
                exit(1);
            }
            cap *= 2;
            char *grown = realloc(buf, cap);
            if (grown == NULL)
                die("realloc");
            buf = grown;
        }
        ssize_t n = read(conn->fd, buf + used, cap - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "instant_worker: connection %d closed by the responder\n", conn->index);
            exit(n == 0 ? 0 : 1);
        }
        used += (size_t)n;
        size_t start = 0;
        for (;;) {
            char *newline = memchr(buf + start, '\n', used - start);
            if (newline == NULL)
                break;
            *newline = '\0';
            if (newline > buf + start)
                on_line(conn, buf + start);
            start = (size_t)(newline - buf) + 1;
        }
        memmove(buf, buf + start, used - start);
        used -= start;
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    const char *pipe_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pipe") == 0 && i + 1 < argc)
            pipe_path = argv[++i];
        else if (strcmp(argv[i], "--connections") == 0 && i + 1 < argc)
            connection_count = atoi(argv[++i]);
        else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            model_family = argv[++i];
        else {
            fprintf(stderr,
                    "usage: instant_worker --pipe PATH [--connections N] [--model FAMILY]\n");
            return 2;
        }
    }
    if (pipe_path == NULL || connection_count < 1 ||
        strlen(pipe_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        fprintf(stderr, "instant_worker: --pipe PATH is required (and N >= 1)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    pthread_t *threads = calloc((size_t)connection_count, sizeof *threads);
    if (threads == NULL)
        die("calloc");
    for (int i = 0; i < connection_count; i++) {
        struct connection *conn = calloc(1, sizeof *conn);
        if (conn == NULL)
            die("calloc");
        conn->index = i;
        pthread_mutex_init(&conn->write_lock, NULL);
        conn->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (conn->fd < 0)
            die("socket");
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        memcpy(addr.sun_path, pipe_path, strlen(pipe_path) + 1);
        if (connect(conn->fd, (struct sockaddr *)&addr, sizeof addr) != 0)
            die(pipe_path);
        if (pthread_create(&threads[i], NULL, connection_main, conn) != 0)
            die("pthread_create");
    }
    for (int i = 0; i < connection_count; i++)
        pthread_join(threads[i], NULL);
    return 0;
}
