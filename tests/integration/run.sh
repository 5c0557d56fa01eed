#!/bin/sh
# run.sh: runs the node test suites (test worker unit tests + integration
# tests against the real nginx + litellm-fcgi + litellmctl). Used by
# `make check` (Makefile.am TESTS), which sets:
#   top_srcdir top_builddir LITELLMCTL LITELLM_FCGI LITELLM_TEMPLATES TEST_WORKER NODE
# Extra arguments are passed to `node --test` (e.g. a single test file).
#
# Before the tests it makes sure of three things, installing with `npm ci`:
#   - tests/node_modules has the pinned packages of tests/package-lock.json
#     (the `openai` SDK, LangChain, the AI SDK, ajv, yaml): `npm ci` when it
#     is missing or older than package.json / package-lock.json;
#   - the schemas of OpenAI's OpenAPI document (tests/spec/) are extracted
#     once for the whole run (LITELLM_OPENAPI_BUNDLE, removed at the end), so
#     that each test file need not parse the 3 MB YAML;
#   - extension/out/harness.mjs (the extension's real pipe client and model
#     calls, which the test worker and extension.test.mjs run) exists and is
#     newer than its sources (tests/worker/build-harness.sh: `npm ci` if
#     needed, `npm run build:harness`). Its path is passed to the tests as
#     LITELLM_EXTENSION_HARNESS.
# When the source tree is read-only (make distcheck), both are done on copies
# under the build directory, which are removed when the suite ends.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
export top_srcdir
build_root=$(cd "${top_builddir:-.}" && pwd)
NODE=${NODE:-node}
NPM=${NPM:-npm}
tests_dir="$top_srcdir/tests"

copies=""
cleanup() {
    for dir in $copies; do rm -rf "$dir"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

. "$top_srcdir/tests/lib/tree.sh"

# ---- the tests' npm packages (the openai SDK, LangChain, the AI SDK, ajv, yaml)
if [ ! -f "$tests_dir/node_modules/.package-lock.json" ] ||
    newer_than "$tests_dir" node_modules/.package-lock.json package.json package-lock.json; then
    if writable "$tests_dir"; then
        (cd "$tests_dir" && "$NPM" ci --no-audit --no-fund)
    else
        copy="$build_root/tests-run"
        copy_tree "$tests_dir" "$copy" package.json package-lock.json integration lib worker spec
        copies="$copies $copy"
        (cd "$copy" && "$NPM" ci --no-audit --no-fund)
        tests_dir=$copy
    fi
fi

# ---- OpenAI's response schemas, extracted once for every test file
bundle="$build_root/openapi-bundle.$$.json"
copies="$copies $bundle"
"$NODE" "$tests_dir/spec/openapi.mjs" --write "$bundle"
LITELLM_OPENAPI_BUNDLE=$bundle
export LITELLM_OPENAPI_BUNDLE

# ---- the extension's harness: the test worker and extension.test.mjs run its code
if [ -z "${LITELLM_EXTENSION_HARNESS:-}" ] && [ -f "$top_srcdir/extension/package.json" ]; then
    copies="$copies $build_root/extension-run"
    LITELLM_EXTENSION_HARNESS=$(NPM=$NPM sh "$here/../worker/build-harness.sh" "$build_root/extension-run")
    export LITELLM_EXTENSION_HARNESS
fi

cd "$tests_dir"
if [ $# -eq 0 ]; then
    set -- worker/test-worker.test.mjs integration/
fi
# --test-timeout: a last-resort bound (each wait inside a test has its own
# guard).  Node 20 applies it to each test file as a whole too, not only to
# each test, so it is sized for the longest file on a loaded machine;
# LITELLM_TEST_TIMEOUT_MS changes it (make check-valgrind). counted.sh fails
# the run if it ran no test.
status=0
sh "$here/../counted.sh" integration \
    "$NODE" --test --test-timeout="${LITELLM_TEST_TIMEOUT_MS:-600000}" "$@" || status=$?
exit "$status"
