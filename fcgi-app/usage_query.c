#include "usage_query.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api_keys.h"

void
usage_query_hours(struct usage_query *query, unsigned hours, int64_t now)
{
    query->daily = false;
    query->until = usage_hour_start(now) + USAGE_HOUR;
    query->since = query->until - (int64_t)hours * USAGE_HOUR;
}

void
usage_query_days(struct usage_query *query, int64_t since, int64_t now)
{
    query->daily = true;
    query->since = since;
    query->until = usage_day_start(now) + USAGE_DAY;
}

/* A key's name is kept whole in the usage store. */
_Static_assert(USAGE_KEY_MAX >= API_KEY_NAME_MAX, "a usage key holds any API key's name");

bool
usage_key_name_valid(const char *name)
{
    return strcmp(name, USAGE_NO_KEY) == 0 || api_key_name_valid(name);
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes [text, text+len) into `out` (size bytes, NUL ended);
 * -1 on a bad escape, a NUL, or no room. */
static int
decode(const char *text, size_t len, char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)text[i];
        if (c == '%') {
            if (len - i < 3)
                return -1;
            int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == 0 || n + 1 >= size)
            return -1;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return 0;
}

static int
parse_hours(const char *value, unsigned *out)
{
    unsigned hours = 0;
    if (*value == '\0' || strlen(value) > 6)
        return -1;
    for (const char *p = value; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        hours = hours * 10 + (unsigned)(*p - '0');
    }
    if (hours < 1 || hours > USAGE_QUERY_MAX_HOURS)
        return -1;
    *out = hours;
    return 0;
}

int
usage_query_parse(const char *text, int64_t now, struct usage_query *query, char *err,
                  size_t err_size)
{
    memset(query, 0, sizeof *query);
    usage_query_hours(query, 24, now);
    bool seen_hours = false, seen_since = false;
    const char *p = text ? text : "";
    while (*p != '\0') {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        char name[16], value[USAGE_KEY_MAX + 1];
        if (eq == NULL || decode(p, (size_t)(eq - p), name, sizeof name) != 0 ||
            decode(eq + 1, len - (size_t)(eq + 1 - p), value, sizeof value) != 0) {
            snprintf(err, err_size,
                     "The query string is malformed: use hours=N, since=YYYY-MM-DD and key=NAME.");
            return -1;
        }
        if (strcmp(name, "hours") == 0 && !seen_hours) {
            unsigned hours;
            if (parse_hours(value, &hours) != 0) {
                snprintf(err, err_size, "hours must be a whole number from 1 to %d.",
                         USAGE_QUERY_MAX_HOURS);
                return -1;
            }
            usage_query_hours(query, hours, now);
            seen_hours = true;
        } else if (strcmp(name, "since") == 0 && !seen_since) {
            int64_t since;
            if (usage_parse_date(value, strlen(value), &since) != 0 || since > now) {
                snprintf(err, err_size, "since must be a date (YYYY-MM-DD, UTC) not in the future.");
                return -1;
            }
            usage_query_days(query, since, now);
            seen_since = true;
        } else if (strcmp(name, "key") == 0 && !query->has_key) {
            if (!usage_key_name_valid(value)) {
                snprintf(err, err_size, "key must be an API key's name, or - for no key.");
                return -1;
            }
            snprintf(query->key, sizeof query->key, "%s", value);
            query->has_key = true;
        } else {
            snprintf(err, err_size,
                     "Unknown or repeated query parameter: use hours=N or since=YYYY-MM-DD, and "
                     "key=NAME, each once.");
            return -1;
        }
        if (seen_hours && seen_since) {
            snprintf(err, err_size, "Give hours or since, not both.");
            return -1;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return 0;
}
