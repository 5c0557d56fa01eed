/* What a web page may do: loopback names, Host and Origin allowlists, and
 * the configuration that extends them. */
#include <stdlib.h>

#include "check.h"
#include "config.h"
#include "loopback.h"
#include "web_guard.h"

static void
test_loopback(void)
{
    CHECK(loopback_address("127.0.0.1"));
    CHECK(loopback_address("127.255.1.2"));
    CHECK(loopback_address("::1"));
    CHECK(loopback_address("::ffff:127.0.0.1"));
    CHECK(!loopback_address("128.0.0.1"));
    CHECK(!loopback_address("0.0.0.0"));
    CHECK(!loopback_address("::"));
    CHECK(!loopback_address("::ffff:10.0.0.1"));
    CHECK(!loopback_address("localhost"));
    CHECK(!loopback_address(NULL));

    static const char *const local[] = { "localhost",         "LOCALHOST",     "localhost.",
                                         "app.localhost",     "a.b.LocalHost", "127.0.0.1",
                                         "127.1.2.3",         "[::1]",         "[0:0:0:0:0:0:0:1]",
                                         "[::ffff:127.0.0.1]" };
    for (size_t i = 0; i < sizeof local / sizeof *local; i++)
        CHECK(loopback_host(local[i], strlen(local[i])));
    static const char *const foreign[] = { "evil.example",
                                           "localhost.evil.example",
                                           "localhostx",
                                           "xlocalhost",
                                           ".localhost",
                                           "",
                                           "127.0.0.1.evil.example",
                                           "0.0.0.0",
                                           "[::]",
                                           "[::1",
                                           "::1",
                                           "128.0.0.1",
                                           "0x7f.1",
                                           "2130706433" };
    for (size_t i = 0; i < sizeof foreign / sizeof *foreign; i++) {
        if (loopback_host(foreign[i], strlen(foreign[i])))
            fprintf(stderr, "  foreign host taken for loopback: '%s'\n", foreign[i]);
        CHECK(!loopback_host(foreign[i], strlen(foreign[i])));
    }
}

static void
test_host(void)
{
    struct config cfg;
    config_init(&cfg);
    CHECK(web_host_allowed(&cfg, "localhost:4000"));
    CHECK(web_host_allowed(&cfg, "LocalHost"));
    CHECK(web_host_allowed(&cfg, "127.0.0.1:4000"));
    CHECK(web_host_allowed(&cfg, "[::1]:4000"));
    CHECK(web_host_allowed(&cfg, "[::1]"));
    CHECK(web_host_allowed(&cfg, "ui.localhost:8080"));
    CHECK(web_host_allowed(&cfg, "localhost:")); /* an empty port is allowed by RFC 9110 */
    CHECK(!web_host_allowed(&cfg, "evil.example:4711"));
    CHECK(!web_host_allowed(&cfg, "evil.example"));
    CHECK(!web_host_allowed(&cfg, "localhost:40x0"));
    CHECK(!web_host_allowed(&cfg, "localhost:4000:1"));
    CHECK(!web_host_allowed(&cfg, "localhost evil"));
    CHECK(!web_host_allowed(&cfg, "[::1]x"));
    CHECK(!web_host_allowed(&cfg, ":4000"));
    CHECK(!web_host_allowed(&cfg, ""));
    CHECK(!web_host_allowed(&cfg, "llm.team.example"));

    char err[256];
    CHECK(config_set(&cfg, "allowed-hosts", "LLM.team.example, *.corp.example", err, sizeof err) ==
          0);
    CHECK(web_host_allowed(&cfg, "llm.team.example:443"));
    CHECK(web_host_allowed(&cfg, "Llm.Team.Example."));
    CHECK(web_host_allowed(&cfg, "a.corp.example"));
    CHECK(!web_host_allowed(&cfg, "corp.example"));
    CHECK(!web_host_allowed(&cfg, "llm.team.example.evil"));
    CHECK(web_host_allowed(&cfg, "localhost"));
    /* Setting it again replaces the list; "" empties it. */
    CHECK(config_set(&cfg, "allowed_hosts", "", err, sizeof err) == 0);
    CHECK(!web_host_allowed(&cfg, "llm.team.example"));
    CHECK(config_set(&cfg, "allowed-hosts", "llm.team.example:443", err, sizeof err) != 0);
    CHECK(strstr(err, "not a host name") != NULL);
    CHECK(config_set(&cfg, "allowed-hosts", "http://llm.team.example", err, sizeof err) != 0);
    config_free(&cfg);
}

static void
test_origin(void)
{
    struct config cfg;
    config_init(&cfg);
    static const char *const local[] = {
        "http://localhost",        "http://localhost:5173",    "https://LOCALHOST:8443",
        "http://127.0.0.1:3000",   "http://[::1]:8080",        "http://ui.localhost:3000",
        "vscode-webview://1a2b3c", "vscode-file://vscode-app",
    };
    for (size_t i = 0; i < sizeof local / sizeof *local; i++)
        CHECK(web_origin_allowed(&cfg, local[i]));
    static const char *const foreign[] = {
        "null",
        "https://evil.example",
        "http://localhost.evil.example",
        "http://evil.example/localhost",
        "http://localhost/",
        "http://localhost:3000/path",
        "http://user@localhost",
        "ftp://localhost",
        "file://",
        "vscode-webview://",
        "vscode-file://evil",
        "chrome-extension://abcdef",
        "http://localhost:3000\bx",
        "http://localhost:30 00",
        "http://127.0.0.1.evil.example",
        "",
    };
    for (size_t i = 0; i < sizeof foreign / sizeof *foreign; i++) {
        if (web_origin_allowed(&cfg, foreign[i]))
            fprintf(stderr, "  foreign origin allowed: '%s'\n", foreign[i]);
        CHECK(!web_origin_allowed(&cfg, foreign[i]));
    }

    char err[256];
    CHECK(config_set(&cfg, "allowed-origins", "https://chat.team.example,http://ui.test:*", err,
                     sizeof err) == 0);
    CHECK(web_origin_allowed(&cfg, "https://chat.team.example"));
    CHECK(web_origin_allowed(&cfg, "HTTPS://Chat.Team.Example"));
    CHECK(!web_origin_allowed(&cfg, "http://chat.team.example"));
    CHECK(!web_origin_allowed(&cfg, "https://chat.team.example:8443"));
    CHECK(web_origin_allowed(&cfg, "http://ui.test:8080"));
    CHECK(!web_origin_allowed(&cfg, "http://ui.test"));
    CHECK(config_set(&cfg, "allowed-origins", "https://chat.team.example/", err, sizeof err) != 0);
    CHECK(strstr(err, "not an origin") != NULL);
    CHECK(config_set(&cfg, "allowed-origins", "chat.team.example", err, sizeof err) != 0);
    config_free(&cfg);
}

int
main(void)
{
    test_loopback();
    test_host();
    test_origin();
    return check_summary("web_guard");
}
