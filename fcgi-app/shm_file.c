#include "shm_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int
init_header(struct shm_file_header *header, uint32_t magic, uint32_t version, uint64_t layout)
{
    pthread_mutexattr_t attr;
    if (pthread_mutexattr_init(&attr) != 0)
        return -1;
    int rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
                     pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0 ||
                     pthread_mutex_init(&header->lock, &attr) != 0
                 ? -1
                 : 0;
    pthread_mutexattr_destroy(&attr);
    if (rc != 0)
        return -1;
    header->version = version;
    header->layout = layout;
    __atomic_store_n(&header->magic, magic, __ATOMIC_RELEASE);
    return 0;
}

void *
shm_file_map(const char *path, size_t size, uint32_t magic, uint32_t version, uint64_t layout,
             const char *what, char *err, size_t err_size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_size, "cannot open %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    void *state = MAP_FAILED;
    struct stat st;
    if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0) {
        snprintf(err, err_size, "cannot lock %s: %s", path, strerror(errno));
        goto fail;
    }
    /* Truncated to 0 first, so that a file of another size starts zeroed. */
    bool fresh = (size_t)st.st_size != size;
    if (fresh && (ftruncate(fd, 0) != 0 || ftruncate(fd, (off_t)size) != 0)) {
        snprintf(err, err_size, "cannot size %s: %s", path, strerror(errno));
        goto fail;
    }
    state = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (state == MAP_FAILED) {
        snprintf(err, err_size, "cannot map %s: %s", path, strerror(errno));
        goto fail;
    }
    struct shm_file_header *header = state;
    if (__atomic_load_n(&header->magic, __ATOMIC_ACQUIRE) != magic || header->version != version ||
        header->layout != layout) {
        /* A file just sized is zeros already: writing them would make every
         * page of it resident in each process. */
        if (!fresh)
            memset(state, 0, size);
        if (init_header(header, magic, version, layout) != 0) {
            snprintf(err, err_size, "cannot initialise the lock in %s", path);
            goto fail;
        }
    }
    flock(fd, LOCK_UN);
    close(fd);
    return state;
fail:
    if (state != MAP_FAILED)
        munmap(state, size);
    close(fd);
    return NULL;
}

void
shm_file_lock(struct shm_file_header *header)
{
    if (pthread_mutex_lock(&header->lock) == EOWNERDEAD)
        pthread_mutex_consistent(&header->lock);
}

void
shm_file_unlock(struct shm_file_header *header)
{
    pthread_mutex_unlock(&header->lock);
}

uint64_t
shm_file_hash(uint64_t hash, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        hash = (hash ^ *p) * SHM_FILE_HASH_PRIME;
    return hash;
}

void *
shm_file_probe(void *slots, size_t slot_size, uint32_t capacity, uint64_t hash,
               bool (*same)(const void *slot, const void *wanted), const void *wanted, bool create,
               bool *created)
{
    *created = false;
    uint32_t mask = capacity - 1;
    for (uint32_t probe = 0; probe < capacity; probe++) {
        unsigned char *slot = (unsigned char *)slots + (size_t)((hash + probe) & mask) * slot_size;
        uint64_t slot_hash;
        memcpy(&slot_hash, slot, sizeof slot_hash);
        if (slot_hash == hash && same(slot, wanted))
            return slot;
        if (slot_hash == 0) {
            if (!create)
                return NULL;
            memset(slot, 0, slot_size);
            memcpy(slot, &hash, sizeof hash);
            *created = true;
            return slot;
        }
    }
    return NULL;
}
