#include "pipe_codec.h"

#include <stdlib.h>
#include <string.h>

void
frame_decoder_init(struct frame_decoder *decoder, size_t max_frame)
{
    dynbuf_init(&decoder->partial, max_frame);
    decoder->max_frame = max_frame;
}

void
frame_decoder_free(struct frame_decoder *decoder)
{
    dynbuf_free(&decoder->partial);
}

static int
emit_line(const char *line, size_t len, frame_line_fn on_line, void *ctx)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return FRAME_OK;
    return on_line(ctx, line, len) == 0 ? FRAME_OK : FRAME_STOP;
}

int
frame_decoder_feed(struct frame_decoder *decoder, const char *bytes, size_t len,
                   frame_line_fn on_line, void *ctx)
{
    while (len > 0) {
        const char *newline = memchr(bytes, '\n', len);
        size_t segment = newline ? (size_t)(newline - bytes) : len;
        if (segment > decoder->max_frame || decoder->partial.len > decoder->max_frame - segment)
            return FRAME_TOO_BIG;
        if (newline == NULL) {
            int rc = dynbuf_append(&decoder->partial, bytes, segment);
            return rc == DYNBUF_OK        ? FRAME_OK
                   : rc == DYNBUF_TOO_BIG ? FRAME_TOO_BIG
                                          : FRAME_NO_MEMORY;
        }
        int rc;
        if (decoder->partial.len == 0) {
            rc = emit_line(bytes, segment, on_line, ctx);
        } else {
            rc = dynbuf_append(&decoder->partial, bytes, segment);
            if (rc != DYNBUF_OK)
                return rc == DYNBUF_TOO_BIG ? FRAME_TOO_BIG : FRAME_NO_MEMORY;
            rc = emit_line(decoder->partial.data, decoder->partial.len, on_line, ctx);
            dynbuf_reset(&decoder->partial);
        }
        if (rc != FRAME_OK)
            return rc;
        bytes += segment + 1;
        len -= segment + 1;
    }
    return FRAME_OK;
}

char *
frame_encode(const cJSON *frame, size_t *len_out)
{
    char *text = cJSON_PrintUnformatted(frame);
    if (text == NULL)
        return NULL;
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    if (line == NULL) {
        free(text);
        return NULL;
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    *len_out = len + 1;
    return line;
}
