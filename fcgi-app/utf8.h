/*
 * utf8: the one UTF-8 decoder.  Strict (RFC 3629): no overlong forms, no
 * surrogates, nothing past U+10FFFF, as JSON text and the pipe protocol
 * require.  Inline: the token estimator and the JSON writer run it per
 * character on the hot path.
 */
#ifndef LITELLM_UTF8_H
#define LITELLM_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The length of the valid multi-byte sequence at p (2-4) and its code
 * point, or 0 when p does not start one.  ASCII is the caller's fast path. */
static inline unsigned
utf8_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
    unsigned b = p[0];
    size_t avail = (size_t)(end - p);

    if (b >= 0xC2 && b <= 0xDF) {
        if (avail < 2 || (p[1] & 0xC0) != 0x80)
            return 0;
        *cp = (uint32_t)(b & 0x1F) << 6 | (p[1] & 0x3F);
        return 2;
    }
    if (b >= 0xE0 && b <= 0xEF) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if ((b == 0xE0 && p[1] < 0xA0) || (b == 0xED && p[1] >= 0xA0))
            return 0;
        *cp = (uint32_t)(b & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
        return 3;
    }
    if (b >= 0xF0 && b <= 0xF4) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if ((b == 0xF0 && p[1] < 0x90) || (b == 0xF4 && p[1] >= 0x90))
            return 0;
        *cp = (uint32_t)(b & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
              (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
        return 4;
    }
    return 0;
}

/* True if all `len` bytes are valid UTF-8. */
static inline bool
utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text, *end = s + len;
    uint32_t cp;
    while (s < end) {
        if (*s < 0x80) {
            s++;
            continue;
        }
        unsigned width = utf8_decode(s, end, &cp);
        if (width == 0)
            return false;
        s += width;
    }
    return true;
}

/* The largest length <= len that does not split a character of `text`
 * (which holds more than len bytes). */
static inline size_t
utf8_floor(const char *text, size_t len)
{
    while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
        len--;
    return len;
}

#endif
