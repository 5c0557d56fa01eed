/*
 * api_keys: the gateway's API keys.  The keys file holds, per key, a name,
 * the BLAKE2b hash of the secret (never the secret), optional limits and the
 * models it may use; one key a line:
 *
 *   name=alice hash=<64 hex> rpm=60 tpm=100000 concurrent=4 models=gpt-4o,o1 created=<unix time>
 *
 * and optionally a budget: budget_requests=N budget_tokens=N budget_period=day|week|month.
 *
 * The responder re-reads the file when it changes (checked at most once a
 * second), so `litellmctl keys add/revoke` take effect without a restart.
 * Secrets are compared by hash in constant time (libsodium).
 */
#ifndef LITELLM_API_KEYS_H
#define LITELLM_API_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "usage_period.h"

#define API_KEY_NAME_MAX 64
#define API_KEY_HASH_BYTES 32
#define API_KEY_PREFIX "sk-litellm-"

struct api_key {
    char name[API_KEY_NAME_MAX + 1];
    unsigned char hash[API_KEY_HASH_BYTES];
    long rpm, tpm, concurrent; /* 0: no limit of the key's own */
    char *models;              /* NULL: any model; else "a,b,c" */
    long long created;
    /* The key's budget (usage_policy.h): 0 for no limit of that kind. */
    long budget_requests, budget_tokens;
    enum usage_period budget_period; /* NONE without a budget */
};

struct api_key_set {
    struct api_key *keys;
    size_t count;
};

/* Parses a keys file; a missing file is an empty set.  On a malformed line
 * returns -1 and writes the reason (with the line number) to `err`. */
int api_keys_load(const char *path, struct api_key_set *set, char *err, size_t err_size);
void api_keys_free(struct api_key_set *set);
int api_keys_write(FILE *out, const struct api_key_set *set);

/* Generates a new secret ("sk-litellm-" + 43 base64url characters) into
 * `secret` (at least API_KEY_SECRET_SIZE bytes) and its hash. */
#define API_KEY_SECRET_SIZE 64
int api_key_generate(char *secret, unsigned char hash[API_KEY_HASH_BYTES]);
void api_key_hash(const char *secret, size_t len, unsigned char hash[API_KEY_HASH_BYTES]);
/* The key whose hash matches, scanning every key in constant time each. */
const struct api_key *api_keys_match(const struct api_key_set *set, const char *secret, size_t len);
bool api_key_allows_model(const struct api_key *key, const char *model_id, const char *family);
bool api_key_name_valid(const char *name);

#endif
