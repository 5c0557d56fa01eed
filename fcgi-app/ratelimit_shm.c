#include "ratelimit_shm.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shm_file.h"

#define SHM_MAGIC 0x4c4c4d31u /* "LLM1" */
#define SHM_VERSION 3u
#define SHM_ENTRIES 4096u /* scopes; a power of two */
#define SHM_LEASES 8192u  /* concurrent requests across processes */

struct shm_entry {
    uint64_t hash; /* 0: free */
    char key[LIMIT_SCOPE_KEY_MAX];
    int64_t request_tat;
    int64_t token_tat;
    int32_t in_flight;
    uint32_t pad;
};

struct shm_lease {
    int32_t pid; /* 0: free */
    uint32_t entry_count;
    uint64_t start_time; /* the owner's, so a reused pid is not it */
    uint32_t entries[LIMIT_MAX_SCOPES];
    char id[72];
};

/* shm_file_probe finds an entry by its hash, first. */
_Static_assert(offsetof(struct shm_entry, hash) == 0, "an entry begins with its hash");

struct shm_state {
    struct shm_file_header header; /* layout: the two capacities */
    struct shm_entry entries[SHM_ENTRIES];
    struct shm_lease leases[SHM_LEASES];
};

struct shm_store {
    struct limit_store base;
    struct shm_state *state;
    pid_t pid;
    uint64_t start_time;
};

/* A process's state letter and start time (clock ticks after boot) from
 * /proc/PID/stat; false if it does not exist. */
static bool
process_stat(pid_t pid, char *state, uint64_t *start_time)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "re");
    if (file == NULL)
        return false;
    bool ok = fgets(line, sizeof line, file) != NULL;
    fclose(file);
    /* The command name may hold spaces and parentheses: fields start after
     * the last ')'.  State is field 3, start time field 22. */
    char *rest = ok ? strrchr(line, ')') : NULL;
    if (rest == NULL || rest[1] != ' ')
        return false;
    *state = rest[2];
    char *field = rest + 2;
    for (int i = 3; i < 22 && field != NULL; i++) {
        field = strchr(field, ' ');
        if (field != NULL)
            field++;
    }
    *start_time = field ? strtoull(field, NULL, 10) : 0;
    return field != NULL;
}

/* Dead, a zombie, or another process that got the pid since. */
static bool
lease_owner_gone(const struct shm_lease *lease)
{
    char state;
    uint64_t start_time;
    if (!process_stat(lease->pid, &state, &start_time))
        return true;
    return state == 'Z' || state == 'X' || start_time != lease->start_time;
}

static uint64_t
key_hash(const char *key)
{
    uint64_t hash = shm_file_hash(SHM_FILE_HASH_START, key);
    return hash ? hash : 1; /* 0 marks a free entry */
}

static bool
entry_is(const void *slot, const void *key)
{
    return strcmp(((const struct shm_entry *)slot)->key, key) == 0;
}

/* A full table (4096 scopes) admits the rest unlimited rather than
 * refusing service. */
static struct shm_entry *
entry_find(struct shm_state *state, const char *key, bool create)
{
    bool created;
    struct shm_entry *entry = shm_file_probe(state->entries, sizeof *state->entries, SHM_ENTRIES,
                                             key_hash(key), entry_is, key, create, &created);
    if (created)
        snprintf(entry->key, sizeof entry->key, "%s", key);
    return entry;
}

/* Gives back the concurrency slots `lease` holds and frees it.  Its entry
 * indexes come from shared memory: one out of range is cut, not trusted. */
static void
lease_free(struct shm_state *state, struct shm_lease *lease)
{
    uint32_t count = lease->entry_count < LIMIT_MAX_SCOPES ? lease->entry_count : LIMIT_MAX_SCOPES;
    for (uint32_t j = 0; j < count; j++) {
        struct shm_entry *entry = &state->entries[lease->entries[j] & (SHM_ENTRIES - 1)];
        if (entry->in_flight > 0)
            entry->in_flight--;
    }
    memset(lease, 0, sizeof *lease);
}

/* Frees the leases of processes that no longer exist. */
static void
reclaim_dead_leases(struct shm_state *state, pid_t self)
{
    for (uint32_t i = 0; i < SHM_LEASES; i++) {
        struct shm_lease *lease = &state->leases[i];
        if (lease->pid == 0 || lease->pid == self || !lease_owner_gone(lease))
            continue;
        lease_free(state, lease);
    }
}

/* Keeps the refusal that takes longest to clear; one for good (< 0)
 * outranks all. */
static void
refuse(struct limit_verdict *verdict, enum limit_kind kind, size_t scope, int64_t retry_after_ns)
{
    bool first = verdict->allowed;
    if (first || (retry_after_ns < 0 && verdict->retry_after_ns >= 0) ||
        (verdict->retry_after_ns >= 0 && retry_after_ns > verdict->retry_after_ns)) {
        verdict->kind = kind;
        verdict->scope = scope;
        verdict->retry_after_ns = retry_after_ns;
    }
    verdict->allowed = false;
}

static int
shm_admit(struct limit_store *base, struct limit_request *req, int64_t now_ns,
          struct limit_verdict *verdict)
{
    struct shm_store *store = (struct shm_store *)base;
    struct shm_state *state = store->state;
    struct shm_entry *entries[LIMIT_MAX_SCOPES] = { 0 };
    struct gcra_result requests[LIMIT_MAX_SCOPES], tokens[LIMIT_MAX_SCOPES];
    memset(verdict, 0, sizeof *verdict);
    verdict->allowed = true;

    shm_file_lock(&state->header);
    bool swept = false;
    /* Every scope is evaluated, even after a refusal, so that the headers
     * describe all limits; the refusal that takes longest to clear is the
     * one reported, as waiting for any other would not be enough. */
    for (size_t i = 0; i < req->scope_count; i++) {
        const struct limit_scope *scope = &req->scopes[i];
        entries[i] = entry_find(state, scope->key, true);
        if (entries[i] == NULL)
            continue; /* table full of scopes: do not block serving */
        if (scope->rule.rpm > 0) {
            gcra_check(entries[i]->request_tat, now_ns, scope->rule.rpm, 1, &requests[i]);
            limit_status_merge(&verdict->status, LIMIT_REQUESTS, scope->rule.rpm,
                               requests[i].remaining, requests[i].reset_ns);
            if (!requests[i].allowed)
                refuse(verdict, LIMIT_REQUESTS, i, requests[i].retry_after_ns);
        }
        if (scope->rule.tpm > 0) {
            gcra_check(entries[i]->token_tat, now_ns, scope->rule.tpm, req->tokens, &tokens[i]);
            limit_status_merge(&verdict->status, LIMIT_TOKENS, scope->rule.tpm, tokens[i].remaining,
                               tokens[i].reset_ns);
            if (!tokens[i].allowed)
                refuse(verdict, LIMIT_TOKENS, i, tokens[i].retry_after_ns);
        }
        if (scope->rule.concurrent > 0 && entries[i]->in_flight >= scope->rule.concurrent) {
            if (!swept) {
                reclaim_dead_leases(state, store->pid);
                swept = true;
            }
            /* Nothing tells when a slot frees up: suggest a short wait. */
            if (entries[i]->in_flight >= scope->rule.concurrent)
                refuse(verdict, LIMIT_CONCURRENT, i, 1000000000LL);
        }
    }
    if (verdict->allowed) {
        struct shm_lease *lease = NULL;
        for (uint32_t i = 0; i < SHM_LEASES && lease == NULL; i++)
            if (state->leases[i].pid == 0)
                lease = &state->leases[i];
        for (size_t i = 0; i < req->scope_count; i++) {
            if (entries[i] == NULL)
                continue;
            if (req->scopes[i].rule.rpm > 0)
                entries[i]->request_tat = requests[i].new_tat;
            if (req->scopes[i].rule.tpm > 0)
                entries[i]->token_tat = tokens[i].new_tat;
            if (lease != NULL) {
                entries[i]->in_flight++;
                lease->entries[lease->entry_count++] = (uint32_t)(entries[i] - state->entries);
            }
        }
        if (lease != NULL) {
            lease->pid = (int32_t)store->pid;
            lease->start_time = store->start_time;
            snprintf(lease->id, sizeof lease->id, "%s", req->lease);
        }
    }
    shm_file_unlock(&state->header);
    return 0;
}

static void
shm_adjust_tokens(struct limit_store *base, const struct limit_request *req, long delta,
                  int64_t now_ns)
{
    struct shm_store *store = (struct shm_store *)base;
    shm_file_lock(&store->state->header);
    for (size_t i = 0; i < req->scope_count; i++) {
        long tpm = req->scopes[i].rule.tpm;
        struct shm_entry *entry = tpm > 0 ? entry_find(store->state, req->scopes[i].key, false)
                                          : NULL;
        if (entry == NULL)
            continue;
        int64_t interval = LIMIT_PERIOD_NS / tpm;
        entry->token_tat += (int64_t)delta * (interval > 0 ? interval : 1);
        /* Tokens given back cannot make the bucket fuller than full. */
        if (entry->token_tat < now_ns)
            entry->token_tat = now_ns;
    }
    shm_file_unlock(&store->state->header);
}

static void
shm_release(struct limit_store *base, const struct limit_request *req)
{
    struct shm_store *store = (struct shm_store *)base;
    struct shm_state *state = store->state;
    shm_file_lock(&state->header);
    for (uint32_t i = 0; i < SHM_LEASES; i++) {
        struct shm_lease *lease = &state->leases[i];
        if (lease->pid != (int32_t)store->pid || strcmp(lease->id, req->lease) != 0)
            continue;
        lease_free(state, lease);
        break;
    }
    shm_file_unlock(&state->header);
}

static int
shm_peek(struct limit_store *base, const struct limit_scope *scope, int64_t now_ns,
         struct limit_verdict *use)
{
    struct shm_store *store = (struct shm_store *)base;
    memset(use, 0, sizeof *use);
    shm_file_lock(&store->state->header);
    const struct shm_entry *entry = entry_find(store->state, scope->key, false);
    struct shm_entry copy = entry ? *entry : (struct shm_entry){ 0 };
    shm_file_unlock(&store->state->header);
    struct gcra_result result;
    if (scope->rule.rpm > 0) {
        gcra_check(copy.request_tat, now_ns, scope->rule.rpm, 0, &result);
        limit_status_merge(&use->status, LIMIT_REQUESTS, scope->rule.rpm, result.remaining,
                           result.reset_ns);
    }
    if (scope->rule.tpm > 0) {
        gcra_check(copy.token_tat, now_ns, scope->rule.tpm, 0, &result);
        limit_status_merge(&use->status, LIMIT_TOKENS, scope->rule.tpm, result.remaining,
                           result.reset_ns);
    }
    use->in_flight = copy.in_flight;
    return 0;
}

static void
shm_close(struct limit_store *base)
{
    struct shm_store *store = (struct shm_store *)base;
    munmap(store->state, sizeof *store->state);
    free(store);
}

struct limit_store *
ratelimit_shm_open(const char *path, char *err, size_t err_size)
{
    struct shm_state *state = shm_file_map(path, sizeof *state, SHM_MAGIC, SHM_VERSION,
                                           (uint64_t)SHM_ENTRIES << 32 | SHM_LEASES,
                                           "limiter state", err, err_size);
    if (state == NULL)
        return NULL;
    struct shm_store *store = calloc(1, sizeof *store);
    if (store == NULL) {
        munmap(state, sizeof *state);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    store->state = state;
    store->pid = getpid();
    char own_state;
    if (!process_stat(store->pid, &own_state, &store->start_time))
        store->start_time = 0;
    store->base = (struct limit_store){
        .name = "shm",
        .admit = shm_admit,
        .adjust_tokens = shm_adjust_tokens,
        .release = shm_release,
        .peek = shm_peek,
        .close = shm_close,
    };
    /* Leases left by an earlier process that had our pid are stale. */
    shm_file_lock(&state->header);
    for (uint32_t i = 0; i < SHM_LEASES; i++) {
        struct shm_lease *lease = &state->leases[i];
        if (lease->pid != (int32_t)store->pid || lease->start_time == store->start_time)
            continue;
        lease_free(state, lease);
    }
    shm_file_unlock(&state->header);
    return &store->base;
}
