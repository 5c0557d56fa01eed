/*
 * clock: monotonic time for durations and deadlines (it never jumps with
 * the wall clock).  The limiter, which must agree across processes and
 * restarts, uses wall-clock time instead (ratelimit.c).
 */
#ifndef LITELLM_CLOCK_H
#define LITELLM_CLOCK_H

#include <time.h>

static inline long long
clock_monotonic_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

static inline long long
clock_monotonic_ms(void)
{
    return clock_monotonic_us() / 1000;
}

#endif
