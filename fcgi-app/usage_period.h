/*
 * usage_period: the calendar of usage and budgets, in UTC and in seconds
 * since the epoch.  Hours hold the counts; a day is the sum of its hours;
 * a budget runs for a calendar day, an ISO week (from Monday 00:00) or a
 * calendar month.  Pure arithmetic (no time zone, no libc calendar), so the
 * store, the tools and the tests agree on every boundary.
 */
#ifndef LITELLM_USAGE_PERIOD_H
#define LITELLM_USAGE_PERIOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USAGE_HOUR 3600
#define USAGE_DAY 86400
/* "2026-12-06T00:00:00Z" and its NUL. */
#define USAGE_TIME_TEXT_SIZE 21

enum usage_period {
    USAGE_PERIOD_NONE = 0,
    USAGE_PERIOD_DAY,
    USAGE_PERIOD_WEEK,
    USAGE_PERIOD_MONTH,
};

/* "day", "week", "month"; -1 for anything else. */
int usage_period_parse(const char *text, enum usage_period *out);
/* "day", "week", "month", or "none". */
const char *usage_period_name(enum usage_period period);
/* The period holding `now`: its first second and the first of the next. */
void usage_period_bounds(enum usage_period period, int64_t now, int64_t *start, int64_t *end);

int64_t usage_hour_start(int64_t t);
int64_t usage_day_start(int64_t t);
/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
int64_t usage_days_from_civil(int64_t year, unsigned month, unsigned day);
/* "2026-12-06T00:00:00Z". */
void usage_format_time(int64_t t, char out[USAGE_TIME_TEXT_SIZE]);
/* Exactly "YYYY-MM-DD" (`len` bytes, a real date from 1970 to 9999): its
 * midnight UTC.  -1 for anything else. */
int usage_parse_date(const char *text, size_t len, int64_t *out);

#endif
