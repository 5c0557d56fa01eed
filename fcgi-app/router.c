#include "router.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_mutex_t router_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pipe_conn *router_windows;   /* newest first */
static unsigned router_count;

static void
router_set_models(struct pipe_conn *conn, cJSON *models, char *default_model)
{
    cJSON_Delete(conn->models);
    free(conn->default_model);
    conn->models = models;
    conn->default_model = default_model;
}

void
router_add(struct pipe_conn *conn, cJSON *models, char *default_model)
{
    pipe_conn_ref(conn);
    pthread_mutex_lock(&router_lock);
    router_set_models(conn, models, default_model);
    conn->next = router_windows;
    router_windows = conn;
    router_count++;
    pthread_mutex_unlock(&router_lock);
}

void
router_update(struct pipe_conn *conn, cJSON *models, char *default_model)
{
    pthread_mutex_lock(&router_lock);
    router_set_models(conn, models, default_model);
    pthread_mutex_unlock(&router_lock);
}

void
router_remove(struct pipe_conn *conn)
{
    bool found = false;
    pthread_mutex_lock(&router_lock);
    for (struct pipe_conn **link = &router_windows; *link != NULL; link = &(*link)->next) {
        if (*link == conn) {
            *link = conn->next;
            conn->next = NULL;
            router_count--;
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&router_lock);
    if (found)
        pipe_conn_unref(conn);
}

static const char *
model_string(const cJSON *model, const char *field)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(model, field);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

/* "gpt-4o-2024-08-06" → length of "gpt-4o"; otherwise the whole length. */
static size_t
undated_length(const char *name)
{
    size_t len = strlen(name);
    static const char pattern[] = "-dddd-dd-dd";
    size_t plen = sizeof pattern - 1;
    if (len <= plen)
        return len;
    const char *tail = name + len - plen;
    for (size_t i = 0; i < plen; i++) {
        if (pattern[i] == 'd' ? !isdigit((unsigned char)tail[i]) : tail[i] != pattern[i])
            return len;
    }
    return len - plen;
}

enum match_rank { MATCH_NONE = 0, MATCH_VARIANT, MATCH_FAMILY, MATCH_ID };

static enum match_rank
model_match(const cJSON *model, const char *requested)
{
    const char *id = model_string(model, "id");
    const char *family = model_string(model, "family");
    if (id != NULL && strcmp(id, requested) == 0)
        return MATCH_ID;
    if (family != NULL && strcasecmp(family, requested) == 0)
        return MATCH_FAMILY;
    if (family == NULL)
        return MATCH_NONE;
    /* "copilot/gpt-4o", "gpt-4o-2024-08-06", "openai/gpt-4o-2024-08-06" */
    const char *slash = strrchr(requested, '/');
    const char *base = slash ? slash + 1 : requested;
    size_t base_len = undated_length(base);
    if (base != requested || base_len != strlen(base)) {
        if (strlen(family) == base_len && strncasecmp(family, base, base_len) == 0)
            return MATCH_VARIANT;
        if (id != NULL && strlen(id) == base_len && strncmp(id, base, base_len) == 0)
            return MATCH_VARIANT;
    }
    return MATCH_NONE;
}

static bool
is_default_alias(const char *requested)
{
    return requested == NULL || *requested == '\0' || strcmp(requested, "default") == 0;
}

/* The model a window means by "default": its picked model, else its first. */
static const cJSON *
window_default_model(const struct pipe_conn *conn)
{
    const cJSON *model;
    if (conn->default_model != NULL) {
        cJSON_ArrayForEach(model, conn->models) {
            const char *id = model_string(model, "id");
            if (id != NULL && strcmp(id, conn->default_model) == 0)
                return model;
        }
        cJSON_ArrayForEach(model, conn->models) {
            if (model_match(model, conn->default_model) != MATCH_NONE)
                return model;
        }
    }
    model = cJSON_GetArrayItem(conn->models, 0);
    return cJSON_IsObject(model) ? model : NULL;
}

static void
list_available(struct dynbuf *available)
{
    if (available == NULL)
        return;
    const struct pipe_conn *conn;
    const cJSON *model;
    for (conn = router_windows; conn != NULL; conn = conn->next) {
        cJSON_ArrayForEach(model, conn->models) {
            const char *id = model_string(model, "id");
            if (id == NULL)
                continue;
            /* Several windows usually offer the same models; list each once. */
            if (available->len > 0) {
                const char *seen = strstr(available->data, id);
                size_t id_len = strlen(id);
                bool duplicate = false;
                while (seen != NULL && !duplicate) {
                    bool starts = seen == available->data || seen[-1] == ' ';
                    bool ends = seen[id_len] == ',' || seen[id_len] == '\0';
                    duplicate = starts && ends;
                    seen = strstr(seen + 1, id);
                }
                if (duplicate)
                    continue;
                (void)dynbuf_append(available, ", ", 2);
            }
            (void)dynbuf_append_str(available, id);
        }
    }
}

int
router_resolve(const char *requested, struct router_pick *pick, struct dynbuf *available)
{
    pick->conn = NULL;
    pick->model_id = NULL;
    pick->family = NULL;
    pick->max_input_tokens = 0;
    pick->image_input = ROUTER_CAPABILITY_UNKNOWN;

    pthread_mutex_lock(&router_lock);
    if (router_windows == NULL) {
        pthread_mutex_unlock(&router_lock);
        return ROUTER_NO_WINDOWS;
    }
    struct pipe_conn *best_conn = NULL;
    const cJSON *best_model = NULL;
    enum match_rank best_rank = MATCH_NONE;
    for (struct pipe_conn *conn = router_windows; conn != NULL; conn = conn->next) {
        const cJSON *found = NULL;
        enum match_rank rank = MATCH_NONE;
        if (is_default_alias(requested)) {
            found = window_default_model(conn);
            rank = found ? MATCH_ID : MATCH_NONE;
        } else {
            const cJSON *model;
            cJSON_ArrayForEach(model, conn->models) {
                enum match_rank r = model_match(model, requested);
                if (r > rank) {
                    rank = r;
                    found = model;
                }
            }
        }
        if (found == NULL)
            continue;
        /* A better match wins; among equal matches, the least busy window. */
        if (rank > best_rank || (rank == best_rank && conn->in_flight < best_conn->in_flight)) {
            best_rank = rank;
            best_conn = conn;
            best_model = found;
        }
    }
    if (best_conn == NULL) {
        list_available(available);
        pthread_mutex_unlock(&router_lock);
        return ROUTER_UNKNOWN_MODEL;
    }
    const char *family = model_string(best_model, "family");
    pick->model_id = strdup(model_string(best_model, "id"));
    pick->family = strdup(family ? family : "");
    if (pick->model_id == NULL || pick->family == NULL) {
        free(pick->model_id);
        free(pick->family);
        pick->model_id = pick->family = NULL;
        pthread_mutex_unlock(&router_lock);
        return ROUTER_NO_MEMORY;
    }
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(best_model, "max_input_tokens");
    if (cJSON_IsNumber(limit) && limit->valuedouble > 0 && limit->valuedouble < 1e12)
        pick->max_input_tokens = (long)limit->valuedouble;
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(best_model, "capabilities"), "image_input");
    pick->image_input = cJSON_IsTrue(images) ? ROUTER_CAPABILITY_YES
                      : cJSON_IsFalse(images) ? ROUTER_CAPABILITY_NO : ROUTER_CAPABILITY_UNKNOWN;
    best_conn->in_flight++;
    pipe_conn_ref(best_conn);
    pick->conn = best_conn;
    pthread_mutex_unlock(&router_lock);
    return ROUTER_OK;
}

void
router_release(struct router_pick *pick)
{
    if (pick->conn != NULL) {
        pthread_mutex_lock(&router_lock);
        pick->conn->in_flight--;
        pthread_mutex_unlock(&router_lock);
        pipe_conn_unref(pick->conn);
    }
    free(pick->model_id);
    free(pick->family);
    pick->conn = NULL;
    pick->model_id = NULL;
    pick->family = NULL;
}

static cJSON *
model_object(const cJSON *model)
{
    const char *id = model_string(model, "id");
    const char *vendor = model_string(model, "vendor");
    cJSON *object = cJSON_CreateObject();
    if (object == NULL)
        return NULL;
    if (cJSON_AddStringToObject(object, "id", id) == NULL ||
        cJSON_AddStringToObject(object, "object", "model") == NULL ||
        cJSON_AddNumberToObject(object, "created", 0) == NULL ||
        cJSON_AddStringToObject(object, "owned_by", vendor ? vendor : "vscode") == NULL) {
        cJSON_Delete(object);
        return NULL;
    }
    /* Extra, non-OpenAI fields that tell clients what VS Code knows. */
    static const char *const extras[] = { "name", "family", "version" };
    for (size_t i = 0; i < sizeof extras / sizeof *extras; i++) {
        const char *value = model_string(model, extras[i]);
        if (value != NULL)
            (void)cJSON_AddStringToObject(object, extras[i], value);
    }
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(model, "max_input_tokens");
    if (cJSON_IsNumber(limit))
        (void)cJSON_AddNumberToObject(object, "max_input_tokens", limit->valuedouble);
    return object;
}

static bool
list_has_id(const cJSON *data, const char *id)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, data) {
        const char *seen = model_string(item, "id");
        if (seen != NULL && strcmp(seen, id) == 0)
            return true;
    }
    return false;
}

cJSON *
router_models_list(void)
{
    cJSON *list = cJSON_CreateObject();
    cJSON *data = cJSON_CreateArray();
    if (list == NULL || data == NULL ||
        cJSON_AddStringToObject(list, "object", "list") == NULL) {
        cJSON_Delete(list);
        cJSON_Delete(data);
        return NULL;
    }
    cJSON_AddItemToObject(list, "data", data);
    pthread_mutex_lock(&router_lock);
    for (const struct pipe_conn *conn = router_windows; conn != NULL; conn = conn->next) {
        const cJSON *model;
        cJSON_ArrayForEach(model, conn->models) {
            const char *id = model_string(model, "id");
            if (id == NULL || list_has_id(data, id))
                continue;
            cJSON *object = model_object(model);
            if (object == NULL || !cJSON_AddItemToArray(data, object)) {
                cJSON_Delete(object);
                pthread_mutex_unlock(&router_lock);
                cJSON_Delete(list);
                return NULL;
            }
        }
    }
    pthread_mutex_unlock(&router_lock);
    return list;
}

cJSON *
router_model_get(const char *id)
{
    cJSON *object = NULL;
    pthread_mutex_lock(&router_lock);
    for (const struct pipe_conn *conn = router_windows; conn && !object; conn = conn->next) {
        const cJSON *model;
        cJSON_ArrayForEach(model, conn->models) {
            if (model_match(model, id) != MATCH_NONE) {
                object = model_object(model);
                break;
            }
        }
    }
    pthread_mutex_unlock(&router_lock);
    return object;
}

unsigned
router_window_count(void)
{
    pthread_mutex_lock(&router_lock);
    unsigned count = router_count;
    pthread_mutex_unlock(&router_lock);
    return count;
}

int
router_describe(cJSON *health)
{
    cJSON *list = router_models_list();
    if (list == NULL)
        return -1;
    cJSON *ids = cJSON_CreateArray();
    if (ids == NULL) {
        cJSON_Delete(list);
        return -1;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "data"))
        cJSON_AddItemToArray(ids, cJSON_CreateString(model_string(item, "id")));
    cJSON_Delete(list);

    pthread_mutex_lock(&router_lock);
    unsigned windows = router_count;
    cJSON *default_model = router_windows && router_windows->default_model
        ? cJSON_CreateString(router_windows->default_model) : cJSON_CreateNull();
    pthread_mutex_unlock(&router_lock);

    cJSON_AddNumberToObject(health, "windows", windows);
    cJSON_AddItemToObject(health, "models", ids);
    cJSON_AddItemToObject(health, "default_model", default_model);
    return 0;
}

bool
router_take_models(cJSON *frame, cJSON **models, char **default_model)
{
    cJSON *list = cJSON_DetachItemFromObjectCaseSensitive(frame, "models");
    if (!cJSON_IsArray(list)) {
        cJSON_Delete(list);
        return false;
    }
    /* Keep only well-formed entries: each needs a string id. */
    cJSON *model = list->child;
    while (model != NULL) {
        cJSON *next = model->next;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(model, "id");
        if (!cJSON_IsObject(model) || !cJSON_IsString(id) || id->valuestring[0] == '\0')
            cJSON_Delete(cJSON_DetachItemViaPointer(list, model));
        model = next;
    }
    const cJSON *picked = cJSON_GetObjectItemCaseSensitive(frame, "default_model");
    *default_model = cJSON_IsString(picked) && picked->valuestring[0]
        ? strdup(picked->valuestring) : NULL;
    *models = list;
    return true;
}
