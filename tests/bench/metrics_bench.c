/*
 * The cost per request of counting it for /metrics: metrics_store_record
 * of a request whose label set exists (the steady state), with 1 and 2
 * threads recording at once into one slot (the responder's threads share
 * their process's slot).
 *
 *   tests/bench/metrics_bench [ITERATIONS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics_store.h"

struct run {
    struct metrics_store *store;
    long iterations;
    int thread;
    double ns_per_record;
};

static double
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *
record_loop(void *arg)
{
    struct run *run = arg;
    struct metrics_labels labels;
    memset(&labels, 0, sizeof labels);
    snprintf(labels.api, sizeof labels.api, "chat");
    snprintf(labels.model, sizeof labels.model, "copilot/gpt-4o");
    snprintf(labels.requested_model, sizeof labels.requested_model, "gpt-4o");
    snprintf(labels.key_alias, sizeof labels.key_alias, "key-%d", run->thread);
    labels.status_code = 200;
    struct metrics_sample sample = { 120, 40, 180000, 60000, 900 };
    double start = now_ns();
    for (long i = 0; i < run->iterations; i++) {
        sample.latency_us = 1000 + (i & 0xffff) * 10;
        metrics_store_record(run->store, &labels, &sample);
    }
    run->ns_per_record = (now_ns() - start) / (double)run->iterations;
    return NULL;
}

static int
measure(struct metrics_store *store, int threads, long iterations)
{
    struct run runs[2];
    pthread_t ids[2];
    for (int i = 0; i < threads; i++) {
        runs[i] = (struct run){ store, iterations, i, 0 };
        if (pthread_create(&ids[i], NULL, record_loop, &runs[i]) != 0)
            return -1;
    }
    for (int i = 0; i < threads; i++)
        pthread_join(ids[i], NULL);
    double sum = 0;
    for (int i = 0; i < threads; i++)
        sum += runs[i].ns_per_record;
    printf("%d thread%s: %.1f ns per request recorded (each thread)\n", threads,
           threads == 1 ? " " : "s", sum / threads);
    return 0;
}

int
main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 2000000;
    char dir[] = "/tmp/litellm-metrics-bench-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    char err[256];
    struct metrics_store *store = metrics_store_open(dir, err, sizeof err);
    if (store == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int rc = measure(store, 1, iterations) == 0 && measure(store, 2, iterations) == 0 ? 0 : 1;
    metrics_store_close(store);
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
