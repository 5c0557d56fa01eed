#include "ratelimit.h"

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

int64_t
limit_now_ns(void)
{
    /* Wall-clock time: shared by processes, and meaningful after a restart. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

void
gcra_check(int64_t tat, int64_t now_ns, long limit_per_minute, long cost, struct gcra_result *out)
{
    int64_t interval = LIMIT_PERIOD_NS / limit_per_minute; /* ns per unit */
    if (interval < 1)
        interval = 1;
    int64_t start = tat > now_ns ? tat : now_ns;
    if (cost < 0)
        cost = 0;
    /* A cost that no amount of waiting can admit: refuse for good. */
    if (cost > limit_per_minute) {
        out->allowed = false;
        out->new_tat = tat;
        out->retry_after_ns = -1;
        out->remaining = (long)((now_ns + LIMIT_PERIOD_NS - start) / interval);
        out->reset_ns = start - now_ns;
        return;
    }
    int64_t new_tat = start + (int64_t)cost * interval;
    int64_t over = new_tat - (now_ns + LIMIT_PERIOD_NS);
    out->allowed = over <= 0;
    out->new_tat = out->allowed ? new_tat : tat;
    out->retry_after_ns = out->allowed ? 0 : over;
    int64_t level = out->allowed ? new_tat : start;
    out->remaining = (long)((now_ns + LIMIT_PERIOD_NS - level) / interval);
    if (out->remaining < 0)
        out->remaining = 0;
    out->reset_ns = level - now_ns;
}

void
limit_status_merge(struct limit_status *status, enum limit_kind kind, long limit, long remaining,
                   int64_t reset_ns)
{
    if (kind == LIMIT_REQUESTS) {
        if (!status->has_requests || remaining < status->remaining_requests) {
            status->has_requests = true;
            status->limit_requests = limit;
            status->remaining_requests = remaining;
            status->reset_requests_ns = reset_ns;
        }
    } else if (kind == LIMIT_TOKENS) {
        if (!status->has_tokens || remaining < status->remaining_tokens) {
            status->has_tokens = true;
            status->limit_tokens = limit;
            status->remaining_tokens = remaining;
            status->reset_tokens_ns = reset_ns;
        }
    }
}

void
limit_format_duration(int64_t ns, char *out, size_t size)
{
    if (ns <= 0) {
        snprintf(out, size, "0s");
        return;
    }
    if (ns < 1000000000LL) {
        long long ms = (ns + 999999) / 1000000;
        snprintf(out, size, "%lldms", ms);
        return;
    }
    long long total_ms = (ns + 999999) / 1000000;
    long long hours = total_ms / 3600000, minutes = total_ms / 60000 % 60;
    long long seconds = total_ms / 1000 % 60, millis = total_ms % 1000;
    char secs[32];
    if (millis == 0) {
        snprintf(secs, sizeof secs, "%llds", seconds);
    } else {
        /* Go drops trailing zeros of the fraction: 1.500s -> 1.5s. */
        char fraction[8]; /* 3 digits; room for GCC's -Wformat-truncation */
        snprintf(fraction, sizeof fraction, "%03lld", millis);
        for (int i = 2; i > 0 && fraction[i] == '0'; i--)
            fraction[i] = '\0';
        snprintf(secs, sizeof secs, "%lld.%ss", seconds, fraction);
    }
    if (hours > 0)
        snprintf(out, size, "%lldh%lldm%s", hours, minutes, secs);
    else if (minutes > 0)
        snprintf(out, size, "%lldm%s", minutes, secs);
    else
        snprintf(out, size, "%s", secs);
}

const char *
limit_kind_name(enum limit_kind kind, long limit)
{
    bool one = limit == 1;
    switch (kind) {
    case LIMIT_REQUESTS: return one ? "request per minute" : "requests per minute";
    case LIMIT_TOKENS: return one ? "token per minute" : "tokens per minute";
    case LIMIT_CONCURRENT: return one ? "concurrent request" : "concurrent requests";
    }
    return "limit";
}
