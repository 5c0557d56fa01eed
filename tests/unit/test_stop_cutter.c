/* Stop sequences across piece boundaries: for every way of splitting a
 * reply into two or three pieces, the client gets exactly the text before
 * the first stop, and nothing held back is lost when there is none. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "stop_cutter.h"

/* Feeds `text` split at a and b; returns what the client would get. */
static char *
run(const char *const *stops, size_t nstops, const char *text, size_t a, size_t b, int *stopped)
{
    struct stop_cutter cutter;
    struct dynbuf out;
    stop_cutter_init(&cutter);
    dynbuf_init(&out, 1 << 20);
    for (size_t i = 0; i < nstops; i++)
        CHECK(stop_cutter_add(&cutter, stops[i]) == 0);
    size_t len = strlen(text);
    size_t cuts[] = { 0, a, b, len };
    *stopped = 0;
    for (int i = 0; i < 3 && !*stopped; i++) {
        int rc = stop_cutter_feed(&cutter, text + cuts[i], cuts[i + 1] - cuts[i], &out);
        CHECK(rc >= 0);
        *stopped = rc == 1;
    }
    if (!*stopped)
        CHECK(stop_cutter_flush(&cutter, &out) == 0);
    stop_cutter_free(&cutter);
    char *result = dynbuf_take(&out, NULL);
    return result;
}

static void
all_splits(const char *const *stops, size_t nstops, const char *text, const char *expected,
           int expect_stop)
{
    size_t len = strlen(text);
    for (size_t a = 0; a <= len; a++) {
        for (size_t b = a; b <= len; b++) {
            int stopped;
            char *got = run(stops, nstops, text, a, b, &stopped);
            CHECK_STR(got, expected);
            CHECK(stopped == expect_stop);
            free(got);
        }
    }
}

int
main(void)
{
    const char *one[] = { "c3" };
    all_splits(one, 1, "c1 c2 c3 c4 ", "c1 c2 ", 1);

    const char *two[] = { "END", "\n\n" };
    all_splits(two, 2, "hello\nworld\n\nmore END", "hello\nworld", 1);
    all_splits(two, 2, "no stop here, EN", "no stop here, EN", 0);

    /* The earliest stop wins, whatever its order in the list. */
    const char *order[] = { "zz", "b" };
    all_splits(order, 2, "aabzz", "aa", 1);

    /* Overlapping prefixes: "aab" inside "aaab". */
    const char *overlap[] = { "aab" };
    all_splits(overlap, 1, "xaaaby", "xa", 1);

    /* Multi-byte text is never split inside a character. */
    const char *utf8[] = { "\xc3\xa9t\xc3\xa9" };
    all_splits(utf8, 1, "caf\xc3\xa9 \xc3\xa9t\xc3\xa9 fin", "caf\xc3\xa9 ", 1);

    /* No sequences: everything passes at once. */
    struct stop_cutter cutter;
    struct dynbuf out;
    stop_cutter_init(&cutter);
    dynbuf_init(&out, 64);
    CHECK(!stop_cutter_active(&cutter));
    CHECK(stop_cutter_add(&cutter, "") == 0);
    CHECK(!stop_cutter_active(&cutter));
    CHECK(stop_cutter_feed(&cutter, "abc", 3, &out) == 0);
    CHECK(out.len == 3);
    for (int i = 0; i < STOP_CUTTER_MAX_SEQUENCES; i++)
        CHECK(stop_cutter_add(&cutter, "x") == 0);
    CHECK(stop_cutter_add(&cutter, "y") == -1);
    stop_cutter_free(&cutter);

    /* Which sequence stopped the text, for Anthropic's stop_sequence. */
    stop_cutter_init(&cutter);
    dynbuf_reset(&out);
    CHECK(cutter.matched == NULL);
    CHECK(stop_cutter_add(&cutter, "END") == 0 && stop_cutter_add(&cutter, "\n\n") == 0);
    CHECK(stop_cutter_feed(&cutter, "one\n", 4, &out) == 0);
    CHECK(stop_cutter_feed(&cutter, "\nEND", 4, &out) == 1);
    CHECK(cutter.matched != NULL && strcmp(cutter.matched, "\n\n") == 0);
    stop_cutter_free(&cutter);
    dynbuf_free(&out);
    return check_summary("stop_cutter");
}
