#include "kept_conn.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

static pthread_once_t kept_once = PTHREAD_ONCE_INIT;
/* Written by kept_conn_want_acceptor; the first waiter to read it (a read
 * empties it) gives its connection up. */
static int kept_wanted = -1;
/* Written once by kept_conn_stop, never read: stays readable. */
static int kept_stopping = -1;
static atomic_uint kept_idle;
static atomic_bool kept_stopped;

static void
create_events(void)
{
    kept_wanted = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    kept_stopping = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (kept_wanted < 0 || kept_stopping < 0)
        log_warn("fastcgi: no eventfd for kept connections (%s): they are closed after each "
                 "request",
                 strerror(errno));
}

static void
signal_event(int fd)
{
    uint64_t one = 1;
    if (fd >= 0 && write(fd, &one, sizeof one) != sizeof one && errno != EAGAIN)
        log_warn("fastcgi: cannot signal kept connections: %s", strerror(errno));
}

/* Whether this thread took the "give one connection up" request. */
static bool
took_want(void)
{
    uint64_t count;
    return read(kept_wanted, &count, sizeof count) == sizeof count;
}

enum kept_conn_next
kept_conn_wait(int fd, bool (*acceptor_wanted)(void))
{
    pthread_once(&kept_once, create_events);
    if (kept_wanted < 0 || kept_stopping < 0 || atomic_load(&kept_stopped))
        return KEPT_CONN_GIVE_UP;
    atomic_fetch_add(&kept_idle, 1);
    enum kept_conn_next next = KEPT_CONN_GIVE_UP;
    for (;;) {
        struct pollfd fds[3] = {
            { .fd = fd, .events = POLLIN | POLLRDHUP },
            { .fd = kept_stopping, .events = POLLIN },
            { .fd = kept_wanted, .events = POLLIN },
        };
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_warn("fastcgi: waiting on a kept connection: %s", strerror(errno));
            break;
        }
        /* A request already sent is served, never dropped with the
         * connection. */
        if (fds[0].revents != 0) {
            next = KEPT_CONN_READABLE;
            break;
        }
        if (fds[1].revents != 0 || (fds[2].revents != 0 && took_want() && acceptor_wanted()))
            break;
    }
    atomic_fetch_sub(&kept_idle, 1);
    return next;
}

unsigned
kept_conn_idle(void)
{
    return atomic_load(&kept_idle);
}

void
kept_conn_want_acceptor(void)
{
    pthread_once(&kept_once, create_events);
    signal_event(kept_wanted);
}

void
kept_conn_stop(void)
{
    pthread_once(&kept_once, create_events);
    atomic_store(&kept_stopped, true);
    signal_event(kept_stopping);
}
