#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"


enum option_kind { OPT_STRING, OPT_UINT, OPT_MODE, OPT_SIZE, OPT_LOG_LEVEL, OPT_UID };

struct option_spec {
    const char *name;
    const char *value_name;
    enum option_kind kind;
    size_t offset;
    unsigned min, max;          /* bounds for OPT_UINT */
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
      "named pipe (Unix socket, mode 0600) VS Code windows connect to" },
    { "pipe-allow-uid", "UID", OPT_UID, 0, 0, 0,
      "also let this uid connect to the pipe (repeatable; our own uid always may)" },
    { "threads", "N", OPT_UINT, FIELD(threads), 1, 4096,
      "FastCGI worker threads = concurrent requests; an open stream holds one (default 256)" },
    { "max-body", "SIZE", OPT_SIZE, FIELD(max_body), 0, 0,
      "largest request body accepted, e.g. 16m (default 16m)" },
    { "request-timeout", "SECONDS", OPT_UINT, FIELD(request_timeout), 1, 86400,
      "longest the model may stay silent before the request fails with 504 (default 300)" },
    { "drain-timeout", "SECONDS", OPT_UINT, FIELD(drain_timeout), 0, 3600,
      "on SIGTERM, how long in-flight requests may finish before being cancelled (default 30)" },
    { "keepalive-interval", "SECONDS", OPT_UINT, FIELD(keepalive_interval), 1, 3600,
      "SSE keep-alive comment interval while the model is silent (default 15)" },
    { "log-level", "LEVEL", OPT_LOG_LEVEL, FIELD(log_level), 0, 0,
      "error, warn, info (default; one line per request) or debug" },
    { "log-file", "PATH", OPT_STRING, FIELD(log_file), 0, 0,
      "append logs to PATH instead of stderr" },
    { "pid-file", "PATH", OPT_STRING, FIELD(pid_file), 0, 0,
      "write our pid to PATH (removed on exit)" },
};

#define OPTION_COUNT (sizeof option_specs / sizeof option_specs[0])

void
config_init(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->fcgi_socket = strdup("/run/vscode-litellm/fcgi.sock");
    cfg->pipe_path = strdup("/run/vscode-litellm/litellm.sock");
    cfg->fcgi_mode = 0660;
    cfg->threads = 256;
    cfg->max_body = 16u * 1024 * 1024;
    cfg->request_timeout = 300;
    cfg->drain_timeout = 30;
    cfg->keepalive_interval = 15;
    cfg->log_level = LOG_INFO;
}

void
config_free(struct config *cfg)
{
    free(cfg->fcgi_socket);
    free(cfg->fcgi_group);
    free(cfg->pipe_path);
    free(cfg->log_file);
    free(cfg->pid_file);
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
    case 'k': scale = 1024ULL; end++; break;
    case 'm': scale = 1024ULL * 1024; end++; break;
    case 'g': scale = 1024ULL * 1024 * 1024; end++; break;
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
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strcmp(option_specs[i].name, name) == 0)
            return &option_specs[i];
    return NULL;
}

int
config_set(struct config *cfg, const char *name, const char *value,
           char *err, size_t err_size)
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
            snprintf(err, err_size, "%s: '%s' is not a number from %u to %u",
                     name, value, spec->min, spec->max);
            return -1;
        }
        *(unsigned *)field = (unsigned)number;
        return 0;
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
        char left[64];
        snprintf(left, sizeof left, "--%s %s", option_specs[i].name, option_specs[i].value_name);
        fprintf(out, "      %-27s%s\n", left, option_specs[i].help);
    }
    fprintf(out,
            "  -h, --help                   show this help and exit\n"
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
