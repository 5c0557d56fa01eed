#!/bin/sh
# run.sh: the VS Code extension's own checks, in extension/: the TypeScript
# typecheck (`npm run typecheck`), ESLint (`npm run lint`) and the unit tests
# (`npm run test:unit`, node's test runner). Used by `make check`
# (Makefile.am TESTS), which sets top_srcdir and top_builddir.
#
# `npm ci` first when extension/node_modules is missing or older than
# package.json / package-lock.json. When the source tree is read-only (make
# distcheck), everything runs on a copy under the build directory, removed
# when the checks end.
#
# Fails when the unit tests ran no test (tests/counted.sh): node's test
# runner itself exits 0 then.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "${top_srcdir:-$here/../..}" && pwd)
# The unit tests that compare the extension's text with the README's read
# it here: the checks may run on a copy of extension/ (below).
LITELLM_README="$top_srcdir/README.md"
export LITELLM_README
build_root=$(cd "${top_builddir:-.}" && pwd)
NPM=${NPM:-npm}
ext_dir="$top_srcdir/extension"
# What the checks read (extension/, never node_modules/out/dist).
inputs="package.json package-lock.json tsconfig.json eslint.config.mjs scripts src test"

copy=""
cleanup() {
    [ -z "$copy" ] || rm -rf "$copy"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

. "$top_srcdir/tests/lib/tree.sh"

if [ ! -f "$ext_dir/package.json" ]; then
    echo "extension/run.sh: $ext_dir/package.json not found" >&2
    exit 1
fi
if ! writable "$ext_dir"; then
    copy="$build_root/extension-check"
    # shellcheck disable=SC2086
    copy_tree "$ext_dir" "$copy" $inputs
    ext_dir=$copy
fi
cd "$ext_dir"

if [ ! -f node_modules/.package-lock.json ] ||
    newer_than . node_modules/.package-lock.json package.json package-lock.json; then
    "$NPM" ci --no-audit --no-fund --loglevel=error
fi

echo "== npm run typecheck"
"$NPM" run -s typecheck
echo "== npm run lint"
"$NPM" run -s lint
echo "== npm run test:unit"
status=0
sh "$here/../counted.sh" "extension unit tests" "$NPM" run -s test:unit || status=$?
exit "$status"
