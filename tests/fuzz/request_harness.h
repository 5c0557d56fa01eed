/*
 * request_harness: one FastCGI request, as nginx hands it to a worker
 * thread, through the responder's whole request path (http_request_init,
 * the dispatcher, auth, the body, the chat handler, limits, the relay of
 * the window's frames), in memory.  Shared by the fuzz target
 * fuzz_fcgi_params (which checks invariants on the result) and the golden
 * tests (tests/unit/test_golden.c, which compare it byte for byte).
 *
 * The FCGX_Request is built here: envp from the input's params, ipcFd -1,
 * and in/out streams of our own (libfcgi's FCGX_Stream is a public struct
 * driven through its fill/empty callbacks), so libfcgi's real FCGX_GetStr,
 * FCGX_PutStr, FCGX_FPrintF and FCGX_FFlush run against memory.  Two fake
 * VS Code windows are registered in the router; pipe_conn_send and
 * pipe_conn_send_cancel are wrapped at link time (-Wl,--wrap) so that,
 * instead of writing to a socket, the request frame is checked and the
 * input's scripted frames are handed to the request's mailbox the way the
 * pipe reader does, followed by "window lost", so nothing ever waits.
 * limit_now_ns is wrapped too: the limiter's clock stands still during a
 * request and jumps two minutes between requests, so every request meets
 * full buckets and the same input always gets the same answer; time() is
 * wrapped to a fixed instant and getrandom() to fixed bytes, so `created`
 * fields and generated request ids are stable; the monotonic clock skips
 * the waits of a #silence.
 *
 * Input, lines up to the first empty line, then the body:
 *   NAME=value          a FastCGI param (REQUEST_METHOD, DOCUMENT_URI,
 *                       HTTP_AUTHORIZATION, SERVER_ADDR, CONTENT_LENGTH, ...)
 *   #frame=JSON         a line the window sends once the request reaches it
 *   #silence            ... then nothing until the request waits: that wait
 *                       passes at once on a clock that skips it
 *                       (clock_gettime and http_wait are wrapped), so a
 *                       stream gets its heartbeat and a whole reply its
 *                       504, in no time
 *   #models=JSON        the first window offers these models (as in hello)
 *   #default-model=ID   ... with this one picked in VS Code
 *   #send-fails         writing the request frame to the window fails
 *   #gone-after=N       the client hangs up after N bytes of the response
 *   #body-chunk=N       the body arrives N bytes at a time
 *   #read-error         reading the body fails after what there is
 * API keys: "sk-litellm-fuzz-any" (any model) and "sk-litellm-fuzz-gpt"
 * (gpt-4o only); without a key, a request gets 401.
 */
#ifndef LITELLM_REQUEST_HARNESS_H
#define LITELLM_REQUEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define HARNESS_FIXED_TIME 1767225600 /* 2026-01-01T00:00:00Z */

struct harness_result {
    const struct http_request *req;
    const char *response; /* what reached "nginx", head and body */
    size_t len;
    bool gone;               /* the client hung up (#gone-after) */
    bool gone_while_handled; /* ... before the handler returned */
    unsigned frames_sent;    /* request frames sent to a window */
};

void request_harness_init(void);
/* Runs one input through the request path; `inspect` sees the result
 * before the request is freed. */
void request_harness_run(const uint8_t *data, size_t size,
                         void (*inspect)(const struct harness_result *result));

#endif
