/*
 * token_estimate: approximate token counts without a vocabulary.
 *
 * The text is cut into pieces the way OpenAI's o200k_base pretokenizer cuts
 * it (a BPE token never crosses a piece): words split at a lower-to-upper
 * case change and glued to one leading space or symbol, digits in groups of
 * up to three, runs of symbols, runs of blanks.  Each piece costs the mean
 * number of o200k_base tokens of pieces of its row (kind, leading character,
 * case shape) and length, measured on a training corpus; each non-ASCII
 * character adds the mean cost of its category (CJK, kana, Hangul, other
 * letters, symbols, emoji).  Other families scale that by a factor.
 * TOKENS.md gives the method, the corpus and the measured error.
 *
 * Costs are fixed point, 1/256 token.  One pass, no allocation.
 */
#include "token_estimate.h"

#include "model_name.h"
#include "utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ classes */

enum char_class {
    C_LOWER,   /* a-z */
    C_UPPER,   /* A-Z */
    C_LETTER,  /* a non-ASCII letter: joins words whatever its case */
    C_DIGIT,   /* 0-9 */
    C_SPACE,   /* ' ' (the only blank a symbol run may start with) */
    C_BLANK,   /* \t \v \f and non-ASCII white space */
    C_NL,      /* \r \n */
    C_PUNCT,   /* other ASCII, control characters included */
    C_SYMBOL,  /* non-ASCII punctuation, symbols, emoji */
    C_INVALID, /* a byte that does not start valid UTF-8 */
    C_MULTI    /* (table only) a lead byte: decode to know */
};

#define L C_LOWER
#define U C_UPPER
#define D C_DIGIT
#define S C_SPACE
#define B C_BLANK
#define N C_NL
#define P C_PUNCT
#define M C_MULTI
/* clang-format off: one row per 16 bytes */
static const unsigned char byte_class[256] = {
    P, P, P, P, P, P, P, P, P, B, N, B, B, N, P, P, /* 0x00 */
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, /* 0x10 */
    S, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, /* 0x20 */
    D, D, D, D, D, D, D, D, D, D, P, P, P, P, P, P, /* 0x30 */
    P, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, /* 0x40 */
    U, U, U, U, U, U, U, U, U, U, U, P, P, P, P, P, /* 0x50 */
    P, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, /* 0x60 */
    L, L, L, L, L, L, L, L, L, L, L, P, P, P, P, P, /* 0x70 */
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, /* 0x80 */
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
};
/* clang-format on */
#undef L
#undef U
#undef D
#undef S
#undef B
#undef N
#undef P
#undef M

/* Categories of non-ASCII characters, each with its own cost. */
enum category {
    CAT_LETTER2, /* 2-byte letters: Latin-1/Extended, Greek, Cyrillic, Hebrew, Arabic */
    CAT_CJK,     /* CJK ideographs */
    CAT_KANA,    /* hiragana, katakana */
    CAT_HANGUL,  /* Hangul */
    CAT_LETTER3, /* other 3-byte letters: Indic, Thai, ... */
    CAT_LETTER4, /* 4-byte letters (CJK extensions, historic scripts) */
    CAT_SYMBOL2, /* 2-byte symbols: © « » × ... */
    CAT_SYMBOL3, /* 3-byte symbols: — “ ” … → ✓ and CJK punctuation */
    CAT_SYMBOL4, /* 4-byte symbols: emoji */
    CAT_BLANK    /* non-ASCII white space: NBSP, ideographic space ... */
};

/* One character: its class, its length in bytes and (non-ASCII) category. */
struct unit {
    unsigned cls, width, cat;
};

/* ---------------------------------------------------------------- the costs */

/* Rows of the cost table: a piece's kind and the features its cost depends
 * on; the column is its length in ASCII characters (0: none, only non-ASCII
 * characters, whose costs are added by category). */
enum {
    PREFIX_NONE,
    PREFIX_SPACE,
    PREFIX_GLUE,  /* . _ ( #: these usually merge with the word ("_init", ".c") */
    PREFIX_OTHER, /* any other symbol or blank: usually a token of its own */
    PREFIXES
};
enum {
    SHAPE_LOWER,
    SHAPE_CAPITAL,
    SHAPE_UPPER,
    SHAPES /* "word", "Word", "WORD" */
};
enum {
    ROW_WORD = 0, /* + prefix * SHAPES + shape */
    ROW_DIGITS = ROW_WORD + PREFIXES * SHAPES,
    ROW_PUNCT,                   /* + space * 3 + min(trailing, 2) */
    ROW_SPACE = ROW_PUNCT + 6,   /* + (not only ' ') */
    ROW_NEWLINE = ROW_SPACE + 2, /* + (not only '\n') */
    ROW_INVALID = ROW_NEWLINE + 2,
    ROWS
};
#define COLUMNS 33 /* lengths 0..32; longer: slope */

/* BEGIN GENERATED COSTS (o200k_base; see TOKENS.md "Calibration") */
static const uint16_t row_cost[ROWS][COLUMNS] = {
    { 169,  264,  265,  283,  286,  304,  304,  330,  339,  421,  578,
      578,  578,  593,  923,  930,  937,  944,  952,  959,  989,  1068,
      1147, 1226, 1305, 1384, 1463, 1543, 1622, 1701, 1780, 1859, 1938 },
    { 0,    305,  305,  378,  401,  401,  449,  449,  501,  501,  501,
      510,  574,  626,  873,  1025, 1105, 1184, 1263, 1342, 1421, 1500,
      1579, 1658, 1737, 1816, 1896, 1975, 2054, 2133, 2212, 2291, 2370 },
    { 0,    264,  271,  344,  344,  534,  534,  694,  694,  820,  994,
      1150, 1150, 1150, 1184, 1263, 1342, 1421, 1500, 1579, 1658, 1737,
      1816, 1896, 1975, 2054, 2133, 2212, 2291, 2370, 2449, 2528, 2608 },
    { 100,  264,  264,  265,  266,  275,  276,  286,  294,  301,  333,
      340,  347,  378,  408,  709,  788,  867,  946,  1025, 1104, 1183,
      1262, 1341, 1421, 1500, 1579, 1658, 1737, 1816, 1895, 1974, 2053 },
    { 0,    267,  267,  267,  275,  301,  301,  301,  330,  387,  410,
      437,  504,  504,  713,  713,  738,  817,  897,  976,  1055, 1134,
      1213, 1292, 1371, 1450, 1529, 1608, 1688, 1767, 1846, 1925, 2004 },
    { 0,   264, 264, 290, 319, 431, 473, 509,  524,  558,  559,  638,  840,  840,  840,  840, 840,
      840, 840, 840, 840, 840, 876, 955, 1034, 1113, 1192, 1272, 1351, 1430, 1509, 1588, 1667 },
    { 432,  264,  272,  278,  283,  283,  310,  311,  369,  408,  512,
      512,  599,  678,  757,  837,  916,  995,  1074, 1153, 1232, 1311,
      1390, 1469, 1549, 1628, 1707, 1786, 1865, 1944, 2023, 2102, 2181 },
    { 0,    272,  272,  297,  489,  489,  489,  556,  556,  556,  777,
      856,  935,  1014, 1094, 1173, 1252, 1331, 1410, 1489, 1568, 1647,
      1726, 1806, 1885, 1964, 2043, 2122, 2201, 2280, 2359, 2438, 2517 },
    { 0,    264,  437,  437,  437,  437,  437,  471,  471,  726,  726,
      726,  738,  817,  897,  976,  1055, 1134, 1213, 1292, 1371, 1450,
      1529, 1608, 1688, 1767, 1846, 1925, 2004, 2083, 2162, 2241, 2320 },
    { 0,    267,  364,  365,  443,  443,  482,  595,  595,  595,  717,
      717,  717,  717,  751,  831,  910,  989,  1068, 1147, 1226, 1305,
      1384, 1463, 1543, 1622, 1701, 1780, 1859, 1938, 2017, 2096, 2175 },
    { 0,    451,  451,  496,  551,  634,  646,  646,  787,  791,  942,
      1069, 1077, 1156, 1235, 1314, 1393, 1472, 1551, 1630, 1710, 1789,
      1868, 1947, 2026, 2105, 2184, 2263, 2342, 2421, 2501, 2580, 2659 },
    { 0,    371,  500,  638,  638,  671,  671,  694,  773,  853,  932,
      1011, 1090, 1169, 1248, 1327, 1406, 1485, 1565, 1644, 1723, 1802,
      1881, 1960, 2039, 2118, 2197, 2276, 2356, 2435, 2514, 2593, 2672 },
    { 0,    264,  264,  264,  343,  422,  501,  580,  659,  738,  817,
      897,  976,  1055, 1134, 1213, 1292, 1371, 1450, 1529, 1608, 1688,
      1767, 1846, 1925, 2004, 2083, 2162, 2241, 2320, 2399, 2479, 2558 },
    { 0,    264,  266,  391,  516,  576,  608,  876,  955,  1034, 1113,
      1193, 1272, 1351, 1430, 1509, 1588, 1667, 1746, 1825, 1904, 1984,
      2063, 2142, 2221, 2300, 2379, 2458, 2537, 2616, 2695, 2775, 2854 },
    { 0,    264,  264,  268,  388,  430,  532,  668,  840,  920,  999,
      1078, 1157, 1236, 1315, 1394, 1473, 1552, 1632, 1711, 1790, 1869,
      1948, 2027, 2106, 2185, 2264, 2343, 2423, 2502, 2581, 2660, 2739 },
    { 0,    264,  264,  264,  293,  382,  417,  527,  659,  791,  870,
      949,  1028, 1107, 1187, 1266, 1345, 1424, 1503, 1582, 1661, 1740,
      1819, 1898, 1978, 2057, 2136, 2215, 2294, 2373, 2452, 2531, 2610 },
    { 0,    264,  294,  334,  627,  736,  1010, 1285, 1510, 1589, 1668,
      1747, 1827, 1906, 1985, 2064, 2143, 2222, 2301, 2380, 2459, 2539,
      2618, 2697, 2776, 2855, 2934, 3013, 3092, 3171, 3250, 3330, 3409 },
    { 0,    264,  264,  266,  422,  422,  527,  817,  1107, 1398, 1688,
      1898, 2109, 2189, 2268, 2347, 2426, 2505, 2584, 2663, 2742, 2821,
      2900, 2980, 3059, 3138, 3217, 3296, 3375, 3454, 3533, 3612, 3692 },
    { 0,    264,  264,  264,  271,  281,  281,  343,  422,  501,  580,
      659,  738,  817,  897,  976,  1055, 1134, 1213, 1292, 1371, 1450,
      1529, 1608, 1688, 1767, 1846, 1925, 2004, 2083, 2162, 2241, 2320 },
    { 0,   264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264,
      264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 343, 422, 501, 580, 659 },
    { 11,   264,  264,  264,  264,  264,  264,  264,  264,  343,  422,
      501,  580,  659,  738,  817,  897,  976,  1055, 1134, 1213, 1292,
      1371, 1450, 1529, 1608, 1688, 1767, 1846, 1925, 2004, 2083, 2162 },
    { 0,    264,  264,  264,  343,  422,  501,  580,  659,  738,  817,
      897,  976,  1055, 1134, 1213, 1292, 1371, 1450, 1529, 1608, 1688,
      1767, 1846, 1925, 2004, 2083, 2162, 2241, 2320, 2399, 2479, 2558 },
    { 0,    268,  268,  348,  427,  506,  585,  664,  743,  822,  901,
      980,  1059, 1139, 1218, 1297, 1376, 1455, 1534, 1613, 1692, 1771,
      1850, 1930, 2009, 2088, 2167, 2246, 2325, 2404, 2483, 2562, 2642 },
    { 0,   264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264,
      264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264, 264 },
};
static const uint16_t row_slope[ROWS] = { 79, 79, 79, 79, 79, 79, 79, 79, 79, 79, 79, 79,
                                          79, 79, 13, 79, 13, 13, 79, 13, 79, 79, 79, 264 };
static const uint16_t category_cost[TOKEN_PIECE_CATEGORIES] = { 54,  189, 171, 147, 775,
                                                                954, 650, 317, 621, 252 };
static const uint16_t suffix_cost = 201;
/* END GENERATED COSTS */

/* ------------------------------------------------------------------ families */

struct family_info {
    const char *name;
    long context;          /* context window, tokens */
    unsigned factor;       /* times the o200k_base estimate, 1/256 */
    long image, image_low; /* tokens of one image part */
};

static const struct family_info families[TOKEN_FAMILY_COUNT] = {
    [TOKEN_FAMILY_DEFAULT] = { "default", 128000, 333, 1600, 1600 },
    [TOKEN_FAMILY_GPT_4O] = { "gpt-4o", 128000, 256, 1445, 85 },
    [TOKEN_FAMILY_GPT_4O_MINI] = { "gpt-4o-mini", 128000, 256, 1445, 85 },
    [TOKEN_FAMILY_GPT_4_1] = { "gpt-4.1", 1047576, 256, 1445, 85 },
    [TOKEN_FAMILY_O1] = { "o1", 200000, 256, 1445, 85 },
    [TOKEN_FAMILY_O1_MINI] = { "o1-mini", 128000, 256, 1445, 85 },
    [TOKEN_FAMILY_O3] = { "o3", 200000, 256, 1445, 85 },
    [TOKEN_FAMILY_CLAUDE] = { "claude", 200000, 333, 1600, 1600 },
    [TOKEN_FAMILY_GEMINI] = { "gemini", 1048576, 282, 1548, 258 },
};

#define PER_MESSAGE 3 /* <|start|>{role}<|message|>...<|end|>, less the role */
#define PER_NAME 1
#define PER_TOOL_CALL 3
#define REPLY_PRIMING 3 /* <|start|>assistant<|message|> */

static const struct family_info *
family_info(enum token_family family)
{
    if ((unsigned)family >= TOKEN_FAMILY_COUNT)
        family = TOKEN_FAMILY_DEFAULT;
    return &families[family];
}

/* The scan is written as small functions; the hot loop needs them inlined
 * (the scan's state then lives in registers). */
#if defined(__GNUC__)
#define HOT_INLINE static inline __attribute__((always_inline))
#else
#define HOT_INLINE static inline
#endif

/* ---------------------------------------------------------------- decoding */

/* Class and category of a non-ASCII code point, by block: close enough to
 * Unicode's general categories for the scripts that matter here. */
static unsigned
classify(uint32_t cp, unsigned *cat)
{
    if (cp < 0x800) {
        if (cp == 0x85 || cp == 0xA0) {
            *cat = CAT_BLANK;
            return C_BLANK;
        }
        if ((cp < 0xC0 && cp != 0xAA && cp != 0xB5 && cp != 0xBA) || cp == 0xD7 || cp == 0xF7 ||
            cp == 0x37E || cp == 0x387 || cp == 0x589 || cp == 0x5BE || cp == 0x60C ||
            cp == 0x61B || cp == 0x61F || cp == 0x6D4) {
            *cat = CAT_SYMBOL2;
            return C_SYMBOL;
        }
        *cat = CAT_LETTER2;
        return C_LETTER;
    }
    if (cp < 0x10000) {
        if (cp >= 0x4E00 && cp <= 0x9FFF) { /* the common case first */
            *cat = CAT_CJK;
            return C_LETTER;
        }
        if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
            cp == 0x202F || cp == 0x205F || cp == 0x3000) {
            *cat = CAT_BLANK;
            return C_BLANK;
        }
        if ((cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x2E00 && cp <= 0x2E7F) ||
            (cp >= 0x3001 && cp <= 0x303F) || (cp >= 0xFE10 && cp <= 0xFE6F) ||
            (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
            (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65) || cp >= 0xFFE0) {
            *cat = CAT_SYMBOL3;
            return C_SYMBOL;
        }
        if ((cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
            (cp >= 0xF900 && cp <= 0xFAFF))
            *cat = CAT_CJK;
        else if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x31F0 && cp <= 0x31FF) ||
                 (cp >= 0xFF66 && cp <= 0xFF9F))
            *cat = CAT_KANA;
        else if ((cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0x1100 && cp <= 0x11FF) ||
                 (cp >= 0x3130 && cp <= 0x318F))
            *cat = CAT_HANGUL;
        else
            *cat = CAT_LETTER3;
        return C_LETTER;
    }
    if ((cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0xE0000 && cp <= 0xE007F)) {
        *cat = CAT_SYMBOL4;
        return C_SYMBOL;
    }
    *cat = CAT_LETTER4;
    return C_LETTER;
}

HOT_INLINE void
unit_at(const unsigned char *p, const unsigned char *end, struct unit *u)
{
    unsigned cls = byte_class[*p];
    uint32_t cp = 0;

    if (cls != C_MULTI) {
        u->cls = cls;
        u->width = 1;
        return;
    }
    u->width = utf8_decode(p, end, &cp);
    if (u->width == 0) {
        u->cls = C_INVALID;
        u->width = 1;
        return;
    }
    u->cls = classify(cp, &u->cat);
}

HOT_INLINE bool
is_letter(unsigned cls)
{
    return cls <= C_LETTER;
}

HOT_INLINE bool
is_symbol(unsigned cls)
{
    return cls == C_PUNCT || cls == C_SYMBOL;
}

/* ---------------------------------------------------------------- the scan */

/* What one piece costs depends on. */
struct scan {
    unsigned row;
    size_t ascii;
    unsigned suffix;
    uint32_t extra; /* the non-ASCII characters' costs */
    unsigned nonascii;
    unsigned *category; /* counts per category; NULL on the hot path */
};

HOT_INLINE void
add_nonascii(struct scan *s, const struct unit *u)
{
    s->extra += category_cost[u->cat];
    s->nonascii++;
    if (s->category != NULL)
        s->category[u->cat]++;
}

/* The number of bytes from p in lo..hi. */
HOT_INLINE size_t
run_of(const unsigned char *p, const unsigned char *end, unsigned char lo, unsigned char hi)
{
    const unsigned char *start = p;

    while (p < end && *p >= lo && *p <= hi)
        p++;
    return (size_t)(p - start);
}

/* A word from p (after its prefix, which starts at `start`): upper-case
 * letters then lower-case letters (non-ASCII letters join either), then an
 * English contraction suffix. */
HOT_INLINE size_t
scan_word(const unsigned char *start, const unsigned char *p, const unsigned char *end,
          struct scan *s, unsigned prefix)
{
    size_t upper = 0, lower = 0, n;
    struct unit u;

    for (;;) {
        n = run_of(p, end, 'A', 'Z');
        upper += n;
        p += n;
        if (p == end || *p < 0x80)
            break;
        unit_at(p, end, &u);
        if (u.cls != C_LETTER)
            break;
        add_nonascii(s, &u);
        p += u.width;
    }
    for (;;) {
        n = run_of(p, end, 'a', 'z');
        lower += n;
        p += n;
        if (p == end || *p < 0x80)
            break;
        unit_at(p, end, &u);
        if (u.cls != C_LETTER)
            break;
        add_nonascii(s, &u);
        p += u.width;
    }
    if (end - p >= 2 && *p == '\'') {
        unsigned a = p[1] | 0x20;
        if (a == 's' || a == 't' || a == 'm' || a == 'd') {
            p += 2;
            s->suffix = 1;
        } else if (end - p >= 3) {
            unsigned b = p[2] | 0x20;
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
                p += 3;
                s->suffix = 1;
            }
        }
    }
    unsigned shape = upper == 0 ? SHAPE_LOWER : lower > 0 ? SHAPE_CAPITAL : SHAPE_UPPER;
    s->row = ROW_WORD + prefix * SHAPES + shape;
    s->ascii = upper + lower;
    return (size_t)(p - start);
}

/* Symbols from p (after an optional space at `start`), then line breaks and
 * slashes. */
HOT_INLINE size_t
scan_symbols(const unsigned char *start, const unsigned char *p, const unsigned char *end,
             struct scan *s, unsigned space)
{
    size_t n = 0, trailing = 0;
    struct unit u;

    while (p < end) {
        unsigned cls = byte_class[*p];
        if (cls == C_PUNCT) {
            n++;
            p++;
            continue;
        }
        if (cls != C_MULTI)
            break;
        unit_at(p, end, &u);
        if (u.cls != C_SYMBOL)
            break;
        add_nonascii(s, &u);
        p += u.width;
    }
    while (p < end && (*p == '\n' || *p == '\r' || *p == '/')) {
        trailing++;
        p++;
    }
    s->row = ROW_PUNCT + space * 3 + (trailing > 2 ? 2 : (unsigned)trailing);
    s->ascii = n + trailing;
    return (size_t)(p - start);
}

/* Blanks: through the last line break of the run if it has one; else the
 * run less its last character when something follows (that one goes with
 * the next piece), else the whole run. */
HOT_INLINE size_t
scan_blanks(const unsigned char *p, const unsigned char *end, struct scan *s)
{
    const unsigned char *q = p, *last = p, *after_nl = NULL;
    size_t units = 0;
    struct unit u;

    while (q < end) {
        unsigned cls = byte_class[*q];
        unsigned width = 1;
        if (cls == C_MULTI) {
            unit_at(q, end, &u);
            if (u.cls != C_BLANK)
                break;
            width = u.width;
        } else if (cls != C_SPACE && cls != C_BLANK && cls != C_NL) {
            break;
        }
        if (cls == C_NL)
            after_nl = q + 1;
        last = q;
        units++;
        q += width;
    }
    const unsigned char *stop;
    bool newline = after_nl != NULL;
    if (newline)
        stop = after_nl;
    else if (q == end || units < 2)
        stop = q;
    else
        stop = last;

    bool plain = true;
    size_t ascii = 0;
    for (q = p; q < stop;) {
        if (*q < 0x80) {
            if (*q != (newline ? '\n' : ' '))
                plain = false;
            ascii++;
            q++;
        } else {
            unit_at(q, end, &u);
            add_nonascii(s, &u);
            plain = false;
            q += u.width;
        }
    }
    s->row = (newline ? ROW_NEWLINE : ROW_SPACE) + (plain ? 0 : 1);
    s->ascii = ascii;
    return (size_t)(stop - p);
}

/* Cuts the next piece from p (p < end); returns its length in bytes. */
HOT_INLINE size_t
scan_piece(const unsigned char *p, const unsigned char *end, struct scan *s)
{
    struct unit u0, u1;

    s->suffix = 0;
    s->extra = 0;
    s->nonascii = 0;
    /* The most common pieces first: " word", "word". */
    if (*p == ' ' && end - p >= 2 && byte_class[p[1]] <= C_UPPER)
        return scan_word(p, p + 1, end, s, PREFIX_SPACE);
    unit_at(p, end, &u0);
    switch (u0.cls) {
    case C_LOWER:
    case C_UPPER:
    case C_LETTER: return scan_word(p, p, end, s, PREFIX_NONE);
    case C_DIGIT: {
        size_t n = 1;
        while (n < 3 && p + n < end && byte_class[p[n]] == C_DIGIT)
            n++;
        s->row = ROW_DIGITS;
        s->ascii = n;
        return n;
    }
    case C_INVALID:
        s->row = ROW_INVALID;
        s->ascii = 1;
        return 1;
    case C_NL: return scan_blanks(p, end, s);
    default: break;
    }
    /* A space, another blank or a symbol: it may lead a word or a run. */
    const unsigned char *next = p + u0.width;
    bool more = next < end;
    if (more)
        unit_at(next, end, &u1);
    if (more && is_letter(u1.cls)) {
        if (u0.width > 1)
            add_nonascii(s, &u0);
        unsigned prefix = u0.cls == C_SPACE                                  ? PREFIX_SPACE
                          : *p == '.' || *p == '_' || *p == '(' || *p == '#' ? PREFIX_GLUE
                                                                             : PREFIX_OTHER;
        return scan_word(p, next, end, s, prefix);
    }
    if (is_symbol(u0.cls))
        return scan_symbols(p, p, end, s, 0);
    if (u0.cls == C_SPACE && more && is_symbol(u1.cls))
        return scan_symbols(p, next, end, s, 1);
    return scan_blanks(p, end, s);
}

HOT_INLINE uint64_t
piece_cost(const struct scan *s)
{
    uint64_t cost;

    if (s->ascii < COLUMNS)
        cost = row_cost[s->row][s->ascii];
    else
        cost = row_cost[s->row][COLUMNS - 1] +
               (uint64_t)row_slope[s->row] * (s->ascii - (COLUMNS - 1));
    return cost + s->extra + (s->suffix ? suffix_cost : 0);
}

/* The o200k_base estimate of the text, in 1/256 token. */
static uint64_t
estimate_256(const char *text, size_t len)
{
    /* text may be NULL when len is 0, and NULL + 0 is undefined in C. */
    const unsigned char *p = (const unsigned char *)text, *end = text ? p + len : p;
    struct scan s = { 0 };
    uint64_t sum = 0;

    if (text == NULL)
        return 0;
    while (p < end) {
        p += scan_piece(p, end, &s);
        sum += piece_cost(&s);
    }
    return sum;
}

static long
scale(uint64_t sum256, enum token_family family)
{
    uint64_t scaled = sum256 * family_info(family)->factor;
    long tokens = (long)((scaled + 32768) / 65536);
    return tokens == 0 && sum256 > 0 ? 1 : tokens;
}

/* ------------------------------------------------------------------ the API */

long
token_estimate_text(const char *text, size_t len, enum token_family family)
{
    return scale(estimate_256(text, len), family);
}

void
token_estimate_pieces(const char *text, size_t len,
                      void (*each)(void *ctx, const struct token_piece *piece), void *ctx)
{
    const unsigned char *start = (const unsigned char *)text, *p = start;
    const unsigned char *end = text ? p + len : p;
    struct token_piece piece;
    struct scan s = { 0 };

    if (text == NULL)
        return;
    while (p < end) {
        memset(&piece, 0, sizeof piece);
        s.category = piece.category;
        size_t n = scan_piece(p, end, &s);
        piece.kind = s.row < ROW_DIGITS    ? TOKEN_PIECE_WORD
                     : s.row == ROW_DIGITS ? TOKEN_PIECE_DIGITS
                     : s.row < ROW_SPACE   ? TOKEN_PIECE_PUNCT
                     : s.row < ROW_NEWLINE ? TOKEN_PIECE_SPACE
                     : s.row < ROW_INVALID ? TOKEN_PIECE_NEWLINE
                                           : TOKEN_PIECE_INVALID;
        piece.key = s.row;
        piece.ascii = (unsigned)s.ascii;
        piece.suffix = s.suffix;
        piece.nonascii = s.nonascii;
        piece.offset = (size_t)(p - start);
        piece.len = n;
        piece.cost = (long)piece_cost(&s);
        each(ctx, &piece);
        p += n;
    }
}

static bool
starts_with(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncasecmp(s, prefix, n) == 0;
}

/* `prefix` as a whole name or followed by a separator: "o1" matches "o1",
 * "o1-2024-12-17", "o1:latest", not "o10". */
static bool
names(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncasecmp(s, prefix, n) != 0)
        return false;
    char next = s[n];
    return next == '\0' || next == '-' || next == '_' || next == ':' || next == '@' || next == ' ';
}

static bool
contains(const char *s, const char *needle)
{
    for (; *s != '\0'; s++)
        if (starts_with(s, needle))
            return true;
    return false;
}

enum token_family
token_family_of(const char *id)
{
    if (id == NULL)
        return TOKEN_FAMILY_DEFAULT;
    if (contains(id, "claude"))
        return TOKEN_FAMILY_CLAUDE;
    if (contains(id, "gemini"))
        return TOKEN_FAMILY_GEMINI;
    const char *name = model_name_base(id);
    if (names(name, "gpt-4o-mini") || names(name, "chatgpt-4o-mini"))
        return TOKEN_FAMILY_GPT_4O_MINI;
    if (names(name, "gpt-4o") || names(name, "chatgpt-4o"))
        return TOKEN_FAMILY_GPT_4O;
    if (names(name, "gpt-4.1"))
        return TOKEN_FAMILY_GPT_4_1;
    if (names(name, "o1-mini"))
        return TOKEN_FAMILY_O1_MINI;
    if (names(name, "o1"))
        return TOKEN_FAMILY_O1;
    if (names(name, "o3") || names(name, "o4-mini"))
        return TOKEN_FAMILY_O3;
    return TOKEN_FAMILY_DEFAULT;
}

const char *
token_family_name(enum token_family family)
{
    return family_info(family)->name;
}

long
token_context_limit(enum token_family family)
{
    return family_info(family)->context;
}

long
token_image_cost(enum token_family family, int low_detail)
{
    const struct family_info *info = family_info(family);
    return low_detail ? info->image_low : info->image;
}

/* ------------------------------------------------------------ JSON content */

/* Text tokens accumulate in 1/256 before the family factor; fixed costs
 * (per message, per image) are in tokens already. */
struct tally {
    uint64_t text256;
    long fixed;
    enum token_family family;
};

static void
tally_string(struct tally *t, const cJSON *item)
{
    if (cJSON_IsString(item) && item->valuestring != NULL)
        t->text256 += estimate_256(item->valuestring, strlen(item->valuestring));
}

/* Any JSON as its compact text would count: keys and strings plus a token
 * for their quotes and colon, a token per number, literal and bracket. */
static void
tally_json(struct tally *t, const cJSON *item, int depth)
{
    if (item == NULL)
        return;
    if (depth > 64) {
        t->fixed += 1;
        return;
    }
    if (item->string != NULL) {
        t->text256 += estimate_256(item->string, strlen(item->string));
        t->fixed += 1;
    }
    if (cJSON_IsString(item)) {
        tally_string(t, item);
        t->fixed += 1;
    } else if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
        const cJSON *child;
        t->fixed += 1;
        cJSON_ArrayForEach(child, item)
            tally_json(t, child, depth + 1);
    } else {
        t->fixed += 1;
    }
}

static void
tally_content(struct tally *t, const cJSON *content)
{
    const cJSON *part;

    if (cJSON_IsString(content)) {
        tally_string(t, content);
        return;
    }
    if (!cJSON_IsArray(content))
        return;
    cJSON_ArrayForEach(part, content) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
        const char *kind = cJSON_IsString(type) ? type->valuestring : "";
        if (cJSON_IsString(part)) {
            tally_string(t, part);
        } else if (strcmp(kind, "text") == 0) {
            tally_string(t, cJSON_GetObjectItemCaseSensitive(part, "text"));
        } else if (strcmp(kind, "refusal") == 0) {
            tally_string(t, cJSON_GetObjectItemCaseSensitive(part, "refusal"));
        } else if (strcmp(kind, "image_url") == 0) {
            const cJSON *image = cJSON_GetObjectItemCaseSensitive(part, "image_url");
            const cJSON *detail = cJSON_GetObjectItemCaseSensitive(image, "detail");
            int low = cJSON_IsString(detail) && strcmp(detail->valuestring, "low") == 0;
            t->fixed += token_image_cost(t->family, low);
        } else {
            tally_json(t, part, 0);
        }
    }
}

static void
tally_function(struct tally *t, const cJSON *function)
{
    t->fixed += PER_TOOL_CALL;
    tally_string(t, cJSON_GetObjectItemCaseSensitive(function, "name"));
    tally_string(t, cJSON_GetObjectItemCaseSensitive(function, "arguments"));
}

long
token_estimate_messages(const cJSON *messages, enum token_family family)
{
    struct tally t = { 0, REPLY_PRIMING, family };
    const cJSON *message, *call;

    if (!cJSON_IsArray(messages))
        return REPLY_PRIMING;
    cJSON_ArrayForEach(message, messages) {
        t.fixed += PER_MESSAGE;
        if (!cJSON_IsObject(message))
            continue;
        tally_string(&t, cJSON_GetObjectItemCaseSensitive(message, "role"));
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(message, "name");
        if (cJSON_IsString(name)) {
            t.fixed += PER_NAME;
            tally_string(&t, name);
        }
        tally_content(&t, cJSON_GetObjectItemCaseSensitive(message, "content"));
        tally_string(&t, cJSON_GetObjectItemCaseSensitive(message, "refusal"));
        cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(message, "tool_calls"))
            tally_function(&t, cJSON_GetObjectItemCaseSensitive(call, "function"));
        const cJSON *legacy = cJSON_GetObjectItemCaseSensitive(message, "function_call");
        if (cJSON_IsObject(legacy))
            tally_function(&t, legacy);
    }
    return scale(t.text256, family) + t.fixed;
}

long
token_estimate_tools(const cJSON *tools, enum token_family family)
{
    struct tally t = { 0, 0, family };

    if (tools == NULL)
        return 0;
    tally_json(&t, tools, 0);
    return scale(t.text256, family) + t.fixed;
}

long
token_estimate_bytes(size_t bytes)
{
    return (long)((bytes + TOKEN_BYTES_PER_TOKEN - 1) / TOKEN_BYTES_PER_TOKEN);
}

size_t
token_byte_budget(long tokens)
{
    return tokens > 0 ? (size_t)tokens * TOKEN_BYTES_PER_TOKEN : 0;
}
