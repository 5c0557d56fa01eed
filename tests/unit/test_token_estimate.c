/* The token estimator: edge cases of the scan, its agreement with the piece
 * dump the calibration uses, families and limits, messages.  Accuracy on
 * real text against the real tokenizer is measured by
 * tests/integration/token-estimate.test.mjs; the bounds here are loose
 * ("near the o200k_base count, not under it by much"), from counts that
 * js-tiktoken gives for the same strings (in the comments). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "token_estimate.h"

static long
est(const char *text)
{
    return token_estimate_text(text, strlen(text), TOKEN_FAMILY_GPT_4O);
}

/* Within [lo, hi]; prints the value when not. */
#define CHECK_RANGE(value, lo, hi)                                                                  \
    do {                                                                                            \
        long v_ = (value);                                                                          \
        CHECK(v_ >= (lo) && v_ <= (hi));                                                            \
        if (v_ < (lo) || v_ > (hi))                                                                 \
            fprintf(stderr, "  %s = %ld, expected %ld..%ld\n", #value, v_, (long)(lo), (long)(hi)); \
    } while (0)

struct piece_sum {
    long cost, pieces;
    size_t bytes;
    int contiguous;
};

static void
add_piece(void *ctx, const struct token_piece *piece)
{
    struct piece_sum *sum = ctx;
    if (piece->offset != sum->bytes || piece->len == 0)
        sum->contiguous = 0;
    sum->bytes += piece->len;
    sum->cost += piece->cost;
    sum->pieces++;
}

/* The pieces cover the text exactly, one after another, and their costs add
 * up to the estimate. */
static void
check_pieces(const char *text, size_t len)
{
    struct piece_sum sum = { 0, 0, 0, 1 };
    token_estimate_pieces(text, len, add_piece, &sum);
    CHECK(sum.contiguous);
    CHECK(sum.bytes == len);
    long rounded = (sum.cost + 128) / 256;
    if (rounded == 0 && sum.cost > 0)
        rounded = 1;
    CHECK(rounded == token_estimate_text(text, len, TOKEN_FAMILY_GPT_4O));
}

static void
test_text(void)
{
    CHECK(token_estimate_text("", 0, TOKEN_FAMILY_GPT_4O) == 0);
    CHECK(token_estimate_text(NULL, 0, TOKEN_FAMILY_CLAUDE) == 0);
    CHECK(est(" ") == 1);
    CHECK(est("a") == 1);

    CHECK_RANGE(est("The quick brown fox jumps over the lazy dog."), 10, 13); /* 10 */
    CHECK_RANGE(est("int main(void)\n{\n    return strlen(\"hello\") > 0 ? 0 : 1;\n}\n"), 22,
                28);                                           /* 22 */
    CHECK_RANGE(est("1234567890"), 4, 5);                      /* 4 */
    CHECK_RANGE(est("3.14159 2024-08-06 0xDEADBEEF"), 15, 21); /* 17 */
    CHECK_RANGE(est("你好，世界！今天天气很好。"), 9, 16);     /* 9 */
    CHECK_RANGE(est("こんにちは、世界。"), 4, 10);             /* 4 */
    CHECK_RANGE(est("안녕하세요 세계"), 3, 8);                 /* 3 */
    CHECK_RANGE(est("Привет, мир! Как дела?"), 7, 12);         /* 8 */
    CHECK_RANGE(est("😀😀😀 🎉 👍"), 6, 16);                        /* 6 */

    /* Longer text grows linearly. */
    const char *line = "Permission is granted to copy, distribute and modify this file.\n";
    size_t n = strlen(line), copies = 1000;
    char *big = malloc(n * copies + 1);
    CHECK(big != NULL);
    if (big != NULL) {
        for (size_t i = 0; i < copies; i++)
            memcpy(big + i * n, line, n);
        big[n * copies] = '\0';
        long one = token_estimate_text(big, n, TOKEN_FAMILY_GPT_4O);
        long all = token_estimate_text(big, n * copies, TOKEN_FAMILY_GPT_4O);
        CHECK_RANGE(all, (one - 1) * (long)copies, one * (long)copies);
        check_pieces(big, n * copies);
        free(big);
    }

    /* Every scan path once more: pieces cover the text and add up. */
    const char *texts[] = {
        "",
        "x",
        "  \n\n   foo(bar); 12345 你好 😀",
        "Hello world, don't camelCase HTTPServer  x\n",
        "\t\tif (a->b) { return -1; } /* c */\r\n",
        "a\xc2\xa0"
        "b\xe3\x80\x80"
        "c\xe2\x80\x94"
        "d ...  \t",
        "it's THEY'RE we'll I'm 'd ''s",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        check_pieces(texts[i], strlen(texts[i]));
}

static void
test_invalid_utf8(void)
{
    /* Each byte that does not start valid UTF-8 is a token of its own
     * (x 1.03, the margin). */
    const char bad[] = "\xff\xfe\x80\xbf\xc0\xaf\xed\xa0\x80\xf5\x80";
    long n = (long)(sizeof bad - 1);
    CHECK_RANGE(token_estimate_text(bad, sizeof bad - 1, TOKEN_FAMILY_GPT_4O), n, n + n / 10 + 1);
    /* A sequence cut short at the end of the text. */
    CHECK_RANGE(token_estimate_text("\xe4\xbd", 2, TOKEN_FAMILY_GPT_4O), 2, 3);
    CHECK_RANGE(token_estimate_text("\xf0\x9f\x98", 3, TOKEN_FAMILY_GPT_4O), 3, 4);
    check_pieces(bad, sizeof bad - 1);

    /* Every byte value, NULs included, in a pseudo-random order: no crash,
     * and the pieces still cover it. */
    unsigned char noise[4096];
    unsigned state = 12345;
    for (size_t i = 0; i < sizeof noise; i++) {
        state = state * 1103515245u + 12345u;
        noise[i] = (unsigned char)(state >> 16);
    }
    long estimate = token_estimate_text((const char *)noise, sizeof noise, TOKEN_FAMILY_GPT_4O);
    CHECK(estimate > 0 && estimate <= 2 * (long)sizeof noise);
    check_pieces((const char *)noise, sizeof noise);
    for (size_t cut = 0; cut < 64; cut++)
        check_pieces((const char *)noise + cut, 64 - cut);
}

static void
test_families(void)
{
    static const struct {
        const char *id;
        enum token_family family;
    } cases[] = {
        { "gpt-4o", TOKEN_FAMILY_GPT_4O },
        { "copilot/gpt-4o", TOKEN_FAMILY_GPT_4O },
        { "gpt-4o-2024-08-06", TOKEN_FAMILY_GPT_4O },
        { "openai/GPT-4o", TOKEN_FAMILY_GPT_4O },
        { "chatgpt-4o-latest", TOKEN_FAMILY_GPT_4O },
        { "gpt-4o-mini", TOKEN_FAMILY_GPT_4O_MINI },
        { "copilot/gpt-4o-mini-2024-07-18", TOKEN_FAMILY_GPT_4O_MINI },
        { "gpt-4.1", TOKEN_FAMILY_GPT_4_1 },
        { "gpt-4.1-mini", TOKEN_FAMILY_GPT_4_1 },
        { "o1", TOKEN_FAMILY_O1 },
        { "copilot/o1-2024-12-17", TOKEN_FAMILY_O1 },
        { "o1-mini", TOKEN_FAMILY_O1_MINI },
        { "O1-MINI-2024-09-12", TOKEN_FAMILY_O1_MINI },
        { "o3", TOKEN_FAMILY_O3 },
        { "o3-mini", TOKEN_FAMILY_O3 },
        { "o4-mini", TOKEN_FAMILY_O3 },
        { "claude-3.5-sonnet", TOKEN_FAMILY_CLAUDE },
        { "copilot/Claude-3.5-Sonnet", TOKEN_FAMILY_CLAUDE },
        { "claude-sonnet-4", TOKEN_FAMILY_CLAUDE },
        { "anthropic.claude-3-5-sonnet-20241022-v2:0", TOKEN_FAMILY_CLAUDE },
        { "gemini-2.0-flash", TOKEN_FAMILY_GEMINI },
        { "copilot/gemini-2.5-pro", TOKEN_FAMILY_GEMINI },
        { "o10", TOKEN_FAMILY_DEFAULT },
        { "gpt-4", TOKEN_FAMILY_DEFAULT },
        { "gpt-4-turbo", TOKEN_FAMILY_DEFAULT },
        { "gpt-4ox", TOKEN_FAMILY_DEFAULT },
        { "demo/llama-3", TOKEN_FAMILY_DEFAULT },
        { "", TOKEN_FAMILY_DEFAULT },
        { "default", TOKEN_FAMILY_DEFAULT },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum token_family got = token_family_of(cases[i].id);
        CHECK(got == cases[i].family);
        if (got != cases[i].family)
            fprintf(stderr, "  token_family_of(\"%s\") = %s\n", cases[i].id, token_family_name(got));
    }
    CHECK(token_family_of(NULL) == TOKEN_FAMILY_DEFAULT);

    CHECK(token_context_limit(TOKEN_FAMILY_GPT_4O) == 128000);
    CHECK(token_context_limit(TOKEN_FAMILY_GPT_4O_MINI) == 128000);
    CHECK(token_context_limit(TOKEN_FAMILY_O1) == 200000);
    CHECK(token_context_limit(TOKEN_FAMILY_O1_MINI) == 128000);
    CHECK(token_context_limit(TOKEN_FAMILY_CLAUDE) == 200000);
    CHECK(token_context_limit(TOKEN_FAMILY_DEFAULT) == 128000);
    CHECK(token_context_limit((enum token_family)99) == 128000);
    CHECK_STR(token_family_name(TOKEN_FAMILY_GPT_4O_MINI), "gpt-4o-mini");
    CHECK_STR(token_family_name((enum token_family) - 1), "default");
    for (int f = 0; f < TOKEN_FAMILY_COUNT; f++) {
        CHECK(token_context_limit((enum token_family)f) >= 128000);
        CHECK(token_family_of(token_family_name((enum token_family)f)) == (enum token_family)f);
    }

    /* Claude and unknown models: the o200k estimate x 1.30; Gemini x 1.10. */
    const char *text = "The quick brown fox jumps over the lazy dog, again and again. ";
    char buf[64 * 100 + 1];
    size_t n = strlen(text);
    for (size_t i = 0; i < 100; i++)
        memcpy(buf + i * n, text, n);
    long gpt = token_estimate_text(buf, n * 100, TOKEN_FAMILY_GPT_4O);
    long claude = token_estimate_text(buf, n * 100, TOKEN_FAMILY_CLAUDE);
    long gemini = token_estimate_text(buf, n * 100, TOKEN_FAMILY_GEMINI);
    CHECK_RANGE(claude * 1000 / gpt, 1290, 1310);
    CHECK_RANGE(gemini * 1000 / gpt, 1090, 1110);
    CHECK(token_estimate_text(buf, n * 100, TOKEN_FAMILY_DEFAULT) == claude);
    CHECK(token_estimate_text(buf, n * 100, TOKEN_FAMILY_O1) == gpt);
}

static long
messages(const char *json, enum token_family family)
{
    cJSON *parsed = cJSON_Parse(json);
    CHECK(parsed != NULL);
    long n = token_estimate_messages(parsed, family);
    cJSON_Delete(parsed);
    return n;
}

static void
test_messages(void)
{
    const enum token_family F = TOKEN_FAMILY_GPT_4O;

    /* OpenAI: 3 per message + "user" (1) + "Hello" (1) + 3 for the reply = 8. */
    long hello = messages("[{\"role\":\"user\",\"content\":\"Hello\"}]", F);
    CHECK_RANGE(hello, 8, 10);
    CHECK(messages("[]", F) == 3);
    CHECK(token_estimate_messages(NULL, F) == 3);
    CHECK(messages("{\"role\":\"user\"}", F) == 3);
    CHECK(messages("[1, \"x\", null]", F) == 3 + 3 * 3);

    /* A name costs one more token than its text. */
    long named = messages("[{\"role\":\"user\",\"name\":\"bob\",\"content\":\"Hello\"}]", F);
    CHECK_RANGE(named - hello, 2, 3);

    /* Text parts count like the same text as a string. */
    long parts = messages("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hello\"},"
                          "{\"type\":\"text\",\"text\":\" world, how are you?\"}]}]",
                          F);
    long string = messages("[{\"role\":\"user\",\"content\":\"Hello world, how are you?\"}]", F);
    CHECK_RANGE(parts - string, 0, 1);

    /* Images: a fixed cost each, less with detail "low". */
    long image =
        messages("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hello\"},"
                 "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,AAAA\"}}]}]",
                 F);
    long low = messages("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hello\"},"
                        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/y.png\","
                        "\"detail\":\"low\"}}]}]",
                        F);
    CHECK(image - hello == token_image_cost(F, 0));
    CHECK(low - hello == token_image_cost(F, 1));
    CHECK(token_image_cost(F, 0) == 1445 && token_image_cost(F, 1) == 85);
    CHECK(token_image_cost(TOKEN_FAMILY_CLAUDE, 1) == 1600);

    /* Tool calls: name and arguments (not the id), 3 a call; tool results
     * count their content. */
    const char *args = "{\\\"city\\\":\\\"Paris\\\",\\\"unit\\\":\\\"celsius\\\"}";
    char conversation[1024];
    snprintf(conversation, sizeof conversation,
             "[{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
             "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_abc123\","
             "\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"%s\"}}]},"
             "{\"role\":\"tool\",\"tool_call_id\":\"call_abc123\",\"content\":\"18 degrees, cloudy\"}]",
             args);
    long with_tools = messages(conversation, F);
    long user_only = messages("[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]", F);
    /* assistant: 3 + role 1 + call 3 + name 2 + arguments 10; tool: 3 + role 1 + content 5 */
    CHECK_RANGE(with_tools - user_only, 26, 36);

    char twice[1024];
    snprintf(twice, sizeof twice,
             "[{\"role\":\"assistant\",\"tool_calls\":["
             "{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"%s\"}},"
             "{\"id\":\"b\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"%s\"}}]}]",
             args, args);
    long one_call =
        messages("[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"a\",\"type\":\"function\","
                 "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{}\"}}]}]",
                 F);
    CHECK(messages(twice, F) > one_call);
    long legacy = messages("[{\"role\":\"assistant\",\"function_call\":{\"name\":\"get_weather\","
                           "\"arguments\":\"{}\"}}]",
                           F);
    CHECK_RANGE(legacy - one_call, -1, 1);

    /* Claude: the text part scaled, the fixed costs not. */
    long claude = messages("[{\"role\":\"user\",\"content\":\"Hello\"}]", TOKEN_FAMILY_CLAUDE);
    CHECK_RANGE(claude, hello, hello + 2);

    /* tools: a function definition costs about its JSON text. */
    cJSON *tools = cJSON_Parse(
        "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
        "\"description\":\"Get the current weather in a given city\","
        "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
        "\"required\":[\"city\"]}}}]");
    CHECK(tools != NULL);
    CHECK_RANGE(token_estimate_tools(tools, F), 30, 90);
    cJSON_Delete(tools);
    CHECK(token_estimate_tools(NULL, F) == 0);
}

int
main(void)
{
    test_text();
    test_invalid_utf8();
    test_families();
    test_messages();
    return check_summary("test_token_estimate");
}
