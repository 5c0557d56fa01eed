/* The router's registry and pick, without sockets: connections made on no
 * fd, models as a window announces them. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "pipe_conn.h"
#include "router.h"

static struct pipe_conn *
window(unsigned long serial, const char *models, const char *picked)
{
    struct pipe_conn *conn = pipe_conn_new(-1, serial, getuid(), getpid());
    CHECK(conn != NULL);
    CHECK(router_add(conn, cJSON_Parse(models), picked ? strdup(picked) : NULL) == 0);
    return conn;
}

static void
test_resolve(void)
{
    struct router_pick pick;
    CHECK(router_resolve("gpt-4o", &pick, NULL) == ROUTER_NO_WINDOWS);
    struct pipe_conn *first =
        window(1,
               "[{\"id\":\"copilot/gpt-4o\",\"family\":\"gpt-4o\",\"max_input_tokens\":100},"
               " {\"id\":\"copilot/claude-sonnet-4.5\",\"family\":\"claude-sonnet-4.5\","
               "  \"capabilities\":{\"image_input\":false}}]",
               "copilot/claude-sonnet-4.5");
    struct pipe_conn *second = window(2, "[{\"id\":\"copilot/gpt-4o\",\"family\":\"gpt-4o\"}]",
                                      NULL);
    CHECK(router_window_count() == 2);

    CHECK(router_resolve("claude-sonnet-4-5", &pick, NULL) == ROUTER_OK);
    CHECK_STR(pick.model_id, "copilot/claude-sonnet-4.5");
    CHECK(pick.conn == first && pick.image_input == ROUTER_CAPABILITY_NO);
    CHECK(router_window_in_flight(first) == 1);

    /* Both offer gpt-4o; the first is busy, so the second gets it. */
    struct router_pick other;
    CHECK(router_resolve("openai/gpt-4o-2024-08-06", &other, NULL) == ROUTER_OK);
    CHECK(other.conn == second);
    router_release(&other);
    router_release(&pick);
    CHECK(router_window_in_flight(first) == 0 && router_window_in_flight(second) == 0);

    /* No name: the model picked in VS Code (newest window first). */
    CHECK(router_resolve(NULL, &pick, NULL) == ROUTER_OK);
    CHECK_STR(pick.model_id, "copilot/gpt-4o");
    router_release(&pick);

    struct dynbuf available;
    dynbuf_init(&available, 1024);
    CHECK(router_resolve("gpt-5", &pick, &available) == ROUTER_UNKNOWN_MODEL);
    CHECK_STR(available.data, "copilot/gpt-4o, copilot/claude-sonnet-4.5");
    dynbuf_free(&available);

    /* A pick outlives its window's removal; releasing it then is harmless. */
    CHECK(router_resolve("claude-sonnet-4.5", &pick, NULL) == ROUTER_OK);
    router_remove(first);
    CHECK(router_window_count() == 1 && pipe_conn_refs(first) == 2);
    router_release(&pick);
    CHECK(pipe_conn_refs(first) == 1);
    router_remove(second);
    CHECK(router_window_count() == 0);
    pipe_conn_unref(first);
    pipe_conn_unref(second);
}

int
main(void)
{
    test_resolve();
    return check_summary("router");
}
