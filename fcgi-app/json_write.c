#include "json_write.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "utf8.h"

static const char hex_digits[] = "0123456789abcdef";

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
        uint32_t cp;
        size_t seq = c >= 0x80 ? utf8_decode(s + i, s + len, &cp) : 0;
        if (seq > 0 && cp != 0x2028 && cp != 0x2029) {
            i += seq;
            continue;
        }
        if (seq > 0) {
            rc = dynbuf_append(out, s + run_start, i - run_start);
            if (rc == DYNBUF_OK)
                rc = dynbuf_append(out, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
            i += seq;
            run_start = i;
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
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex_digits[c >> 4];
                esc[5] = hex_digits[c & 0xf];
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

char *
json_print_line(const struct cJSON *item)
{
    char *printed = cJSON_PrintUnformatted(item);
    if (printed == NULL ||
        (strstr(printed, "\xe2\x80\xa8") == NULL && strstr(printed, "\xe2\x80\xa9") == NULL))
        return printed;
    /* In cJSON's output these bytes can only be inside a string. */
    size_t len = strlen(printed);
    char *line = malloc(len * 2 + 1); /* 3 bytes become 6 */
    if (line != NULL) {
        char *to = line;
        for (const char *from = printed; *from != '\0';) {
            if (from[0] == '\xe2' && from[1] == '\x80' && (from[2] == '\xa8' || from[2] == '\xa9')) {
                memcpy(to, from[2] == '\xa8' ? "\\u2028" : "\\u2029", 6);
                to += 6;
                from += 3;
            } else {
                *to++ = *from++;
            }
        }
        *to = '\0';
    }
    free(printed);
    return line;
}
