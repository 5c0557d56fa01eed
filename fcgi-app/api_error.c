#include "api_error.h"

#include <stdarg.h>
#include <stdio.h>

void
api_error_set(struct api_error *err, int status, const char *code, const char *param,
              const char *fmt, ...)
{
    err->status = status;
    err->code = code;
    snprintf(err->param, sizeof err->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}
