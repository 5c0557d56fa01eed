#include "usage_period.h"

#include <stdio.h>
#include <string.h>

/* Floor division: times before 1970 round down too. */
static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Howard Hinnant's days_from_civil / civil_from_days: exact for every
 * Gregorian date, leap years included, with no table. */
int64_t
usage_days_from_civil(int64_t year, unsigned month, unsigned day)
{
    year -= month <= 2;
    int64_t era = floor_div(year, 400);
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static void
civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
    days += 719468;
    int64_t era = floor_div(days, 146097);
    int64_t day_of_era = days - era * 146097;
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 -
                           day_of_era / 146096) /
                          365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t mp = (5 * day_of_year + 2) / 153;
    *day = (unsigned)(day_of_year - (153 * mp + 2) / 5 + 1);
    *month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *year = year_of_era + era * 400 + (*month <= 2);
}

int
usage_period_parse(const char *text, enum usage_period *out)
{
    static const char *const names[] = { "day", "week", "month" };
    for (size_t i = 0; i < 3; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = (enum usage_period)(USAGE_PERIOD_DAY + i);
            return 0;
        }
    return -1;
}

const char *
usage_period_name(enum usage_period period)
{
    switch (period) {
    case USAGE_PERIOD_DAY: return "day";
    case USAGE_PERIOD_WEEK: return "week";
    case USAGE_PERIOD_MONTH: return "month";
    case USAGE_PERIOD_NONE: break;
    }
    return "none";
}

int64_t
usage_hour_start(int64_t t)
{
    return floor_div(t, USAGE_HOUR) * USAGE_HOUR;
}

int64_t
usage_day_start(int64_t t)
{
    return floor_div(t, USAGE_DAY) * USAGE_DAY;
}

void
usage_period_bounds(enum usage_period period, int64_t now, int64_t *start, int64_t *end)
{
    int64_t days = floor_div(now, USAGE_DAY);
    switch (period) {
    case USAGE_PERIOD_WEEK: {
        /* 1970-01-01 was a Thursday: day 0 is weekday 3 counted from Monday. */
        int64_t monday = days - (((days + 3) % 7) + 7) % 7;
        *start = monday * USAGE_DAY;
        *end = *start + 7 * USAGE_DAY;
        return;
    }
    case USAGE_PERIOD_MONTH: {
        int64_t year;
        unsigned month, day;
        civil_from_days(days, &year, &month, &day);
        *start = usage_days_from_civil(year, month, 1) * USAGE_DAY;
        *end = (month == 12 ? usage_days_from_civil(year + 1, 1, 1)
                            : usage_days_from_civil(year, month + 1, 1)) *
               USAGE_DAY;
        return;
    }
    case USAGE_PERIOD_DAY:
    case USAGE_PERIOD_NONE: break;
    }
    *start = days * USAGE_DAY;
    *end = *start + USAGE_DAY;
}

void
usage_format_time(int64_t t, char out[USAGE_TIME_TEXT_SIZE])
{
    int64_t days = floor_div(t, USAGE_DAY);
    int64_t seconds = t - days * USAGE_DAY;
    int64_t year;
    unsigned month, day;
    civil_from_days(days, &year, &month, &day);
    /* Years past 9999 do not fit the format: they are clamped, never cut. */
    if (year > 9999 || year < 0) {
        snprintf(out, USAGE_TIME_TEXT_SIZE, "%s",
                 year < 0 ? "0000-01-01T00:00:00Z" : "9999-12-31T23:59:59Z");
        return;
    }
    /* Room for any int, so the compiler sees no truncation; the values are
     * in range, so the text is always 20 characters. */
    char text[80];
    snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)year, month, day,
             (int)(seconds / 3600), (int)(seconds / 60 % 60), (int)(seconds % 60));
    snprintf(out, USAGE_TIME_TEXT_SIZE, "%.20s", text);
}

static int
digits(const char *text, size_t count, unsigned *out)
{
    unsigned value = 0;
    for (size_t i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        value = value * 10 + (unsigned)(text[i] - '0');
    }
    *out = value;
    return 0;
}

int
usage_parse_date(const char *text, size_t len, int64_t *out)
{
    unsigned year, month, day;
    if (len != 10 || text[4] != '-' || text[7] != '-' || digits(text, 4, &year) != 0 ||
        digits(text + 5, 2, &month) != 0 || digits(text + 8, 2, &day) != 0)
        return -1;
    if (year < 1970 || month < 1 || month > 12 || day < 1)
        return -1;
    static const unsigned month_days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    unsigned last = month_days[month - 1] + (month == 2 && leap);
    if (day > last)
        return -1;
    *out = usage_days_from_civil(year, month, day) * USAGE_DAY;
    return 0;
}
