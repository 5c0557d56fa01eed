/*
 * fuzz_stop_cutter: stop sequences applied to a reply that arrives in
 * pieces (fcgi-app/stop_cutter.h).
 *
 * Input: one byte choosing 1-4 sequences; per sequence a length byte (0-8)
 * and its bytes (a NUL ends it early, as strlen does; an empty one is
 * ignored, as stop_cutter_add does); a byte choosing up to 15 piece lengths
 * and those lengths; the rest is the reply text, fed in those pieces (the
 * last piece takes what is left).
 *
 * Invariant (abort on violation): whatever the pieces, the client gets the
 * text up to the first stop, where the first stop is the occurrence of any
 * sequence that is complete first as the text arrives (the earliest end;
 * of two ending together, the one that starts first), or all of the text
 * when no sequence occurs.  Also: the feed that completes that occurrence is
 * the one that reports it, what was sent so far is always a prefix of the
 * final answer, and no more than the longest sequence minus one byte is
 * ever held back.
 */
#include <string.h>

#include "fuzz.h"
#include "stop_cutter.h"

#define MAX_SEQUENCE_BYTES 8
#define MAX_PIECES 15

/* Where the answer ends: the start of the first stop, and where that stop
 * ends (len + 1 when there is none). */
static void
first_stop(char sequences[][MAX_SEQUENCE_BYTES + 1], size_t count, const char *text, size_t len,
           size_t *cut, size_t *end)
{
    *cut = len;
    *end = len + 1;
    for (size_t i = 0; i < count; i++) {
        size_t seq_len = strlen(sequences[i]);
        if (seq_len == 0)
            continue;
        const char *found = memmem(text, len, sequences[i], seq_len);
        if (found == NULL)
            continue;
        size_t start = (size_t)(found - text);
        if (start + seq_len < *end || (start + seq_len == *end && start < *cut)) {
            *cut = start;
            *end = start + seq_len;
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size };
    char sequences[4][MAX_SEQUENCE_BYTES + 1];
    size_t count = 1 + (fuzz_take_byte(&in) & 3);
    size_t longest = 0;
    for (size_t i = 0; i < count; i++) {
        size_t len = fuzz_take_byte(&in) % (MAX_SEQUENCE_BYTES + 1);
        if (len > in.size)
            len = in.size;
        memcpy(sequences[i], in.data, len);
        sequences[i][len] = '\0';
        in.data += len;
        in.size -= len;
        if (strlen(sequences[i]) > longest)
            longest = strlen(sequences[i]);
    }
    size_t pieces[MAX_PIECES + 1];
    size_t piece_count = fuzz_take_byte(&in) % (MAX_PIECES + 1);
    for (size_t i = 0; i < piece_count; i++)
        pieces[i] = fuzz_take_byte(&in);
    const char *text = (const char *)in.data;
    size_t len = in.size;

    struct stop_cutter cutter;
    stop_cutter_init(&cutter);
    for (size_t i = 0; i < count; i++)
        FUZZ_CHECK(stop_cutter_add(&cutter, sequences[i]) == 0);
    FUZZ_CHECK(stop_cutter_active(&cutter) == (longest > 0));

    size_t cut, stop_end;
    first_stop(sequences, count, text, len, &cut, &stop_end);

    struct dynbuf out;
    dynbuf_init(&out, 1u << 20);
    size_t fed = 0;
    bool stopped = false;
    for (size_t i = 0; i <= piece_count && !stopped; i++) {
        size_t piece = i < piece_count && pieces[i] < len - fed ? pieces[i] : len - fed;
        int rc = stop_cutter_feed(&cutter, text + fed, piece, &out);
        fed += piece;
        FUZZ_CHECK(rc == 0 || rc == 1);
        stopped = rc == 1;
        /* It reports the stop exactly when the stop has arrived. */
        FUZZ_CHECK(stopped == (fed >= stop_end));
        FUZZ_CHECK(out.len <= cut && (out.len == 0 || memcmp(out.data, text, out.len) == 0));
        if (!stopped)
            FUZZ_CHECK(cutter.pending.len + 1 <= (longest > 0 ? longest : 1));
    }
    if (stopped)
        FUZZ_CHECK(stop_cutter_feed(&cutter, "x", 1, &out) == 1);
    FUZZ_CHECK(stop_cutter_flush(&cutter, &out) == 0);
    FUZZ_CHECK(out.len == cut && (cut == 0 || memcmp(out.data, text, cut) == 0));

    dynbuf_free(&out);
    stop_cutter_free(&cutter);
    return 0;
}
