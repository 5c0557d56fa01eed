#include "model_name.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

const char *
model_name_base(const char *name)
{
    const char *slash = strrchr(name, '/');
    return slash != NULL ? slash + 1 : name;
}

/* Does `tail` match `pattern`, where 'd' is any digit? */
static bool
matches_digits(const char *tail, const char *pattern)
{
    for (; *pattern != '\0'; pattern++, tail++) {
        if (*pattern == 'd' ? !isdigit((unsigned char)*tail) : *tail != *pattern)
            return false;
    }
    return true;
}

/* The length of `base` without a dated suffix. */
static size_t
undated_length(const char *base)
{
    static const char *const dates[] = { "-dddd-dd-dd", "-dddddddd" };
    size_t len = strlen(base);
    for (size_t i = 0; i < sizeof dates / sizeof *dates; i++) {
        size_t date_len = strlen(dates[i]);
        if (len > date_len && matches_digits(base + len - date_len, dates[i]))
            return len - date_len;
    }
    return len;
}

/* Case and version separators do not tell models apart. */
static int
fold(char c)
{
    return c == '.' || c == '_' ? '-' : tolower((unsigned char)c);
}

bool
model_name_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return false;
    a = model_name_base(a);
    b = model_name_base(b);
    size_t a_len = undated_length(a), b_len = undated_length(b);
    if (a_len != b_len || a_len == 0)
        return false;
    for (size_t i = 0; i < a_len; i++)
        if (fold(a[i]) != fold(b[i]))
            return false;
    return true;
}

enum model_name_rank
model_name_rank(const char *name, const char *id, const char *family)
{
    if (name == NULL || *name == '\0')
        return MODEL_NAME_NONE;
    if (id != NULL && strcmp(id, name) == 0)
        return MODEL_NAME_ID;
    if (family != NULL && strcasecmp(family, name) == 0)
        return MODEL_NAME_FAMILY;
    if (model_name_equal(name, family) || model_name_equal(name, id))
        return MODEL_NAME_VARIANT;
    return MODEL_NAME_NONE;
}

bool
model_name_names(const char *name, const char *id, const char *family)
{
    return model_name_rank(name, id, family) != MODEL_NAME_NONE;
}
