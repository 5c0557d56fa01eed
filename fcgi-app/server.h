/*
 * server: the FastCGI side.  A pool of threads, each blocked in
 * FCGX_Accept_r on the one listening socket, each serving one request at a
 * time (libfcgi does not multiplex).  Draining on shutdown: the listener is
 * shut down, which wakes every idle thread; busy ones finish their request.
 */
#ifndef LITELLM_SERVER_H
#define LITELLM_SERVER_H

#include <cjson/cJSON.h>

#include "config.h"

int server_start(const struct config *cfg);
/* Stops accepting: idle threads end, busy ones finish their request. */
void server_stop_accepting(void);
/* Waits for every worker thread; returns the number still busy when
 * `deadline_ms` (monotonic) passed, without waiting for them. */
unsigned server_wait(long long deadline_ms);
unsigned server_busy_count(void);
/* Adds "threads": {"busy", "started", "max"} to /health's object. */
void server_describe(cJSON *health);

#endif
