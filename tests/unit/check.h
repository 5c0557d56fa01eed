/*
 * A minimal unit-test harness: CHECK records a failure with file and line
 * and goes on; check_summary prints "N passed, N failed" and gives the exit
 * status automake's test driver reads (a failure when no check ran).
 */
#ifndef LITELLM_CHECK_H
#define LITELLM_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            check_passed++;                                                          \
        } else {                                                                     \
            check_failed++;                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_STR(actual, expected)                                                               \
    do {                                                                                          \
        const char *check_a_ = (actual), *check_e_ = (expected);                                  \
        if (check_a_ != NULL && strcmp(check_a_, check_e_) == 0) {                                \
            check_passed++;                                                                       \
        } else {                                                                                  \
            check_failed++;                                                                       \
            fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__, check_e_, \
                    check_a_ ? check_a_ : "(null)");                                              \
        }                                                                                         \
    } while (0)

static inline int
check_summary(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, check_passed, check_failed);
    if (check_passed + check_failed == 0) {
        fprintf(stderr, "%s: FAILED: ran no check\n", suite);
        return 1;
    }
    return check_failed == 0 ? 0 : 1;
}

#endif
