/*
 * metrics_text: the Prometheus text exposition format, version 0.0.4.
 * HELP and TYPE lines, samples with labels, histograms with cumulative
 * `le` buckets, `_sum` and `_count`.  Label values are escaped as the
 * format says (backslash, double quote, newline); anything else passes as
 * it is, so a value must be UTF-8 (metrics_text_label cuts it where it is
 * not).  It writes to a dynbuf and knows nothing of where numbers come from.
 */
#ifndef LITELLM_METRICS_TEXT_H
#define LITELLM_METRICS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "dynbuf.h"

#define METRICS_TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* "# HELP name help" and "# TYPE name type". */
int metrics_text_family(struct dynbuf *out, const char *name, const char *type, const char *help);

/* A label set in the making: `name="value"` pairs joined by commas, without
 * braces, so a histogram can add `le`. */
struct metrics_label_set {
    struct dynbuf text;
};
void metrics_label_set_init(struct metrics_label_set *set);
void metrics_label_set_free(struct metrics_label_set *set);
void metrics_label_set_reset(struct metrics_label_set *set);
/* Adds name="value", the value escaped and cut at its first invalid UTF-8
 * byte. */
int metrics_text_label(struct metrics_label_set *set, const char *name, const char *value);

/* name{labels} value */
int metrics_text_sample(struct dynbuf *out, const char *name, const struct metrics_label_set *set,
                        double value);
/* name_bucket{labels,le="..."} for each bound (seconds, cumulative counts of
 * `buckets`, which hold each bucket alone) and +Inf, then name_sum (seconds)
 * and name_count. */
int metrics_text_histogram(struct dynbuf *out, const char *name,
                           const struct metrics_label_set *set, const double *bounds,
                           const uint64_t *buckets, size_t bucket_count, uint64_t count, double sum);

#endif
