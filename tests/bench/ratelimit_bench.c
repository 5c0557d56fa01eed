/*
 * The limiter's cost per request: admit + settle + release of a request
 * with a global and a per-key scope (requests, tokens and concurrency),
 * on the shared state file and, given REDIS_URL, on Redis.
 *
 *   tests/bench/ratelimit_bench [ITERATIONS]    REDIS_URL=redis://127.0.0.1:6379
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ratelimit.h"
#include "ratelimit_redis.h"
#include "ratelimit_shm.h"

static double
measure(struct limit_store *store, long iterations)
{
    struct limit_request lr = { .scope_count = 2, .tokens = 100 };
    strcpy(lr.scopes[0].key, "global");
    lr.scopes[0].rule = (struct limit_rule){ 1000000000, 1000000000, 1000000 };
    strcpy(lr.scopes[1].key, "key:bench");
    lr.scopes[1].rule = (struct limit_rule){ 1000000000, 1000000000, 1000000 };
    struct limit_verdict verdict;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < iterations; i++) {
        snprintf(lr.lease, sizeof lr.lease, "bench-%ld", i);
        store->admit(store, &lr, limit_now_ns(), &verdict);
        store->adjust_tokens(store, &lr, -50, limit_now_ns());
        store->release(store, &lr);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    return ((double)(end.tv_sec - start.tv_sec) * 1e9 + (double)(end.tv_nsec - start.tv_nsec)) /
           (double)iterations;
}

int
main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 200000;
    char path[] = "/tmp/litellm-bench-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    close(fd);
    char err[256];
    struct limit_store *shm = ratelimit_shm_open(path, err, sizeof err);
    if (shm == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("shm state file: %.0f ns per request (admit + settle + release, 2 scopes)\n",
           measure(shm, iterations));
    const char *url = getenv("REDIS_URL");
    if (url != NULL) {
        struct limit_store *fallback = ratelimit_shm_open(path, err, sizeof err);
        struct limit_store *redis = ratelimit_redis_open(url, fallback, err, sizeof err);
        if (redis == NULL) {
            fprintf(stderr, "%s\n", err);
        } else {
            long n = iterations / 20 > 0 ? iterations / 20 : 1;
            printf("redis %s: %.0f ns per request (3 round trips)\n", url, measure(redis, n));
            char outage[256];
            if (ratelimit_redis_outage(redis, outage, sizeof outage) != NULL)
                printf("  (Redis was unreachable: %s; that figure is the fallback's)\n", outage);
            redis->close(redis);
        }
    }
    shm->close(shm);
    unlink(path);
    return 0;
}
