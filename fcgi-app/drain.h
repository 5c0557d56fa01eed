/*
 * drain: the process-wide drain state.  On SIGTERM main() marks the drain as
 * begun (the probes answer 503 from then on: a request that still reaches
 * us, on a connection nginx already had, must not call a stopping responder
 * alive), then requests get --drain-timeout to finish; past it, main() raises
 * the deadline, and every request still waiting (for a window's frames, or
 * queued for a limit) sees it through http_wait and ends with 503.
 */
#ifndef LITELLM_DRAIN_H
#define LITELLM_DRAIN_H

#include <stdbool.h>

/* Readable for good once drain_deadline_passed() ran; -1 if no eventfd
 * could be made (then only drain_deadline_reached() tells). */
int drain_fd(void);
void drain_deadline_passed(void);
/* SIGTERM came: the responder is stopping (for good, once set). */
void drain_begin(void);
bool drain_begun(void);
bool drain_deadline_reached(void);

#endif
