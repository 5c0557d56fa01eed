/*
 * shm_file: a state file that every responder on the host maps (the
 * limiter's, the usage store's).  One process at a time creates, sizes and
 * initialises it (flock); its header says which layout it holds, so that a
 * file of another size or layout (an older build's) is started afresh; a
 * process-shared robust mutex in the header guards the rest.
 */
#ifndef LITELLM_SHM_FILE_H
#define LITELLM_SHM_FILE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The first member of every such file's state. */
struct shm_file_header {
    uint32_t magic; /* written last (release): a reader that sees it sees the rest */
    uint32_t version;
    uint64_t layout; /* what else must match: the tables' capacities, say */
    pthread_mutex_t lock;
};

/* Maps `size` bytes of `path` (created 0600), whose state begins with a
 * struct shm_file_header; zeroed and initialised unless it already holds
 * (magic, version, layout).  `what` names the file in errors ("usage
 * state").  NULL with a reason in `err`. */
void *shm_file_map(const char *path, size_t size, uint32_t magic, uint32_t version, uint64_t layout,
                   const char *what, char *err, size_t err_size);

/* A holder that died mid-update leaves its lock to the next taker: the
 * state is at worst one update stale. */
void shm_file_lock(struct shm_file_header *header);
void shm_file_unlock(struct shm_file_header *header);

/* FNV-1a over `text`, from `hash` (SHM_FILE_HASH_START for a first). */
#define SHM_FILE_HASH_START 1469598103934665603ULL
#define SHM_FILE_HASH_PRIME 1099511628211ULL
uint64_t shm_file_hash(uint64_t hash, const char *text);

/* Open addressing with linear probing, the one lookup of the files' tables:
 * `capacity` (a power of two) slots of `slot_size` bytes at `slots`, each
 * beginning with its uint64_t hash, 0 for a free slot (a real hash of 0 is
 * stored as 1).  Slots are never freed one by one, so probe chains stay
 * intact.  Walks the chain of `hash` from slot hash & (capacity - 1): the
 * first slot of that hash that `same(slot, wanted)` accepts; else, with
 * `create`, the free slot that ends the chain, claimed (zeroed, its hash
 * set: the caller fills in the rest) and *created set; else NULL, as when
 * every slot is taken by others. */
void *shm_file_probe(void *slots, size_t slot_size, uint32_t capacity, uint64_t hash,
                     bool (*same)(const void *slot, const void *wanted), const void *wanted,
                     bool create, bool *created);

#endif
