#include "api_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
api_error_vset(struct api_error *err, int status, const char *code, const char *param,
               const char *fmt, va_list ap)
{
    err->status = status;
    err->code = code;
    snprintf(err->param, sizeof err->param, "%s", param ? param : "");
    err->headers[0] = '\0';
    err->quota_exhausted = false;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
}

void
api_error_set(struct api_error *err, int status, const char *code, const char *param,
              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    api_error_vset(err, status, code, param, fmt, ap);
    va_end(ap);
}

void
api_error_add_header(struct api_error *err, const char *name, const char *fmt, ...)
{
    size_t used = strlen(err->headers);
    size_t room = sizeof err->headers - used;
    char value[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    /* Whole lines only: a header cut in half would corrupt the head. */
    int need = snprintf(NULL, 0, "%s: %s\r\n", name, value);
    if (need > 0 && (size_t)need < room)
        snprintf(err->headers + used, room, "%s: %s\r\n", name, value);
}
