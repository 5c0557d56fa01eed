/*
 * fuzz_metrics_labels: label values from untrusted input (the model a
 * client names, and any other label) through the series table and the
 * exposition writer (fcgi-app/metrics_store.h, metrics_text.h).
 *
 * Input: two bytes of status code, then up to four label values (api,
 * model, requested model, key name) separated by NUL bytes; values longer
 * than their field are cut as metrics.c cuts them.
 *
 * Invariants (abort on violation): each value, written as a label, unescapes
 * back to its longest valid UTF-8 prefix and holds no raw newline or
 * unescaped quote; the request is counted (in its series or, in a table of 8
 * series, the overflow series) and the sum of every series' requests equals
 * the number of inputs recorded; every line of the rendered exposition is a
 * comment or `name{labels} value` that this file's own reader takes apart.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "metrics.h"
#include "metrics_render.h"
#include "metrics_store.h"
#include "metrics_text.h"
#include "utf8.h"

static struct metrics_store *store;
static uint64_t recorded;
static char store_dir[] = "/tmp/litellm-fuzz-metrics-XXXXXX";

static void
remove_store(void)
{
    metrics_store_close(store);
    char path[sizeof store_dir + 16];
    snprintf(path, sizeof path, "%s/slot-0", store_dir);
    unlink(path);
    rmdir(store_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FUZZ_CHECK(mkdtemp(store_dir) != NULL);
    char err[256];
    store = metrics_store_open_capacity(store_dir, 8, err, sizeof err);
    FUZZ_CHECK(store != NULL);
    atexit(remove_store);
    return 0;
}

static size_t
valid_prefix(const char *value)
{
    const unsigned char *start = (const unsigned char *)value, *at = start;
    const unsigned char *end = start + strlen(value);
    while (at < end) {
        uint32_t cp;
        unsigned width = *at < 0x80 ? 1 : utf8_decode(at, end, &cp);
        if (width == 0)
            break;
        at += width;
    }
    return (size_t)(at - start);
}

/* `name="..."` in `text` from `at`: checks the escaping and that the value
 * reads back as `expected`; returns where it ends. */
static const char *
check_label(const char *at, const char *expected, size_t expected_len)
{
    FUZZ_CHECK(strncmp(at, "v=\"", 3) == 0);
    at += 3;
    size_t got = 0;
    while (*at != '"') {
        FUZZ_CHECK(*at != '\0' && *at != '\n');
        char c = *at++;
        if (c == '\\') {
            FUZZ_CHECK(*at == '\\' || *at == '"' || *at == 'n');
            c = *at == 'n' ? '\n' : *at;
            at++;
        }
        FUZZ_CHECK(got < expected_len && expected[got] == c);
        got++;
    }
    FUZZ_CHECK(got == expected_len);
    return at + 1;
}

/* One exposition line: a comment, or name, optional {labels}, a space and a
 * number. */
static void
check_line(const char *line, size_t len)
{
    if (len == 0 || line[0] == '#')
        return;
    size_t i = 0;
    while (i < len && (line[i] == '_' || line[i] == ':' || (line[i] >= 'a' && line[i] <= 'z') ||
                       (line[i] >= 'A' && line[i] <= 'Z') || (line[i] >= '0' && line[i] <= '9')))
        i++;
    FUZZ_CHECK(i > 0);
    if (i < len && line[i] == '{') {
        i++;
        while (i < len && line[i] != '}') {
            while (i < len && line[i] != '=')
                i++;
            FUZZ_CHECK(i + 1 < len && line[i + 1] == '"');
            i += 2;
            while (i < len && line[i] != '"')
                i += line[i] == '\\' ? 2 : 1;
            FUZZ_CHECK(i < len);
            i++;
            if (i < len && line[i] == ',')
                i++;
        }
        FUZZ_CHECK(i < len);
        i++;
    }
    FUZZ_CHECK(i < len && line[i] == ' ');
    char *end;
    (void)strtod(line + i + 1, &end);
    FUZZ_CHECK(end == line + len || strncmp(line + i + 1, "+Inf", 4) == 0);
}

static void
check_exposition(void)
{
    struct metrics_row *rows;
    size_t count;
    struct metrics_totals totals;
    FUZZ_CHECK(metrics_store_collect(store, &rows, &count, &totals) == 0);
    uint64_t requests = 0;
    for (size_t i = 0; i < count; i++)
        requests += rows[i].requests;
    FUZZ_CHECK(requests == recorded);
    struct dynbuf out;
    dynbuf_init(&out, 64u << 20);
    FUZZ_CHECK(metrics_render_rows(&out, rows, count, &totals) == 0);
    free(rows);
    const char *text = out.data;
    FUZZ_CHECK(utf8_valid(text, out.len));
    for (const char *line = text; *line;) {
        const char *newline = strchr(line, '\n');
        FUZZ_CHECK(newline != NULL);
        check_line(line, (size_t)(newline - line));
        line = newline + 1;
    }
    dynbuf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct metrics_labels labels;
    memset(&labels, 0, sizeof labels);
    labels.status_code = (uint32_t)data[0] << 8 | data[1];
    char *fields[] = { labels.api, labels.model, labels.requested_model, labels.key_alias };
    const size_t sizes[] = { sizeof labels.api, sizeof labels.model, sizeof labels.requested_model,
                             sizeof labels.key_alias };
    size_t at = 2;
    for (size_t f = 0; f < 4 && at < size; f++) {
        size_t len = 0;
        while (at + len < size && data[at + len] != 0)
            len++;
        size_t keep = len < sizes[f] - 1 ? len : sizes[f] - 1;
        memcpy(fields[f], data + at, keep);
        at += len + 1;
    }

    struct metrics_label_set set;
    metrics_label_set_init(&set);
    for (size_t f = 0; f < 4; f++) {
        metrics_label_set_reset(&set);
        FUZZ_CHECK(metrics_text_label(&set, "v", fields[f]) == 0);
        const char *end = check_label(set.text.data, fields[f], valid_prefix(fields[f]));
        FUZZ_CHECK(*end == '\0');
    }
    metrics_label_set_free(&set);

    struct metrics_sample sample = { (long)size, 1, (int64_t)size * 1000, -1, (int64_t)size };
    metrics_store_record(store, &labels, &sample);
    recorded++;
    /* Rendering everything costs more than a record: every 64th input, and
     * the first. */
    if (recorded % 64 == 1)
        check_exposition();
    return 0;
}
