/* GCRA arithmetic, Go-style durations, and the shared state file: limits
 * that hold across handles (processes), restarts, and dead processes'
 * concurrency slots. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "ratelimit.h"
#include "ratelimit_shm.h"

#define SECOND 1000000000LL

static void
test_gcra(void)
{
    struct gcra_result r;
    int64_t now = 1000 * SECOND, tat = 0;
    for (int i = 0; i < 3; i++) {
        gcra_check(tat, now, 3, 1, &r);
        CHECK(r.allowed);
        CHECK(r.remaining == 2 - i);
        tat = r.new_tat;
    }
    gcra_check(tat, now, 3, 1, &r);
    CHECK(!r.allowed);
    CHECK(r.retry_after_ns == 20 * SECOND); /* one every 60/3 s */
    gcra_check(tat, now + 20 * SECOND, 3, 1, &r);
    CHECK(r.allowed);
    /* No fixed window: after a full burst, 19 s later still nothing. */
    gcra_check(tat, now + 19 * SECOND, 3, 1, &r);
    CHECK(!r.allowed);

    /* Tokens: a cost larger than the limit can never pass. */
    gcra_check(0, now, 1000, 1001, &r);
    CHECK(!r.allowed && r.retry_after_ns < 0);
    gcra_check(0, now, 1000, 600, &r);
    CHECK(r.allowed && r.remaining == 400);
    gcra_check(r.new_tat, now, 1000, 600, &r);
    CHECK(!r.allowed && r.retry_after_ns == 12 * SECOND); /* 200 tokens short, 60 ms each */
}

static void
test_duration(void)
{
    char text[32];
    static const struct {
        int64_t ns;
        const char *go;
    } cases[] = {
        { 0, "0s" },
        { 850000000LL, "850ms" },
        { 1500000000LL, "1.5s" },
        { 20 * SECOND, "20s" },
        { 360 * SECOND, "6m0s" },
        { 3600 * SECOND, "1h0m0s" },
        { 61250000000LL, "1m1.25s" },
        { 1, "1ms" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        limit_format_duration(cases[i].ns, text, sizeof text);
        CHECK_STR(text, cases[i].go);
    }
}

static struct limit_request
request(const char *lease, long rpm, long tpm, long concurrent, long tokens)
{
    struct limit_request lr = { .scope_count = 1, .tokens = tokens };
    snprintf(lr.lease, sizeof lr.lease, "%s", lease);
    strcpy(lr.scopes[0].key, "global");
    lr.scopes[0].rule = (struct limit_rule){ rpm, tpm, concurrent };
    return lr;
}

static void
test_shared_file(const char *path)
{
    char err[256];
    struct limit_store *a = ratelimit_shm_open(path, err, sizeof err);
    struct limit_store *b = ratelimit_shm_open(path, err, sizeof err);
    CHECK(a != NULL && b != NULL);
    if (a == NULL || b == NULL)
        return;
    int64_t now = limit_now_ns();
    struct limit_verdict v;
    int allowed = 0;
    for (int i = 0; i < 6; i++) {
        struct limit_request lr = request("r", 4, 0, 0, 0);
        struct limit_store *store = i % 2 ? a : b; /* two "processes" */
        store->admit(store, &lr, now, &v);
        allowed += v.allowed;
    }
    CHECK(allowed == 4);
    CHECK(v.status.has_requests && v.status.remaining_requests == 0);

    /* A restart (a new mapping of the same file) keeps the window. */
    a->close(a);
    a = ratelimit_shm_open(path, err, sizeof err);
    struct limit_request lr = request("r", 4, 0, 0, 0);
    a->admit(a, &lr, now, &v);
    CHECK(!v.allowed && v.kind == LIMIT_REQUESTS && v.retry_after_ns > 0);

    /* Tokens reserved, then given back when the reply was shorter. */
    struct limit_request big = request("t1", 0, 1000, 0, 900);
    a->admit(a, &big, now, &v);
    CHECK(v.allowed);
    struct limit_request next = request("t2", 0, 1000, 0, 900);
    a->admit(a, &next, now, &v);
    CHECK(!v.allowed && v.kind == LIMIT_TOKENS);
    a->adjust_tokens(a, &big, 100 - 900, now); /* used 100 of 900 */
    b->admit(b, &next, now, &v);
    CHECK(v.allowed);
    a->release(a, &big);
    b->release(b, &next);
    a->close(a);
    b->close(b);
}

static void
test_concurrency(const char *path)
{
    char err[256];
    struct limit_store *store = ratelimit_shm_open(path, err, sizeof err);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    int64_t now = limit_now_ns();
    struct limit_verdict v;
    struct limit_request first = request("c1", 0, 0, 1, 0);
    struct limit_request second = request("c2", 0, 0, 1, 0);
    store->admit(store, &first, now, &v);
    CHECK(v.allowed);
    store->admit(store, &second, now, &v);
    CHECK(!v.allowed && v.kind == LIMIT_CONCURRENT);
    store->release(store, &first);
    store->admit(store, &second, now, &v);
    CHECK(v.allowed);
    store->release(store, &second);

    /* A process that dies holding a slot does not keep it. */
    pid_t child = fork();
    if (child == 0) {
        struct limit_store *mine = ratelimit_shm_open(path, err, sizeof err);
        struct limit_request held = request("child", 0, 0, 1, 0);
        struct limit_verdict cv;
        mine->admit(mine, &held, limit_now_ns(), &cv);
        _exit(cv.allowed ? 0 : 1); /* exits without releasing */
    }
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct limit_request after = request("after", 0, 0, 1, 0);
    store->admit(store, &after, now, &v);
    CHECK(v.allowed);
    store->release(store, &after);
    store->close(store);
}

int
main(void)
{
    test_gcra();
    test_duration();
    char path[] = "/tmp/litellm-ratelimit-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    test_shared_file(path);
    unlink(path);
    strcpy(path, "/tmp/litellm-ratelimit-XXXXXX");
    fd = mkstemp(path);
    close(fd);
    test_concurrency(path);
    unlink(path);
    return check_summary("ratelimit");
}
