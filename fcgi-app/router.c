#include "router.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model_name.h"

/* One connected window, as the router sees it: the models it offers and
 * how busy it is.  Guarded by router_lock. */
struct router_window {
    struct pipe_conn *conn; /* a reference, dropped on removal */
    cJSON *models;          /* array of model entries */
    char *default_model;    /* picked with Select Language Model, or NULL */
    unsigned in_flight;
    struct router_window *next;
};

static pthread_mutex_t router_lock = PTHREAD_MUTEX_INITIALIZER;
static struct router_window *router_windows; /* newest first */
static unsigned router_count;

/* Caller holds router_lock. */
static struct router_window *
window_of(const struct pipe_conn *conn)
{
    struct router_window *window = router_windows;
    while (window != NULL && window->conn != conn)
        window = window->next;
    return window;
}

static void
set_models(struct router_window *window, cJSON *models, char *default_model)
{
    cJSON_Delete(window->models);
    free(window->default_model);
    window->models = models;
    window->default_model = default_model;
}

int
router_add(struct pipe_conn *conn, cJSON *models, char *default_model)
{
    struct router_window *window = calloc(1, sizeof *window);
    if (window == NULL) {
        cJSON_Delete(models);
        free(default_model);
        return -1;
    }
    pipe_conn_ref(conn);
    window->conn = conn;
    pthread_mutex_lock(&router_lock);
    set_models(window, models, default_model);
    window->next = router_windows;
    router_windows = window;
    router_count++;
    pthread_mutex_unlock(&router_lock);
    return 0;
}

void
router_update(struct pipe_conn *conn, cJSON *models, char *default_model)
{
    pthread_mutex_lock(&router_lock);
    struct router_window *window = window_of(conn);
    if (window != NULL) {
        set_models(window, models, default_model);
        models = NULL;
        default_model = NULL;
    }
    pthread_mutex_unlock(&router_lock);
    cJSON_Delete(models);
    free(default_model);
}

void
router_remove(struct pipe_conn *conn)
{
    struct router_window *found = NULL;
    pthread_mutex_lock(&router_lock);
    for (struct router_window **link = &router_windows; *link != NULL; link = &(*link)->next) {
        if ((*link)->conn == conn) {
            found = *link;
            *link = found->next;
            router_count--;
            break;
        }
    }
    pthread_mutex_unlock(&router_lock);
    if (found == NULL)
        return;
    set_models(found, NULL, NULL);
    pipe_conn_unref(found->conn);
    free(found);
}

unsigned
router_window_in_flight(const struct pipe_conn *conn)
{
    pthread_mutex_lock(&router_lock);
    const struct router_window *window = window_of(conn);
    unsigned in_flight = window != NULL ? window->in_flight : 0;
    pthread_mutex_unlock(&router_lock);
    return in_flight;
}

static const char *
model_string(const cJSON *model, const char *field)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(model, field);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

static enum model_name_rank
model_match(const cJSON *model, const char *requested)
{
    return model_name_rank(requested, model_string(model, "id"), model_string(model, "family"));
}

static bool
is_default_alias(const char *requested)
{
    return requested == NULL || *requested == '\0' || strcmp(requested, "default") == 0;
}

/* The model a window means by "default": its picked model, else its first. */
static const cJSON *
window_default_model(const struct router_window *conn)
{
    const cJSON *model;
    if (conn->default_model != NULL) {
        cJSON_ArrayForEach(model, conn->models) {
            const char *id = model_string(model, "id");
            if (id != NULL && strcmp(id, conn->default_model) == 0)
                return model;
        }
        cJSON_ArrayForEach(model, conn->models) {
            if (model_match(model, conn->default_model) != MODEL_NAME_NONE)
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
    const struct router_window *conn;
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
    struct router_window *best_conn = NULL;
    const cJSON *best_model = NULL;
    enum model_name_rank best_rank = MODEL_NAME_NONE;
    for (struct router_window *conn = router_windows; conn != NULL; conn = conn->next) {
        const cJSON *found = NULL;
        enum model_name_rank rank = MODEL_NAME_NONE;
        if (is_default_alias(requested)) {
            found = window_default_model(conn);
            rank = found ? MODEL_NAME_ID : MODEL_NAME_NONE;
        } else {
            const cJSON *model;
            cJSON_ArrayForEach(model, conn->models) {
                enum model_name_rank r = model_match(model, requested);
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
    const cJSON *images =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(best_model,
                                                                          "capabilities"),
                                         "image_input");
    pick->image_input = cJSON_IsTrue(images)    ? ROUTER_CAPABILITY_YES
                        : cJSON_IsFalse(images) ? ROUTER_CAPABILITY_NO
                                                : ROUTER_CAPABILITY_UNKNOWN;
    best_conn->in_flight++;
    pipe_conn_ref(best_conn->conn);
    pick->conn = best_conn->conn;
    pthread_mutex_unlock(&router_lock);
    return ROUTER_OK;
}

void
router_release(struct router_pick *pick)
{
    if (pick->conn != NULL) {
        pthread_mutex_lock(&router_lock);
        /* Gone already if the window disconnected meanwhile. */
        struct router_window *window = window_of(pick->conn);
        if (window != NULL)
            window->in_flight--;
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
    if (list == NULL || data == NULL || cJSON_AddStringToObject(list, "object", "list") == NULL) {
        cJSON_Delete(list);
        cJSON_Delete(data);
        return NULL;
    }
    cJSON_AddItemToObject(list, "data", data);
    pthread_mutex_lock(&router_lock);
    for (const struct router_window *conn = router_windows; conn != NULL; conn = conn->next) {
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
    for (const struct router_window *conn = router_windows; conn && !object; conn = conn->next) {
        const cJSON *model;
        cJSON_ArrayForEach(model, conn->models) {
            if (model_match(model, id) != MODEL_NAME_NONE) {
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
                               ? cJSON_CreateString(router_windows->default_model)
                               : cJSON_CreateNull();
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
    *default_model = cJSON_IsString(picked) && picked->valuestring[0] ? strdup(picked->valuestring)
                                                                      : NULL;
    *models = list;
    return true;
}
