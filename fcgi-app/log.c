#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_level log_threshold = LOG_INFO;
static FILE *log_stream;

static const char *const log_level_names[] = { "error", "warn", "info", "debug" };

int
log_level_from_name(const char *name)
{
    for (int i = 0; i < (int)(sizeof log_level_names / sizeof *log_level_names); i++)
        if (strcmp(name, log_level_names[i]) == 0)
            return i;
    return -1;
}

int
log_open(enum log_level level, const char *path)
{
    log_threshold = level;
    if (path == NULL || *path == '\0') {
        log_stream = stderr;
        return 0;
    }
    FILE *file = fopen(path, "ae");
    if (file == NULL)
        return -1;
    setvbuf(file, NULL, _IOLBF, 0);
    log_stream = file;
    return 0;
}

void
log_close(void)
{
    if (log_stream != NULL && log_stream != stderr)
        fclose(log_stream);
    log_stream = NULL;
}

int
log_enabled(enum log_level level)
{
    return level <= log_threshold;
}

void
log_write(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    FILE *out = log_stream != NULL ? log_stream : stderr;
    struct timespec now;
    struct tm utc;
    char stamp[32];
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &utc);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);

    /* The whole line in one buffer, written at once: one write(2) per line
     * on an unbuffered stderr, and lines of several threads never mix. */
    char line[512];
    int head = snprintf(line, sizeof line, "%s.%03ldZ %s ", stamp, now.tv_nsec / 1000000L,
                        log_level_names[level]);
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int body = vsnprintf(line + head, sizeof line - (size_t)head, fmt, ap);
    va_end(ap);
    char *text = line;
    size_t len = (size_t)head;
    if (body >= 0 && (size_t)head + (size_t)body + 1 < sizeof line) {
        len += (size_t)body;
    } else if (body >= 0 && (text = malloc((size_t)head + (size_t)body + 2)) != NULL) {
        memcpy(text, line, (size_t)head);
        vsnprintf(text + head, (size_t)body + 1, fmt, again);
        len += (size_t)body;
    } else {
        text = line; /* no memory for a long line: keep its start */
        len = body < 0 ? (size_t)head : sizeof line - 1;
    }
    va_end(again);
    text[len++] = '\n';
    flockfile(out);
    fwrite(text, 1, len, out);
    fflush(out);
    funlockfile(out);
    if (text != line)
        free(text);
}
