/* Options from the command line and a config file, and their errors. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

int
main(void)
{
    size_t size;
    CHECK(config_parse_size("16m", &size) == 0 && size == 16u << 20);
    CHECK(config_parse_size("512k", &size) == 0 && size == 512u << 10);
    CHECK(config_parse_size("100", &size) == 0 && size == 100);
    CHECK(config_parse_size("-1", &size) != 0);
    CHECK(config_parse_size("12q", &size) != 0);
    CHECK(config_parse_size("99999999999999999999g", &size) != 0);

    char path[] = "/tmp/litellm-config-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *file = fdopen(fd, "w");
    fprintf(file, "# a comment\n\nthreads = 8\nmax-body = 1m\npipe = /tmp/from-file.sock\n");
    fclose(file);

    struct config cfg;
    config_init(&cfg);
    char *argv[] = { "litellm-fcgi",         "--pipe", "/tmp/flag.sock", "--config", path,
                     "--request-timeout=42", NULL };
    CHECK(config_from_args(&cfg, 6, argv) == CONFIG_OK);
    CHECK(cfg.threads == 8);
    CHECK(cfg.max_body == 1u << 20);
    CHECK(cfg.request_timeout == 42);
    CHECK_STR(cfg.pipe_path, "/tmp/flag.sock"); /* the flag wins over the file */
    config_free(&cfg);

    char err[256];
    config_init(&cfg);
    CHECK(config_set(&cfg, "threads", "0", err, sizeof err) != 0);
    CHECK(config_set(&cfg, "threads", "many", err, sizeof err) != 0);
    CHECK(config_set(&cfg, "log-level", "loud", err, sizeof err) != 0);
    CHECK(config_set(&cfg, "no-such-option", "1", err, sizeof err) != 0);
    CHECK(config_set(&cfg, "fcgi-mode", "0999", err, sizeof err) != 0);
    CHECK(config_set(&cfg, "fcgi-mode", "0666", err, sizeof err) == 0 && cfg.fcgi_mode == 0666);
    CHECK(config_set(&cfg, "pipe-allow-uid", "1000", err, sizeof err) == 0);
    CHECK(cfg.pipe_allowed_uid_count == 1 && cfg.pipe_allowed_uids[0] == 1000);
    config_free(&cfg);

    /* Aliases: names first (as model names match), then globs in order,
     * any case, with or without a vendor prefix: Claude Code's tiers. */
    config_init(&cfg);
    CHECK(config_set(&cfg, "model-alias", "claude-*opus*=claude-sonnet-4.5", err, sizeof err) == 0);
    CHECK(config_set(&cfg, "model-alias", "claude-*=default", err, sizeof err) == 0);
    CHECK(config_set(&cfg, "model-alias", "claude-opus-4-1=copilot/claude-opus-4.1", err,
                     sizeof err) == 0);
    CHECK(config_set(&cfg, "model-alias", "gpt-4=gpt-4o", err, sizeof err) == 0);
    CHECK(config_set(&cfg, "model-alias", "=x", err, sizeof err) != 0);
    CHECK_STR(config_model_alias(&cfg, "claude-opus-5-5"), "claude-sonnet-4.5");
    CHECK_STR(config_model_alias(&cfg, "anthropic/Claude-3-Opus-20240229"), "claude-sonnet-4.5");
    CHECK_STR(config_model_alias(&cfg, "claude-opus-4.1-20250805"), "copilot/claude-opus-4.1");
    CHECK_STR(config_model_alias(&cfg, "claude-haiku-4-5-20251001"), "default");
    CHECK_STR(config_model_alias(&cfg, "GPT-4"), "gpt-4o");
    CHECK_STR(config_model_alias(&cfg, "gpt-4o"), "gpt-4o");
    CHECK(config_model_alias(&cfg, NULL) == NULL);
    config_free(&cfg);

    file = fopen(path, "w");
    fprintf(file, "threads 8\n");
    fclose(file);
    config_init(&cfg);
    CHECK(config_load_file(&cfg, path) != 0);
    config_free(&cfg);
    unlink(path);
    return check_summary("config");
}
