/*
 * log: leveled, line-oriented logging to stderr or a file.  One call writes
 * one whole line, so lines from concurrent threads never interleave.
 * Prompt text and API keys are never logged at info level (DESIGN.md).
 */
#ifndef LITELLM_LOG_H
#define LITELLM_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Returns -1 for an unknown level name. */
int log_level_from_name(const char *name);
/* Opens `path` for appending (NULL: stderr).  Returns 0 or -1 with errno. */
int log_open(enum log_level level, const char *path);
void log_close(void);
int log_enabled(enum log_level level);
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                         \
    do {                                       \
        if (log_enabled(LOG_DEBUG))            \
            log_write(LOG_DEBUG, __VA_ARGS__); \
    } while (0)

#endif
