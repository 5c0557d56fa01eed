/* One rule for model names: ids, families and their variants. */
#include "check.h"
#include "model_name.h"

static void
test_rank(void)
{
    CHECK(model_name_rank("copilot/gpt-4o", "copilot/gpt-4o", "gpt-4o") == MODEL_NAME_ID);
    CHECK(model_name_rank("GPT-4o", "copilot/gpt-4o", "gpt-4o") == MODEL_NAME_FAMILY);
    CHECK(model_name_rank("openai/gpt-4o-2024-08-06", "copilot/gpt-4o", "gpt-4o") ==
          MODEL_NAME_VARIANT);
    CHECK(model_name_rank("claude-sonnet-4-5", "copilot/claude-sonnet-4.5", "claude-sonnet-4.5") ==
          MODEL_NAME_VARIANT);
    CHECK(model_name_rank("claude-3-5-sonnet-20241022", NULL, "claude-3.5-sonnet") ==
          MODEL_NAME_VARIANT);
    CHECK(model_name_rank("gpt-4o", "copilot/gpt-4o-mini", "gpt-4o-mini") == MODEL_NAME_NONE);
    CHECK(model_name_rank("gpt-4", "copilot/gpt-4.1", "gpt-4.1") == MODEL_NAME_NONE);
    CHECK(model_name_rank("o1", "copilot/o10", NULL) == MODEL_NAME_NONE);
    CHECK(model_name_rank("", "x", "x") == MODEL_NAME_NONE);
    CHECK(model_name_rank(NULL, "x", "x") == MODEL_NAME_NONE);
}

static void
test_equal_and_base(void)
{
    CHECK(model_name_equal("Claude-Sonnet-4.5", "anthropic/claude-sonnet-4-5"));
    CHECK(!model_name_equal("gpt-4o", "gpt-4o-mini"));
    CHECK(!model_name_equal("gpt-4o", NULL));
    CHECK_STR(model_name_base("copilot/gpt-4o"), "gpt-4o");
    CHECK_STR(model_name_base("gpt-4o"), "gpt-4o");
    CHECK(model_name_names("gpt-4o", "copilot/gpt-4o", "gpt-4o"));
    CHECK(!model_name_names("o1", "copilot/gpt-4o", "gpt-4o"));
}

int
main(void)
{
    test_rank();
    test_equal_and_base();
    return check_summary("model_name");
}
