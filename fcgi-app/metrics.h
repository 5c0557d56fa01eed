/*
 * metrics: what GET /metrics reports, and the calls that count it.
 *
 * The request path makes one call when a request ends (metrics_record, next
 * to the request log in server.c), the pipe one per frame and error; each
 * is a few relaxed atomic adds in this process's slot of the shared store
 * (metrics_store.h), no lock.  A scrape sums every responder's slot, adds
 * the gauges this process knows (windows, models, in flight, threads, the
 * limiter), and writes the text format (metrics_render.c, metrics_text.h).
 */
#ifndef LITELLM_METRICS_H
#define LITELLM_METRICS_H

#include "config.h"
#include "dynbuf.h"
#include "handlers.h"
#include "http.h"
#include "metrics_store.h"

/* Opens this process's slot in the directory "metrics" next to
 * --limits-state-file.  Failing is not fatal: the log says why, and
 * /metrics then reports the gauges only. */
void metrics_init(const struct config *cfg);
void metrics_shutdown(void);

/* A request ended: counts it (model calls), and its 429 by limit. */
void metrics_record(const struct http_request *req, const struct request_outcome *outcome);
/* A pipe frame read or written, or a pipe error (a refused line, a failed
 * write, a frame over the limit). */
void metrics_pipe(enum metrics_pipe_counter counter);

/* The whole exposition into `out`; 0 or -1 (out of memory). */
int metrics_render(struct dynbuf *out, const struct config *cfg);

#endif
