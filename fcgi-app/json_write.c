#include "json_write.h"

#include <stdint.h>

static const char hex_digits[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence starting at s (max n bytes), or 0. */
static size_t
utf8_sequence_length(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* Reject overlong forms, surrogates and code points past U+10FFFF. */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

bool
json_utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        size_t seq = s[i] < 0x80 ? 1 : utf8_sequence_length(s + i, len - i);
        if (seq == 0)
            return false;
        i += seq;
    }
    return true;
}

int
json_append_string(struct dynbuf *out, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    int rc = dynbuf_append(out, "\"", 1);
    size_t run_start = 0, i = 0;
    while (rc == DYNBUF_OK && i < len) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        size_t seq = c >= 0x80 ? utf8_sequence_length(s + i, len - i) : 0;
        if (seq > 0) {
            i += seq;
            continue;
        }
        /* Flush the plain run, then write this byte escaped. */
        rc = dynbuf_append(out, s + run_start, i - run_start);
        if (rc != DYNBUF_OK)
            break;
        char esc[7] = { '\\', 0 };
        size_t esc_len = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            if (c >= 0x80) {
                rc = dynbuf_append(out, "\\ufffd", 6);
                esc_len = 0;
            } else {
                esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
                esc[4] = hex_digits[c >> 4]; esc[5] = hex_digits[c & 0xf];
                esc_len = 6;
            }
        }
        if (rc == DYNBUF_OK && esc_len > 0)
            rc = dynbuf_append(out, esc, esc_len);
        i++;
        run_start = i;
    }
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(out, s + run_start, len - run_start);
    if (rc == DYNBUF_OK)
        rc = dynbuf_append(out, "\"", 1);
    return rc;
}
