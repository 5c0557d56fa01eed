/* The pipe frame decoder: lines split at every byte boundary, CRLF, empty
 * lines, the 16 MiB limit, and a callback that stops early. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pipe_codec.h"

struct collected {
    char lines[8][64];
    int count;
    int stop_after;
};

static int
collect(void *ctx, const char *line, size_t len)
{
    struct collected *c = ctx;
    if (c->count < 8 && len < 64) {
        memcpy(c->lines[c->count], line, len);
        c->lines[c->count][len] = '\0';
    }
    c->count++;
    return c->stop_after > 0 && c->count >= c->stop_after;
}

static void
test_every_split(void)
{
    const char stream[] =
        "{\"type\":\"hello\"}\n\r\n{\"type\":\"delta\",\"text\":\"a\"}\r\n\n{\"x\":1}\n";
    size_t len = strlen(stream);
    for (size_t split = 0; split <= len; split++) {
        struct frame_decoder decoder;
        struct collected c = { .count = 0 };
        frame_decoder_init(&decoder, 1024);
        CHECK(frame_decoder_feed(&decoder, stream, split, collect, &c) == FRAME_OK);
        CHECK(frame_decoder_feed(&decoder, stream + split, len - split, collect, &c) == FRAME_OK);
        CHECK(c.count == 3);
        CHECK_STR(c.lines[0], "{\"type\":\"hello\"}");
        CHECK_STR(c.lines[1], "{\"type\":\"delta\",\"text\":\"a\"}");
        CHECK_STR(c.lines[2], "{\"x\":1}");
        CHECK(decoder.partial.len == 0);
        frame_decoder_free(&decoder);
    }
}

static void
test_byte_at_a_time(void)
{
    const char stream[] = "abc\ndef\nghi";
    struct frame_decoder decoder;
    struct collected c = { .count = 0 };
    frame_decoder_init(&decoder, 1024);
    for (size_t i = 0; i < strlen(stream); i++)
        CHECK(frame_decoder_feed(&decoder, stream + i, 1, collect, &c) == FRAME_OK);
    CHECK(c.count == 2);
    CHECK_STR(c.lines[1], "def");
    CHECK(decoder.partial.len == 3); /* "ghi" waits for its newline */
    frame_decoder_free(&decoder);
}

static void
test_too_big(void)
{
    struct frame_decoder decoder;
    struct collected c = { .count = 0 };
    frame_decoder_init(&decoder, 8);
    CHECK(frame_decoder_feed(&decoder, "12345678\n", 9, collect, &c) == FRAME_OK);
    CHECK(frame_decoder_feed(&decoder, "12345", 5, collect, &c) == FRAME_OK);
    CHECK(frame_decoder_feed(&decoder, "6789", 4, collect, &c) == FRAME_TOO_BIG);
    frame_decoder_free(&decoder);

    frame_decoder_init(&decoder, 8);
    CHECK(frame_decoder_feed(&decoder, "123456789\n", 10, collect, &c) == FRAME_TOO_BIG);
    frame_decoder_free(&decoder);
}

static void
test_stop(void)
{
    struct frame_decoder decoder;
    struct collected c = { .count = 0, .stop_after = 1 };
    frame_decoder_init(&decoder, 64);
    CHECK(frame_decoder_feed(&decoder, "a\nb\n", 4, collect, &c) == FRAME_STOP);
    CHECK(c.count == 1);
    frame_decoder_free(&decoder);
}

static void
test_encode(void)
{
    cJSON *frame = cJSON_Parse("{\"type\":\"cancel\",\"id\":\"abc\\ndef\"}");
    size_t len = 0;
    char *line = frame_encode(frame, &len);
    CHECK(line != NULL);
    CHECK(len == strlen(line));
    CHECK(line[len - 1] == '\n');
    CHECK(memchr(line, '\n', len - 1) == NULL); /* one frame, one line */
    CHECK_STR(line, "{\"type\":\"cancel\",\"id\":\"abc\\ndef\"}\n");
    free(line);
    cJSON_Delete(frame);
}

int
main(void)
{
    test_every_split();
    test_byte_at_a_time();
    test_too_big();
    test_stop();
    test_encode();
    return check_summary("pipe_codec");
}
