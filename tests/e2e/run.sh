#!/bin/sh
# run.sh: the end-to-end test in a real VS Code (see README.md here). Used by
# `make check-e2e`, which sets top_srcdir LITELLMCTL LITELLM_FCGI
# LITELLM_TEMPLATES NODE; unset, they default to the repository's build/
# directory. Extra arguments go to `node --test`.
#
# It installs what it needs into ${E2E_CACHE:-${XDG_CACHE_HOME:-~/.cache}/vscode-litellm-e2e}
# (Debian's chromium and libkrb5-dev with apt-get when missing, which needs
# root), and needs the packaged extension: cd extension && npm ci && npm run package.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
NODE=${NODE:-node}

major=$("$NODE" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
    echo "run.sh: the e2e harness needs Node.js 20 or later ($NODE is ${major:-unknown})" >&2
    exit 1
fi

# A last-resort bound per step (the install runs in a hook with its own);
# each wait inside a step has its own, much shorter guard. counted.sh fails
# the run if it ran no test.
exec sh "$here/../counted.sh" e2e "$NODE" --test --test-timeout=300000 "$@" "$here/e2e.test.mjs"
