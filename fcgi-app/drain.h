/*
 * drain: the process-wide "the drain deadline passed" signal.  On SIGTERM
 * requests get --drain-timeout to finish; past it, main() raises this, and
 * every request still waiting (for a window's frames, or queued for a limit)
 * sees it through http_wait and ends with 503.
 */
#ifndef LITELLM_DRAIN_H
#define LITELLM_DRAIN_H

#include <stdbool.h>

/* Readable for good once drain_deadline_passed() ran; -1 if no eventfd
 * could be made (then only drain_deadline_reached() tells). */
int drain_fd(void);
void drain_deadline_passed(void);
bool drain_deadline_reached(void);

#endif
