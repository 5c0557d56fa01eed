/* The metrics' parts without a responder: the exposition writer (escaping,
 * HELP/TYPE, histograms), the series table (shared slots, a restart that
 * keeps counting, a full table counting into the overflow series), and
 * the rendering of summed rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "metrics.h"
#include "metrics_render.h"
#include "metrics_store.h"
#include "metrics_text.h"

static char *
make_dir(void)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/litellm-metrics-XXXXXX");
    return mkdtemp(path);
}

static void
remove_dir(const char *dir)
{
    char command[256];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    CHECK(system(command) == 0);
}

static void
test_label_escaping(void)
{
    struct metrics_label_set set;
    metrics_label_set_init(&set);
    CHECK(metrics_text_label(&set, "model", "a\\b\"c\nd") == 0);
    CHECK(metrics_text_label(&set, "api", "chat") == 0);
    CHECK_STR(set.text.data, "model=\"a\\\\b\\\"c\\nd\",api=\"chat\"");
    /* Invalid UTF-8 is cut where it starts; valid multi-byte text stays. */
    metrics_label_set_reset(&set);
    CHECK(metrics_text_label(&set, "m", "d\xc3\xa9j\xe0\xff") == 0);
    CHECK_STR(set.text.data, "m=\"d\xc3\xa9j\"");
    metrics_label_set_free(&set);
}

static void
test_family_and_samples(void)
{
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    CHECK(metrics_text_family(&out, "x_total", "counter", "back\\slash\nline") == 0);
    CHECK(metrics_text_sample(&out, "x_total", NULL, 3) == 0);
    CHECK(metrics_text_sample(&out, "x_total", NULL, 0.25) == 0);
    CHECK_STR(out.data, "# HELP x_total back\\\\slash\\nline\n# TYPE x_total counter\n"
                        "x_total 3\nx_total 0.25\n");
    dynbuf_reset(&out);
    struct metrics_label_set set;
    metrics_label_set_init(&set);
    CHECK(metrics_text_label(&set, "api", "chat") == 0);
    const double bounds[] = { 0.1, 1 };
    const uint64_t buckets[] = { 2, 1 };
    CHECK(metrics_text_histogram(&out, "lat", &set, bounds, buckets, 2, 4, 2.5) == 0);
    CHECK_STR(out.data, "lat_bucket{api=\"chat\",le=\"0.1\"} 2\n"
                        "lat_bucket{api=\"chat\",le=\"1\"} 3\n"
                        "lat_bucket{api=\"chat\",le=\"+Inf\"} 4\n"
                        "lat_sum{api=\"chat\"} 2.5\nlat_count{api=\"chat\"} 4\n");
    metrics_label_set_free(&set);
    dynbuf_free(&out);
}

static struct metrics_labels
labels_of(const char *api, const char *model, const char *requested, const char *key,
          unsigned status)
{
    struct metrics_labels labels;
    memset(&labels, 0, sizeof labels);
    snprintf(labels.api, sizeof labels.api, "%s", api);
    snprintf(labels.model, sizeof labels.model, "%s", model);
    snprintf(labels.requested_model, sizeof labels.requested_model, "%s", requested);
    snprintf(labels.key_alias, sizeof labels.key_alias, "%s", key);
    labels.status_code = status;
    return labels;
}

static const struct metrics_row *
find_row(const struct metrics_row *rows, size_t count, const char *requested, unsigned status)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(rows[i].labels.requested_model, requested) == 0 &&
            rows[i].labels.status_code == status)
            return &rows[i];
    return NULL;
}

/* Two stores in one directory are two slots; a scrape from either sums
 * both, and a store opened after one closed takes its slot and goes on. */
static void
test_slots_sum_and_survive(void)
{
    char *dir = make_dir();
    CHECK(dir != NULL);
    char err[256];
    struct metrics_store *a = metrics_store_open(dir, err, sizeof err);
    struct metrics_store *b = metrics_store_open(dir, err, sizeof err);
    CHECK(a != NULL && b != NULL);
    CHECK(metrics_store_slot_index(a) != metrics_store_slot_index(b));
    struct metrics_labels ok = labels_of("chat", "copilot/gpt-4o", "gpt-4o", "alice", 200);
    struct metrics_sample sample = { 10, 5, 150000, 40000, 2000 };
    metrics_store_record(a, &ok, &sample);
    metrics_store_record(b, &ok, &sample);
    metrics_store_record(b, &ok, &sample);
    metrics_store_rate_limited(a, METRICS_SCOPE_KEY, METRICS_KIND_TOKENS);
    metrics_store_pipe(b, METRICS_PIPE_FRAMES_IN);

    struct metrics_row *rows;
    size_t count;
    struct metrics_totals totals;
    CHECK(metrics_store_collect(a, &rows, &count, &totals) == 0);
    CHECK(count == 1);
    CHECK(totals.live_slots == 2);
    CHECK(count == 1 && rows[0].requests == 3 && rows[0].input_tokens == 30 &&
          rows[0].output_tokens == 15);
    /* 0.15 s lands in the 0.25 bucket (index 5), 0.04 s in 0.05 (index 3). */
    CHECK(count == 1 && rows[0].latency.buckets[5] == 3 && rows[0].latency.count == 3);
    CHECK(count == 1 && rows[0].ttft.buckets[3] == 3 && rows[0].latency.sum_us == 450000);
    CHECK(totals.rate_limited[METRICS_SCOPE_KEY][METRICS_KIND_TOKENS] == 1);
    CHECK(totals.pipe[METRICS_PIPE_FRAMES_IN] == 1);
    free(rows);

    /* b "restarts": its slot is free, the next store takes it and counts on. */
    int b_index = metrics_store_slot_index(b);
    metrics_store_close(b);
    struct metrics_store *c = metrics_store_open(dir, err, sizeof err);
    CHECK(c != NULL && metrics_store_slot_index(c) == b_index);
    metrics_store_record(c, &ok, &sample);
    CHECK(metrics_store_collect(c, &rows, &count, &totals) == 0);
    CHECK(count == 1 && rows[0].requests == 4);
    CHECK(totals.live_slots == 2);
    free(rows);
    metrics_store_close(c);
    metrics_store_close(a);
    remove_dir(dir);
}

/* A table of 4 series: the fifth label set and later ones count into the
 * overflow series, and nothing is lost from the totals. */
static void
test_full_table_overflows(void)
{
    char *dir = make_dir();
    char err[256];
    struct metrics_store *store = metrics_store_open_capacity(dir, 4, err, sizeof err);
    CHECK(store != NULL);
    struct metrics_sample sample = { 1, 1, 1000, -1, 500 };
    for (int i = 0; i < 10; i++) {
        char requested[32];
        snprintf(requested, sizeof requested, "model-%d", i);
        struct metrics_labels labels = labels_of("chat", "m", requested, "", 200);
        metrics_store_record(store, &labels, &sample);
    }
    struct metrics_row *rows;
    size_t count;
    struct metrics_totals totals;
    CHECK(metrics_store_collect(store, &rows, &count, &totals) == 0);
    CHECK(count == 5); /* 4 series + the overflow */
    CHECK(totals.overflowed == 6);
    const struct metrics_row *overflow = find_row(rows, count, "(overflow)", 0);
    CHECK(overflow != NULL && overflow->requests == 6 && overflow->input_tokens == 6);
    uint64_t requests = 0;
    for (size_t i = 0; i < count; i++)
        requests += rows[i].requests;
    CHECK(requests == 10);
    free(rows);
    metrics_store_close(store);
    remove_dir(dir);
}

/* A process that dies leaves its slot counted but no longer live. */
static void
test_dead_process_slot(void)
{
    char *dir = make_dir();
    char err[256];
    pid_t child = fork();
    if (child == 0) {
        struct metrics_store *store = metrics_store_open(dir, err, sizeof err);
        struct metrics_labels labels = labels_of("messages", "m", "r", "", 429);
        struct metrics_sample sample = { 0, 0, 100, -1, 100 };
        metrics_store_record(store, &labels, &sample);
        _exit(store != NULL ? 0 : 1);
    }
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct metrics_store *store = metrics_store_open(dir, err, sizeof err);
    CHECK(store != NULL);
    struct metrics_row *rows;
    size_t count;
    struct metrics_totals totals;
    CHECK(metrics_store_collect(store, &rows, &count, &totals) == 0);
    CHECK(totals.live_slots == 1);
    const struct metrics_row *row = find_row(rows, count, "r", 429);
    CHECK(row != NULL && row->requests == 1);
    free(rows);
    metrics_store_close(store);
    remove_dir(dir);
}

/* A slot file of another layout (an older version, garbage) starts from
 * zero instead of being read as counters; a scrape never reads one. */
static void
test_foreign_slot_file(void)
{
    char *dir = make_dir();
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/slot-0", dir);
    FILE *file = fopen(path, "w");
    CHECK(file != NULL);
    for (int i = 0; file != NULL && i < 100000; i++)
        fputc(0xA5, file);
    if (file != NULL)
        fclose(file);
    struct metrics_store *store = metrics_store_open_capacity(dir, 4, err, sizeof err);
    CHECK(store != NULL && metrics_store_slot_index(store) == 0);
    struct metrics_row *rows;
    size_t count;
    struct metrics_totals totals;
    CHECK(metrics_store_collect(store, &rows, &count, &totals) == 0);
    CHECK(count == 0 && totals.pipe[METRICS_PIPE_FRAMES_IN] == 0);
    free(rows);
    /* And a garbage file in another slot is skipped by the scrape. */
    snprintf(path, sizeof path, "%s/slot-1", dir);
    file = fopen(path, "w");
    CHECK(file != NULL);
    for (int i = 0; file != NULL && i < 100000; i++)
        fputc(0x5A, file);
    if (file != NULL)
        fclose(file);
    CHECK(metrics_store_collect(store, &rows, &count, &totals) == 0);
    CHECK(count == 0 && totals.live_slots == 1);
    free(rows);
    metrics_store_close(store);
    remove_dir(dir);
}

/* Rows that differ by status add up in the families without status_code;
 * failures get exception_status and exception_class. */
static void
test_render_rows(void)
{
    struct metrics_row rows[2];
    memset(rows, 0, sizeof rows);
    rows[0].labels = labels_of("chat", "copilot/gpt-4o", "gpt-4o", "alice", 200);
    rows[0].requests = 2;
    rows[0].input_tokens = 7;
    rows[0].output_tokens = 3;
    rows[0].latency.buckets[0] = 2;
    rows[0].latency.count = 2;
    rows[1].labels = labels_of("chat", "copilot/gpt-4o", "gpt-4o", "alice", 429);
    rows[1].requests = 1;
    rows[1].latency.buckets[0] = 1;
    rows[1].latency.count = 1;
    struct metrics_totals totals = { .live_slots = 1 };
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    CHECK(metrics_render_rows(&out, rows, 2, &totals) == 0);
    char hash[17];
    metrics_key_hash("alice", hash);
    CHECK(strlen(hash) == 16 && strstr(hash, "alice") == NULL);
    char expect[512];
    snprintf(expect, sizeof expect,
             "litellm_proxy_total_requests_metric_total{hashed_api_key=\"%s\",api_key_alias="
             "\"alice\",requested_model=\"gpt-4o\",model=\"copilot/gpt-4o\",api=\"chat\","
             "status_code=\"429\"} 1\n",
             hash);
    CHECK(strstr(out.data, expect) != NULL);
    CHECK(strstr(out.data, "exception_status=\"429\",exception_class=\"RateLimitError\"} 1\n") !=
          NULL);
    CHECK(strstr(out.data, "api=\"chat\"} 10\n") != NULL); /* total tokens */
    CHECK(strstr(out.data, "litellm_request_total_latency_metric_count{") != NULL);
    CHECK(strstr(out.data, "le=\"+Inf\"} 3\n") != NULL);
    CHECK(strstr(out.data, "# TYPE litellm_llm_api_time_to_first_token_metric histogram\n") != NULL);
    /* No first token: no TTFT series. */
    CHECK(strstr(out.data, "litellm_llm_api_time_to_first_token_metric_bucket") == NULL);
    CHECK(strstr(out.data, "vscode_litellm_responder_processes 1\n") != NULL);
    dynbuf_free(&out);
}

int
main(void)
{
    test_label_escaping();
    test_family_and_samples();
    test_slots_sum_and_survive();
    test_full_table_overflows();
    test_dead_process_slot();
    test_foreign_slot_file();
    test_render_rows();
    return check_summary("test_metrics");
}
