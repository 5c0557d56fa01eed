/*
 * litellm-status: the responder's status document, fetched over its FastCGI
 * socket (GET /health, fcgi_query.c), with the process facts litellmctl
 * knows added, for `litellmctl status` (text) and `status --json`.  The
 * responder produces the document (status.c); litellmctl never parses JSON.
 *
 *   litellm-status --fcgi SOCKET [--timeout SECONDS] --get FIELD
 *       prints one top-level field of the document (a string as it is, a
 *       number, anything else as JSON); exit 1 if the responder does not
 *       answer.  `--get status` is litellmctl's "does it answer?".
 *   litellm-status --fcgi SOCKET [--timeout SECONDS] --json|--text FACTS…
 *       FACTS: --running yes|no, --enabled yes|no, --mode M, --prefix DIR,
 *       --listen ADDR:PORT, --pipe PATH, --snippet FILE, --keys-file FILE,
 *       --nginx-pid N, --responder-pid N (empty: none), --prog NAME.
 *       --json prints one object: the facts, then the document's fields
 *       (tests/spec/status.schema.json, "litellmctl"); a responder that
 *       does not answer gives `"status":"unreachable"` and empty fields.
 *       --text prints litellmctl status's lines.  Exit 0 either way.
 *   litellm-status --fcgi SOCKET [--timeout SECONDS] --probe liveliness|readiness
 *                  [--wait SECONDS]
 *       asks GET /health/liveliness or /health/readiness and prints its
 *       body; exit 0 when it answers 200, 1 otherwise (not ready, draining,
 *       or nothing answers: the reason on stderr).  --wait asks again until
 *       it answers 200 or SECONDS passed: a service manager's "started".
 */
#include <getopt.h>
#include <stdbool.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "fcgi_query.h"

#define STATUS_MAX_BODY (8u << 20)
/* A probe's answer is one short JSON object. */
#define PROBE_MAX_BODY (64u << 10)
/* How often --wait asks again: quick enough for a start-up, and a probe
 * costs the responder one small request. */
#define PROBE_RETRY_MS 200

struct facts {
    const char *fcgi, *get, *mode, *prefix, *listen, *pipe, *snippet, *keys_file;
    const char *nginx_pid, *responder_pid, *prog;
    const char *probe; /* "/health/liveliness" or "/health/readiness" */
    bool running, enabled;
    int timeout_ms;
    long long wait_ms;
    enum { OUT_NONE, OUT_JSON, OUT_TEXT } output;
};

static void
usage(FILE *to)
{
    fputs("usage: litellm-status --fcgi SOCKET [--timeout SECONDS] --get FIELD\n"
          "       litellm-status --fcgi SOCKET [--timeout SECONDS] --json|--text\n"
          "              [--running yes|no] [--enabled yes|no] [--mode MODE] [--prefix DIR]\n"
          "              [--listen ADDR:PORT] [--pipe PATH] [--snippet FILE] [--keys-file FILE]\n"
          "              [--nginx-pid N] [--responder-pid N] [--prog NAME]\n"
          "       litellm-status --fcgi SOCKET [--timeout SECONDS] --probe liveliness|readiness\n"
          "              [--wait SECONDS]\n",
          to);
}

static bool
yes_no(const char *value, bool *out)
{
    if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0) {
        *out = true;
        return true;
    }
    if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0) {
        *out = false;
        return true;
    }
    return false;
}

static bool
valid_pid(const char *value)
{
    if (*value == '\0')
        return true; /* none */
    if (strlen(value) > 9)
        return false;
    for (const char *c = value; *c; c++)
        if (*c < '0' || *c > '9')
            return false;
    return true;
}

static int
parse_args(int argc, char **argv, struct facts *f)
{
    enum {
        O_FCGI = 256,
        O_TIMEOUT,
        O_GET,
        O_JSON,
        O_TEXT,
        O_RUNNING,
        O_ENABLED,
        O_MODE,
        O_PREFIX,
        O_LISTEN,
        O_PIPE,
        O_SNIPPET,
        O_KEYS,
        O_NGINX_PID,
        O_RESPONDER_PID,
        O_PROG,
        O_PROBE,
        O_WAIT,
        O_HELP
    };
    static const struct option options[] = {
        { "fcgi", required_argument, NULL, O_FCGI },
        { "timeout", required_argument, NULL, O_TIMEOUT },
        { "get", required_argument, NULL, O_GET },
        { "json", no_argument, NULL, O_JSON },
        { "text", no_argument, NULL, O_TEXT },
        { "running", required_argument, NULL, O_RUNNING },
        { "enabled", required_argument, NULL, O_ENABLED },
        { "mode", required_argument, NULL, O_MODE },
        { "prefix", required_argument, NULL, O_PREFIX },
        { "listen", required_argument, NULL, O_LISTEN },
        { "pipe", required_argument, NULL, O_PIPE },
        { "snippet", required_argument, NULL, O_SNIPPET },
        { "keys-file", required_argument, NULL, O_KEYS },
        { "nginx-pid", required_argument, NULL, O_NGINX_PID },
        { "responder-pid", required_argument, NULL, O_RESPONDER_PID },
        { "prog", required_argument, NULL, O_PROG },
        { "probe", required_argument, NULL, O_PROBE },
        { "wait", required_argument, NULL, O_WAIT },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 },
    };
    *f = (struct facts){ .mode = "",
                         .prefix = "",
                         .listen = "",
                         .pipe = "",
                         .snippet = "",
                         .keys_file = "",
                         .nginx_pid = "",
                         .responder_pid = "",
                         .prog = "litellmctl",
                         .timeout_ms = 3000 };
    int opt;
    char *end;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case O_FCGI: f->fcgi = optarg; break;
        case O_GET: f->get = optarg; break;
        case O_JSON: f->output = OUT_JSON; break;
        case O_TEXT: f->output = OUT_TEXT; break;
        case O_MODE: f->mode = optarg; break;
        case O_PREFIX: f->prefix = optarg; break;
        case O_LISTEN: f->listen = optarg; break;
        case O_PIPE: f->pipe = optarg; break;
        case O_SNIPPET: f->snippet = optarg; break;
        case O_KEYS: f->keys_file = optarg; break;
        case O_PROG: f->prog = optarg; break;
        case O_TIMEOUT:
        case O_WAIT: {
            double seconds = strtod(optarg, &end);
            if (*optarg == '\0' || *end != '\0' || !(seconds > 0 && seconds <= 600)) {
                fprintf(stderr, "litellm-status: --%s takes seconds (0-600], not '%s'\n",
                        opt == O_TIMEOUT ? "timeout" : "wait", optarg);
                return -1;
            }
            if (opt == O_TIMEOUT)
                f->timeout_ms = (int)(seconds * 1000);
            else
                f->wait_ms = (long long)(seconds * 1000);
            break;
        }
        case O_PROBE:
            if (strcmp(optarg, "liveliness") == 0 || strcmp(optarg, "liveness") == 0)
                f->probe = "/health/liveliness";
            else if (strcmp(optarg, "readiness") == 0)
                f->probe = "/health/readiness";
            else {
                fprintf(stderr, "litellm-status: --probe takes liveliness or readiness, not '%s'\n",
                        optarg);
                return -1;
            }
            break;
        case O_RUNNING:
        case O_ENABLED:
            if (!yes_no(optarg, opt == O_RUNNING ? &f->running : &f->enabled)) {
                fprintf(stderr, "litellm-status: --%s takes yes or no, not '%s'\n",
                        opt == O_RUNNING ? "running" : "enabled", optarg);
                return -1;
            }
            break;
        case O_NGINX_PID:
        case O_RESPONDER_PID:
            if (!valid_pid(optarg)) {
                fprintf(stderr, "litellm-status: a pid is a number (or empty), not '%s'\n", optarg);
                return -1;
            }
            *(opt == O_NGINX_PID ? &f->nginx_pid : &f->responder_pid) = optarg;
            break;
        case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    int modes = (f->get != NULL) + (f->output != OUT_NONE) + (f->probe != NULL);
    if (optind != argc || f->fcgi == NULL || modes != 1 || (f->wait_ms > 0 && f->probe == NULL)) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* The document from GET /health, or NULL with a sentence in err. */
static cJSON *
fetch_document(const struct facts *f, char *err, size_t err_size)
{
    struct dynbuf body;
    dynbuf_init(&body, STATUS_MAX_BODY);
    int status = 0;
    cJSON *doc = NULL;
    if (fcgi_query_get(f->fcgi, "/health", f->timeout_ms, STATUS_MAX_BODY, &status, &body, err,
                       err_size) == 0) {
        if (status != 200)
            snprintf(err, err_size, "GET /health answered %d", status);
        else if ((doc = cJSON_ParseWithLength(body.data ? body.data : "", body.len)) == NULL ||
                 !cJSON_IsObject(doc)) {
            cJSON_Delete(doc);
            doc = NULL;
            snprintf(err, err_size, "GET /health did not answer a JSON object");
        }
    }
    dynbuf_free(&body);
    return doc;
}

static int
print_field(const cJSON *doc, const char *name)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(doc, name);
    if (value == NULL) {
        fprintf(stderr, "litellm-status: the status document has no field '%s'\n", name);
        return 1;
    }
    if (cJSON_IsString(value)) {
        printf("%s\n", value->valuestring);
        return 0;
    }
    char *text = cJSON_PrintUnformatted(value);
    if (text == NULL) {
        fputs("litellm-status: out of memory\n", stderr);
        return 1;
    }
    printf("%s\n", text);
    free(text);
    return 0;
}

static cJSON *
pid_item(const char *pid)
{
    return *pid ? cJSON_CreateNumber(strtod(pid, NULL)) : cJSON_CreateNull();
}

/* The facts, then the document's fields (or the empty ones of a responder
 * that does not answer). */
static cJSON *
merged_status(const struct facts *f, cJSON *doc, const char *err)
{
    cJSON *out = cJSON_CreateObject();
    if (out == NULL)
        return NULL;
    bool ok = cJSON_AddBoolToObject(out, "running", f->running) != NULL &&
              cJSON_AddStringToObject(out, "listen", f->listen) != NULL &&
              cJSON_AddStringToObject(out, "mode", f->mode) != NULL &&
              cJSON_AddStringToObject(out, "prefix", f->prefix) != NULL &&
              cJSON_AddStringToObject(out, "pipe", f->pipe) != NULL &&
              cJSON_AddStringToObject(out, "fcgi_socket", f->fcgi) != NULL &&
              cJSON_AddStringToObject(out, "keys_file", f->keys_file) != NULL;
    cJSON *pid = ok ? pid_item(f->nginx_pid) : NULL;
    ok = pid != NULL && cJSON_AddItemToObject(out, "nginx_pid", pid);
    pid = ok ? pid_item(f->responder_pid) : NULL;
    ok = pid != NULL && cJSON_AddItemToObject(out, "responder_pid", pid);
    if (ok && doc != NULL) {
        while (ok && doc->child != NULL) {
            cJSON *item = cJSON_DetachItemViaPointer(doc, doc->child);
            if (cJSON_GetObjectItemCaseSensitive(out, item->string) != NULL)
                cJSON_Delete(item); /* a fact wins over a field of the same name */
            else
                ok = cJSON_AddItemToObject(out, item->string, item);
        }
    } else if (ok) {
        ok = cJSON_AddStringToObject(out, "status", "unreachable") != NULL &&
             cJSON_AddStringToObject(out, "message", err) != NULL &&
             cJSON_AddNumberToObject(out, "windows", 0) != NULL &&
             cJSON_AddArrayToObject(out, "models") != NULL &&
             cJSON_AddNullToObject(out, "default_model") != NULL &&
             cJSON_AddNullToObject(out, "auth") != NULL &&
             cJSON_AddArrayToObject(out, "limits") != NULL &&
             cJSON_AddArrayToObject(out, "limits_summary") != NULL &&
             cJSON_AddNullToObject(out, "limits_store") != NULL;
    }
    if (!ok) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

static void
print_text(const struct facts *f, const cJSON *doc)
{
    if (f->running)
        printf("serving:    yes, on http://%s\n", f->listen);
    else if (f->enabled)
        printf("serving:    no (enabled, but nothing accepts connections on %s)\n", f->listen);
    else
        printf("serving:    no (stopped)\n");
    if (strcmp(f->mode, "system") == 0)
        printf("mode:       system, server block %s, prefix %s\n", f->snippet, f->prefix);
    else
        printf("mode:       managed, prefix %s\n", f->prefix);
    if (*f->nginx_pid)
        printf("nginx:      running (pid %s)\n", f->nginx_pid);
    else
        printf("nginx:      not running\n");
    if (*f->responder_pid)
        printf("responder:  running (pid %s) on %s\n", f->responder_pid, f->fcgi);
    else if (doc != NULL)
        printf("responder:  answering on %s (not started by %s)\n", f->fcgi, f->prog);
    else
        printf("responder:  not running\n");
    printf("pipe:       %s\n", f->pipe);
    printf("keys:       %s\n", f->keys_file);

    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(doc, "limits_summary"))
        if (cJSON_IsString(item) && *item->valuestring)
            printf("limit:      %s\n", item->valuestring);
    const cJSON *windows = cJSON_GetObjectItemCaseSensitive(doc, "windows");
    printf("windows:    %.0f VS Code window(s) connected\n",
           cJSON_IsNumber(windows) ? windows->valuedouble : 0.0);
    const char *separator = "models:     ";
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(doc, "models")) {
        if (cJSON_IsString(item)) {
            printf("%s%s", separator, item->valuestring);
            separator = ", ";
        }
    }
    if (strcmp(separator, ", ") != 0) {
        printf("models:     none\n");
        return;
    }
    putchar('\n');
    const cJSON *default_model = cJSON_GetObjectItemCaseSensitive(doc, "default_model");
    if (cJSON_IsString(default_model))
        printf("default:    %s\n", default_model->valuestring);
}

/* One probe: 1 when it answered 200, 0 when it answered otherwise, -1
 * when nothing answered; the body (or the reason) in `answer`. */
static int
probe_once(const struct facts *f, int timeout_ms, struct dynbuf *answer, char *err, size_t err_size)
{
    int status = 0;
    dynbuf_reset(answer);
    if (fcgi_query_get(f->fcgi, f->probe, timeout_ms, PROBE_MAX_BODY, &status, answer, err,
                       err_size) != 0)
        return -1;
    if (status != 200)
        snprintf(err, err_size, "GET %s answered %d", f->probe, status);
    return status == 200;
}

static int
run_probe(const struct facts *f)
{
    struct dynbuf answer;
    dynbuf_init(&answer, PROBE_MAX_BODY);
    char err[512] = "";
    long long deadline = clock_monotonic_ms() + f->wait_ms;
    int result;
    for (;;) {
        /* A wedged responder must not hold --wait past its end: each try
         * gets --timeout, or what is left of the wait if that is less. */
        long long left = deadline - clock_monotonic_ms();
        int timeout_ms = f->wait_ms > 0 && left < f->timeout_ms ? (int)(left > 1 ? left : 1)
                                                                : f->timeout_ms;
        result = probe_once(f, timeout_ms, &answer, err, sizeof err);
        if (result == 1 || clock_monotonic_ms() + PROBE_RETRY_MS > deadline)
            break;
        struct timespec pause = { .tv_sec = 0, .tv_nsec = PROBE_RETRY_MS * 1000000L };
        nanosleep(&pause, NULL);
    }
    if (result >= 0 && answer.len > 0)
        printf("%.*s\n", (int)answer.len, answer.data);
    if (result != 1)
        fprintf(stderr, "litellm-status: %s: %s\n", f->fcgi, err);
    dynbuf_free(&answer);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("litellm-status: stdout");
        return 1;
    }
    return result == 1 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    struct facts f;
    if (parse_args(argc, argv, &f) != 0)
        return 2;
    if (f.probe != NULL)
        return run_probe(&f);
    char err[512] = "";
    cJSON *doc = fetch_document(&f, err, sizeof err);
    int rc = 0;
    if (f.get != NULL) {
        if (doc == NULL) {
            fprintf(stderr, "litellm-status: %s: %s\n", f.fcgi, err);
            rc = 1;
        } else {
            rc = print_field(doc, f.get);
        }
    } else if (f.output == OUT_TEXT) {
        print_text(&f, doc);
    } else {
        cJSON *out = merged_status(&f, doc, err);
        char *text = out ? cJSON_PrintUnformatted(out) : NULL;
        if (text == NULL) {
            fputs("litellm-status: out of memory\n", stderr);
            rc = 1;
        } else {
            printf("%s\n", text);
        }
        free(text);
        cJSON_Delete(out);
    }
    cJSON_Delete(doc);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("litellm-status: stdout");
        rc = 1;
    }
    return rc;
}
