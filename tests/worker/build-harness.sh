#!/bin/sh
# build-harness.sh COPY_DIR: makes sure the extension's harness bundle
# (extension/out/harness.mjs: its real PipeClient, ModelCatalog and
# ModelCalls, see extension/test/harness.ts) exists and is newer than its
# sources, and prints its path on stdout (everything else goes to stderr).
# Needs npm: `npm ci` when extension/node_modules is missing or older than
# package-lock.json, then `npm run build:harness`.
#
# When extension/ is read-only (make distcheck), the build happens on a copy
# in COPY_DIR (replaced; the caller removes it when done).
#
# Used by tests/integration/run.sh (the test worker and extension.test.mjs)
# and by `make install` (the bundle goes beside the installed test worker,
# for litellmctl --demo).
set -eu

copy_dir=${1:?usage: build-harness.sh COPY_DIR}
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
NPM=${NPM:-npm}
ext_dir="$top_srcdir/extension"
# What out/harness.mjs is built from (extension/, never node_modules/out/dist).
harness_inputs="package.json package-lock.json tsconfig.json scripts src test"

. "$top_srcdir/tests/lib/tree.sh"

if ! writable "$ext_dir"; then
    # shellcheck disable=SC2086
    copy_tree "$ext_dir" "$copy_dir" $harness_inputs
    ext_dir=$copy_dir
fi
# shellcheck disable=SC2086
if [ ! -f "$ext_dir/out/harness.mjs" ] || newer_than "$ext_dir" out/harness.mjs $harness_inputs; then
    if [ ! -f "$ext_dir/node_modules/.package-lock.json" ] ||
        newer_than "$ext_dir" node_modules/.package-lock.json package.json package-lock.json; then
        (cd "$ext_dir" && "$NPM" ci --no-audit --no-fund) >&2
    fi
    (cd "$ext_dir" && "$NPM" run build:harness) >&2
fi
echo "$ext_dir/out/harness.mjs"
