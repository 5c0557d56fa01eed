/*
 * metrics_render: what /metrics says, from the rows metrics_store_collect
 * summed (metrics_render_rows, which the unit tests drive) and from this
 * process's own state (metrics_render_gauges: the status document, the
 * limiter's per-key use).  metrics.c puts the two together.
 */
#ifndef LITELLM_METRICS_RENDER_H
#define LITELLM_METRICS_RENDER_H

#include "config.h"
#include "dynbuf.h"
#include "metrics_store.h"

int metrics_render_rows(struct dynbuf *out, const struct metrics_row *rows, size_t count,
                        const struct metrics_totals *totals);
int metrics_render_gauges(struct dynbuf *out, const struct config *cfg);
/* hashed_api_key: 16 hex digits of a keyed BLAKE2b of the key's name, never
 * of its secret; "" for no key. */
void metrics_key_hash(const char *key_name, char out[17]);

#endif
