#include "drain.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

static pthread_once_t drain_once = PTHREAD_ONCE_INIT;
static int drain_event = -1;
static atomic_bool drain_reached;
static atomic_bool drain_started;

static void
create_event(void)
{
    drain_event = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

int
drain_fd(void)
{
    pthread_once(&drain_once, create_event);
    return drain_event;
}

void
drain_deadline_passed(void)
{
    uint64_t one = 1;
    int fd = drain_fd();
    atomic_store(&drain_reached, true);
    if (fd >= 0)
        (void)!write(fd, &one, sizeof one); /* never read: stays readable */
}

bool
drain_deadline_reached(void)
{
    return atomic_load(&drain_reached);
}

void
drain_begin(void)
{
    atomic_store(&drain_started, true);
}

bool
drain_begun(void)
{
    return atomic_load(&drain_started);
}
