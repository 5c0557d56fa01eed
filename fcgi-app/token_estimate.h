/*
 * token_estimate: the one token estimator.  An approximate prompt size in
 * tokens per model family, for reserving tokens against rate limits and for
 * refusing a prompt over the model's context window before anything reaches
 * VS Code.  Method, constants and measured error: fcgi-app/TOKENS.md.
 *
 * Pure functions: no I/O, no allocation, no global state; safe from any
 * thread.  One O(n) pass over the text.  Any bytes are accepted (invalid
 * UTF-8 costs one token a byte).  Estimates lean high: a slight
 * over-estimate only reserves a little more budget than needed.
 */
#ifndef LITELLM_TOKEN_ESTIMATE_H
#define LITELLM_TOKEN_ESTIMATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

enum token_family {
    TOKEN_FAMILY_DEFAULT = 0, /* unknown model: o200k_base x 1.30 */
    TOKEN_FAMILY_GPT_4O,      /* gpt-4o, gpt-4o-2024-08-06, chatgpt-4o-* */
    TOKEN_FAMILY_GPT_4O_MINI, /* gpt-4o-mini* */
    TOKEN_FAMILY_GPT_4_1,     /* gpt-4.1, gpt-4.1-mini, gpt-4.1-nano */
    TOKEN_FAMILY_O1,          /* o1, o1-2024-12-17, o1-preview */
    TOKEN_FAMILY_O1_MINI,     /* o1-mini* */
    TOKEN_FAMILY_O3,          /* o3, o3-mini, o4-mini */
    TOKEN_FAMILY_CLAUDE,      /* claude-* (claude-3.5-sonnet, claude-sonnet-4, ...) */
    TOKEN_FAMILY_GEMINI,      /* gemini-* */
    TOKEN_FAMILY_COUNT
};

/* The family of a VS Code model family ("gpt-4o") or model id
 * ("copilot/gpt-4o", "openai/gpt-4o-2024-08-06", "Claude-3.5-Sonnet"):
 * case-insensitive; a vendor prefix up to the last '/' is ignored.  NULL or
 * anything unknown: TOKEN_FAMILY_DEFAULT. */
enum token_family token_family_of(const char *family_or_model_id);

/* A short stable name ("gpt-4o", "claude", "default") for logs and /health. */
const char *token_family_name(enum token_family family);

/* The family's context window in tokens (prompt and reply together, as the
 * vendors publish it).  A fallback: when VS Code reports the model's own
 * max_input_tokens, that number wins (it is usually smaller for Copilot). */
long token_context_limit(enum token_family family);

/* Estimated tokens of `len` bytes of text (UTF-8 expected, any bytes
 * accepted; `text` may be NULL when len is 0).  0 for empty text. */
long token_estimate_text(const char *text, size_t len, enum token_family family);

/* Estimated prompt tokens of an OpenAI `messages` array, as OpenAI counts
 * them: 3 per message + role + name (+1) + content (a string, or an array of
 * parts: text, refusal, image_url at a fixed cost per image) + tool_calls
 * (function name and arguments, 3 per call) + 3 to prime the reply.  Tool
 * call ids are not counted (the model never sees them).  Anything that is
 * not an array counts 3 (the priming).  Walks the tree; never allocates. */
long token_estimate_messages(const cJSON *messages, enum token_family family);

/* Estimated tokens of an OpenAI `tools` array (function definitions: each
 * string and key of the JSON, plus its punctuation).  0 for NULL. */
long token_estimate_tools(const cJSON *tools, enum token_family family);

/* The shortcut for a reply's text when the window reports no usage, and
 * for max_tokens' byte budget: ~4 bytes a token for English text and code,
 * rounded up.  Replies are counted by bytes, not scanned: they stream past
 * one delta at a time, and the window's own count usually replaces it. */
#define TOKEN_BYTES_PER_TOKEN 4
long token_estimate_bytes(size_t bytes);
/* The reply bytes `tokens` buy under that shortcut. */
size_t token_byte_budget(long tokens);

/* The fixed cost of one image part ("detail": "low" is cheaper). */
long token_image_cost(enum token_family family, int low_detail);

/*
 * For calibration tools and tests only (the CLI's --pieces mode): the
 * pieces the scan cuts the text into, as a pretokenizer would, with the
 * features their cost depends on.  The callback's piece is valid during the
 * call only.
 */
enum token_piece_kind {
    TOKEN_PIECE_WORD,    /* letters, maybe one leading space or symbol */
    TOKEN_PIECE_DIGITS,  /* 1-3 ASCII digits */
    TOKEN_PIECE_PUNCT,   /* symbols, maybe a leading space, trailing \r \n / */
    TOKEN_PIECE_SPACE,   /* blanks without a line break */
    TOKEN_PIECE_NEWLINE, /* blanks ending with line breaks */
    TOKEN_PIECE_INVALID  /* one byte that is not valid UTF-8 */
};

#define TOKEN_PIECE_CATEGORIES 10 /* kinds of non-ASCII characters counted */

struct token_piece {
    enum token_piece_kind kind;
    unsigned key;                              /* which cost table row: see token_estimate.c */
    unsigned ascii;                            /* ASCII characters the row's length counts */
    unsigned suffix;                           /* 1: a word ending in 's 't 're 've 'm 'll 'd */
    unsigned nonascii;                         /* non-ASCII characters in the piece */
    unsigned category[TOKEN_PIECE_CATEGORIES]; /* ...by category */
    size_t offset, len;                        /* bytes of the text */
    long cost; /* its estimated tokens in 1/256, before the family factor */
};

void token_estimate_pieces(const char *text, size_t len,
                           void (*each)(void *ctx, const struct token_piece *piece), void *ctx);

#endif
