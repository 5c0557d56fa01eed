/*
 * Golden tests of the request path: each file under tests/golden/ holds one
 * request as nginx hands it over (params, the window's scripted frames, the
 * body: the format of tests/fuzz/request_harness.h), then a line
 * "#--- response ---" and the exact bytes the client must get, head and
 * body.  Each runs through the responder's real dispatcher, auth, limits,
 * chat core and renderer in memory, in a millisecond, without nginx.
 *
 *   test_golden [FILE...]               compare (no FILE: every
 *                                       .golden file of $top_srcdir/tests/golden)
 *   GOLDEN_UPDATE=1 test_golden ...     rewrite each file's expected bytes
 *                                       (review the diff before committing)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "request_harness.h"

#define SEPARATOR "#--- response ---\n"
#define SEPARATOR_GONE "#--- response (client gone) ---\n"

static char *actual;
static size_t actual_len;
static bool actual_gone;

static void
keep_result(const struct harness_result *result)
{
    free(actual);
    actual_len = result->len;
    actual_gone = result->gone;
    actual = malloc(actual_len + 1);
    if (actual == NULL) {
        perror("test_golden");
        exit(2);
    }
    memcpy(actual, result->response, actual_len);
    actual[actual_len] = '\0';
}

static char *
read_file(const char *path, size_t *len)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    char *text = NULL;
    if (fseek(file, 0, SEEK_END) == 0) {
        long size = ftell(file);
        if (size >= 0 && fseek(file, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1))) {
            *len = fread(text, 1, (size_t)size, file);
            text[*len] = '\0';
        }
    }
    fclose(file);
    return text;
}

/* Line number of the first byte where the two differ, for the report. */
static void
report_difference(const char *path, const char *expected, size_t expected_len)
{
    size_t at = 0, line = 1;
    while (at < expected_len && at < actual_len && expected[at] == actual[at])
        line += expected[at++] == '\n';
    size_t from = at;
    while (from > 0 && actual[from - 1] != '\n')
        from--;
    fprintf(stderr,
            "%s: response differs from line %zu of the expected bytes\n"
            "  expected: %.*s\n  got:      %.*s\n",
            path, line, (int)strcspn(expected + from, "\n"), expected + from,
            (int)strcspn(actual + from, "\n"), actual + from);
}

static void
run_file(const char *path, bool update)
{
    size_t len;
    char *text = read_file(path, &len);
    if (text == NULL) {
        fprintf(stderr, "%s: cannot read\n", path);
        check_failed++;
        return;
    }
    /* memmem: an input may hold NUL bytes. */
    char *separator = memmem(text, len, "\n" SEPARATOR, strlen("\n" SEPARATOR));
    char *separator_gone = memmem(text, len, "\n" SEPARATOR_GONE, strlen("\n" SEPARATOR_GONE));
    char *mark = separator ? separator : separator_gone;
    size_t input_len = mark ? (size_t)(mark - text) : len;
    const char *expected = mark ? strchr(mark + 1, '\n') + 1 : "";
    size_t expected_len = mark ? len - (size_t)(expected - text) : 0;
    bool expected_gone = mark == separator_gone && mark != NULL;

    request_harness_run((const uint8_t *)text, input_len, keep_result);

    if (update) {
        FILE *file = fopen(path, "wb");
        if (file == NULL || fwrite(text, 1, input_len, file) != input_len ||
            fputs("\n", file) < 0 || fputs(actual_gone ? SEPARATOR_GONE : SEPARATOR, file) < 0 ||
            fwrite(actual, 1, actual_len, file) != actual_len || fclose(file) != 0) {
            fprintf(stderr, "%s: cannot write\n", path);
            check_failed++;
        } else {
            check_passed++;
        }
    } else if (mark == NULL) {
        fprintf(stderr, "%s: no \"%.*s\" line (GOLDEN_UPDATE=1 adds one)\n", path,
                (int)strlen(SEPARATOR) - 1, SEPARATOR);
        check_failed++;
    } else if (expected_gone != actual_gone || expected_len != actual_len ||
               memcmp(expected, actual, actual_len) != 0) {
        if (expected_gone != actual_gone)
            fprintf(stderr, "%s: the client %s gone, expected %s\n", path,
                    actual_gone ? "was" : "was not", expected_gone ? "gone" : "not gone");
        report_difference(path, expected, expected_len);
        check_failed++;
    } else {
        check_passed++;
    }
    free(text);
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.golden file of the directory, sorted; NULL-terminated. */
static char **
golden_files(const char *dir, size_t *count)
{
    DIR *listing = opendir(dir);
    if (listing == NULL)
        return NULL;
    char **paths = NULL;
    size_t n = 0;
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL) {
        size_t name_len = strlen(entry->d_name);
        if (name_len <= 7 || strcmp(entry->d_name + name_len - 7, ".golden") != 0)
            continue;
        char **grown = realloc(paths, (n + 2) * sizeof *paths);
        size_t path_len = strlen(dir) + 1 + name_len + 1;
        char *path = malloc(path_len);
        if (grown == NULL || path == NULL) {
            free(grown ? grown : paths);
            free(path);
            closedir(listing);
            return NULL;
        }
        paths = grown;
        snprintf(path, path_len, "%s/%s", dir, entry->d_name);
        paths[n++] = path;
    }
    closedir(listing);
    if (paths != NULL)
        qsort(paths, n, sizeof *paths, by_name);
    *count = n;
    return paths;
}

int
main(int argc, char **argv)
{
    const char *update_env = getenv("GOLDEN_UPDATE");
    bool update = update_env != NULL && *update_env != '\0' && strcmp(update_env, "0") != 0;
    request_harness_init();
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            run_file(argv[i], update);
    } else {
        const char *top = getenv("top_srcdir");
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/tests/golden", top && *top ? top : ".");
        size_t count = 0;
        char **paths = golden_files(dir, &count);
        if (paths == NULL || count == 0) {
            fprintf(stderr, "test_golden: no *.golden files in %s\n", dir);
            return 1;
        }
        for (size_t i = 0; i < count; i++) {
            run_file(paths[i], update);
            free(paths[i]);
        }
        free(paths);
    }
    free(actual);
    return check_summary("golden");
}
