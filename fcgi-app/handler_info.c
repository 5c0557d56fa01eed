/* GET /v1/models, /v1/models/{id} and /health: what the windows offer. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "handlers.h"
#include "respond.h"
#include "router.h"
#include "status.h"

static const char *
object_string(const cJSON *object, const char *field)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(object, field);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

void
handle_models(struct http_request *req, const struct request_context *ctx)
{
    cJSON *list = router_models_list();
    /* A key limited to some models sees only those. */
    cJSON *data = cJSON_GetObjectItemCaseSensitive(list, "data");
    cJSON *model = data ? data->child : NULL;
    while (model != NULL) {
        cJSON *next = model->next;
        if (!auth_allows_model(ctx->identity, object_string(model, "id"),
                               object_string(model, "family")))
            cJSON_Delete(cJSON_DetachItemViaPointer(data, model));
        model = next;
    }
    respond_json(req, list);
    cJSON_Delete(list);
}

void
handle_model(struct http_request *req, const struct request_context *ctx)
{
    const char *model_id = config_model_alias(ctx->cfg, ctx->path_id);
    const struct auth_identity *identity = ctx->identity;
    cJSON *model = router_model_get(model_id);
    if (model != NULL &&
        !auth_allows_model(identity, object_string(model, "id"), object_string(model, "family"))) {
        cJSON_Delete(model);
        model = NULL;
    }
    if (model == NULL) {
        struct api_error err;
        api_error_set(&err, 404, "model_not_found", "model",
                      "The model '%.2000s' does not exist or no connected VS Code window offers it.",
                      model_id);
        respond_error(req, &err);
        return;
    }
    respond_json(req, model);
    cJSON_Delete(model);
}

void
handle_health(struct http_request *req, const struct request_context *ctx)
{
    (void)ctx;
    cJSON *health = status_document();
    respond_json(req, health);
    cJSON_Delete(health);
}
