/* GET /v1/models, /v1/models/{id} and /health: what the windows offer. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "handlers.h"
#include "openai_error.h"
#include "router.h"
#include "status.h"

static void
send_json(struct http_request *req, cJSON *object)
{
    char *text = object ? cJSON_PrintUnformatted(object) : NULL;
    if (text == NULL) {
        http_send_error(req, 500, NULL, "internal_error", NULL, "Out of memory.");
        return;
    }
    http_send_body(req, 200, "application/json", NULL, text, strlen(text));
    free(text);
}

static const char *
object_string(const cJSON *object, const char *field)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(object, field);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

void
handle_models(struct http_request *req, const char *model_id,
                  const struct auth_identity *identity)
{
    if (model_id == NULL) {
        cJSON *list = router_models_list();
        /* A key limited to some models sees only those. */
        cJSON *data = cJSON_GetObjectItemCaseSensitive(list, "data");
        cJSON *model = data ? data->child : NULL;
        while (model != NULL) {
            cJSON *next = model->next;
            if (!auth_allows_model(identity, object_string(model, "id"),
                                   object_string(model, "family")))
                cJSON_Delete(cJSON_DetachItemViaPointer(data, model));
            model = next;
        }
        send_json(req, list);
        cJSON_Delete(list);
        return;
    }
    cJSON *model = router_model_get(model_id);
    if (model != NULL && !auth_allows_model(identity, object_string(model, "id"),
                                            object_string(model, "family"))) {
        cJSON_Delete(model);
        model = NULL;
    }
    if (model == NULL) {
        http_send_error(req, 404, NULL, "model_not_found", "model",
                        "The model '%s' does not exist or no connected VS Code window offers it.",
                        model_id);
        return;
    }
    send_json(req, model);
    cJSON_Delete(model);
}

void
handle_health(struct http_request *req)
{
    cJSON *health = status_document();
    send_json(req, health);
    cJSON_Delete(health);
}
