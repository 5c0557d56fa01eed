/*
 * api_error: a failure on its way to becoming an OpenAI error response.
 * Validation code fills one in; openai_error sends it.
 */
#ifndef LITELLM_API_ERROR_H
#define LITELLM_API_ERROR_H

struct api_error {
    int status;
    const char *code;           /* static string or NULL */
    char param[128];            /* "" means null */
    char message[512];
};

/* `param` may be NULL.  Long messages are cut, never overflowed. */
void api_error_set(struct api_error *err, int status, const char *code, const char *param,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
