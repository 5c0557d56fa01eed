/*
 * fuzz_fcgi_reply: the FastCGI client's reply parser and CGI splitter
 * (fcgi-app/fcgi_query.h), which litellm-status runs on whatever answers on
 * the responder's socket, on arbitrary byte streams split where the input
 * chooses.
 *
 * Input: one byte choosing the most output kept (16-4096 bytes, so that
 * TOO_BIG is common); one byte choosing up to 31 piece lengths and those
 * lengths (0-255); the rest is the stream, fed in those pieces (the last
 * piece takes what is left).
 *
 * Invariants (abort on violation): whatever the pieces, the result, the
 * output kept, the stderr count and the END_REQUEST fields are those of one
 * feed of the whole stream; the output never passes its maximum; once final
 * the result stays; after DONE, cgi_reply_split either refuses or returns a
 * status of three digits and a body that is a suffix of the output.
 */
#include <string.h>

#include "fcgi_query.h"
#include "fuzz.h"

#define MAX_PIECES 31

static struct fcgi_reply whole, pieces;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size };
    size_t max_out = 16 * (1 + fuzz_take_byte(&in) % 256);
    size_t lengths[MAX_PIECES];
    size_t piece_count = fuzz_take_byte(&in) % (MAX_PIECES + 1);
    for (size_t i = 0; i < piece_count; i++)
        lengths[i] = fuzz_take_byte(&in);
    const uint8_t *stream = in.data;
    size_t len = in.size;

    fcgi_reply_init(&whole, 1, max_out);
    int expected = fcgi_reply_feed(&whole, stream, len);
    FUZZ_CHECK(expected >= FCGI_REPLY_NO_MEMORY && expected <= FCGI_REPLY_DONE);

    fcgi_reply_init(&pieces, 1, max_out);
    size_t fed = 0;
    int rc = FCGI_REPLY_MORE;
    for (size_t i = 0; i <= piece_count; i++) {
        size_t piece = i < piece_count && lengths[i] < len - fed ? lengths[i] : len - fed;
        /* Each piece in a buffer of its own size, so a read past it is caught. */
        uint8_t *copy = malloc(piece ? piece : 1);
        FUZZ_CHECK(copy != NULL);
        if (piece > 0)
            memcpy(copy, stream + fed, piece);
        int previous = rc;
        rc = fcgi_reply_feed(&pieces, copy, piece);
        free(copy);
        fed += piece;
        if (previous != FCGI_REPLY_MORE && previous != FCGI_REPLY_DONE)
            FUZZ_CHECK(rc == previous); /* a failure is final */
        FUZZ_CHECK(pieces.out.len <= max_out);
    }
    FUZZ_CHECK(fed == len);
    FUZZ_CHECK(rc == expected);
    FUZZ_CHECK(pieces.out.len == whole.out.len);
    FUZZ_CHECK(pieces.out.len == 0 || memcmp(pieces.out.data, whole.out.data, pieces.out.len) == 0);
    FUZZ_CHECK(pieces.err_len == whole.err_len);
    FUZZ_CHECK(pieces.app_status == whole.app_status);
    FUZZ_CHECK(pieces.protocol_status == whole.protocol_status);

    if (rc == FCGI_REPLY_DONE) {
        FUZZ_CHECK(fcgi_reply_feed(&pieces, "", 0) == FCGI_REPLY_DONE);
        FUZZ_CHECK(fcgi_reply_feed(&pieces, "x", 1) == FCGI_REPLY_BAD);
        const char *out = whole.out.data ? whole.out.data : "";
        int status = 0;
        const char *body = NULL;
        size_t body_len = 0;
        if (cgi_reply_split(out, whole.out.len, &status, &body, &body_len) == 0) {
            FUZZ_CHECK(status >= 100 && status <= 999);
            FUZZ_CHECK(body >= out && body + body_len == out + whole.out.len);
        }
    }
    fcgi_reply_free(&whole);
    fcgi_reply_free(&pieces);
    return 0;
}
