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

#define FUZZ_CHECK(cond)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, \
                    #cond);                                                     \
            abort();                                                            \
        }                                                                       \
    } while (0)

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

#endif
