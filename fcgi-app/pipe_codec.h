/*
 * pipe_codec: the one frame codec of the pipe protocol (DESIGN.md): one JSON
 * object per line, UTF-8, lines of at most `max_frame` bytes.
 *
 * The decoder is a pure byte-stream splitter with no knowledge of sockets,
 * so it can be unit-tested and fuzzed alone.  A complete line is handed to
 * the callback without copying whenever it arrived in one read.
 */
#ifndef LITELLM_PIPE_CODEC_H
#define LITELLM_PIPE_CODEC_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "dynbuf.h"

#define PIPE_MAX_FRAME (16u * 1024 * 1024)

enum frame_result {
    FRAME_OK = 0,
    FRAME_TOO_BIG = -1,
    FRAME_NO_MEMORY = -2,
    FRAME_STOP = -3, /* the callback asked to stop */
};

/* Called once per non-empty line (without its "\n" or "\r\n").  `line` is
 * valid only during the call.  Return 0 to go on, non-zero to stop. */
typedef int (*frame_line_fn)(void *ctx, const char *line, size_t len);

struct frame_decoder {
    struct dynbuf partial; /* the start of a line still being received */
    size_t max_frame;
};

void frame_decoder_init(struct frame_decoder *decoder, size_t max_frame);
void frame_decoder_free(struct frame_decoder *decoder);
int frame_decoder_feed(struct frame_decoder *decoder, const char *bytes, size_t len,
                       frame_line_fn on_line, void *ctx);

/* Serialises `frame` as one line, "\n" included.  Caller frees. */
char *frame_encode(const cJSON *frame, size_t *len_out);

#endif
