/* Usage and budgets: the calendar (day, ISO week, month; leap years), the
 * /usage query parser, and the shared store (a real file, two mappings). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "usage_period.h"
#include "usage_query.h"
#include "usage_redis.h"
#include "usage_report.h"
#include "usage_shm.h"

/* Seconds of a UTC date and time. */
static int64_t
at(int year, unsigned month, unsigned day, int hour)
{
    return usage_days_from_civil(year, month, day) * USAGE_DAY + hour * USAGE_HOUR;
}

static void
check_bounds(enum usage_period period, int64_t now, const char *start, const char *end)
{
    int64_t s, e;
    char text[USAGE_TIME_TEXT_SIZE];
    usage_period_bounds(period, now, &s, &e);
    usage_format_time(s, text);
    CHECK_STR(text, start);
    usage_format_time(e, text);
    CHECK_STR(text, end);
}

static void
test_calendar(void)
{
    char text[USAGE_TIME_TEXT_SIZE];
    usage_format_time(0, text);
    CHECK_STR(text, "1970-01-01T00:00:00Z");
    usage_format_time(at(2026, 12, 5, 13) + 61, text);
    CHECK_STR(text, "2026-12-05T13:01:01Z");

    check_bounds(USAGE_PERIOD_DAY, at(2026, 12, 5, 23) + 3599, "2026-12-05T00:00:00Z",
                 "2026-12-06T00:00:00Z");
    check_bounds(USAGE_PERIOD_DAY, at(2026, 12, 6, 0), "2026-12-06T00:00:00Z",
                 "2026-12-07T00:00:00Z");
    /* ISO weeks start on Monday: 2026-12-05 is a Saturday, 12-07 a Monday. */
    check_bounds(USAGE_PERIOD_WEEK, at(2026, 12, 5, 10), "2026-11-30T00:00:00Z",
                 "2026-12-07T00:00:00Z");
    check_bounds(USAGE_PERIOD_WEEK, at(2026, 12, 7, 0), "2026-12-07T00:00:00Z",
                 "2026-12-14T00:00:00Z");
    check_bounds(USAGE_PERIOD_WEEK, at(2026, 12, 6, 23), "2026-11-30T00:00:00Z",
                 "2026-12-07T00:00:00Z");
    /* A week across a year: 2020-12-31 is a Thursday. */
    check_bounds(USAGE_PERIOD_WEEK, at(2021, 1, 1, 5), "2020-12-28T00:00:00Z",
                 "2021-01-04T00:00:00Z");
    check_bounds(USAGE_PERIOD_WEEK, 0, "1969-12-29T00:00:00Z", "1970-01-05T00:00:00Z");
    /* Months, December into January, and February in leap and common years. */
    check_bounds(USAGE_PERIOD_MONTH, at(2026, 12, 31, 23), "2026-12-01T00:00:00Z",
                 "2027-01-01T00:00:00Z");
    check_bounds(USAGE_PERIOD_MONTH, at(2024, 2, 29, 12), "2024-02-01T00:00:00Z",
                 "2024-03-01T00:00:00Z");
    check_bounds(USAGE_PERIOD_MONTH, at(2100, 2, 28, 0), "2100-02-01T00:00:00Z",
                 "2100-03-01T00:00:00Z");
    check_bounds(USAGE_PERIOD_MONTH, at(2000, 3, 1, 0), "2000-03-01T00:00:00Z",
                 "2000-04-01T00:00:00Z");
    CHECK(at(2000, 3, 1, 0) - at(2000, 2, 28, 0) == 2 * USAGE_DAY); /* 2000 was leap */
    CHECK(at(2100, 3, 1, 0) - at(2100, 2, 28, 0) == USAGE_DAY);     /* 2100 is not */

    int64_t date;
    CHECK(usage_parse_date("2024-02-29", 10, &date) == 0 && date == at(2024, 2, 29, 0));
    CHECK(usage_parse_date("2023-02-29", 10, &date) == -1);
    CHECK(usage_parse_date("2100-02-29", 10, &date) == -1);
    CHECK(usage_parse_date("2000-02-29", 10, &date) == 0);
    CHECK(usage_parse_date("2026-13-01", 10, &date) == -1);
    CHECK(usage_parse_date("2026-04-31", 10, &date) == -1);
    CHECK(usage_parse_date("2026-1-01", 9, &date) == -1);
    CHECK(usage_parse_date("1969-12-31", 10, &date) == -1);
    CHECK(usage_parse_date("2026-12-05x", 11, &date) == -1);

    enum usage_period period;
    CHECK(usage_period_parse("week", &period) == 0 && period == USAGE_PERIOD_WEEK);
    CHECK(usage_period_parse("year", &period) == -1);
    CHECK_STR(usage_period_name(USAGE_PERIOD_MONTH), "month");
}

static void
test_query(void)
{
    int64_t now = at(2026, 12, 5, 13) + 125;
    struct usage_query q;
    char err[256];
    CHECK(usage_query_parse(NULL, now, &q, err, sizeof err) == 0);
    CHECK(!q.daily && q.until == at(2026, 12, 5, 14) && q.since == at(2026, 12, 4, 14));
    CHECK(usage_query_parse("hours=1&key=alice%40team", now, &q, err, sizeof err) == 0);
    CHECK(q.since == at(2026, 12, 5, 13) && q.has_key);
    CHECK_STR(q.key, "alice@team");
    CHECK(usage_query_parse("since=2026-12-01&key=-", now, &q, err, sizeof err) == 0);
    CHECK(q.daily && q.since == at(2026, 12, 1, 0) && q.until == at(2026, 12, 6, 0));
    const char *bad[] = { "hours=",
                          "hours=0",
                          "hours=x",
                          "hours=99999999",
                          "since=2026-12-06",
                          "since=2026-02-30",
                          "hours=1&since=2026-12-01",
                          "key=",
                          "key=a b",
                          "key=%zz",
                          "key=%4",
                          "key=%00",
                          "hours=1&hours=1",
                          "other=1",
                          "hours",
                          "&",
                          "key=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        int rc = usage_query_parse(bad[i], now, &q, err, sizeof err);
        CHECK(rc == -1 && err[0] != '\0');
        if (rc != -1)
            fprintf(stderr, "accepted: %s\n", bad[i]);
    }
}

struct found {
    int rows;
    struct usage_counts sum;
};

static void
count_row(const struct usage_row *row, void *ctx)
{
    struct found *found = ctx;
    found->rows++;
    found->sum.requests += row->counts.requests;
    found->sum.input_tokens += row->counts.input_tokens;
    found->sum.errors += row->counts.errors;
    found->sum.premium_milli += row->counts.premium_milli;
}

static void
test_store(void)
{
    char path[] = "/tmp/test_usage.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    char err[256];
    struct usage_store *one = usage_shm_open(path, 90, err, sizeof err);
    struct usage_store *two = usage_shm_open(path, 90, err,
                                             sizeof err); /* another process's view */
    CHECK(one != NULL && two != NULL);
    if (one == NULL || two == NULL)
        return;
    int64_t now = at(2026, 12, 5, 13);
    struct usage_call call = {
        .key = "alice",
        .model = "gpt-4o",
        .premium_milli = 1500,
        .budget = { USAGE_PERIOD_DAY, 2, 0 },
    };
    enum usage_admission verdict;
    struct usage_spent spent;
    CHECK(one->admit(one, &call, now, &verdict, &spent) == 0 && verdict == USAGE_ADMITTED);
    CHECK(spent.requests == 0);
    CHECK(two->admit(two, &call, now + 60, &verdict, &spent) == 0 && verdict == USAGE_ADMITTED);
    CHECK(spent.requests == 1);
    /* The third is refused, and counts nothing. */
    CHECK(one->admit(one, &call, now + 120, &verdict, &spent) == 0 &&
          verdict == USAGE_OVER_REQUESTS);
    CHECK(spent.requests == 2);
    /* The next day the budget is fresh; a week budget still sees both days. */
    CHECK(one->admit(one, &call, at(2026, 12, 6, 0), &verdict, NULL) == 0 &&
          verdict == USAGE_ADMITTED);
    call.budget.period = USAGE_PERIOD_WEEK;
    call.budget.requests = 3;
    CHECK(one->admit(one, &call, at(2026, 12, 6, 1), &verdict, NULL) == 0 &&
          verdict == USAGE_OVER_REQUESTS);
    call.budget.requests = 0;
    call.budget.tokens = 100;
    call.admitted = true;
    call.input_tokens = 70;
    call.output_tokens = 30;
    CHECK(one->finish(one, &call, now) == 0);
    CHECK(one->admit(one, &call, at(2026, 12, 6, 2), &verdict, &spent) == 0 &&
          verdict == USAGE_OVER_TOKENS && spent.tokens == 100);
    /* A refused call: its request and error at the end, no budget spent. */
    struct usage_call refused = { .key = "-", .model = "nope", .premium_milli = 0, .error = true };
    CHECK(two->finish(two, &refused, now) == 0);

    struct found found = { 0 };
    CHECK(two->read(two, at(2026, 12, 5, 0), at(2026, 12, 6, 0), "alice", count_row, &found) == 0);
    CHECK(found.rows == 1 && found.sum.requests == 2 && found.sum.input_tokens == 70 &&
          found.sum.premium_milli == 3000);
    memset(&found, 0, sizeof found);
    CHECK(one->read(one, 0, at(2027, 1, 1, 0), NULL, count_row, &found) == 0);
    CHECK(found.rows == 3 && found.sum.requests == 4 && found.sum.errors == 1 &&
          found.sum.premium_milli == 4500);

    /* The report: daily buckets, totals, a budget with its reset. */
    struct usage_query query = { 0 };
    usage_query_days(&query, at(2026, 12, 1, 0), at(2026, 12, 6, 3));
    struct usage_key_budget budget = { "alice", { USAGE_PERIOD_MONTH, 10, 0 } };
    cJSON *doc = usage_report(one, &query, &budget, 1, at(2026, 12, 6, 3));
    char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
    CHECK(text != NULL && strstr(text, "\"totals\":{\"requests\":4,\"input_tokens\":70,"
                                       "\"output_tokens\":30,\"errors\":1,"
                                       "\"premium_requests\":4.5}") != NULL);
    CHECK(text != NULL && strstr(text, "\"requests\":{\"limit\":10,\"used\":3}") != NULL);
    CHECK(text != NULL && strstr(text, "\"resets_at\":\"2027-01-01T00:00:00Z\"") != NULL);
    CHECK(text != NULL && strstr(text, "{\"start\":\"2026-12-05T00:00:00Z\",\"key\":\"-\","
                                       "\"model\":\"nope\"") != NULL);
    free(text);
    cJSON_Delete(doc);

    /* Past the retention, the old hours are dropped by the next count. */
    struct usage_store *short_lived = usage_shm_open(path, 1, err, sizeof err);
    CHECK(short_lived != NULL);
    if (short_lived != NULL) {
        call.budget = (struct usage_budget){ 0 };
        CHECK(short_lived->finish(short_lived, &call, at(2026, 12, 9, 0)) == 0);
        memset(&found, 0, sizeof found);
        CHECK(short_lived->read(short_lived, 0, at(2027, 1, 1, 0), NULL, count_row, &found) == 0);
        CHECK(found.rows == 1 && found.sum.requests == 0 && found.sum.input_tokens == 70);
        short_lived->close(short_lived);
    }
    one->close(one);
    two->close(two);
    unlink(path);
}

/* --premium-multiplier: ids and families first, then globs in order; 1 by default. */
static void
test_premium(void)
{
    struct config cfg;
    config_init(&cfg);
    char err[256];
    CHECK(config_set(&cfg, "premium-multiplier", "claude-*opus*=10", err, sizeof err) == 0);
    CHECK(config_set(&cfg, "premium-multiplier", "gpt-4o=0", err, sizeof err) == 0);
    CHECK(config_set(&cfg, "premium-multiplier", "o1=0.333", err, sizeof err) == 0);
    CHECK(config_set(&cfg, "premium-multiplier", "*=2", err, sizeof err) == 0);
    CHECK(config_set(&cfg, "premium-multiplier", "gpt-4o", err, sizeof err) == -1);
    CHECK(config_set(&cfg, "premium-multiplier", "=1", err, sizeof err) == -1);
    CHECK(config_set(&cfg, "premium-multiplier", "x=-1", err, sizeof err) == -1);
    CHECK(config_set(&cfg, "premium-multiplier", "x=1e9", err, sizeof err) == -1);
    CHECK(config_set(&cfg, "premium-multiplier", "x=nan", err, sizeof err) == -1);
    CHECK(config_premium_milli(&cfg, "copilot/gpt-4o", "gpt-4o") == 0);
    CHECK(config_premium_milli(&cfg, "copilot/claude-opus-4.1", "claude-opus-4.1") == 10000);
    CHECK(config_premium_milli(&cfg, "copilot/o1", "o1") == 333);
    CHECK(config_premium_milli(&cfg, "copilot/gemini-2.0-flash", "") == 2000);
    config_free(&cfg);
    config_init(&cfg);
    CHECK(config_premium_milli(&cfg, "anything", NULL) == 1000);
    CHECK(cfg.usage_retention_days == 90);
    config_free(&cfg);
}

/* A Redis hash field read back: "key\tmodel\tcounter" = digits, or skipped. */
static void
test_redis_field(void)
{
    struct usage_redis_field f;
    const char ok[] = "alice\tcopilot/gpt\t4o\tp";
    CHECK(usage_redis_parse_field(ok, sizeof ok - 1, "1500", 4, &f) == 0);
    CHECK_STR(f.key, "alice");
    CHECK_STR(f.model, "copilot/gpt\t4o");
    CHECK(f.counter == 'p' && f.value == 1500);
    const char *bad[] = { "alice\tgpt-4o\tx", "alice\tgpt-4o",     "\tgpt-4o\tr",
                          "alice\t\tr",       "alice\tgpt-4o\trr", "alicegpt-4or" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(usage_redis_parse_field(bad[i], strlen(bad[i]), "1", 1, &f) == -1);
    CHECK(usage_redis_parse_field("a\tm\tr", 5, "-1", 2, &f) == -1);
    CHECK(usage_redis_parse_field("a\tm\tr", 5, "1x", 2, &f) == -1);
    CHECK(usage_redis_parse_field("a\tm\tr", 5, "", 0, &f) == -1);
    CHECK(usage_redis_parse_field("a\tm\tr", 5, "1234567890123456789", 19, &f) == -1);
}

int
main(void)
{
    test_redis_field();
    test_premium();
    test_calendar();
    test_query();
    test_store();
    return check_summary("test_usage");
}
