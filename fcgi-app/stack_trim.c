#include "stack_trim.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* Room left under the caller's frame for stack_trim's own frame and
 * madvise's; generous, since the x86-64 red zone alone is 128 bytes. */
#define TRIM_SPARE 512

/* The lowest usable address of this thread's stack; 1 where there is
 * nothing to trim. */
static _Thread_local uintptr_t stack_low;

static uintptr_t
lowest_stack_address(void)
{
    if (stack_low != 0)
        return stack_low;
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
    stack_low = 1;
    /* The main thread's stack grows on demand, and glibc reports its
     * bounds from RLIMIT_STACK, not from a mapping of its own: left alone
     * (the request harness and the fuzzers serve requests on it). */
    if (gettid() == getpid())
        return stack_low;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return stack_low;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0 && addr != NULL)
        stack_low = (uintptr_t)addr;
    pthread_attr_destroy(&attr);
    return stack_low;
}

/* Not inlined: the frame it measures from must be its own, below the
 * caller's. */
__attribute__((noinline)) void
stack_trim(void)
{
    uintptr_t low = lowest_stack_address();
    long page = sysconf(_SC_PAGESIZE);
    if (low <= 1 || page <= 0)
        return;
    volatile char here = 0;
    uintptr_t mask = ~((uintptr_t)page - 1);
    uintptr_t start = (low + (uintptr_t)page - 1) & mask;
    uintptr_t end = ((uintptr_t)&here - TRIM_SPARE) & mask;
    /* Best effort: a failure only leaves the pages resident. */
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_DONTNEED);
}
