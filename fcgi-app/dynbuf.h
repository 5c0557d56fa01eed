/*
 * dynbuf: a growable byte buffer with a hard maximum size (after curl's
 * dynbuf).  Every buffer that holds data we do not control (request bodies,
 * pipe frames) is a dynbuf, so that no input can make us grow without bound.
 *
 * The buffer owns `data`; it is always NUL-terminated when non-NULL, so text
 * can be handed to parsers directly.  An append that would pass `max` fails
 * with DYNBUF_TOO_BIG and leaves the contents unchanged.
 */
#ifndef LITELLM_DYNBUF_H
#define LITELLM_DYNBUF_H

#include <stdarg.h>
#include <stddef.h>

enum dynbuf_result {
    DYNBUF_OK = 0,
    DYNBUF_NO_MEMORY = -1,
    DYNBUF_TOO_BIG = -2,
};

struct dynbuf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
};

void dynbuf_init(struct dynbuf *buf, size_t max);
void dynbuf_free(struct dynbuf *buf);
/* Forget the contents but keep the allocation for reuse. */
void dynbuf_reset(struct dynbuf *buf);
int dynbuf_append(struct dynbuf *buf, const void *bytes, size_t len);
int dynbuf_append_str(struct dynbuf *buf, const char *str);
int dynbuf_appendf(struct dynbuf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int dynbuf_vappendf(struct dynbuf *buf, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Drop the first `len` bytes (a consumed prefix). */
void dynbuf_consume(struct dynbuf *buf, size_t len);
/* Hand the allocation to the caller, who must free() it; the buffer is
 * left empty.  Returns an empty string's allocation if nothing was added. */
char *dynbuf_take(struct dynbuf *buf, size_t *len_out);

#endif
