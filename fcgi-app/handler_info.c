/* GET /v1/models, /v1/models/{id} and /health: what the windows offer.
 * The models in OpenAI's list shape, or in Anthropic's for a request that
 * carries anthropic-version (the dispatcher then sets req->wire to the
 * Messages format): Claude Code's gateway model discovery asks so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "handlers.h"
#include "messages_reply.h"
#include "model_name.h"
#include "respond.h"
#include "router.h"
#include "status.h"

/* Anthropic's models have no creation date here (OpenAI's say 0). */
#define ANTHROPIC_CREATED_AT "1970-01-01T00:00:00Z"

static const char *
object_string(const cJSON *object, const char *field)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(object, field);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

static bool
anthropic_shape(const struct http_request *req)
{
    return req->wire == &messages_wire_format;
}

/* The id an Anthropic client sees: the name without its vendor prefix
 * ("claude-sonnet-4.5"; Claude Code's discovery keeps ids that start with
 * "claude"), which the router resolves, unless another model of the list
 * has the same one: an id never silently means another model. */
static const char *
anthropic_id(const cJSON *data, const char *id)
{
    const char *base = model_name_base(id);
    const cJSON *other;
    cJSON_ArrayForEach(other, data) {
        const char *other_id = object_string(other, "id");
        if (other_id != NULL && strcmp(other_id, id) != 0 &&
            strcmp(model_name_base(other_id), base) == 0)
            return id;
    }
    return base;
}

/* {"type":"model","id","display_name","created_at"[,"max_input_tokens"]} */
static cJSON *
anthropic_model(const cJSON *data, const cJSON *model)
{
    const char *id = object_string(model, "id");
    const char *name = object_string(model, "name");
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(model, "max_input_tokens");
    cJSON *object = cJSON_CreateObject();
    if (id == NULL || object == NULL || !cJSON_AddStringToObject(object, "type", "model") ||
        !cJSON_AddStringToObject(object, "id", anthropic_id(data, id)) ||
        !cJSON_AddStringToObject(object, "display_name", name ? name : id) ||
        !cJSON_AddStringToObject(object, "created_at", ANTHROPIC_CREATED_AT) ||
        (cJSON_IsNumber(limit) &&
         !cJSON_AddNumberToObject(object, "max_input_tokens", limit->valuedouble))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

/* {"data":[...],"has_more":false,"first_id","last_id"}: one page, all. */
static cJSON *
anthropic_list(const cJSON *openai_list)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(openai_list, "data");
    cJSON *list = cJSON_CreateObject();
    cJSON *models = cJSON_AddArrayToObject(list, "data");
    if (models == NULL) {
        cJSON_Delete(list);
        return NULL;
    }
    const cJSON *model;
    cJSON_ArrayForEach(model, data) {
        cJSON *object = anthropic_model(data, model);
        if (object == NULL || !cJSON_AddItemToArray(models, object)) {
            cJSON_Delete(object);
            cJSON_Delete(list);
            return NULL;
        }
    }
    const cJSON *first = cJSON_GetArrayItem(models, 0);
    const cJSON *last = cJSON_GetArrayItem(models, cJSON_GetArraySize(models) - 1);
    if (!cJSON_AddFalseToObject(list, "has_more") ||
        !(first ? cJSON_AddStringToObject(list, "first_id", object_string(first, "id"))
                : cJSON_AddNullToObject(list, "first_id")) ||
        !(last ? cJSON_AddStringToObject(list, "last_id", object_string(last, "id"))
               : cJSON_AddNullToObject(list, "last_id"))) {
        cJSON_Delete(list);
        return NULL;
    }
    return list;
}

/* The models a key may use (every model without keys), in OpenAI's list
 * shape. */
cJSON *
handlers_allowed_models(const struct request_context *ctx)
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
    return list;
}

void
handle_models(struct http_request *req, const struct request_context *ctx)
{
    cJSON *list = handlers_allowed_models(ctx);
    if (list != NULL && anthropic_shape(req)) {
        cJSON *anthropic = anthropic_list(list);
        cJSON_Delete(list);
        list = anthropic;
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
    if (anthropic_shape(req)) {
        /* Its id as the list gives it. */
        cJSON *list = handlers_allowed_models(ctx);
        cJSON *anthropic = list ? anthropic_model(cJSON_GetObjectItemCaseSensitive(list, "data"),
                                                  model)
                                : NULL;
        cJSON_Delete(list);
        cJSON_Delete(model);
        model = anthropic;
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

/* The probes a service manager or an orchestrator polls (LiteLLM's names):
 * liveliness says the responder answers at all (a draining one no longer
 * accepts, and nginx then answers 503 itself); readiness says a request
 * could be served now: a VS Code window with a model is connected. */
void
handle_liveliness(struct http_request *req, const struct request_context *ctx)
{
    (void)ctx;
    static const char body[] = "{\"status\":\"alive\",\"version\":\"" PACKAGE_VERSION "\"}";
    respond_body(req, 200, "application/json", body, sizeof body - 1);
}

void
handle_readiness(struct http_request *req, const struct request_context *ctx)
{
    (void)ctx;
    cJSON *facts = cJSON_CreateObject();
    if (facts == NULL || router_describe(facts) != 0) {
        cJSON_Delete(facts);
        respond_json(req, NULL); /* out of memory: a 500 */
        return;
    }
    unsigned windows = router_window_count();
    int models = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(facts, "models"));
    bool ready = windows > 0 && models > 0;
    char body[256];
    int len = snprintf(body, sizeof body, "{\"status\":\"%s\",\"windows\":%u,\"models\":%d%s}",
                       ready ? "ready" : "not ready", windows, models,
                       ready
                           ? ""
                           : ",\"message\":\"No VS Code window with a language model is "
                             "connected: run 'VSCode LiteLLM: Start LM Proxy Server' in VS Code.\"");
    respond_body(req, ready ? 200 : 503, "application/json", body, (size_t)len);
    cJSON_Delete(facts);
}
