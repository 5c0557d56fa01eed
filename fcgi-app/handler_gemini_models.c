/*
 * GET /v1beta/models and /v1beta/models/{model}: the models VS Code's
 * windows offer (those the caller's key may use), in Google's shape:
 * {"models":[{"name":"models/ID","baseModelId","version","displayName",
 * "inputTokenLimit","outputTokenLimit","supportedGenerationMethods"}]}.
 * The name carries the gateway's id ("models/copilot/gpt-4o"), which the
 * SDK and Gemini CLI put back in the path as it is.  VS Code reports a
 * model's input limit only; the output limit given is the same figure
 * (a reply cannot outgrow the model's window), as Google's field is
 * required.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "handlers.h"
#include "respond.h"
#include "router.h"
#include "token_estimate.h"

static const char *
string_of(const cJSON *object, const char *field)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(object, field);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

/* One OpenAI-shaped model entry (router.c) as Google's Model. */
static cJSON *
gemini_model(const cJSON *model)
{
    const char *id = string_of(model, "id");
    const char *family = string_of(model, "family");
    const char *name = string_of(model, "name");
    const char *version = string_of(model, "version");
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(model, "max_input_tokens");
    double tokens = cJSON_IsNumber(limit) && limit->valuedouble > 0
                        ? limit->valuedouble
                        : (double)token_context_limit(token_family_of(family ? family : id));
    cJSON *object = cJSON_CreateObject();
    cJSON *methods = object ? cJSON_AddArrayToObject(object, "supportedGenerationMethods") : NULL;
    char path_name[512];
    if (id == NULL || methods == NULL ||
        (size_t)snprintf(path_name, sizeof path_name, "models/%s", id) >= sizeof path_name ||
        !cJSON_AddStringToObject(object, "name", path_name) ||
        !cJSON_AddStringToObject(object, "baseModelId", id) ||
        !cJSON_AddStringToObject(object, "version", version ? version : "1") ||
        !cJSON_AddStringToObject(object, "displayName", name ? name : id) ||
        !cJSON_AddNumberToObject(object, "inputTokenLimit", tokens) ||
        !cJSON_AddNumberToObject(object, "outputTokenLimit", tokens) ||
        !cJSON_AddItemToArray(methods, cJSON_CreateString("generateContent")) ||
        !cJSON_AddItemToArray(methods, cJSON_CreateString("streamGenerateContent")) ||
        !cJSON_AddItemToArray(methods, cJSON_CreateString("countTokens"))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

void
handle_gemini_models(struct http_request *req, const struct request_context *ctx)
{
    cJSON *openai = handlers_allowed_models(ctx);
    cJSON *list = openai ? cJSON_CreateObject() : NULL;
    cJSON *models = list ? cJSON_AddArrayToObject(list, "models") : NULL;
    const cJSON *data = models != NULL ? cJSON_GetObjectItemCaseSensitive(openai, "data") : NULL;
    const cJSON *model;
    cJSON_ArrayForEach(model, data) {
        cJSON *entry = gemini_model(model);
        if (entry == NULL || !cJSON_AddItemToArray(models, entry)) {
            cJSON_Delete(entry);
            models = NULL;
            break;
        }
    }
    respond_json(req, models ? list : NULL); /* NULL: out of memory, a 500 */
    cJSON_Delete(list);
    cJSON_Delete(openai);
}

void
handle_gemini_model(struct http_request *req, const struct request_context *ctx)
{
    const char *requested = ctx->path_id;
    const char *model_id = config_model_alias(ctx->cfg, requested);
    cJSON *model = router_model_get(model_id);
    if (model != NULL &&
        !auth_allows_model(ctx->identity, string_of(model, "id"), string_of(model, "family"))) {
        cJSON_Delete(model);
        model = NULL;
    }
    if (model == NULL) {
        struct api_error err;
        api_error_set(&err, 404, "model_not_found", "model",
                      "models/%.2000s is not found: no connected VS Code window offers it "
                      "(GET /v1beta/models lists those that do).",
                      requested);
        respond_error(req, &err);
        return;
    }
    cJSON *entry = gemini_model(model);
    respond_json(req, entry);
    cJSON_Delete(entry);
    cJSON_Delete(model);
}
