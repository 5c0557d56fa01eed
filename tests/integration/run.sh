#!/bin/sh
# run.sh: runs the node test suites (test worker unit tests + integration
# tests against the real nginx + litellm-fcgi + litellmctl). Used by
# `make check` (Makefile.am TESTS), which sets:
#   top_srcdir top_builddir LITELLMCTL LITELLM_FCGI LITELLM_TEMPLATES TEST_WORKER NODE
# Extra arguments are passed to `node --test` (e.g. a single test file).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
export top_srcdir
NODE=${NODE:-node}
NPM=${NPM:-npm}
tests_dir="$top_srcdir/tests"

# The suite needs the pinned `openai` package (tests/package-lock.json).
# Install it next to the tests; when the source tree is read-only (distcheck)
# run a copy of the test tree from the build directory instead.
if [ ! -f "$tests_dir/node_modules/openai/package.json" ]; then
    if [ -w "$tests_dir" ]; then
        (cd "$tests_dir" && "$NPM" ci --no-audit --no-fund)
    else
        copy="${top_builddir:-.}/tests-run"
        rm -rf "$copy"
        mkdir -p "$copy"
        cp -R "$tests_dir/package.json" "$tests_dir/package-lock.json" \
              "$tests_dir/integration" "$tests_dir/worker" "$copy/"
        chmod -R u+w "$copy"
        (cd "$copy" && "$NPM" ci --no-audit --no-fund)
        tests_dir=$copy
    fi
fi

cd "$tests_dir"
if [ $# -eq 0 ]; then
    set -- worker/test-worker.test.mjs integration/
fi
# --test-timeout: a last-resort bound per test (each wait inside has its own guard).
exec "$NODE" --test --test-timeout=120000 "$@"
