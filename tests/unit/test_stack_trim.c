/*
 * stack_trim: a thread that went deep and came back gives the pages below
 * its frame back (mincore says they are no longer resident), keeps what its
 * own frame holds, and goes deep again as before; the main thread's stack
 * is left alone.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "stack_trim.h"

#define DEEP_BYTES (64 * 1024)
/* The server's request threads have this stack (server.c). */
#define THREAD_STACK (256 * 1024)

/* Where go_deep's buffer was last (an address, not a pointer to use). */
static uintptr_t deep_at;

/* Touches DEEP_BYTES of stack below the caller; returns a checksum. */
static __attribute__((noinline)) unsigned
go_deep(unsigned seed)
{
    volatile unsigned char deep[DEEP_BYTES];
    deep_at = (uintptr_t)deep;
    for (size_t i = 0; i < sizeof deep; i++)
        deep[i] = (unsigned char)(seed + i);
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof deep; i += 4096)
        sum += deep[i];
    return sum;
}

/* Resident pages of this thread's stack between its lowest address and
 * `below` (an address in the caller's frame), less a page of slack. */
static __attribute__((noinline)) long
resident_pages_below(const volatile void *below)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    long page = sysconf(_SC_PAGESIZE);
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return -1;
    int rc = pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        return -1;
    uintptr_t start = ((uintptr_t)addr + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t end = ((uintptr_t)below - 2 * (uintptr_t)page) & ~((uintptr_t)page - 1);
    if (end <= start)
        return 0;
    size_t pages = (end - start) / (size_t)page;
    unsigned char *vec = malloc(pages);
    if (vec == NULL || mincore((void *)start, end - start, vec) != 0) {
        free(vec);
        return -1;
    }
    long resident = 0;
    for (size_t i = 0; i < pages; i++)
        resident += vec[i] & 1;
    free(vec);
    return resident;
}

static void *
thread_main(void *arg)
{
    (void)arg;
    volatile unsigned char mine[512];
    for (size_t i = 0; i < sizeof mine; i++)
        mine[i] = (unsigned char)(i * 7);

    unsigned first = go_deep(1);
    long before = resident_pages_below(mine);
    CHECK(before >= DEEP_BYTES / 4096 - 2);

    stack_trim();
    long after = resident_pages_below(mine);
    CHECK(after >= 0);
    CHECK(after <= 1);

    /* The caller's frame is untouched. */
    int intact = 1;
    for (size_t i = 0; i < sizeof mine; i++)
        intact &= mine[i] == (unsigned char)(i * 7);
    CHECK(intact);

    /* Deep again: the pages come back, as zero pages, and work. */
    CHECK(go_deep(1) == first);
    CHECK(resident_pages_below(mine) >= DEEP_BYTES / 4096 - 2);
    return NULL;
}

/* Resident pages among the whole pages of go_deep's last buffer. */
static long
deep_pages_resident(void)
{
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t start = (deep_at + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t end = (deep_at + DEEP_BYTES) & ~((uintptr_t)page - 1);
    unsigned char vec[DEEP_BYTES / 4096];
    if (end <= start || (end - start) / (uintptr_t)page > sizeof vec ||
        mincore((void *)start, end - start, vec) != 0)
        return -1;
    long resident = 0;
    for (size_t i = 0; i < (end - start) / (uintptr_t)page; i++)
        resident += vec[i] & 1;
    return resident;
}

int
main(void)
{
    /* The main thread's stack is left alone: its bounds are not a mapping
     * of its own. */
    go_deep(2);
    stack_trim();
    CHECK(deep_pages_resident() >= DEEP_BYTES / 4096 - 2);

    pthread_attr_t attr;
    pthread_t thread;
    CHECK(pthread_attr_init(&attr) == 0);
    CHECK(pthread_attr_setstacksize(&attr, THREAD_STACK) == 0);
    int rc = pthread_create(&thread, &attr, thread_main, NULL);
    CHECK(rc == 0);
    if (rc == 0)
        CHECK(pthread_join(thread, NULL) == 0);
    pthread_attr_destroy(&attr);
    return check_summary("stack_trim");
}
