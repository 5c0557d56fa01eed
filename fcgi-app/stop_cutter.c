#include "stop_cutter.h"

#include <stdlib.h>
#include <string.h>

/* Holding text back costs latency only while it may begin a stop sequence;
 * the pending buffer never exceeds a delta plus the longest sequence. */
#define STOP_PENDING_MAX (64u << 20)

void
stop_cutter_init(struct stop_cutter *cutter)
{
    memset(cutter, 0, sizeof *cutter);
    dynbuf_init(&cutter->pending, STOP_PENDING_MAX);
}

void
stop_cutter_free(struct stop_cutter *cutter)
{
    for (size_t i = 0; i < cutter->count; i++)
        free(cutter->sequences[i]);
    dynbuf_free(&cutter->pending);
    memset(cutter, 0, sizeof *cutter);
}

int
stop_cutter_add(struct stop_cutter *cutter, const char *sequence)
{
    size_t len = strlen(sequence);
    if (len == 0)
        return 0;
    if (cutter->count == STOP_CUTTER_MAX_SEQUENCES)
        return -1;
    char *copy = strdup(sequence);
    if (copy == NULL)
        return -1;
    cutter->sequences[cutter->count] = copy;
    cutter->lengths[cutter->count] = len;
    cutter->count++;
    return 0;
}

bool
stop_cutter_active(const struct stop_cutter *cutter)
{
    return cutter->count > 0;
}

/* Length of the longest suffix of text[0..len) that is a proper prefix of
 * some sequence: those bytes might be the start of a stop. */
static size_t
held_suffix_length(const struct stop_cutter *cutter, const char *text, size_t len)
{
    size_t best = 0;
    for (size_t i = 0; i < cutter->count; i++) {
        size_t max = cutter->lengths[i] - 1;
        if (max > len)
            max = len;
        for (size_t k = max; k > best; k--) {
            if (memcmp(text + len - k, cutter->sequences[i], k) == 0) {
                best = k;
                break;
            }
        }
    }
    return best;
}

int
stop_cutter_feed(struct stop_cutter *cutter, const char *text, size_t len, struct dynbuf *out)
{
    if (cutter->stopped)
        return 1;
    if (cutter->count == 0)
        return dynbuf_append(out, text, len) == DYNBUF_OK ? 0 : -1;
    if (dynbuf_append(&cutter->pending, text, len) != DYNBUF_OK)
        return -1;
    const char *data = cutter->pending.data;
    size_t total = cutter->pending.len;

    /* The stop that is complete first wins (the earliest end; of two that
     * end together, the one that starts first), whichever sequence it is:
     * that is where the text stops as it arrives, so how the reply was cut
     * into deltas does not change the answer. */
    const char *first = NULL, *first_end = NULL;
    size_t first_index = 0;
    for (size_t i = 0; i < cutter->count; i++) {
        const char *found = memmem(data, total, cutter->sequences[i], cutter->lengths[i]);
        const char *end = found ? found + cutter->lengths[i] : NULL;
        if (found != NULL &&
            (first == NULL || end < first_end || (end == first_end && found < first))) {
            first = found;
            first_end = end;
            first_index = i;
        }
    }
    if (first != NULL) {
        cutter->stopped = true;
        cutter->matched = cutter->sequences[first_index];
        int rc = dynbuf_append(out, data, (size_t)(first - data));
        dynbuf_reset(&cutter->pending);
        return rc == DYNBUF_OK ? 1 : -1;
    }
    /* A held suffix starts with a sequence's first byte, never inside a
     * UTF-8 character, so what is sent now is always whole characters. */
    size_t hold = held_suffix_length(cutter, data, total);
    if (dynbuf_append(out, data, total - hold) != DYNBUF_OK)
        return -1;
    dynbuf_consume(&cutter->pending, total - hold);
    return 0;
}

int
stop_cutter_flush(struct stop_cutter *cutter, struct dynbuf *out)
{
    if (cutter->stopped || cutter->pending.len == 0)
        return 0;
    int rc = dynbuf_append(out, cutter->pending.data, cutter->pending.len);
    dynbuf_reset(&cutter->pending);
    return rc == DYNBUF_OK ? 0 : -1;
}
