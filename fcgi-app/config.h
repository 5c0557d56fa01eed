/*
 * config: the responder's settings.  One table of options drives the
 * config file (`name = value`), the command line (`--name value`) and
 * `--help`, so the three can never disagree.
 */
#ifndef LITELLM_CONFIG_H
#define LITELLM_CONFIG_H

#include <stddef.h>
#include <sys/types.h>

#include "ratelimit.h"

#define CONFIG_MAX_ALLOWED_UIDS 16

enum auth_mode {
    AUTH_AUTO = 0, /* keys required once any exists, or off loopback */
    AUTH_REQUIRED, /* every request needs a key */
};

/* Names or glob patterns, lower-cased (--allowed-hosts, --allowed-origins). */
struct name_list {
    char **items;
    size_t count;
};

/* A limit for one model (matched by id or family), optionally of one key. */
struct scoped_rule {
    char *key; /* NULL: every key */
    char *model;
    struct limit_rule rule;
};

struct config {
    char *fcgi_socket;  /* Unix path or host:port */
    unsigned fcgi_mode; /* permission bits of a Unix FastCGI socket */
    char *fcgi_group;   /* group that owns it (nginx's workers), or NULL */
    char *pipe_path;    /* the named pipe the extension connects to */
    unsigned pipe_mode; /* 0600; 0660 with pipe_group for other users */
    char *pipe_group;
    uid_t pipe_allowed_uids[CONFIG_MAX_ALLOWED_UIDS];
    size_t pipe_allowed_uid_count;
    unsigned threads;
    size_t max_body;
    unsigned request_timeout;     /* seconds the model may stay silent */
    unsigned drain_timeout;       /* seconds in-flight requests get on SIGTERM */
    unsigned keepalive_interval;  /* seconds between SSE keep-alive comments */
    unsigned stream_head_wait_ms; /* Gemini: how long a stream's head waits for a first frame */
    int log_level;
    char *log_file;
    char *pid_file;

    char *keys_file; /* NULL: no keys */
    enum auth_mode auth;
    struct limit_rule global_limit;
    struct scoped_rule *model_rules;
    size_t model_rule_count;
    long default_completion_tokens; /* reserved when max_tokens is absent */
    unsigned wait_max;              /* seconds a request may wait for capacity */
    char *limits_store;             /* "shm" or redis://host:port/db */
    struct model_alias {
        char *name, *model;
    } * aliases;
    size_t alias_count;
    char *limits_state_file;

    struct name_list allowed_hosts;   /* besides loopback names (web_guard.h) */
    struct name_list allowed_origins; /* besides local origins */
    char *metrics_token;              /* opens /metrics and usage off loopback (ops_access.h) */
};

enum config_result {
    CONFIG_OK = 0,
    CONFIG_EXIT_SUCCESS = 1, /* --help or --version was printed */
    CONFIG_ERROR = -1,       /* a message was printed to stderr */
};

void config_init(struct config *cfg);
void config_free(struct config *cfg);
/* Reads --config FILE (if given) and then the rest of the command line,
 * so that flags override the file. */
int config_from_args(struct config *cfg, int argc, char **argv);
int config_load_file(struct config *cfg, const char *path);
/* Sets one option by its long name; on failure writes a reason to `err`. */
int config_set(struct config *cfg, const char *name, const char *value, char *err, size_t err_size);
int config_parse_size(const char *text, size_t *out);
/* The model an alias stands for, or `requested` itself: aliases by name
 * first (model_name.h's rule), then glob aliases in the order given. */
const char *config_model_alias(const struct config *cfg, const char *requested);

#endif
