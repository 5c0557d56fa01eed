/*
 * token_estimate_cli: the token estimator on files, for the node test that
 * compares it with a real tokenizer (tests/integration/token-estimate.test.mjs)
 * and for calibration.  Built by `make check`, not run as a test.
 *
 *   token_estimate_cli [--family F] [FILE...]    "TOKENS<TAB>FILE" a file (stdin: "-")
 *   token_estimate_cli --messages [--family F]   stdin is a JSON messages array
 *   token_estimate_cli --pieces [FILE]           one line a piece:
 *       offset len row ascii suffix nonascii cost c0..c9
 *   token_estimate_cli --bench N [FILE]          N passes; prints bytes, ns a pass, MB/s
 *
 * F is a family or model id as token_family_of takes it (default: gpt-4o).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "token_estimate.h"

static char *
slurp(const char *path, size_t *len)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);

    if (in == NULL || buf == NULL) {
        fprintf(stderr, "token_estimate_cli: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, in);
        n += got;
        if (n < cap) {
            if (ferror(in)) {
                fprintf(stderr, "token_estimate_cli: %s: read error\n", path);
                exit(2);
            }
            break;
        }
        char *bigger = realloc(buf, cap * 2 + 1);
        if (bigger == NULL) {
            fprintf(stderr, "token_estimate_cli: out of memory\n");
            exit(2);
        }
        buf = bigger;
        cap *= 2;
    }
    if (in != stdin)
        fclose(in);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void
print_piece(void *ctx, const struct token_piece *piece)
{
    (void)ctx;
    printf("%zu %zu %u %u %u %u %ld", piece->offset, piece->len, piece->key, piece->ascii,
           piece->suffix, piece->nonascii, piece->cost);
    for (int i = 0; i < TOKEN_PIECE_CATEGORIES; i++)
        printf(" %u", piece->category[i]);
    putchar('\n');
}

static double
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
    const char *family_arg = "gpt-4o";
    int pieces = 0, messages = 0;
    long bench = 0;
    int i = 1;

    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (strcmp(argv[i], "--family") == 0 && i + 1 < argc)
            family_arg = argv[++i];
        else if (strcmp(argv[i], "--pieces") == 0)
            pieces = 1;
        else if (strcmp(argv[i], "--messages") == 0)
            messages = 1;
        else if (strcmp(argv[i], "--bench") == 0 && i + 1 < argc)
            bench = strtol(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: token_estimate_cli [--family F] [--pieces | --messages | "
                            "--bench N] [FILE...]\n");
            return 2;
        }
    }
    enum token_family family = token_family_of(family_arg);
    size_t len;

    if (messages) {
        char *text = slurp("-", &len);
        cJSON *json = cJSON_Parse(text);
        if (json == NULL) {
            fprintf(stderr, "token_estimate_cli: stdin is not JSON\n");
            return 2;
        }
        printf("%ld\n", token_estimate_messages(json, family));
        cJSON_Delete(json);
        free(text);
        return 0;
    }
    if (pieces || bench > 0) {
        char *text = slurp(i < argc ? argv[i] : "-", &len);
        if (pieces) {
            token_estimate_pieces(text, len, print_piece, NULL);
        } else {
            long tokens = 0;
            double start = now_ns();
            for (long round = 0; round < bench; round++)
                tokens += token_estimate_text(text, len, family);
            double per = (now_ns() - start) / (double)bench;
            printf("bytes %zu tokens %ld ns %.0f MB/s %.0f\n", len, tokens / bench, per,
                   (double)len / per * 1e3);
        }
        free(text);
        return 0;
    }
    do {
        const char *path = i < argc ? argv[i] : "-";
        char *text = slurp(path, &len);
        printf("%ld\t%s\n", token_estimate_text(text, len, family), path);
        free(text);
    } while (++i < argc);
    return 0;
}
