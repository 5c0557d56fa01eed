/*
 * fuzz_pipe_decoder: the pipe's frame decoder (fcgi-app/pipe_codec.h) on
 * arbitrary byte streams, split at boundaries the input chooses.
 *
 * Input: one byte choosing a small maximum frame (1-256 bytes, so that
 * oversized frames are common); one byte choosing up to 31 piece lengths
 * and those lengths (0-255; an empty piece is fed too); the rest is the
 * stream, fed in those pieces (the last piece takes what is left), so every
 * split point is reachable.  Each line is parsed with cJSON as the pipe
 * reader does, and a line that is not a JSON object with a "type" stops
 * the decoder, as it closes the reader's connection.
 *
 * Invariant (abort on violation): whatever the pieces, the decoder hands
 * over exactly the lines a one-shot reference splitter finds in the whole
 * stream (a trailing "\r" dropped, empty lines skipped), in order, and ends
 * the same way: FRAME_TOO_BIG at the first line (or unterminated tail)
 * longer than the maximum, FRAME_STOP at the first line that is not a
 * frame, FRAME_OK otherwise.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "json_write.h"
#include "utf8.h"
#include "pipe_codec.h"

#define MAX_PIECES 31
#define MAX_LINES 4096

struct line_log {
    size_t count;
    size_t offset[MAX_LINES]; /* of each line handed over, in the stream */
    size_t len[MAX_LINES];
    const char *stream; /* for the reference only */
};

/* As the pipe reader: a line must be a UTF-8 JSON object with a string
 * "type". */
static bool
is_frame(const char *line, size_t len)
{
    cJSON *frame = utf8_valid(line, len) ? cJSON_ParseWithLength(line, len) : NULL;
    bool ok = cJSON_IsObject(frame) &&
              cJSON_IsString(cJSON_GetObjectItemCaseSensitive(frame, "type"));
    if (ok) {
        /* Re-encode it as the responder would, to exercise the encoder. */
        size_t encoded_len;
        char *encoded = frame_encode(frame, &encoded_len);
        FUZZ_CHECK(encoded != NULL && encoded_len > 0 && encoded[encoded_len - 1] == '\n');
        FUZZ_CHECK(memchr(encoded, '\n', encoded_len - 1) == NULL);
        free(encoded);
    }
    cJSON_Delete(frame);
    return ok;
}

struct decoded {
    struct line_log *log;
    struct dynbuf lines; /* every line handed over, back to back */
};

static int
on_line(void *ctx, const char *line, size_t len)
{
    struct decoded *decoded = ctx;
    FUZZ_CHECK(len > 0 && memchr(line, '\n', len) == NULL);
    FUZZ_CHECK(decoded->log->count < MAX_LINES);
    decoded->log->len[decoded->log->count++] = len;
    FUZZ_CHECK(dynbuf_append(&decoded->lines, line, len) == DYNBUF_OK);
    return is_frame(line, len) ? 0 : 1;
}

/* The whole stream at once, by the protocol's definition. */
static int
reference_split(const char *stream, size_t len, size_t max_frame, struct line_log *log)
{
    size_t start = 0;
    while (start < len) {
        const char *newline = memchr(stream + start, '\n', len - start);
        size_t raw = newline ? (size_t)(newline - (stream + start)) : len - start;
        if (raw > max_frame)
            return FRAME_TOO_BIG;
        if (newline == NULL)
            return FRAME_OK; /* an unfinished line waits for more */
        size_t line = raw;
        if (line > 0 && stream[start + line - 1] == '\r')
            line--;
        if (line > 0) {
            FUZZ_CHECK(log->count < MAX_LINES);
            log->offset[log->count] = start;
            log->len[log->count++] = line;
            if (!is_frame(stream + start, line))
                return FRAME_STOP;
        }
        start += raw + 1;
    }
    return FRAME_OK;
}

static struct line_log expected_log, decoded_log;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size };
    size_t max_frame = 1 + fuzz_take_byte(&in);
    size_t pieces[MAX_PIECES];
    size_t piece_count = fuzz_take_byte(&in) % (MAX_PIECES + 1);
    for (size_t i = 0; i < piece_count; i++)
        pieces[i] = fuzz_take_byte(&in);
    const char *stream = (const char *)in.data;
    size_t len = in.size;

    expected_log.count = 0;
    int expected = reference_split(stream, len, max_frame, &expected_log);

    struct frame_decoder decoder;
    frame_decoder_init(&decoder, max_frame);
    decoded_log.count = 0;
    struct decoded decoded = { .log = &decoded_log };
    dynbuf_init(&decoded.lines, 1u << 20);
    size_t fed = 0;
    int rc = FRAME_OK;
    for (size_t i = 0; i <= piece_count && rc == FRAME_OK; i++) {
        size_t piece = i < piece_count && pieces[i] < len - fed ? pieces[i] : len - fed;
        /* Each piece in a buffer of its own size, as recv() fills one, so
         * that a read past the piece is caught. */
        char *copy = malloc(piece ? piece : 1);
        FUZZ_CHECK(copy != NULL);
        if (piece > 0)
            memcpy(copy, stream + fed, piece);
        rc = frame_decoder_feed(&decoder, copy, piece, on_line, &decoded);
        free(copy);
        fed += piece;
        FUZZ_CHECK(decoder.partial.len <= max_frame);
    }

    FUZZ_CHECK(rc == expected);
    FUZZ_CHECK(decoded_log.count == expected_log.count);
    size_t at = 0;
    for (size_t i = 0; i < expected_log.count; i++) {
        FUZZ_CHECK(decoded_log.len[i] == expected_log.len[i]);
        FUZZ_CHECK(memcmp(decoded.lines.data + at, stream + expected_log.offset[i],
                          expected_log.len[i]) == 0);
        at += expected_log.len[i];
    }
    FUZZ_CHECK(at == decoded.lines.len);

    dynbuf_free(&decoded.lines);
    frame_decoder_free(&decoder);
    return 0;
}
