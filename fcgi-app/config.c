#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "model_name.h"

enum option_kind {
    OPT_STRING,
    OPT_UINT,
    OPT_LONG,
    OPT_MODE,
    OPT_SIZE,
    OPT_LOG_LEVEL,
    OPT_UID,
    OPT_AUTH,
    OPT_MODEL_RULE,
    OPT_KEY_MODEL_RULE,
    OPT_ALIAS,
    OPT_HOSTS,
    OPT_ORIGINS,
};

struct option_spec {
    const char *name;
    const char *value_name;
    enum option_kind kind;
    size_t offset;
    unsigned min, max; /* bounds for OPT_UINT */
    const char *help;
};

#define FIELD(f) offsetof(struct config, f)

static const struct option_spec option_specs[] = {
    { "fcgi", "SOCKET|HOST:PORT", OPT_STRING, FIELD(fcgi_socket), 0, 0,
      "FastCGI socket nginx connects to: a Unix path, or host:port (only nginx may reach it)" },
    { "fcgi-mode", "OCTAL", OPT_MODE, FIELD(fcgi_mode), 0, 0,
      "permission bits of a Unix FastCGI socket (default 0660)" },
    { "fcgi-group", "GROUP", OPT_STRING, FIELD(fcgi_group), 0, 0,
      "group to own the Unix FastCGI socket, e.g. nginx's www-data" },
    { "pipe", "PATH", OPT_STRING, FIELD(pipe_path), 0, 0,
      "named pipe (a Unix socket) VS Code windows connect to; peers' uids are checked" },
    { "pipe-mode", "OCTAL", OPT_MODE, FIELD(pipe_mode), 0, 0,
      "permission bits of the pipe (default 0600; 0660 with --pipe-group)" },
    { "pipe-group", "GROUP", OPT_STRING, FIELD(pipe_group), 0, 0,
      "group to own the pipe, so that the uids of --pipe-allow-uid can reach it" },
    { "pipe-allow-uid", "UID", OPT_UID, 0, 0, 0,
      "also let this uid connect (repeatable; our own uid always may)" },
    { "threads", "N", OPT_UINT, FIELD(threads), 1, 4096,
      "most concurrent requests: a thread each, started as needed; an open stream holds one (default 256)" },
    { "max-body", "SIZE", OPT_SIZE, FIELD(max_body), 0, 0,
      "largest request body accepted, e.g. 16m (default 16m)" },
    { "request-timeout", "SECONDS", OPT_UINT, FIELD(request_timeout), 1, 86400,
      "longest the model may stay silent before the request fails with 504 (default 300)" },
    { "drain-timeout", "SECONDS", OPT_UINT, FIELD(drain_timeout), 0, 3600,
      "on SIGTERM, how long in-flight requests may finish before being cancelled (default 30)" },
    { "keepalive-interval", "SECONDS", OPT_UINT, FIELD(keepalive_interval), 1, 3600,
      "seconds of model silence before a stream's heartbeat (its head and an SSE keep-alive "
      "comment), before the first token too, and between heartbeats (default 2)" },
    { "stream-head-wait-ms", "MS", OPT_UINT, FIELD(stream_head_wait_ms), 0, 60000,
      "Gemini streams: how long the head waits for the model's first frame, so that a quick "
      "failure keeps its HTTP status, before it goes out with a blank-line heartbeat "
      "(default 1000)" },
    { "log-level", "LEVEL", OPT_LOG_LEVEL, FIELD(log_level), 0, 0,
      "error, warn, info (default; one line per request) or debug" },
    { "log-file", "PATH", OPT_STRING, FIELD(log_file), 0, 0,
      "append logs to PATH instead of stderr" },
    { "pid-file", "PATH", OPT_STRING, FIELD(pid_file), 0, 0,
      "write our pid to PATH (removed on exit)" },
    { "allowed-hosts", "NAME,...", OPT_HOSTS, FIELD(allowed_hosts), 0, 0,
      "Host names served besides localhost, *.localhost, 127.0.0.1 and [::1] to requests that "
      "reach nginx on loopback (globs like *.team.example; \"\" for none)" },
    { "allowed-origins", "ORIGIN,...", OPT_ORIGINS, FIELD(allowed_origins), 0, 0,
      "web page origins allowed besides local ones (http(s) on loopback hosts, VS Code "
      "webviews), e.g. https://chat.team.example or http://ui.test:* (\"\" for none)" },
    { "metrics-token", "TOKEN", OPT_STRING, FIELD(metrics_token), 0, 0,
      "bearer token that lets a remote Prometheus or dashboard read /metrics, usage and status "
      "(loopback clients need none; API keys never open them)" },
    { "model-alias", "NAME=MODEL", OPT_ALIAS, 0, 0, 0,
      "let clients name MODEL (an id, a family, or default: the model picked in VS Code) as "
      "NAME, e.g. gpt-4=gpt-4o; NAME may be a glob, as for Claude Code's tiers: "
      "'claude-*opus*=claude-sonnet-4.5' (repeatable; names first, then globs in order)" },
    { "keys-file", "PATH", OPT_STRING, FIELD(keys_file), 0, 0,
      "API keys (hashes and limits; see litellmctl keys), re-read when it changes" },
    { "auth", "auto|required", OPT_AUTH, FIELD(auth), 0, 0,
      "auto (default): keys required once one exists, and always off loopback" },
    { "limits-rpm", "N", OPT_LONG, FIELD(global_limit.rpm), 0, 0,
      "requests per minute for everyone together (0: none)" },
    { "limits-tpm", "N", OPT_LONG, FIELD(global_limit.tpm), 0, 0,
      "tokens per minute for everyone together (0: none)" },
    { "limits-concurrent", "N", OPT_LONG, FIELD(global_limit.concurrent), 0, 0,
      "requests in flight for everyone together (0: none)" },
    { "limits-model", "MODEL:rpm=N,tpm=N,concurrent=N", OPT_MODEL_RULE, 0, 0, 0,
      "limits of one model, by id or family (repeatable)" },
    { "limits-key-model", "KEY@MODEL:rpm=N,...", OPT_KEY_MODEL_RULE, 0, 0, 0,
      "limits of one API key on one model (repeatable)" },
    { "limits-default-completion-tokens", "N", OPT_LONG, FIELD(default_completion_tokens), 0, 0,
      "tokens reserved for the reply when a request sets no max_tokens (default 1024)" },
    { "limits-wait-max", "SECONDS", OPT_UINT, FIELD(wait_max), 0, 600,
      "let a request wait this long for capacity instead of a 429 (default 0)" },
    { "limits-store", "shm|redis://HOST[:PORT][/DB]", OPT_STRING, FIELD(limits_store), 0, 0,
      "where the limits' state lives: the state file, or Redis shared by hosts (default shm)" },
    { "limits-state-file", "PATH", OPT_STRING, FIELD(limits_state_file), 0, 0,
      "the shared state file (default /run/vscode-litellm/limits.state)" },
};

#define OPTION_COUNT (sizeof option_specs / sizeof option_specs[0])

void
config_init(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->fcgi_socket = strdup("/run/vscode-litellm/fcgi.sock");
    cfg->pipe_path = strdup("/run/vscode-litellm/litellm.sock");
    cfg->fcgi_mode = 0660;
    cfg->pipe_mode = 0600;
    cfg->threads = 256;
    cfg->max_body = 16u * 1024 * 1024;
    cfg->request_timeout = 300;
    cfg->drain_timeout = 30;
    cfg->keepalive_interval = 2;
    cfg->stream_head_wait_ms = 1000;
    cfg->log_level = LOG_INFO;
    cfg->default_completion_tokens = 1024;
    cfg->limits_store = strdup("shm");
    cfg->limits_state_file = strdup("/run/vscode-litellm/limits.state");
}

static void
name_list_free(struct name_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

void
config_free(struct config *cfg)
{
    free(cfg->fcgi_socket);
    free(cfg->fcgi_group);
    free(cfg->pipe_path);
    free(cfg->pipe_group);
    free(cfg->log_file);
    free(cfg->pid_file);
    free(cfg->keys_file);
    free(cfg->limits_store);
    free(cfg->limits_state_file);
    free(cfg->metrics_token);
    for (size_t i = 0; i < cfg->model_rule_count; i++) {
        free(cfg->model_rules[i].key);
        free(cfg->model_rules[i].model);
    }
    free(cfg->model_rules);
    for (size_t i = 0; i < cfg->alias_count; i++) {
        free(cfg->aliases[i].name);
        free(cfg->aliases[i].model);
    }
    free(cfg->aliases);
    name_list_free(&cfg->allowed_hosts);
    name_list_free(&cfg->allowed_origins);
    memset(cfg, 0, sizeof *cfg);
}

int
config_parse_size(const char *text, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *text == '-')
        return -1;
    unsigned long long scale = 1;
    switch (tolower((unsigned char)*end)) {
    case '\0': break;
    case 'k':
        scale = 1024ULL;
        end++;
        break;
    case 'm':
        scale = 1024ULL * 1024;
        end++;
        break;
    case 'g':
        scale = 1024ULL * 1024 * 1024;
        end++;
        break;
    default: return -1;
    }
    if (*end != '\0' || value > SIZE_MAX / scale)
        return -1;
    *out = (size_t)(value * scale);
    return 0;
}

static int
parse_uint(const char *text, unsigned long *out, int base)
{
    char *end;
    errno = 0;
    unsigned long value = strtoul(text, &end, base);
    if (errno != 0 || end == text || *end != '\0' || *text == '-')
        return -1;
    *out = value;
    return 0;
}

static const struct option_spec *
option_find(const char *name)
{
    /* "limits.wait_max" and "limits-wait-max" name the same option. */
    char canonical[64];
    size_t len = strlen(name);
    if (len >= sizeof canonical)
        return NULL;
    for (size_t i = 0; i <= len; i++)
        canonical[i] = name[i] == '.' || name[i] == '_' ? '-' : name[i];
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strcmp(option_specs[i].name, canonical) == 0)
            return &option_specs[i];
    return NULL;
}

/* "MODEL:rpm=N,tpm=N,concurrent=N" (with_key: "KEY@MODEL:...") */
static int
add_scoped_rule(struct config *cfg, const char *value, bool with_key, char *err, size_t err_size)
{
    const char *colon = strchr(value, ':');
    const char *at = with_key ? strchr(value, '@') : NULL;
    if (colon == NULL || (with_key && (at == NULL || at > colon || at == value)) ||
        colon == (at ? at + 1 : value)) {
        snprintf(err, err_size, "'%s' should look like %s:rpm=N,tpm=N,concurrent=N", value,
                 with_key ? "KEY@MODEL" : "MODEL");
        return -1;
    }
    struct scoped_rule rule = { 0 };
    const char *model = at ? at + 1 : value;
    rule.model = strndup(model, (size_t)(colon - model));
    rule.key = at ? strndup(value, (size_t)(at - value)) : NULL;
    const char *p = colon + 1;
    while (*p) {
        long *target = strncmp(p, "rpm=", 4) == 0           ? &rule.rule.rpm
                       : strncmp(p, "tpm=", 4) == 0         ? &rule.rule.tpm
                       : strncmp(p, "concurrent=", 11) == 0 ? &rule.rule.concurrent
                                                            : NULL;
        char *end;
        long number = target ? strtol(strchr(p, '=') + 1, &end, 10) : -1;
        if (target == NULL || number < 0 || (*end != ',' && *end != '\0')) {
            snprintf(err, err_size, "'%s': expected rpm=N, tpm=N or concurrent=N", value);
            free(rule.model);
            free(rule.key);
            return -1;
        }
        *target = number;
        p = *end == ',' ? end + 1 : end;
    }
    struct scoped_rule *grown = realloc(cfg->model_rules,
                                        (cfg->model_rule_count + 1) * sizeof *grown);
    if (grown == NULL || rule.model == NULL || (at && rule.key == NULL)) {
        snprintf(err, err_size, "out of memory");
        free(rule.model);
        free(rule.key);
        if (grown != NULL)
            cfg->model_rules = grown;
        return -1;
    }
    cfg->model_rules = grown;
    cfg->model_rules[cfg->model_rule_count++] = rule;
    return 0;
}

/* One entry of --allowed-hosts (a name or glob; no port, scheme or path)
 * or --allowed-origins ("scheme://host[:port]" or a glob; no path). */
static bool
name_entry_valid(const char *entry, size_t len, bool origin)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)entry[i];
        if (c <= 0x20 || c >= 0x7f || c == ',' || c == '?' || c == '#' || c == '@' ||
            (!origin && (c == '/' || c == ':')))
            return false;
    }
    if (!origin)
        return true;
    const char *slashes = memmem(entry, len, "://", 3);
    return slashes != NULL && slashes > entry &&
           memchr(slashes + 3, '/', len - (size_t)(slashes + 3 - entry)) == NULL &&
           (size_t)(slashes + 3 - entry) < len;
}

/* "a, b,c" → a lower-cased list that replaces the old one; "" empties it. */
static int
set_name_list(struct name_list *list, const char *value, bool origin, const char *name, char *err,
              size_t err_size)
{
    struct name_list fresh = { 0 };
    for (const char *p = value; *p != '\0';) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ", ");
        if (len == 0)
            break;
        if (!name_entry_valid(p, len, origin)) {
            snprintf(err, err_size,
                     origin ? "%s: '%.*s' is not an origin like https://ui.example or "
                              "http://localhost:* (scheme://host[:port], no path)"
                            : "%s: '%.*s' is not a host name like llm.team.example or "
                              "*.team.example (no port, no scheme)",
                     name, (int)len, p);
            name_list_free(&fresh);
            return -1;
        }
        char **grown = realloc(fresh.items, (fresh.count + 1) * sizeof *grown);
        char *item = strndup(p, len);
        if (grown == NULL || item == NULL) {
            free(item);
            if (grown != NULL)
                fresh.items = grown;
            name_list_free(&fresh);
            snprintf(err, err_size, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < len; i++)
            item[i] = (char)tolower((unsigned char)item[i]);
        fresh.items = grown;
        fresh.items[fresh.count++] = item;
        p += len;
    }
    name_list_free(list);
    *list = fresh;
    return 0;
}

int
config_set(struct config *cfg, const char *name, const char *value, char *err, size_t err_size)
{
    const struct option_spec *spec = option_find(name);
    if (spec == NULL) {
        snprintf(err, err_size, "unknown option '%s'", name);
        return -1;
    }
    void *field = (char *)cfg + spec->offset;
    unsigned long number;
    switch (spec->kind) {
    case OPT_STRING: {
        char *copy = strdup(value);
        if (copy == NULL) {
            snprintf(err, err_size, "out of memory");
            return -1;
        }
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    case OPT_UINT:
        if (parse_uint(value, &number, 10) != 0 || number < spec->min || number > spec->max) {
            snprintf(err, err_size, "%s: '%s' is not a number from %u to %u", name, value,
                     spec->min, spec->max);
            return -1;
        }
        *(unsigned *)field = (unsigned)number;
        return 0;
    case OPT_LONG: {
        char *end;
        errno = 0;
        long value_long = strtol(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || value_long < 0) {
            snprintf(err, err_size, "%s: '%s' is not a whole number", name, value);
            return -1;
        }
        *(long *)field = value_long;
        return 0;
    }
    case OPT_AUTH:
        if (strcmp(value, "auto") == 0) {
            *(enum auth_mode *)field = AUTH_AUTO;
        } else if (strcmp(value, "required") == 0) {
            *(enum auth_mode *)field = AUTH_REQUIRED;
        } else {
            snprintf(err, err_size, "%s: '%s' is not auto or required", name, value);
            return -1;
        }
        return 0;
    case OPT_MODEL_RULE: return add_scoped_rule(cfg, value, false, err, err_size);
    case OPT_ALIAS: {
        const char *eq = strchr(value, '=');
        if (eq == NULL || eq == value || eq[1] == '\0') {
            snprintf(err, err_size, "%s: '%s' should look like NAME=MODEL", name, value);
            return -1;
        }
        struct model_alias *grown = realloc(cfg->aliases, (cfg->alias_count + 1) * sizeof *grown);
        if (grown == NULL) {
            snprintf(err, err_size, "out of memory");
            return -1;
        }
        cfg->aliases = grown;
        grown[cfg->alias_count].name = strndup(value, (size_t)(eq - value));
        grown[cfg->alias_count].model = strdup(eq + 1);
        if (grown[cfg->alias_count].name == NULL || grown[cfg->alias_count].model == NULL) {
            free(grown[cfg->alias_count].name);
            free(grown[cfg->alias_count].model);
            snprintf(err, err_size, "out of memory");
            return -1;
        }
        cfg->alias_count++;
        return 0;
    }
    case OPT_KEY_MODEL_RULE: return add_scoped_rule(cfg, value, true, err, err_size);
    case OPT_HOSTS: return set_name_list(field, value, false, name, err, err_size);
    case OPT_ORIGINS: return set_name_list(field, value, true, name, err, err_size);
    case OPT_MODE:
        if (parse_uint(value, &number, 8) != 0 || number > 0777) {
            snprintf(err, err_size, "%s: '%s' is not an octal mode like 0660", name, value);
            return -1;
        }
        *(unsigned *)field = (unsigned)number;
        return 0;
    case OPT_SIZE:
        if (config_parse_size(value, (size_t *)field) != 0 || *(size_t *)field == 0) {
            snprintf(err, err_size, "%s: '%s' is not a size like 16m or 65536", name, value);
            return -1;
        }
        return 0;
    case OPT_LOG_LEVEL: {
        int level = log_level_from_name(value);
        if (level < 0) {
            snprintf(err, err_size, "%s: '%s' is not one of error, warn, info, debug", name, value);
            return -1;
        }
        *(int *)field = level;
        return 0;
    }
    case OPT_UID:
        if (parse_uint(value, &number, 10) != 0 || number > UINT_MAX - 1) {
            snprintf(err, err_size, "%s: '%s' is not a numeric uid", name, value);
            return -1;
        }
        if (cfg->pipe_allowed_uid_count == CONFIG_MAX_ALLOWED_UIDS) {
            snprintf(err, err_size, "%s: at most %d uids", name, CONFIG_MAX_ALLOWED_UIDS);
            return -1;
        }
        cfg->pipe_allowed_uids[cfg->pipe_allowed_uid_count++] = (uid_t)number;
        return 0;
    }
    snprintf(err, err_size, "%s: unsupported option kind", name);
    return -1;
}

static char *
trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

int
config_load_file(struct config *cfg, const char *path)
{
    FILE *file = fopen(path, "re");
    if (file == NULL) {
        fprintf(stderr, "litellm-fcgi: cannot open config file %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    int rc = 0;
    while (getline(&line, &cap, file) >= 0) {
        lineno++;
        char *text = trim(line);
        if (*text == '\0' || *text == '#')
            continue;
        char *eq = strchr(text, '=');
        if (eq == NULL) {
            fprintf(stderr, "litellm-fcgi: %s:%u: expected 'name = value'\n", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char err[256];
        if (config_set(cfg, trim(text), trim(eq + 1), err, sizeof err) != 0) {
            fprintf(stderr, "litellm-fcgi: %s:%u: %s\n", path, lineno, err);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(file)) {
        fprintf(stderr, "litellm-fcgi: reading %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(file);
    return rc;
}

static void
print_help(FILE *out)
{
    fprintf(out,
            "Usage: litellm-fcgi [OPTION]...\n"
            "FastCGI responder of VSCode LiteLLM: serves the OpenAI Chat Completions API\n"
            "behind nginx and runs each request on a VS Code window connected to the pipe.\n\n"
            "  -c, --config FILE            read 'name = value' lines (names as below, without --);\n"
            "                               flags given on the command line win\n");
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        char left[96];
        snprintf(left, sizeof left, "--%s %s", option_specs[i].name, option_specs[i].value_name);
        if (strlen(left) < 27)
            fprintf(out, "      %-27s%s\n", left, option_specs[i].help);
        else
            fprintf(out, "      %s\n      %-27s%s\n", left, "", option_specs[i].help);
    }
    fprintf(out, "  -h, --help                   show this help and exit\n"
                 "  -V, --version                show the version and exit\n\n"
                 "Signals: SIGTERM/SIGINT drain (stop accepting, let requests finish within\n"
                 "--drain-timeout, cancel the rest) and exit 0.\n");
}

int
config_from_args(struct config *cfg, int argc, char **argv)
{
    /* The file comes first so that flags override it, wherever they stand. */
    for (int i = 1; i < argc; i++) {
        const char *file = NULL;
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
            file = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
        if (file != NULL && config_load_file(cfg, file) != 0)
            return CONFIG_ERROR;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            print_help(stdout);
            return CONFIG_EXIT_SUCCESS;
        }
        if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
            printf("litellm-fcgi %s\n", PACKAGE_VERSION);
            return CONFIG_EXIT_SUCCESS;
        }
        if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(arg, "--config=", 9) == 0)
            continue;
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "litellm-fcgi: unexpected argument '%s' (see --help)\n", arg);
            return CONFIG_ERROR;
        }
        char name[64];
        const char *value;
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (name_len >= sizeof name) {
            fprintf(stderr, "litellm-fcgi: unknown option '%s' (see --help)\n", arg);
            return CONFIG_ERROR;
        }
        memcpy(name, arg + 2, name_len);
        name[name_len] = '\0';
        if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            fprintf(stderr, "litellm-fcgi: option '--%s' needs a value (see --help)\n", name);
            return CONFIG_ERROR;
        }
        char err[256];
        if (config_set(cfg, name, value, err, sizeof err) != 0) {
            fprintf(stderr, "litellm-fcgi: %s (see --help)\n", err);
            return CONFIG_ERROR;
        }
    }
    return CONFIG_OK;
}

static bool
is_glob(const char *name)
{
    return strpbrk(name, "*?[") != NULL;
}

const char *
config_model_alias(const struct config *cfg, const char *requested)
{
    if (requested == NULL)
        return requested;
    /* A name matches as model names do (case, dates, dots, prefixes)... */
    for (size_t i = 0; i < cfg->alias_count; i++)
        if (!is_glob(cfg->aliases[i].name) && model_name_equal(cfg->aliases[i].name, requested))
            return cfg->aliases[i].model;
    /* ...and a glob, any case, with or without the vendor prefix: a tier
     * such as claude-*opus* takes every dated or future id of it. */
    for (size_t i = 0; i < cfg->alias_count; i++) {
        const char *pattern = cfg->aliases[i].name;
        if (is_glob(pattern) && (fnmatch(pattern, requested, FNM_CASEFOLD) == 0 ||
                                 fnmatch(pattern, model_name_base(requested), FNM_CASEFOLD) == 0))
            return cfg->aliases[i].model;
    }
    return requested;
}
