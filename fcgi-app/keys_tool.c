/*
 * litellm-keys: manages the API keys file (litellmctl keys … calls it).
 *
 *   litellm-keys FILE add NAME [--rpm N] [--tpm N] [--concurrent N] [--models a,b]
 *                [--budget-requests N] [--budget-tokens N] [--budget-period day|week|month]
 *   litellm-keys FILE set NAME OPTIONS...   (the same options; 0 clears a limit or budget)
 *   litellm-keys FILE list [--json]
 *   litellm-keys FILE revoke NAME
 *
 * `add` prints the secret once; only its hash is stored.  Changes are made
 * under an exclusive lock and land by rename, so the responder never reads
 * a half-written file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_keys.h"

static int
usage(FILE *out, int status)
{
    fprintf(out,
            "Usage: litellm-keys FILE add NAME [--rpm N] [--tpm N] [--concurrent N] [--models a,b]\n"
            "                    [--budget-requests N] [--budget-tokens N]\n"
            "                    [--budget-period day|week|month]\n"
            "       litellm-keys FILE set NAME OPTIONS... (as add; 0 clears a limit or budget)\n"
            "       litellm-keys FILE list [--json]\n"
            "       litellm-keys FILE revoke NAME\n"
            "Manages the API keys of VSCode LiteLLM.  'add' prints the new key once.\n");
    return status;
}

static int __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "litellm-keys: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

/* Locks FILE.lock for the whole read-modify-write. */
static int
lock_keys(const char *path)
{
    char lock_path[4096];
    if (snprintf(lock_path, sizeof lock_path, "%s.lock", path) >= (int)sizeof lock_path)
        return -1;
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int
save_keys(const char *path, const struct api_key_set *set)
{
    char tmp_path[4096];
    if (snprintf(tmp_path, sizeof tmp_path, "%s.tmp", path) >= (int)sizeof tmp_path)
        return fail("path too long: %s", path);
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (out == NULL) {
        if (fd >= 0)
            close(fd);
        return fail("cannot write %s", tmp_path);
    }
    int rc = api_keys_write(out, set);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0)
        rc = -1;
    if (fclose(out) != 0)
        rc = -1;
    if (rc != 0 || rename(tmp_path, path) != 0) {
        unlink(tmp_path);
        return fail("cannot save %s", path);
    }
    return 0;
}

static int
parse_count(const char *text, long *out)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text || value < 0)
        return -1;
    *out = value;
    return 0;
}

/* Applies add's and set's options to `key`; 0, or 1 after a message. */
static int
apply_options(struct api_key *key, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *option = argv[i];
        if (i + 1 >= argc)
            return fail("%s needs a value", option);
        const char *value = argv[++i];
        long *target = strcmp(option, "--rpm") == 0               ? &key->rpm
                       : strcmp(option, "--tpm") == 0             ? &key->tpm
                       : strcmp(option, "--concurrent") == 0      ? &key->concurrent
                       : strcmp(option, "--budget-requests") == 0 ? &key->budget_requests
                       : strcmp(option, "--budget-tokens") == 0   ? &key->budget_tokens
                                                                  : NULL;
        if (target != NULL) {
            if (parse_count(value, target) != 0)
                return fail("%s needs a whole number", option);
        } else if (strcmp(option, "--budget-period") == 0) {
            if (usage_period_parse(value, &key->budget_period) != 0)
                return fail("--budget-period takes day, week or month, not '%s'", value);
        } else if (strcmp(option, "--models") == 0) {
            if (value[strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789._/:@,-")] != '\0')
                return fail("--models takes a comma-separated list of model ids: %s", value);
            char *models = *value ? strdup(value) : NULL;
            if (*value && models == NULL)
                return fail("%s", "out of memory");
            free(key->models);
            key->models = models;
        } else {
            return fail("unknown option %s", option);
        }
    }
    /* A budget's period defaults to a day; a key without one has none. */
    if (key->budget_requests == 0 && key->budget_tokens == 0)
        key->budget_period = USAGE_PERIOD_NONE;
    else if (key->budget_period == USAGE_PERIOD_NONE)
        key->budget_period = USAGE_PERIOD_DAY;
    return 0;
}

static int
add_key(const char *path, struct api_key_set *set, int argc, char **argv)
{
    if (argc < 1)
        return usage(stderr, 2);
    const char *name = argv[0];
    if (!api_key_name_valid(name))
        return fail("invalid key name '%s': use letters, digits, - _ . @ (at most 64)", name);
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->keys[i].name, name) == 0)
            return fail("a key named '%s' exists; revoke it first", name);

    struct api_key key = { .created = (long long)time(NULL) };
    strcpy(key.name, name);
    if (apply_options(&key, argc - 1, argv + 1) != 0) {
        free(key.models);
        return 1;
    }
    char secret[API_KEY_SECRET_SIZE];
    if (api_key_generate(secret, key.hash) != 0) {
        free(key.models);
        return fail("%s", "cannot initialise libsodium");
    }
    struct api_key *grown = realloc(set->keys, (set->count + 1) * sizeof *grown);
    if (grown == NULL) {
        free(key.models);
        return fail("%s", "out of memory");
    }
    set->keys = grown;
    set->keys[set->count++] = key;
    if (save_keys(path, set) != 0)
        return 1;
    printf("%s\n", secret);
    fprintf(stderr, "litellm-keys: added key '%s'; it is shown only this once\n", name);
    return 0;
}

/* Changes a key's limits, models or budget; its secret stays. */
static int
set_key(const char *path, struct api_key_set *set, int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, 2);
    for (size_t i = 0; i < set->count; i++) {
        if (strcmp(set->keys[i].name, argv[0]) != 0)
            continue;
        if (apply_options(&set->keys[i], argc - 1, argv + 1) != 0 || save_keys(path, set) != 0)
            return 1;
        fprintf(stderr, "litellm-keys: updated key '%s'\n", argv[0]);
        return 0;
    }
    return fail("no key named '%s'", argv[0]);
}

static int
revoke_key(const char *path, struct api_key_set *set, const char *name)
{
    for (size_t i = 0; i < set->count; i++) {
        if (strcmp(set->keys[i].name, name) != 0)
            continue;
        free(set->keys[i].models);
        memmove(&set->keys[i], &set->keys[i + 1], (set->count - i - 1) * sizeof *set->keys);
        set->count--;
        if (save_keys(path, set) != 0)
            return 1;
        fprintf(stderr, "litellm-keys: revoked key '%s'\n", name);
        return 0;
    }
    return fail("no key named '%s'", name);
}

static int
list_keys(const struct api_key_set *set, int json)
{
    if (json)
        printf("[");
    else if (set->count == 0)
        printf("no keys: the gateway is open to loopback clients only\n");
    for (size_t i = 0; i < set->count; i++) {
        const struct api_key *key = &set->keys[i];
        if (json) {
            /* Names and model lists are restricted to JSON-safe characters. */
            printf("%s{\"name\":\"%s\",\"rpm\":%ld,\"tpm\":%ld,\"concurrent\":%ld,\"models\":",
                   i ? "," : "", key->name, key->rpm, key->tpm, key->concurrent);
            if (key->models == NULL)
                printf("null");
            else
                printf("\"%s\"", key->models);
            printf(",\"created\":%lld,\"budget\":", key->created);
            if (key->budget_period == USAGE_PERIOD_NONE)
                printf("null}");
            else
                printf("{\"period\":\"%s\",\"requests\":%ld,\"tokens\":%ld}}",
                       usage_period_name(key->budget_period), key->budget_requests,
                       key->budget_tokens);
        } else {
            char created[32];
            time_t when = (time_t)key->created;
            struct tm utc;
            strftime(created, sizeof created, "%Y-%m-%d", gmtime_r(&when, &utc));
            char budget[96] = "none";
            if (key->budget_period != USAGE_PERIOD_NONE)
                snprintf(budget, sizeof budget, "%ld requests, %ld tokens per %s",
                         key->budget_requests, key->budget_tokens,
                         usage_period_name(key->budget_period));
            printf("%-20s rpm=%-8ld tpm=%-10ld concurrent=%-4ld models=%-20s created=%s "
                   "budget=%s\n",
                   key->name, key->rpm, key->tpm, key->concurrent,
                   key->models ? key->models : "any", created, budget);
        }
    }
    if (json)
        printf("]\n");
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return usage(stdout, 0);
    if (argc < 3)
        return usage(stderr, 2);
    const char *path = argv[1];
    const char *command = argv[2];
    int lock = lock_keys(path);
    if (lock < 0)
        return fail("cannot lock %s.lock", path);

    struct api_key_set set;
    char err[512];
    int status;
    if (api_keys_load(path, &set, err, sizeof err) != 0) {
        status = fail("%s", err);
    } else if (strcmp(command, "add") == 0) {
        status = add_key(path, &set, argc - 3, argv + 3);
    } else if (strcmp(command, "set") == 0) {
        status = set_key(path, &set, argc - 3, argv + 3);
    } else if (strcmp(command, "list") == 0) {
        status = list_keys(&set, argc > 3 && strcmp(argv[3], "--json") == 0);
    } else if (strcmp(command, "revoke") == 0 && argc == 4) {
        status = revoke_key(path, &set, argv[3]);
    } else {
        status = usage(stderr, 2);
    }
    api_keys_free(&set);
    close(lock);
    return status;
}
