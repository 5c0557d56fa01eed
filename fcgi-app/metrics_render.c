/* The exposition of the summed rows (LiteLLM's families: requests, tokens,
 * the three histograms; the gateway's counters) and of the answering
 * process's gauges, in the text format metrics_text.c writes. */
#include "metrics_render.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "metrics_text.h"
#include "ratelimit_policy.h"
#include "status.h"

void
metrics_key_hash(const char *key_name, char out[17])
{
    out[0] = '\0';
    if (key_name == NULL || *key_name == '\0')
        return;
    /* Keyed with a fixed label so the figure is of this use only. */
    static const unsigned char context[crypto_generichash_KEYBYTES_MIN] = "vscode-litellm/m";
    unsigned char digest[8];
    if (crypto_generichash(digest, sizeof digest, (const unsigned char *)key_name, strlen(key_name),
                           context, sizeof context) != 0)
        return;
    sodium_bin2hex(out, 17, digest, sizeof digest);
}

static double bounds_seconds[METRICS_BUCKETS];

static void
bounds_init(void)
{
    for (int i = 0; i < METRICS_BUCKETS; i++)
        bounds_seconds[i] = (double)metrics_bucket_bounds_us[i] / 1e6;
}

/* LiteLLM's exception_class, from the status (the class its OpenAI-style
 * exceptions would have). */
static const char *
exception_class(uint32_t status)
{
    switch (status) {
    case 400: return "BadRequestError";
    case 401: return "AuthenticationError";
    case 403: return "PermissionDeniedError";
    case 404: return "NotFoundError";
    case 408:
    case 504: return "Timeout";
    case 413: return "BadRequestError";
    case 429: return "RateLimitError";
    case 503:
    case 529: return "ServiceUnavailableError";
    default: return status >= 500 ? "InternalServerError" : "APIError";
    }
}

/* Rows are sorted by api, model, requested model, key, status: rows that
 * differ only by status are neighbours, and families without status_code
 * add them up. */
static bool
same_but_status(const struct metrics_row *a, const struct metrics_row *b)
{
    return strcmp(a->labels.api, b->labels.api) == 0 &&
           strcmp(a->labels.model, b->labels.model) == 0 &&
           strcmp(a->labels.requested_model, b->labels.requested_model) == 0 &&
           strcmp(a->labels.key_alias, b->labels.key_alias) == 0;
}

static int
key_labels(struct metrics_label_set *set, const struct metrics_labels *labels)
{
    char hash[17];
    metrics_key_hash(labels->key_alias, hash);
    return metrics_text_label(set, "hashed_api_key", hash) ||
           metrics_text_label(set, "api_key_alias", labels->key_alias);
}

/* hashed_api_key, api_key_alias, requested_model, model, api. */
static int
request_labels(struct metrics_label_set *set, const struct metrics_labels *labels)
{
    metrics_label_set_reset(set);
    return key_labels(set, labels) ||
           metrics_text_label(set, "requested_model", labels->requested_model) ||
           metrics_text_label(set, "model", labels->model) ||
           metrics_text_label(set, "api", labels->api);
}

static int
render_requests(struct dynbuf *out, struct metrics_label_set *set, const struct metrics_row *rows,
                size_t count)
{
    int rc = metrics_text_family(out, "litellm_proxy_total_requests_metric_total", "counter",
                                 "Requests to the gateway's model APIs, by key, model, status and "
                                 "wire API (chat, messages, responses).");
    for (size_t i = 0; i < count && rc == 0; i++) {
        char status[16];
        snprintf(status, sizeof status, "%u", rows[i].labels.status_code);
        rc = request_labels(set, &rows[i].labels) ||
             metrics_text_label(set, "status_code", status) ||
             metrics_text_sample(out, "litellm_proxy_total_requests_metric_total", set,
                                 (double)rows[i].requests);
    }
    rc |= metrics_text_family(out, "litellm_proxy_failed_requests_metric_total", "counter",
                              "Requests the client did not get a success response for.");
    for (size_t i = 0; i < count && rc == 0; i++) {
        if (rows[i].labels.status_code < 400)
            continue;
        char status[16];
        snprintf(status, sizeof status, "%u", rows[i].labels.status_code);
        rc = request_labels(set, &rows[i].labels) ||
             metrics_text_label(set, "exception_status", status) ||
             metrics_text_label(set, "exception_class",
                                exception_class(rows[i].labels.status_code)) ||
             metrics_text_sample(out, "litellm_proxy_failed_requests_metric_total", set,
                                 (double)rows[i].requests);
    }
    return rc;
}

/* What a family without status_code adds up over a run of rows. */
struct run_total {
    uint64_t input_tokens, output_tokens;
    struct metrics_histogram_sum latency, ttft, overhead;
};

static void
run_add_histogram(struct metrics_histogram_sum *into, const struct metrics_histogram_sum *from)
{
    for (int i = 0; i < METRICS_BUCKETS; i++)
        into->buckets[i] += from->buckets[i];
    into->count += from->count;
    into->sum_us += from->sum_us;
}

/* The run of rows from `start` that differ only by status; returns its end. */
static size_t
run_collect(const struct metrics_row *rows, size_t count, size_t start, struct run_total *total)
{
    memset(total, 0, sizeof *total);
    size_t end = start;
    while (end < count && same_but_status(&rows[start], &rows[end])) {
        total->input_tokens += rows[end].input_tokens;
        total->output_tokens += rows[end].output_tokens;
        run_add_histogram(&total->latency, &rows[end].latency);
        run_add_histogram(&total->ttft, &rows[end].ttft);
        run_add_histogram(&total->overhead, &rows[end].overhead);
        end++;
    }
    return end;
}

static int
histogram(struct dynbuf *out, const char *name, const struct metrics_label_set *set,
          const struct metrics_histogram_sum *h)
{
    return metrics_text_histogram(out, name, set, bounds_seconds, h->buckets, METRICS_BUCKETS,
                                  h->count, (double)h->sum_us / 1e6);
}

enum run_family { RUN_INPUT, RUN_OUTPUT, RUN_TOTAL, RUN_LATENCY, RUN_TTFT, RUN_OVERHEAD };

static const struct {
    const char *name, *type, *help;
} run_families[] = {
    [RUN_INPUT] = { "litellm_input_tokens_metric_total", "counter",
                    "Input (prompt) tokens, as the model's own counter reported them." },
    [RUN_OUTPUT] = { "litellm_output_tokens_metric_total", "counter",
                     "Output (completion) tokens, as the model's own counter reported them." },
    [RUN_TOTAL] = { "litellm_total_tokens_metric_total", "counter", "Input plus output tokens." },
    [RUN_LATENCY] = { "litellm_request_total_latency_metric", "histogram",
                      "Seconds from the request's arrival to its last byte." },
    [RUN_TTFT] = { "litellm_llm_api_time_to_first_token_metric", "histogram",
                   "Seconds from the request's arrival to the model's first token." },
    [RUN_OVERHEAD] = { "litellm_overhead_latency_metric", "histogram",
                       "Seconds the gateway itself took: the total minus the time waiting for "
                       "the VS Code window." },
};

static int
run_labels(struct metrics_label_set *set, enum run_family family, const struct metrics_labels *l)
{
    if (family != RUN_OVERHEAD)
        return request_labels(set, l);
    /* LiteLLM's labels for this one: the name asked for and the model. */
    metrics_label_set_reset(set);
    return metrics_text_label(set, "model_group", l->requested_model) ||
           metrics_text_label(set, "litellm_model_name", l->model) || key_labels(set, l) ||
           metrics_text_label(set, "api", l->api);
}

static int
render_run_family(struct dynbuf *out, struct metrics_label_set *set, enum run_family family,
                  const struct metrics_row *rows, size_t count)
{
    const char *name = run_families[family].name;
    int rc = metrics_text_family(out, name, run_families[family].type, run_families[family].help);
    struct run_total total;
    for (size_t start = 0, end; start < count && rc == 0; start = end) {
        end = run_collect(rows, count, start, &total);
        if (family == RUN_TTFT && total.ttft.count == 0)
            continue;
        rc = run_labels(set, family, &rows[start].labels);
        switch (family) {
        case RUN_INPUT:
            rc |= metrics_text_sample(out, name, set, (double)total.input_tokens);
            break;
        case RUN_OUTPUT:
            rc |= metrics_text_sample(out, name, set, (double)total.output_tokens);
            break;
        case RUN_TOTAL:
            rc |= metrics_text_sample(out, name, set,
                                      (double)(total.input_tokens + total.output_tokens));
            break;
        case RUN_LATENCY: rc |= histogram(out, name, set, &total.latency); break;
        case RUN_TTFT: rc |= histogram(out, name, set, &total.ttft); break;
        case RUN_OVERHEAD: rc |= histogram(out, name, set, &total.overhead); break;
        }
    }
    return rc;
}

static const char *const scope_names[METRICS_SCOPE_COUNT] = { "global", "key", "model",
                                                              "key_model" };
static const char *const kind_names[METRICS_KIND_COUNT] = { "requests", "tokens", "concurrent" };

static int
render_totals(struct dynbuf *out, struct metrics_label_set *set, const struct metrics_totals *t)
{
    int rc = metrics_text_family(out, "vscode_litellm_rate_limited_total", "counter",
                                 "Requests refused with 429 by the gateway's limiter, by the "
                                 "scope and kind of the limit that refused them.");
    for (int s = 0; s < METRICS_SCOPE_COUNT; s++)
        for (int k = 0; k < METRICS_KIND_COUNT; k++) {
            metrics_label_set_reset(set);
            rc |= metrics_text_label(set, "scope", scope_names[s]) ||
                  metrics_text_label(set, "kind", kind_names[k]) ||
                  metrics_text_sample(out, "vscode_litellm_rate_limited_total", set,
                                      (double)t->rate_limited[s][k]);
        }
    rc |= metrics_text_family(out, "vscode_litellm_pipe_frames_total", "counter",
                              "Frames on the pipe to the VS Code windows, by direction.");
    metrics_label_set_reset(set);
    rc |= metrics_text_label(set, "direction", "in") ||
          metrics_text_sample(out, "vscode_litellm_pipe_frames_total", set,
                              (double)t->pipe[METRICS_PIPE_FRAMES_IN]);
    metrics_label_set_reset(set);
    rc |= metrics_text_label(set, "direction", "out") ||
          metrics_text_sample(out, "vscode_litellm_pipe_frames_total", set,
                              (double)t->pipe[METRICS_PIPE_FRAMES_OUT]);
    rc |= metrics_text_family(out, "vscode_litellm_pipe_errors_total", "counter",
                              "Pipe errors: refused lines, frames over 16 MiB, failed writes.") ||
          metrics_text_sample(out, "vscode_litellm_pipe_errors_total", NULL,
                              (double)t->pipe[METRICS_PIPE_ERRORS]);
    rc |= metrics_text_family(out, "vscode_litellm_metrics_overflow_total", "counter",
                              "Requests counted in the overflow series because a responder's "
                              "table of label sets was full.") ||
          metrics_text_sample(out, "vscode_litellm_metrics_overflow_total", NULL,
                              (double)t->overflowed);
    rc |= metrics_text_family(out, "vscode_litellm_responder_processes", "gauge",
                              "Responder processes counting into this host's metrics "
                              "directory.") ||
          metrics_text_sample(out, "vscode_litellm_responder_processes", NULL,
                              (double)t->live_slots);
    return rc;
}

int
metrics_render_rows(struct dynbuf *out, const struct metrics_row *rows, size_t count,
                    const struct metrics_totals *totals)
{
    if (bounds_seconds[METRICS_BUCKETS - 1] == 0)
        bounds_init();
    struct metrics_label_set set;
    metrics_label_set_init(&set);
    int rc = render_requests(out, &set, rows, count);
    for (int family = RUN_INPUT; family <= RUN_OVERHEAD && rc == 0; family++)
        rc = render_run_family(out, &set, (enum run_family)family, rows, count);
    rc |= render_totals(out, &set, totals);
    metrics_label_set_free(&set);
    return rc ? -1 : 0;
}

/* ------------------------------------------------- this process's gauges */

static double
number_at(const cJSON *doc, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, name);
    return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

static int
render_thread_gauges(struct dynbuf *out, struct metrics_label_set *set, const cJSON *doc)
{
    const cJSON *threads = cJSON_GetObjectItemCaseSensitive(doc, "threads");
    static const char *const states[] = { "busy", "started", "max" };
    int rc = metrics_text_family(out, "vscode_litellm_responder_threads", "gauge",
                                 "The answering responder's FastCGI threads: busy (the scrape "
                                 "included), started, and the most there may be (--threads).");
    for (size_t i = 0; i < sizeof states / sizeof *states; i++) {
        metrics_label_set_reset(set);
        rc |= metrics_text_label(set, "state", states[i]) ||
              metrics_text_sample(out, "vscode_litellm_responder_threads", set,
                                  number_at(threads, states[i]));
    }
    return rc;
}

static int
render_store_gauges(struct dynbuf *out, struct metrics_label_set *set, const cJSON *doc,
                    const struct config *cfg)
{
    const cJSON *store = cJSON_GetObjectItemCaseSensitive(doc, "limits_store");
    const cJSON *active = cJSON_GetObjectItemCaseSensitive(store, "active");
    const char *active_name = cJSON_IsString(active) ? active->valuestring : "shm";
    bool fallback = strncmp(active_name, "shm (", 5) == 0;
    metrics_label_set_reset(set);
    int rc = metrics_text_family(out, "vscode_litellm_limits_store_info", "gauge",
                                 "The limiter's store: configured (shm, or redis) and active "
                                 "(shm while Redis is unreachable).") ||
             metrics_text_label(set, "configured",
                                strcmp(cfg->limits_store, "shm") == 0 ? "shm" : "redis") ||
             metrics_text_label(set, "active", fallback ? "shm" : active_name) ||
             metrics_text_sample(out, "vscode_litellm_limits_store_info", set, 1);
    rc |= metrics_text_family(out, "vscode_litellm_limits_store_fallback_active", "gauge",
                              "1 while Redis is unreachable and the limits fall back to the "
                              "local state file.") ||
          metrics_text_sample(out, "vscode_litellm_limits_store_fallback_active", NULL,
                              fallback ? 1 : 0);
    return rc;
}

struct remaining_ctx {
    struct dynbuf *requests, *tokens;
    struct metrics_label_set *set;
    int rc;
};

static void
remaining_one(void *opaque, const char *key, const char *model, const struct limit_rule *rule,
              const struct limit_verdict *use)
{
    struct remaining_ctx *ctx = opaque;
    char hash[17];
    metrics_key_hash(key, hash);
    metrics_label_set_reset(ctx->set);
    ctx->rc |= metrics_text_label(ctx->set, "hashed_api_key", hash) ||
               metrics_text_label(ctx->set, "api_key_alias", key) ||
               metrics_text_label(ctx->set, "model", model ? model : "");
    if (rule->rpm > 0)
        ctx->rc |= metrics_text_sample(ctx->requests, "litellm_remaining_api_key_requests_for_model",
                                       ctx->set, (double)use->status.remaining_requests);
    if (rule->tpm > 0)
        ctx->rc |= metrics_text_sample(ctx->tokens, "litellm_remaining_api_key_tokens_for_model",
                                       ctx->set, (double)use->status.remaining_tokens);
}

static int
render_remaining(struct dynbuf *out, struct metrics_label_set *set)
{
    struct dynbuf requests, tokens;
    dynbuf_init(&requests, out->max);
    dynbuf_init(&tokens, out->max);
    struct remaining_ctx ctx = { &requests, &tokens, set, 0 };
    ratelimit_policy_each_key_limit(remaining_one, &ctx);
    int rc = ctx.rc;
    rc |= metrics_text_family(out, "litellm_remaining_api_key_requests_for_model", "gauge",
                              "Requests an API key may still make this minute, for keys with "
                              "a requests-per-minute limit (model empty: the key's own limit).");
    if (requests.len)
        rc |= dynbuf_append(out, requests.data, requests.len);
    rc |= metrics_text_family(out, "litellm_remaining_api_key_tokens_for_model", "gauge",
                              "Tokens an API key may still use this minute, for keys with a "
                              "tokens-per-minute limit (model empty: the key's own limit).");
    if (tokens.len)
        rc |= dynbuf_append(out, tokens.data, tokens.len);
    dynbuf_free(&requests);
    dynbuf_free(&tokens);
    return rc;
}

int
metrics_render_gauges(struct dynbuf *out, const struct config *cfg)
{
    cJSON *doc = status_document();
    if (doc == NULL)
        return -1;
    struct metrics_label_set set;
    metrics_label_set_init(&set);
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(doc, "models");
    int rc = metrics_text_family(out, "vscode_litellm_build_info", "gauge",
                                 "The responder's version; always 1.");
    rc |= metrics_text_label(&set, "version", PACKAGE_VERSION) ||
          metrics_text_sample(out, "vscode_litellm_build_info", &set, 1);
    rc |= metrics_text_family(out, "vscode_litellm_windows_connected", "gauge",
                              "VS Code windows connected to the answering responder's pipe.") ||
          metrics_text_sample(out, "vscode_litellm_windows_connected", NULL,
                              number_at(doc, "windows"));
    rc |= metrics_text_family(out, "vscode_litellm_models_offered", "gauge",
                              "Models the connected windows offer.") ||
          metrics_text_sample(out, "vscode_litellm_models_offered", NULL,
                              (double)cJSON_GetArraySize(models));
    rc |= metrics_text_family(out, "vscode_litellm_requests_in_flight", "gauge",
                              "Model calls in progress in the answering responder.") ||
          metrics_text_sample(out, "vscode_litellm_requests_in_flight", NULL,
                              number_at(doc, "in_flight"));
    rc |= render_thread_gauges(out, &set, doc);
    rc |= render_store_gauges(out, &set, doc, cfg);
    rc |= render_remaining(out, &set);
    metrics_label_set_free(&set);
    cJSON_Delete(doc);
    return rc;
}
