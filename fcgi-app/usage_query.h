/*
 * usage_query: the query string of GET /usage, untrusted, parsed strictly:
 *
 *   ?hours=N          hourly buckets over the last N hours (default 24)
 *   ?since=YYYY-MM-DD daily buckets from that day (UTC) to today
 *   &key=NAME         one key's ("-": requests without a key)
 *
 * Each parameter at most once, hours or since, nothing else; values
 * percent-decoded.  The same window is what `litellm-usage` asks for.
 */
#ifndef LITELLM_USAGE_QUERY_H
#define LITELLM_USAGE_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "usage_store.h"

#define USAGE_QUERY_MAX_HOURS (24 * 3650)

struct usage_query {
    bool daily;           /* granularity: day (since=) or hour (hours=) */
    int64_t since, until; /* [since, until), whole hours or days */
    bool has_key;
    char key[USAGE_KEY_MAX + 1];
};

/* The last `hours` hours, this one included. */
void usage_query_hours(struct usage_query *query, unsigned hours, int64_t now);
/* Days from `since` (a midnight) to today included. */
void usage_query_days(struct usage_query *query, int64_t since, int64_t now);
/* `text` may be NULL or empty (the defaults).  0, or -1 with a reason in
 * `err` that may be shown to the client. */
int usage_query_parse(const char *text, int64_t now, struct usage_query *query, char *err,
                      size_t err_size);
/* A key name as the keys file allows it, or "-". */
bool usage_key_name_valid(const char *name);

#endif
