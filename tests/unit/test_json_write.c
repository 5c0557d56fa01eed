/* JSON string escaping, including invalid UTF-8 and control bytes. */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "json_write.h"

static char *
escaped(const char *text, size_t len)
{
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    CHECK(json_append_string(&out, text, len) == DYNBUF_OK);
    return dynbuf_take(&out, NULL);
}

static void
check_round_trip(const char *text, size_t len, const char *expected_decoded)
{
    char *json = escaped(text, len);
    cJSON *parsed = cJSON_Parse(json);
    CHECK(cJSON_IsString(parsed));
    if (cJSON_IsString(parsed))
        CHECK_STR(parsed->valuestring, expected_decoded);
    cJSON_Delete(parsed);
    free(json);
}

int
main(void)
{
    char *plain = escaped("hello", 5);
    CHECK_STR(plain, "\"hello\"");
    free(plain);

    char *special = escaped("a\"b\\c\nd\te\x01", 10);
    CHECK_STR(special, "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
    free(special);

    check_round_trip("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15,
                     "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
    /* Invalid UTF-8 (a lone continuation byte, a truncated sequence, an
     * overlong form, a surrogate) becomes U+FFFD, never invalid JSON. */
    check_round_trip("a\x80z", 3, "a\xef\xbf\xbdz");
    check_round_trip("a\xe2\x82", 3, "a\xef\xbf\xbd\xef\xbf\xbd");
    check_round_trip("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd");
    check_round_trip("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");

    /* NUL bytes inside the data are escaped, not truncated. */
    char *nul = escaped("a\0b", 3);
    CHECK_STR(nul, "\"a\\u0000b\"");
    free(nul);

    /* U+2028 and U+2029 travel escaped (a JavaScript `.` stops at them),
     * and decode back to themselves. */
    char *separators = escaped("a\xe2\x80\xa8"
                               "b\xe2\x80\xa9"
                               "c",
                               9);
    CHECK_STR(separators, "\"a\\u2028b\\u2029c\"");
    free(separators);
    check_round_trip("a\xe2\x80\xa8"
                     "b",
                     5,
                     "a\xe2\x80\xa8"
                     "b");

    /* A document as one line, the same two escaped. */
    cJSON *doc = cJSON_Parse("{\"text\":\"x\xe2\x80\xa9y\",\"n\":[1,2]}");
    char *line = json_print_line(doc);
    CHECK_STR(line, "{\"text\":\"x\\u2029y\",\"n\":[1,2]}");
    free(line);
    cJSON_Delete(doc);

    /* A full buffer fails cleanly. */
    struct dynbuf small;
    dynbuf_init(&small, 4);
    CHECK(json_append_string(&small, "too long", 8) == DYNBUF_TOO_BIG);
    dynbuf_free(&small);
    return check_summary("json_write");
}
