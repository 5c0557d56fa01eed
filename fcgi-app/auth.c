#include "auth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <sodium.h>

#include "log.h"
#include "loopback.h"

#define KEYS_RECHECK_NS 1000000000LL

static const struct config *auth_cfg;
static pthread_rwlock_t keys_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct api_key_set keys; /* guarded by keys_lock */
static struct stat keys_stat;   /* what was loaded */
static atomic_llong keys_checked_ns;
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;

static bool
same_file_version(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Re-reads the keys file if it changed; a broken file keeps the old keys. */
static void
reload_if_changed(bool force)
{
    if (auth_cfg->keys_file == NULL)
        return;
    int64_t now = limit_now_ns();
    if (!force && now - atomic_load(&keys_checked_ns) < KEYS_RECHECK_NS)
        return;
    if (pthread_mutex_trylock(&reload_lock) != 0)
        return; /* another thread is at it */
    atomic_store(&keys_checked_ns, now);
    struct stat st;
    if (stat(auth_cfg->keys_file, &st) != 0)
        memset(&st, 0, sizeof st);
    if (force || !same_file_version(&st, &keys_stat)) {
        struct api_key_set fresh;
        char err[512];
        if (api_keys_load(auth_cfg->keys_file, &fresh, err, sizeof err) != 0) {
            log_error("auth: %s; keeping the %zu keys loaded before", err, keys.count);
        } else {
            pthread_rwlock_wrlock(&keys_lock);
            struct api_key_set old = keys;
            keys = fresh;
            keys_stat = st;
            pthread_rwlock_unlock(&keys_lock);
            if (!force || fresh.count > 0)
                log_info("auth: loaded %zu API key(s) from %s", fresh.count, auth_cfg->keys_file);
            api_keys_free(&old);
        }
    }
    pthread_mutex_unlock(&reload_lock);
}

int
auth_init(const struct config *cfg)
{
    if (sodium_init() < 0) {
        log_error("auth: libsodium failed to initialise");
        return -1;
    }
    auth_cfg = cfg;
    reload_if_changed(true);
    return 0;
}

void
auth_shutdown(void)
{
    pthread_rwlock_wrlock(&keys_lock);
    api_keys_free(&keys);
    pthread_rwlock_unlock(&keys_lock);
}

/* The value of the query string's `key` parameter (Google's ?key=), or
 * NULL; its length in *len (it ends at the next '&'). */
static const char *
query_key(const struct http_request *req, size_t *len)
{
    const char *query = http_param(req, "QUERY_STRING");
    for (const char *p = query; p != NULL && *p;) {
        if (strncmp(p, "key=", 4) == 0) {
            *len = strcspn(p + 4, "&");
            return *len > 0 ? p + 4 : NULL;
        }
        p = strchr(p, '&');
        if (p != NULL)
            p++;
    }
    return NULL;
}

/* The key the client presented, or NULL; its length in *len.  Every
 * format's way is taken on every route: Bearer (OpenAI), x-api-key
 * (Anthropic), x-goog-api-key and ?key= (Google). */
static const char *
presented_key(const struct http_request *req, size_t *len)
{
    const char *authorization = http_param(req, "HTTP_AUTHORIZATION");
    if (authorization != NULL) {
        while (*authorization == ' ')
            authorization++;
        if (strncasecmp(authorization, "Bearer ", 7) == 0) {
            const char *key = authorization + 7;
            while (*key == ' ')
                key++;
            *len = strlen(key);
            return *key ? key : NULL;
        }
    }
    static const char *const headers[] = { "HTTP_X_API_KEY", "HTTP_X_GOOG_API_KEY" };
    for (size_t i = 0; i < sizeof headers / sizeof *headers; i++) {
        const char *api_key = http_param(req, headers[i]);
        if (api_key != NULL && *api_key) {
            *len = strlen(api_key);
            return api_key;
        }
    }
    return query_key(req, len);
}

static int
refuse(struct api_error *err, const char *message)
{
    api_error_set(err, 401, "invalid_api_key", NULL, "%s", message);
    api_error_add_header(err, "x-should-retry", "false");
    api_error_add_header(err, "WWW-Authenticate", "Bearer");
    return -1;
}

int
auth_check(const struct http_request *req, struct auth_identity *identity, struct api_error *err)
{
    memset(identity, 0, sizeof *identity);
    reload_if_changed(false);
    size_t secret_len = 0;
    const char *secret = presented_key(req, &secret_len);

    pthread_rwlock_rdlock(&keys_lock);
    size_t key_count = keys.count;
    const struct api_key *key = secret ? api_keys_match(&keys, secret, secret_len) : NULL;
    if (key != NULL) {
        identity->has_key = true;
        memcpy(identity->name, key->name, sizeof identity->name);
        identity->rule = (struct limit_rule){ key->rpm, key->tpm, key->concurrent };
        identity->models = key->models ? strdup(key->models) : NULL;
    }
    pthread_rwlock_unlock(&keys_lock);

    if (key != NULL)
        return 0;
    if (secret != NULL && key_count > 0)
        return refuse(err,
                      "Incorrect API key provided. Create one with 'litellmctl keys add NAME'.");
    bool open = auth_cfg->auth == AUTH_AUTO && key_count == 0 &&
                loopback_address(http_param(req, "SERVER_ADDR"));
    if (open)
        return 0;
    if (key_count == 0)
        return refuse(err,
                      "This gateway listens beyond loopback, so it requires an API key, and none "
                      "exists yet: create one with 'litellmctl keys add NAME' and send it as "
                      "'Authorization: Bearer KEY'.");
    return refuse(err, "You didn't provide an API key. Send it as 'Authorization: Bearer KEY' (or "
                       "'x-api-key: KEY').");
}

bool
auth_allows_model(const struct auth_identity *identity, const char *model_id, const char *family)
{
    if (!identity->has_key || identity->models == NULL)
        return true;
    struct api_key probe = { .models = identity->models };
    return api_key_allows_model(&probe, model_id, family);
}

void
auth_identity_free(struct auth_identity *identity)
{
    free(identity->models);
    identity->models = NULL;
}

int
auth_describe(cJSON *out)
{
    reload_if_changed(false);
    pthread_rwlock_rdlock(&keys_lock);
    size_t count = keys.count;
    pthread_rwlock_unlock(&keys_lock);
    cJSON *auth = cJSON_AddObjectToObject(out, "auth");
    if (auth == NULL)
        return -1;
    cJSON_AddNumberToObject(auth, "keys", (double)count);
    cJSON_AddStringToObject(auth, "mode",
                            auth_cfg->auth == AUTH_REQUIRED ? "required"
                            : count > 0                     ? "keys"
                                                            : "open on loopback");
    return 0;
}
