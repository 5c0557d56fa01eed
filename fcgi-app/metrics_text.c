#include "metrics_text.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

#define LABELS_MAX (64u << 10)

int
metrics_text_family(struct dynbuf *out, const char *name, const char *type, const char *help)
{
    /* HELP text escapes backslash and newline only. */
    if (dynbuf_appendf(out, "# HELP %s ", name) != DYNBUF_OK)
        return -1;
    for (const char *p = help; *p; p++) {
        const char *piece = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : NULL;
        int rc = piece ? dynbuf_append_str(out, piece) : dynbuf_append(out, p, 1);
        if (rc != DYNBUF_OK)
            return -1;
    }
    return dynbuf_appendf(out, "\n# TYPE %s %s\n", name, type) == DYNBUF_OK ? 0 : -1;
}

void
metrics_label_set_init(struct metrics_label_set *set)
{
    dynbuf_init(&set->text, LABELS_MAX);
}

void
metrics_label_set_free(struct metrics_label_set *set)
{
    dynbuf_free(&set->text);
}

void
metrics_label_set_reset(struct metrics_label_set *set)
{
    dynbuf_reset(&set->text);
}

/* The length of the longest valid UTF-8 prefix of `value`. */
static size_t
utf8_prefix(const char *value)
{
    const unsigned char *start = (const unsigned char *)value;
    const unsigned char *end = start + strlen(value);
    const unsigned char *at = start;
    while (at < end) {
        if (*at < 0x80) {
            at++;
            continue;
        }
        uint32_t cp;
        unsigned used = utf8_decode(at, end, &cp);
        if (used == 0)
            break;
        at += used;
    }
    return (size_t)(at - start);
}

int
metrics_text_label(struct metrics_label_set *set, const char *name, const char *value)
{
    struct dynbuf *text = &set->text;
    if (dynbuf_appendf(text, "%s%s=\"", text->len ? "," : "", name) != DYNBUF_OK)
        return -1;
    size_t len = utf8_prefix(value);
    for (size_t i = 0; i < len; i++) {
        char c = value[i];
        const char *piece = c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n" : NULL;
        int rc = piece ? dynbuf_append_str(text, piece) : dynbuf_append(text, &c, 1);
        if (rc != DYNBUF_OK)
            return -1;
    }
    return dynbuf_append_str(text, "\"") == DYNBUF_OK ? 0 : -1;
}

/* Integers print as integers; Prometheus reads both. */
static int
append_value(struct dynbuf *out, double value)
{
    if (isinf(value))
        return dynbuf_append_str(out, value > 0 ? "+Inf" : "-Inf");
    if (value == floor(value) && fabs(value) < 1e15)
        return dynbuf_appendf(out, "%.0f", value);
    return dynbuf_appendf(out, "%.9g", value);
}

static int
sample_open(struct dynbuf *out, const char *name, const char *suffix,
            const struct metrics_label_set *set, const char *extra)
{
    bool has_labels = set != NULL && set->text.len > 0;
    if (dynbuf_appendf(out, "%s%s", name, suffix) != DYNBUF_OK)
        return -1;
    if (!has_labels && extra == NULL)
        return dynbuf_append_str(out, " ") == DYNBUF_OK ? 0 : -1;
    return dynbuf_appendf(out, "{%s%s%s} ", has_labels ? set->text.data : "",
                          has_labels && extra ? "," : "", extra ? extra : "") == DYNBUF_OK
               ? 0
               : -1;
}

int
metrics_text_sample(struct dynbuf *out, const char *name, const struct metrics_label_set *set,
                    double value)
{
    if (sample_open(out, name, "", set, NULL) != 0 || append_value(out, value) != DYNBUF_OK)
        return -1;
    return dynbuf_append_str(out, "\n") == DYNBUF_OK ? 0 : -1;
}

int
metrics_text_histogram(struct dynbuf *out, const char *name, const struct metrics_label_set *set,
                       const double *bounds, const uint64_t *buckets, size_t bucket_count,
                       uint64_t count, double sum)
{
    uint64_t cumulative = 0;
    char le[48];
    for (size_t i = 0; i < bucket_count; i++) {
        cumulative += buckets[i];
        snprintf(le, sizeof le, "le=\"%.9g\"", bounds[i]);
        if (sample_open(out, name, "_bucket", set, le) != 0 ||
            dynbuf_appendf(out, "%llu\n", (unsigned long long)cumulative) != DYNBUF_OK)
            return -1;
    }
    if (sample_open(out, name, "_bucket", set, "le=\"+Inf\"") != 0 ||
        dynbuf_appendf(out, "%llu\n", (unsigned long long)count) != DYNBUF_OK)
        return -1;
    if (sample_open(out, name, "_sum", set, NULL) != 0 || append_value(out, sum) != DYNBUF_OK ||
        dynbuf_append_str(out, "\n") != DYNBUF_OK)
        return -1;
    if (sample_open(out, name, "_count", set, NULL) != 0 ||
        dynbuf_appendf(out, "%llu\n", (unsigned long long)count) != DYNBUF_OK)
        return -1;
    return 0;
}
