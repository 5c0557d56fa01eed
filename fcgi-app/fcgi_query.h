/*
 * fcgi_query: the client side of FastCGI, just enough to ask the responder
 * one GET over its own socket (litellm-status asks for /health).  libfcgi
 * has only the application side, so the record format is written here.
 *
 * Three parts, each usable alone:
 *   - fcgi_query_encode: one request (BEGIN_REQUEST, PARAMS, the empty
 *     PARAMS and STDIN that end them) into a dynbuf;
 *   - fcgi_reply: a push parser for the records that come back, fed any
 *     split of the bytes; it keeps FCGI_STDOUT (up to a maximum) and stops
 *     at FCGI_END_REQUEST.  Bounded: one record buffer of fixed size, the
 *     output in a dynbuf with a hard maximum.  Fuzzed by
 *     tests/fuzz/fuzz_fcgi_reply.c;
 *   - cgi_reply_split: the CGI response in that output (headers, an empty
 *     line, the body) into a status and a body.
 * fcgi_query_get does all three over a Unix socket, with one deadline.
 */
#ifndef LITELLM_FCGI_QUERY_H
#define LITELLM_FCGI_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dynbuf.h"

/* Record header (8 bytes) + the largest content + the largest padding. */
#define FCGI_RECORD_MAX (8 + 65535 + 255)

/* A name-value pair of FCGI_PARAMS. */
struct fcgi_param {
    const char *name;
    const char *value;
};

/* Appends the records of one FCGI_RESPONDER request with id `request_id`
 * and the given params (no body).  DYNBUF_OK, or the dynbuf's failure. */
int fcgi_query_encode(struct dynbuf *out, uint16_t request_id, const struct fcgi_param *params,
                      size_t count);

enum fcgi_reply_result {
    FCGI_REPLY_MORE = 0,     /* feed more bytes */
    FCGI_REPLY_DONE = 1,     /* FCGI_END_REQUEST seen */
    FCGI_REPLY_BAD = -1,     /* not the records a responder sends us */
    FCGI_REPLY_TOO_BIG = -2, /* FCGI_STDOUT past the maximum */
    FCGI_REPLY_NO_MEMORY = -3,
};

struct fcgi_reply {
    uint16_t request_id;
    int result;          /* the last feed's result once final */
    struct dynbuf out;   /* FCGI_STDOUT, NUL-terminated */
    size_t err_len;      /* FCGI_STDERR bytes seen (dropped) */
    uint32_t app_status; /* from FCGI_END_REQUEST */
    unsigned protocol_status;
    size_t have; /* bytes of the current record in `record` */
    unsigned char record[FCGI_RECORD_MAX];
};

/* `max_out`: the most FCGI_STDOUT bytes kept. */
void fcgi_reply_init(struct fcgi_reply *reply, uint16_t request_id, size_t max_out);
void fcgi_reply_free(struct fcgi_reply *reply);
/* Feeds bytes; the result of the whole stream so far.  Once it is not
 * FCGI_REPLY_MORE it stays what it was; bytes after the end are BAD. */
int fcgi_reply_feed(struct fcgi_reply *reply, const void *bytes, size_t len);
/* A sentence for a result. */
const char *fcgi_reply_strerror(int result);

/* The CGI response in `data` (FCGI_STDOUT): headers end at the first empty
 * line (CRLF or LF); `Status: NNN` sets the status (200 without one).
 * 0, or -1 if there is no header end, a header line has no colon, or the
 * Status header has no three-digit code. */
int cgi_reply_split(const char *data, size_t len, int *status, const char **body, size_t *body_len);

/*
 * GET `uri` from the FastCGI application on the Unix socket `socket_path`,
 * within `timeout_ms` in all.  On success returns 0 with the HTTP status and
 * the body in `body` (a dynbuf the caller initialised; at most `max_body`
 * bytes of output are read).  Otherwise -1 with a sentence in `err`.
 */
int fcgi_query_get(const char *socket_path, const char *uri, int timeout_ms, size_t max_body,
                   int *status, struct dynbuf *body, char *err, size_t err_size);

#endif
