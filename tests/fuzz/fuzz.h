/*
 * fuzz: what every libFuzzer target under tests/fuzz shares: the entry
 * points libFuzzer calls, and FUZZ_CHECK, which turns a broken invariant
 * into a crash libFuzzer records (abort, with file, line and the condition).
 *
 * Each target is built with -fsanitize=fuzzer,address,undefined against an
 * instrumented copy of the responder's library (tests/fuzz/README.md).
 */
#ifndef LITELLM_FUZZ_H
#define LITELLM_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                                 \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* A request target's refusal (fuzz_refusal.c, in those targets' sources):
 * a 4xx/5xx with a code and a message, its fixed buffers NUL-terminated,
 * whose error body in `format` (its error_body, as the finisher sends it) is
 * valid UTF-8 and JSON with an "error" object that holds a string for each
 * of `fields` (NULL-terminated; NULL for none). */
struct api_error;
struct wire_format;
void fuzz_check_refusal(const struct api_error *err, const struct wire_format *format,
                        const char *const *fields);
/* An accepted request's pipe frame (for `model`) prints as valid UTF-8 and
 * parses back with the same id and number of messages. */
struct chat_request;
void fuzz_check_frame(const struct chat_request *req, const char *model);

/* One input through a request target's parser (its LLVMFuzzerTestOneInput,
 * fuzz_refusal.c): an accepted request goes to `accepted`, with the input;
 * a refusal to fuzz_check_refusal(format, fields).  The request is freed
 * either way. */
typedef int (*fuzz_request_parser)(const char *body, size_t len, struct chat_request *out,
                                   struct api_error *err);
void fuzz_parse_request(const uint8_t *data, size_t size, fuzz_request_parser parse,
                        void (*accepted)(struct chat_request *req, const uint8_t *data, size_t size),
                        const struct wire_format *format, const char *const *fields);

/* What the parsers that build the same normalised request differ in
 * (fuzz_normalised.c: Messages, Gemini). */
struct fuzz_request_rules {
    bool parts_only_from_user; /* content arrays come in user messages only */
    bool parameters_required;  /* every function tool has a parameters object */
    long min_max_tokens;       /* the least max_tokens an accepted request has */
    const char *model;         /* the model its frame is built for */
};
/* An accepted request is a valid normalised request: a non-empty messages
 * array of system, user, assistant and tool messages whose content is a
 * string or text and image_url (data: URL, user only) parts; every
 * assistant tool call (an id, a name, arguments that are a JSON object) is
 * answered by exactly one tool message right after its message, and no tool
 * message answers anything else; tools are a non-empty list of function
 * tools; tool_choice is auto, required or none (with tools); has_images says
 * whether an image part exists; stop is at most STOP_CUTTER_MAX_SEQUENCES
 * strings; the notes for the log are one line; the frame checks out
 * (fuzz_check_frame); token estimates are non-negative. */
void fuzz_check_normalised(const struct chat_request *req, const struct fuzz_request_rules *rules);

/* Takes bytes off the front of the input, for the harness's own choices
 * (split points, sizes); 0 once the input is used up. */
struct fuzz_input {
    const uint8_t *data;
    size_t size;
};

static inline unsigned
fuzz_take_byte(struct fuzz_input *in)
{
    if (in->size == 0)
        return 0;
    in->size--;
    return *in->data++;
}

/* An independent UTF-8 check, the oracle the targets hold output to (the
 * responder's own utf8_valid (fcgi-app/utf8.h) is what is under test). */
static inline bool
fuzz_valid_utf8(const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n = c < 0x80                 ? 1
                   : c >= 0xc2 && c <= 0xdf ? 2
                   : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4
                                            : 0;
        if (n == 0 || n > len - i)
            return false;
        unsigned cp = n == 1 ? c : c & (0xff >> (n + 1));
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n;
    }
    return true;
}

#endif
