/*
 * model_name: what a model name a client (or a config line) gives matches.
 * One rule for the router, API keys' allow-lists, limit rules, token
 * families and aliases: a name matches a model by its exact id, by its
 * family ("gpt-4o"), or as a variant of either: with a vendor prefix
 * ("copilot/gpt-4o", "openai/gpt-4o"), a dated suffix ("-2024-08-06",
 * "-20241022"), another case, or dots for dashes in a version
 * ("claude-sonnet-4.5" and "claude-sonnet-4-5" are one model).
 *
 * Pure functions over NUL-terminated strings; no allocation.
 */
#ifndef LITELLM_MODEL_NAME_H
#define LITELLM_MODEL_NAME_H

#include <stdbool.h>

/* How well a name matches a model; higher wins. */
enum model_name_rank {
    MODEL_NAME_NONE = 0,
    MODEL_NAME_VARIANT, /* prefixed, dated, other case, dots/dashes */
    MODEL_NAME_FAMILY,  /* the family, any case */
    MODEL_NAME_ID,      /* the exact id */
};

/* `id` and `family` may be NULL (unknown). */
enum model_name_rank model_name_rank(const char *name, const char *id, const char *family);
/* Any match: for allow-lists and limit rules. */
bool model_name_names(const char *name, const char *id, const char *family);
/* The same model once both are normalised (prefix, date, case, dots). */
bool model_name_equal(const char *a, const char *b);
/* The name without its vendor prefix ("copilot/gpt-4o" -> "gpt-4o"). */
const char *model_name_base(const char *name);

#endif
