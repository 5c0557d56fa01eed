#include "dynbuf.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DYNBUF_MIN_CAPACITY 64

void
dynbuf_init(struct dynbuf *buf, size_t max)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->max = max;
}

void
dynbuf_free(struct dynbuf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

void
dynbuf_reset(struct dynbuf *buf)
{
    buf->len = 0;
    if (buf->data != NULL)
        buf->data[0] = '\0';
}

/* Make room for `extra` more bytes plus the terminating NUL. */
static int
dynbuf_reserve(struct dynbuf *buf, size_t extra)
{
    if (extra > buf->max || buf->len > buf->max - extra)
        return DYNBUF_TOO_BIG;
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap)
        return DYNBUF_OK;
    size_t cap = buf->cap ? buf->cap : DYNBUF_MIN_CAPACITY;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    /* Never allocate far past the maximum for a buffer near its limit. */
    if (cap > buf->max + 1 && need <= buf->max + 1)
        cap = buf->max + 1;
    char *grown = realloc(buf->data, cap);
    if (grown == NULL)
        return DYNBUF_NO_MEMORY;
    buf->data = grown;
    buf->cap = cap;
    return DYNBUF_OK;
}

int
dynbuf_append(struct dynbuf *buf, const void *bytes, size_t len)
{
    int rc = dynbuf_reserve(buf, len);
    if (rc != DYNBUF_OK)
        return rc;
    if (len > 0)
        memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return DYNBUF_OK;
}

int
dynbuf_append_str(struct dynbuf *buf, const char *str)
{
    return dynbuf_append(buf, str, strlen(str));
}

int
dynbuf_vappendf(struct dynbuf *buf, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int needed = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (needed < 0)
        return DYNBUF_NO_MEMORY;
    int rc = dynbuf_reserve(buf, (size_t)needed);
    if (rc != DYNBUF_OK)
        return rc;
    vsnprintf(buf->data + buf->len, (size_t)needed + 1, fmt, ap);
    buf->len += (size_t)needed;
    return DYNBUF_OK;
}

int
dynbuf_appendf(struct dynbuf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = dynbuf_vappendf(buf, fmt, ap);
    va_end(ap);
    return rc;
}

void
dynbuf_consume(struct dynbuf *buf, size_t len)
{
    if (len >= buf->len) {
        dynbuf_reset(buf);
        return;
    }
    memmove(buf->data, buf->data + len, buf->len - len);
    buf->len -= len;
    buf->data[buf->len] = '\0';
}

char *
dynbuf_take(struct dynbuf *buf, size_t *len_out)
{
    if (buf->data == NULL && dynbuf_reserve(buf, 0) != DYNBUF_OK)
        return NULL;
    if (buf->data != NULL && buf->len == 0)
        buf->data[0] = '\0';
    char *data = buf->data;
    if (len_out != NULL)
        *len_out = buf->len;
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    return data;
}
