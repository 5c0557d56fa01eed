#include "api_keys.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "model_name.h"

void
api_key_hash(const char *secret, size_t len, unsigned char hash[API_KEY_HASH_BYTES])
{
    /* The secrets are 256 random bits, so a fast hash is as strong as a
     * slow password hash here, and costs microseconds per request. */
    crypto_generichash(hash, API_KEY_HASH_BYTES, (const unsigned char *)secret, len, NULL, 0);
}

int
api_key_generate(char *secret, unsigned char hash[API_KEY_HASH_BYTES])
{
    if (sodium_init() < 0)
        return -1;
    unsigned char random_bytes[32];
    randombytes_buf(random_bytes, sizeof random_bytes);
    size_t prefix = strlen(API_KEY_PREFIX);
    memcpy(secret, API_KEY_PREFIX, prefix);
    sodium_bin2base64(secret + prefix, API_KEY_SECRET_SIZE - prefix, random_bytes,
                      sizeof random_bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(random_bytes, sizeof random_bytes);
    api_key_hash(secret, strlen(secret), hash);
    return 0;
}

bool
api_key_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > API_KEY_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)name[i]) && strchr("-_.@", name[i]) == NULL)
            return false;
    return true;
}

static int
parse_long(const char *text, long *out)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 0)
        return -1;
    *out = value;
    return 0;
}

static int
parse_line(char *line, struct api_key *key, char *err, size_t err_size)
{
    memset(key, 0, sizeof *key);
    bool have_hash = false;
    char *save = NULL;
    for (char *field = strtok_r(line, " \t\r\n", &save); field != NULL;
         field = strtok_r(NULL, " \t\r\n", &save)) {
        char *value = strchr(field, '=');
        if (value == NULL) {
            snprintf(err, err_size, "expected name=value, got '%.40s'", field);
            return -1;
        }
        *value++ = '\0';
        int bad = 0;
        if (strcmp(field, "name") == 0) {
            bad = !api_key_name_valid(value);
            if (!bad)
                strcpy(key->name, value);
        } else if (strcmp(field, "hash") == 0) {
            size_t bin_len = 0;
            bad = sodium_hex2bin(key->hash, sizeof key->hash, value, strlen(value), NULL, &bin_len,
                                 NULL) != 0 ||
                  bin_len != sizeof key->hash;
            have_hash = !bad;
        } else if (strcmp(field, "rpm") == 0) {
            bad = parse_long(value, &key->rpm);
        } else if (strcmp(field, "tpm") == 0) {
            bad = parse_long(value, &key->tpm);
        } else if (strcmp(field, "concurrent") == 0) {
            bad = parse_long(value, &key->concurrent);
        } else if (strcmp(field, "created") == 0) {
            long created;
            bad = parse_long(value, &created);
            key->created = created;
        } else if (strcmp(field, "budget_requests") == 0) {
            bad = parse_long(value, &key->budget_requests);
        } else if (strcmp(field, "budget_tokens") == 0) {
            bad = parse_long(value, &key->budget_tokens);
        } else if (strcmp(field, "budget_period") == 0) {
            bad = usage_period_parse(value, &key->budget_period);
        } else if (strcmp(field, "models") == 0) {
            free(key->models);
            key->models = *value ? strdup(value) : NULL;
            bad = *value && key->models == NULL;
        }
        /* Unknown fields are kept for newer versions: ignored here. */
        if (bad) {
            snprintf(err, err_size, "invalid %s '%.40s'", field, value);
            free(key->models);
            return -1;
        }
    }
    /* A budget without a period runs per day, the shortest. */
    if ((key->budget_requests > 0 || key->budget_tokens > 0) &&
        key->budget_period == USAGE_PERIOD_NONE)
        key->budget_period = USAGE_PERIOD_DAY;
    if (key->name[0] == '\0' || !have_hash) {
        snprintf(err, err_size, "a key needs name= and hash=");
        free(key->models);
        return -1;
    }
    return 0;
}

int
api_keys_load(const char *path, struct api_key_set *set, char *err, size_t err_size)
{
    set->keys = NULL;
    set->count = 0;
    FILE *file = fopen(path, "re");
    if (file == NULL) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, allocated = 0;
    unsigned lineno = 0;
    int rc = 0;
    while (getline(&line, &cap, file) >= 0) {
        lineno++;
        char *text = line;
        while (isspace((unsigned char)*text))
            text++;
        if (*text == '\0' || *text == '#')
            continue;
        if (set->count == allocated) {
            size_t grown = allocated ? allocated * 2 : 8;
            struct api_key *keys = realloc(set->keys, grown * sizeof *keys);
            if (keys == NULL) {
                snprintf(err, err_size, "out of memory");
                rc = -1;
                break;
            }
            set->keys = keys;
            allocated = grown;
        }
        char reason[128];
        if (parse_line(text, &set->keys[set->count], reason, sizeof reason) != 0) {
            snprintf(err, err_size, "%s:%u: %s", path, lineno, reason);
            rc = -1;
            break;
        }
        set->count++;
    }
    free(line);
    fclose(file);
    if (rc != 0)
        api_keys_free(set);
    return rc;
}

void
api_keys_free(struct api_key_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->keys[i].models);
    free(set->keys);
    set->keys = NULL;
    set->count = 0;
}

int
api_keys_write(FILE *out, const struct api_key_set *set)
{
    fprintf(out,
            "# VSCode LiteLLM API keys: managed by `litellmctl keys`; secrets are not stored.\n");
    for (size_t i = 0; i < set->count; i++) {
        const struct api_key *key = &set->keys[i];
        char hex[2 * API_KEY_HASH_BYTES + 1];
        sodium_bin2hex(hex, sizeof hex, key->hash, sizeof key->hash);
        fprintf(out, "name=%s hash=%s", key->name, hex);
        if (key->rpm > 0)
            fprintf(out, " rpm=%ld", key->rpm);
        if (key->tpm > 0)
            fprintf(out, " tpm=%ld", key->tpm);
        if (key->concurrent > 0)
            fprintf(out, " concurrent=%ld", key->concurrent);
        if (key->models != NULL)
            fprintf(out, " models=%s", key->models);
        if (key->budget_requests > 0)
            fprintf(out, " budget_requests=%ld", key->budget_requests);
        if (key->budget_tokens > 0)
            fprintf(out, " budget_tokens=%ld", key->budget_tokens);
        if (key->budget_requests > 0 || key->budget_tokens > 0)
            fprintf(out, " budget_period=%s", usage_period_name(key->budget_period));
        fprintf(out, " created=%lld\n", key->created);
    }
    return ferror(out) ? -1 : 0;
}

const struct api_key *
api_keys_match(const struct api_key_set *set, const char *secret, size_t len)
{
    unsigned char hash[API_KEY_HASH_BYTES];
    api_key_hash(secret, len, hash);
    const struct api_key *found = NULL;
    /* Every key is compared, in constant time, whatever matched before. */
    for (size_t i = 0; i < set->count; i++)
        if (sodium_memcmp(hash, set->keys[i].hash, sizeof hash) == 0)
            found = &set->keys[i];
    return found;
}

bool
api_key_allows_model(const struct api_key *key, const char *model_id, const char *family)
{
    if (key->models == NULL)
        return true;
    const char *p = key->models;
    char name[256]; /* one name of the list; longer ones match nothing */
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len < sizeof name) {
            memcpy(name, p, len);
            name[len] = '\0';
            if (model_name_names(name, model_id, family))
                return true;
        }
        p += len + (end != NULL);
    }
    return false;
}
