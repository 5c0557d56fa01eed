/*
 * litellm-fcgi: VS Code's language models as the OpenAI Chat Completions
 * API, a FastCGI responder behind nginx.  main() wires the parts together
 * and owns the process's life: start, serve, drain on SIGTERM, exit 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "drain.h"
#include "inflight.h"
#include "ratelimit_policy.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "pipe_server.h"
#include "server.h"
#include "usage_policy.h"

#define CANCEL_GRACE_MS 5000

/* Each open stream holds two descriptors (nginx's connection and its
 * mailbox); the default soft limit of 1024 would cap us near 500. */
static void
raise_fd_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
            log_warn("cannot raise the open-file limit: %s", strerror(errno));
    }
}

/* Written whole under a temporary name and renamed, so that a reader
 * (litellmctl) never sees an empty or half-written pid file. */
static int
write_pid_file(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        log_error("pid file path too long: %s", path);
        return -1;
    }
    FILE *file = fopen(tmp, "we");
    if (file == NULL) {
        log_error("cannot write pid file %s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(file, "%ld\n", (long)getpid());
    if (fclose(file) != 0 || rename(tmp, path) != 0) {
        log_error("cannot write pid file %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void
drain(const struct config *cfg)
{
    unsigned busy = server_busy_count();
    log_info("draining: %u request(s) in flight, %u s to finish", busy, cfg->drain_timeout);
    drain_begin();
    server_stop_accepting();
    pipe_server_stop_accepting();
    unsigned left = server_wait(clock_monotonic_ms() + (long long)cfg->drain_timeout * 1000);
    if (left > 0) {
        log_warn("drain deadline passed: cancelling %zu request(s)", inflight_count());
        drain_deadline_passed();
        left = server_wait(clock_monotonic_ms() + CANCEL_GRACE_MS);
        if (left > 0)
            log_error("%u worker thread(s) did not end; exiting anyway", left);
    }
    pipe_server_stop();
}

int
main(int argc, char **argv)
{
    struct config cfg;
    config_init(&cfg);
    int parsed = config_from_args(&cfg, argc, argv);
    if (parsed != CONFIG_OK) {
        config_free(&cfg);
        return parsed == CONFIG_EXIT_SUCCESS ? EXIT_SUCCESS : EXIT_FAILURE;
    }
    if (log_open(cfg.log_level, cfg.log_file) != 0) {
        fprintf(stderr, "litellm-fcgi: cannot open log file %s: %s\n", cfg.log_file,
                strerror(errno));
        config_free(&cfg);
        return EXIT_FAILURE;
    }
    raise_fd_limit();

    /* Writes to a vanished peer must fail with EPIPE, not kill us; and the
     * shutdown signals are taken by sigwait() below, in this thread only. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t shutdown_signals;
    sigemptyset(&shutdown_signals);
    sigaddset(&shutdown_signals, SIGTERM);
    sigaddset(&shutdown_signals, SIGINT);
    sigaddset(&shutdown_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &shutdown_signals, NULL);

    int status = EXIT_FAILURE;
    if (auth_init(&cfg) != 0)
        goto out;
    if (ratelimit_policy_init(&cfg) != 0)
        goto out_auth;
    metrics_init(&cfg);
    if (usage_policy_init(&cfg) != 0)
        goto out_limits;
    if (pipe_server_start(&cfg) != 0)
        goto out_usage;
    if (server_start(&cfg) != 0) {
        pipe_server_stop();
        goto out_usage;
    }
    if (cfg.pid_file != NULL && write_pid_file(cfg.pid_file) != 0) {
        drain(&cfg);
        goto out;
    }
    log_info("litellm-fcgi %s ready (pid %ld)", PACKAGE_VERSION, (long)getpid());

    for (;;) {
        int signo;
        if (sigwait(&shutdown_signals, &signo) != 0)
            continue;
        if (signo == SIGHUP) {
            log_info("SIGHUP ignored: restart the responder to apply a new configuration");
            continue;
        }
        log_info("%s received", signo == SIGINT ? "SIGINT" : "SIGTERM");
        break;
    }
    drain(&cfg);
    if (cfg.pid_file != NULL)
        unlink(cfg.pid_file);
    log_info("litellm-fcgi stopped");
    status = EXIT_SUCCESS;
out_usage:
    usage_policy_shutdown();
out_limits:
    metrics_shutdown();
    ratelimit_policy_shutdown();
out_auth:
    auth_shutdown();
out:
    log_close();
    config_free(&cfg);
    return status;
}
