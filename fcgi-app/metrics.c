#include "metrics.h"

#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "log.h"
#include "metrics_render.h"

static struct metrics_store *_Atomic metrics_current;

void
metrics_init(const struct config *cfg)
{
    /* Next to the file itself: responders that reach one state file through
     * symlinks share one metrics directory too. */
    char *copy = realpath(cfg->limits_state_file, NULL);
    if (copy == NULL)
        copy = strdup(cfg->limits_state_file);
    char dir[4096], err[512];
    if (copy == NULL) {
        log_warn("metrics: out of memory; /metrics reports gauges only");
        return;
    }
    snprintf(dir, sizeof dir, "%s/metrics", dirname(copy));
    free(copy);
    struct metrics_store *store = metrics_store_open(dir, err, sizeof err);
    if (store == NULL) {
        log_warn("%s; /metrics reports gauges only", err);
        return;
    }
    log_info("metrics: counting in %s/slot-%d", dir, metrics_store_slot_index(store));
    atomic_store(&metrics_current, store);
}

void
metrics_shutdown(void)
{
    metrics_store_close(atomic_exchange(&metrics_current, NULL));
}

static void
copy_label(char *out, size_t size, const char *value)
{
    size_t len = value ? strnlen(value, size - 1) : 0;
    if (len > 0)
        memcpy(out, value, len);
    out[len] = '\0';
}

static enum metrics_scope
scope_of(const char *scope)
{
    if (strcmp(scope, "key") == 0)
        return METRICS_SCOPE_KEY;
    if (strcmp(scope, "model") == 0)
        return METRICS_SCOPE_MODEL;
    if (strcmp(scope, "key_model") == 0)
        return METRICS_SCOPE_KEY_MODEL;
    return METRICS_SCOPE_GLOBAL;
}

static enum metrics_kind
kind_of(const char *kind)
{
    if (kind != NULL && strcmp(kind, "tokens") == 0)
        return METRICS_KIND_TOKENS;
    if (kind != NULL && strcmp(kind, "concurrent") == 0)
        return METRICS_KIND_CONCURRENT;
    return METRICS_KIND_REQUESTS;
}

void
metrics_record(const struct http_request *req, const struct request_outcome *outcome)
{
    struct metrics_store *store = atomic_load_explicit(&metrics_current, memory_order_acquire);
    if (store == NULL)
        return;
    if (outcome->limit_scope != NULL)
        metrics_store_rate_limited(store, scope_of(outcome->limit_scope),
                                   kind_of(outcome->limit_kind));
    if (outcome->api == NULL)
        return; /* not a model call */
    struct metrics_labels labels;
    copy_label(labels.api, sizeof labels.api, outcome->api);
    copy_label(labels.model, sizeof labels.model, outcome->model);
    copy_label(labels.requested_model, sizeof labels.requested_model, outcome->requested_model);
    copy_label(labels.key_alias, sizeof labels.key_alias, outcome->key_name);
    labels.status_code = req->status > 0 ? (uint32_t)req->status : 0;
    long long now = clock_monotonic_us();
    struct metrics_sample sample = {
        .input_tokens = outcome->prompt_tokens,
        .output_tokens = outcome->completion_tokens,
        .latency_us = now - req->started_us,
        .ttft_us = outcome->first_token_us > 0 ? outcome->first_token_us - req->started_us : -1,
    };
    sample.overhead_us = sample.latency_us - outcome->window_wait_us;
    if (sample.overhead_us < 0)
        sample.overhead_us = 0;
    metrics_store_record(store, &labels, &sample);
}

void
metrics_pipe(enum metrics_pipe_counter counter)
{
    metrics_store_pipe(atomic_load_explicit(&metrics_current, memory_order_acquire), counter);
}

int
metrics_render(struct dynbuf *out, const struct config *cfg)
{
    struct metrics_row *rows;
    size_t count;
    struct metrics_totals totals;
    struct metrics_store *store = atomic_load_explicit(&metrics_current, memory_order_acquire);
    if (metrics_store_collect(store, &rows, &count, &totals) != 0)
        return -1;
    int rc = metrics_render_rows(out, rows, count, &totals);
    free(rows);
    return rc == 0 && metrics_render_gauges(out, cfg) == 0 ? 0 : -1;
}
