/* GET /metrics: the Prometheus text format (metrics.c), for this machine
 * or a reader with --metrics-token (ops_access.c), never for an API key. */
#include "handlers.h"
#include "metrics.h"
#include "metrics_text.h"
#include "ops_access.h"
#include "respond.h"

/* Far above any real exposition (64 slots x 1024 series): a bound, not a
 * size. */
#define METRICS_TEXT_MAX (256u << 20)

void
handle_metrics(struct http_request *req, const struct request_context *ctx)
{
    struct api_error err;
    if (ops_access_check(req, ctx->cfg, &err) != 0) {
        ctx->outcome->note = err.code;
        respond_error(req, &err);
        return;
    }
    struct dynbuf text;
    dynbuf_init(&text, METRICS_TEXT_MAX);
    if (metrics_render(&text, ctx->cfg) != 0) {
        respond_refusal(req, 500, "internal_error", "Out of memory while writing metrics.");
    } else {
        respond_body(req, 200, METRICS_TEXT_CONTENT_TYPE, text.data ? text.data : "", text.len);
    }
    dynbuf_free(&text);
}
