/*
 * limits_shm: the limiter's state in a memory-mapped file, shared by every
 * responder process on the host and kept across restarts.  A process-shared
 * robust mutex guards it, so a process that dies holding the lock does not
 * wedge the others.  Concurrency slots are leases tagged with the owner's
 * pid: the slots of a process that died are reclaimed.
 */
#ifndef LITELLM_RATELIMIT_SHM_H
#define LITELLM_RATELIMIT_SHM_H

#include "ratelimit.h"

/* Opens (creating if needed) the state file.  NULL and a reason in `err`
 * on failure. */
struct limit_store *ratelimit_shm_open(const char *path, char *err, size_t err_size);

#endif
