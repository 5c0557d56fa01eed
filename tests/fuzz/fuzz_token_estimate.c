/*
 * fuzz_token_estimate: the one token estimator (fcgi-app/token_estimate.h)
 * on arbitrary bytes: token_estimate_text on the raw input for every model
 * family, the pretokenizer's pieces, and token_estimate_messages /
 * token_estimate_tools when the input parses as JSON (an array as given, or
 * an object's "messages" and "tools").
 *
 * Input: one byte choosing a family name to resolve (token_family_of), the
 * rest the text.
 *
 * Invariants (abort on violation): the pieces tile the text exactly, each
 * non-empty, digit pieces 1-3 ASCII digits, an invalid piece one byte, and
 * in valid UTF-8 no piece starts inside a character; the estimate is 0 for
 * no text and at least 1 for any text, never negative, and never shrinks
 * when text that ends at a piece boundary goes on;
 * message and tool estimates are non-negative.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "token_estimate.h"

static const char *const family_names[] = {
    "gpt-4o",
    "copilot/gpt-4o-2024-08-06",
    "gpt-4o-mini",
    "gpt-4.1-nano",
    "o1",
    "o1-mini",
    "o3-mini",
    "claude-3.5-sonnet",
    "Claude-Sonnet-4",
    "gemini-2.0-flash",
    "unknown",
    "",
    "openai/",
    "/",
    "GPT-4O-MINI-2024-07-18",
    "o4-mini",
};

struct tiling {
    const unsigned char *text;
    size_t len, next;
    bool utf8;
    size_t pieces;
    size_t half_boundary; /* where a piece near the middle of the text ends */
};

static void
each_piece(void *ctx, const struct token_piece *piece)
{
    struct tiling *t = ctx;
    FUZZ_CHECK(piece->offset == t->next && piece->len > 0 && piece->len <= t->len - t->next);
    FUZZ_CHECK(piece->ascii <= piece->len && piece->nonascii <= piece->len);
    FUZZ_CHECK(piece->cost > 0);
    const unsigned char *bytes = t->text + piece->offset;
    if (piece->kind == TOKEN_PIECE_DIGITS) {
        FUZZ_CHECK(piece->len >= 1 && piece->len <= 3);
        for (size_t i = 0; i < piece->len; i++)
            FUZZ_CHECK(bytes[i] >= '0' && bytes[i] <= '9');
    }
    if (piece->kind == TOKEN_PIECE_INVALID)
        FUZZ_CHECK(piece->len == 1);
    if (t->utf8)
        FUZZ_CHECK((bytes[0] & 0xc0) != 0x80);
    t->next += piece->len;
    t->pieces++;
    if (t->next <= t->len / 2)
        t->half_boundary = t->next;
}

static void
estimate_json(const char *text, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (root == NULL)
        return;
    const cJSON *messages = cJSON_IsObject(root)
                                ? cJSON_GetObjectItemCaseSensitive(root, "messages")
                                : root;
    const cJSON *tools = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "tools")
                                              : root;
    for (int family = 0; family < TOKEN_FAMILY_COUNT; family++) {
        FUZZ_CHECK(token_estimate_messages(messages, (enum token_family)family) >= 3);
        FUZZ_CHECK(token_estimate_tools(tools, (enum token_family)family) >= 0);
    }
    cJSON_Delete(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size };
    unsigned choice = fuzz_take_byte(&in);
    const char *name = family_names[choice % (sizeof family_names / sizeof *family_names)];
    enum token_family resolved = token_family_of(name);
    FUZZ_CHECK(resolved >= TOKEN_FAMILY_DEFAULT && resolved < TOKEN_FAMILY_COUNT);
    FUZZ_CHECK(token_family_name(resolved) != NULL);
    FUZZ_CHECK(token_context_limit(resolved) > 0);
    FUZZ_CHECK(token_image_cost(resolved, choice & 1) > 0);

    const char *text = (const char *)in.data;
    size_t len = in.size;
    /* The text as a model name too (NUL-terminated, as cJSON gives it). */
    char *as_name = strndup(text, len < 256 ? len : 256);
    FUZZ_CHECK(as_name != NULL);
    enum token_family named = token_family_of(as_name);
    FUZZ_CHECK(named >= TOKEN_FAMILY_DEFAULT && named < TOKEN_FAMILY_COUNT);
    free(as_name);

    FUZZ_CHECK(token_estimate_text(NULL, 0, resolved) == 0);
    FUZZ_CHECK(token_estimate_text(text, 0, resolved) == 0);
    struct tiling tiling = {
        (const unsigned char *)text, len, 0, fuzz_valid_utf8((const unsigned char *)text, len), 0, 0
    };
    token_estimate_pieces(text, len, each_piece, &tiling);
    FUZZ_CHECK(tiling.next == len);

    for (int family = 0; family < TOKEN_FAMILY_COUNT; family++) {
        long whole = token_estimate_text(text, len, (enum token_family)family);
        FUZZ_CHECK(whole >= 0 && (len == 0 || whole >= 1));
        /* Pieces cost what they cost wherever the text ends, so text that
         * ends at a piece boundary costs no more than text that goes on.
         * (Not so at any byte: a cut can change a piece's kind; a long run
         * of symbols costs more without the line break that ends it.) */
        long prefix = token_estimate_text(text, tiling.half_boundary, (enum token_family)family);
        FUZZ_CHECK(prefix <= whole);
    }

    estimate_json(text, len);
    return 0;
}
