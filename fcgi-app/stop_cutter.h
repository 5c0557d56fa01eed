/*
 * stop_cutter: applies OpenAI's `stop` sequences to a reply that arrives in
 * pieces.  A stop sequence may be split across deltas, so the tail of the
 * text that could still begin one is held back until the next piece shows
 * whether it does.  The stop text itself never reaches the client.
 *
 * Pure code with no I/O, so it is unit-tested and fuzzed alone.
 */
#ifndef LITELLM_STOP_CUTTER_H
#define LITELLM_STOP_CUTTER_H

#include <stdbool.h>
#include <stddef.h>

#include "dynbuf.h"

/* OpenAI takes 4; Anthropic's stop_sequences more. */
#define STOP_CUTTER_MAX_SEQUENCES 16

struct stop_cutter {
    char *sequences[STOP_CUTTER_MAX_SEQUENCES];
    size_t lengths[STOP_CUTTER_MAX_SEQUENCES];
    size_t count;
    struct dynbuf pending; /* held-back tail, then the text being examined */
    bool stopped;
    const char *matched; /* once stopped: the sequence that stopped it */
};

void stop_cutter_init(struct stop_cutter *cutter);
void stop_cutter_free(struct stop_cutter *cutter);
/* Adds a sequence (copied); empty sequences are ignored.  -1: no memory or
 * too many. */
int stop_cutter_add(struct stop_cutter *cutter, const char *sequence);
bool stop_cutter_active(const struct stop_cutter *cutter);

/* Feeds the next piece of text.  Appends to `out` what may be sent now;
 * returns 1 once a stop sequence was found (`out` then ends right before it
 * and later pieces are ignored), 0 otherwise, -1 when out of memory. */
int stop_cutter_feed(struct stop_cutter *cutter, const char *text, size_t len, struct dynbuf *out);
/* The reply ended: appends whatever was held back. */
int stop_cutter_flush(struct stop_cutter *cutter, struct dynbuf *out);

#endif
