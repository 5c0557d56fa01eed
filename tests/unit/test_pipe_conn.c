/*
 * pipe_conn_try_send_line, the watcher's ping: it never waits, neither for
 * room in a full socket nor for another thread's write in progress, and it
 * never cuts into another frame; with room it sends the line whole.
 *
 * A send that waited would hang here: alarm() ends the run instead.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "pipe_conn.h"

#define PING "{\"type\":\"ping\"}\n"
#define GUARD_SECONDS 20

/* Writes filler into the socket until it takes no more; how many bytes. */
static size_t
fill(int fd)
{
    char filler[4096];
    memset(filler, 'x', sizeof filler);
    size_t total = 0;
    for (;;) {
        ssize_t n = send(fd, filler, sizeof filler, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0)
            return total;
        total += (size_t)n;
    }
}

/* Reads exactly len bytes into out (blocking). */
static int
read_exactly(int fd, char *out, size_t len)
{
    while (len > 0) {
        ssize_t n = read(fd, out, len);
        if (n <= 0)
            return -1;
        out += n;
        len -= (size_t)n;
    }
    return 0;
}

struct sender {
    struct pipe_conn *conn;
    const char *line;
    size_t len;
    int rc;
};

static void *
send_main(void *arg)
{
    struct sender *sender = arg;
    sender->rc = pipe_conn_send_line(sender->conn, sender->line, sender->len);
    return NULL;
}

static bool
is_sending(struct pipe_conn *conn)
{
    pthread_mutex_lock(&conn->write_lock);
    bool sending = conn->sending;
    pthread_mutex_unlock(&conn->write_lock);
    return sending;
}

int
main(void)
{
    alarm(GUARD_SECONDS);
    (void)log_open(LOG_ERROR, NULL);
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        perror("socketpair");
        return 1;
    }
    int small = 8192;
    (void)setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    struct pipe_conn *conn = pipe_conn_new(fds[0], 1, getuid(), getpid());
    CHECK(conn != NULL);
    if (conn == NULL)
        return check_summary("pipe_conn");

    /* Room: the ping goes out whole. */
    char got[sizeof PING];
    CHECK(pipe_conn_try_send_line(conn, PING, strlen(PING)) == 0);
    CHECK(read_exactly(fds[1], got, strlen(PING)) == 0);
    CHECK(memcmp(got, PING, strlen(PING)) == 0);

    /* A full socket: not sent, not waited for, the window not broken. */
    size_t filled = fill(fds[0]);
    CHECK(filled > 0);
    CHECK(pipe_conn_try_send_line(conn, PING, strlen(PING)) == PIPE_CONN_BUSY);
    CHECK(!atomic_load(&conn->broken));

    /* Another thread writing (it waits for room): the ping does not wait
     * for it, nor slip into its frame. */
    size_t big_len = 64 * 1024;
    char *big = malloc(big_len);
    CHECK(big != NULL);
    if (big == NULL)
        return check_summary("pipe_conn");
    memset(big, 'b', big_len - 1);
    big[big_len - 1] = '\n';
    struct sender sender = { conn, big, big_len, -2 };
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, send_main, &sender) == 0);
    while (!is_sending(conn))
        sched_yield();
    CHECK(pipe_conn_try_send_line(conn, PING, strlen(PING)) == PIPE_CONN_BUSY);

    /* The peer reads the filler, then the frame whole, then nothing more. */
    char *all = malloc(filled + big_len);
    CHECK(all != NULL && read_exactly(fds[1], all, filled + big_len) == 0);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(sender.rc == 0);
    if (all != NULL) {
        size_t x = 0;
        while (x < filled && all[x] == 'x')
            x++;
        CHECK(x == filled);
        CHECK(memcmp(all + filled, big, big_len) == 0);
    }
    char extra;
    CHECK(recv(fds[1], &extra, 1, MSG_DONTWAIT) < 0);

    /* Room again: sent. */
    CHECK(pipe_conn_try_send_line(conn, PING, strlen(PING)) == 0);
    CHECK(read_exactly(fds[1], got, strlen(PING)) == 0);
    CHECK(memcmp(got, PING, strlen(PING)) == 0);

    free(all);
    free(big);
    pipe_conn_unref(conn);
    close(fds[1]);
    return check_summary("pipe_conn");
}
