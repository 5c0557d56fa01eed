/*
 * usage_shm: the usage store in a memory-mapped file (usage.state beside
 * the limiter's state file), shared by every responder process on the host
 * and kept across restarts; a process-shared robust mutex guards it, as in
 * ratelimit_shm.c.  Two open-addressing tables: hour buckets (key x model x
 * hour) and key days (what a budget is checked against).  Buckets older
 * than the retention are dropped once a day, by whoever counts first.
 */
#ifndef LITELLM_USAGE_SHM_H
#define LITELLM_USAGE_SHM_H

#include <stddef.h>

#include "usage_store.h"

/* Opens (creating if needed) the file.  `retention_days` > 0.  NULL and a
 * reason in `err` on failure. */
struct usage_store *usage_shm_open(const char *path, unsigned retention_days, char *err,
                                   size_t err_size);

#endif
